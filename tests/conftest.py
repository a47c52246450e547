"""Test environment shared by every tier: a deterministic, offline AWS setup."""

import os

# Set before any aizen module reads its settings. Unit and integration tests run
# against moto in-process; e2e tests start their own local stack.
os.environ.update(
    {
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_SESSION_TOKEN": "testing",
        "AIZEN_MAIN_TABLE": "test-main",
        "AIZEN_EVENTS_TABLE": "test-events",
        "AIZEN_SALTS_TABLE": "test-salts",
        "AIZEN_DASHBOARD_ORIGINS": "https://dashboard.test",
        "POWERTOOLS_SERVICE_NAME": "aizen",
        "POWERTOOLS_METRICS_NAMESPACE": "Aizen",
        "POWERTOOLS_TRACE_DISABLED": "true",
        "POWERTOOLS_DEV": "false",
    }
)
os.environ.pop("AWS_ENDPOINT_URL_DYNAMODB", None)
os.environ.pop("AWS_PROFILE", None)


# Imported after the environment above is in place.
import logging
import sys
from collections.abc import Callable, Iterator

import pytest

from aizen.observability import logger
from aizen.settings import Settings, get_settings
from aizen.store.dynamo import reset_connections
from tests.support import FrozenClock


class _CurrentStdout:
    """Writes to whatever sys.stdout is now, like print() does.

    Powertools binds its log handler to the sys.stdout of the moment the logger is
    created; pytest swaps sys.stdout per test phase (capsys), so without this the
    handler would keep writing to a capture that has since been closed.
    """

    def write(self, text: str) -> int:
        return sys.stdout.write(text)

    def flush(self) -> None:
        sys.stdout.flush()


_handler = logger.registered_handler
assert isinstance(_handler, logging.StreamHandler)
_handler.stream = _CurrentStdout()


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> FrozenClock:
    """Freeze `aizen.clock.now` at the seed's timestamp; `clock.advance(s)` moves it."""
    frozen = FrozenClock()
    monkeypatch.setattr("aizen.clock.now", frozen.now)
    return frozen


@pytest.fixture
def aizen_env(monkeypatch: pytest.MonkeyPatch) -> Iterator[Callable[..., Settings]]:
    """Set (or, given None, unset) AIZEN_* variables, e.g. `aizen_env(KEY_LIMIT_PER_HOUR="5")`,
    then rebuild the cached settings and DynamoDB connections.

    Register DynamoDB hooks only after calling it: it replaces the store's client.
    """

    def apply(**variables: str | None) -> Settings:
        for name, value in variables.items():
            if value is None:
                monkeypatch.delenv(f"AIZEN_{name}", raising=False)
            else:
                monkeypatch.setenv(f"AIZEN_{name}", value)
        get_settings.cache_clear()
        reset_connections()
        return get_settings()

    yield apply
    get_settings.cache_clear()
    reset_connections()
