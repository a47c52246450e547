"""The one source of "now", so tests can move time without patching the stdlib."""

import time


def now() -> float:
    """Current Unix time in seconds (float)."""
    return time.time()
