"""A real headless Chromium, driven over the DevTools protocol on a pipe (`--remote-debugging-pipe`).

The system's `chromium` (Debian's package; `make test` installs it) is used as it is:
no browser is downloaded, and the protocol needs no client library (the browser reads
NUL-terminated JSON commands on its fd 3 and writes answers on its fd 4).
Where the browser is missing the tests that need it skip, except in CI (`CI=true`) or
under `AIZEN_REQUIRE_BUILD=1` (what `make test` sets), where they fail.
"""

import fcntl
import json
import os
import select
import shutil
import signal
import time
from pathlib import Path
from typing import Any

import pytest

_FIRST_FREE_FD = 10  # above 3 and 4, so the spawn's dup2 actions cannot clobber each other


def require_chromium() -> str:
    """The browser's path, or skip (fail where the full suite must run)."""
    binary = shutil.which("chromium") or shutil.which("chromium-browser")
    if binary:
        return binary
    message = "no chromium on the PATH: `make test` installs it (apt-get install chromium)"
    if os.environ.get("CI") == "true" or os.environ.get("AIZEN_REQUIRE_BUILD") == "1":
        pytest.fail(message)
    pytest.skip(message)


class Browser:
    """One headless browser with one page."""

    def __init__(self, binary: str, profile: Path) -> None:
        to_browser_read, to_browser_write = os.pipe()
        from_browser_read, from_browser_write = os.pipe()
        ends = [fcntl.fcntl(fd, fcntl.F_DUPFD_CLOEXEC, _FIRST_FREE_FD) for fd in (to_browser_read, from_browser_write)]
        for fd in (to_browser_read, from_browser_write):
            os.close(fd)
        arguments = [
            binary,
            "--headless",
            "--no-sandbox",  # CI runs as root
            "--disable-gpu",
            "--no-first-run",
            "--remote-debugging-pipe",
            f"--user-data-dir={profile}",
            "about:blank",
        ]
        self.pid = os.posix_spawn(
            binary,
            arguments,
            dict(os.environ),
            file_actions=[
                (os.POSIX_SPAWN_DUP2, ends[0], 3),
                (os.POSIX_SPAWN_DUP2, ends[1], 4),
                (os.POSIX_SPAWN_OPEN, 1, os.devnull, os.O_WRONLY, 0),
                (os.POSIX_SPAWN_OPEN, 2, os.devnull, os.O_WRONLY, 0),
            ],
        )
        for fd in ends:
            os.close(fd)
        self._commands, self._answers = to_browser_write, from_browser_read
        self._buffer = b""
        self._next_id = 0
        target = self.send("Target.createTarget", {"url": "about:blank"})["targetId"]
        self._session = self.send("Target.attachToTarget", {"targetId": target, "flatten": True})["sessionId"]

    def send(self, method: str, params: dict[str, Any], *, timeout: float = 60, page: bool = False) -> Any:
        """Send one command (to the page's session when `page`) and return its result."""
        self._next_id += 1
        command: dict[str, Any] = {"id": self._next_id, "method": method, "params": params}
        if page:
            command["sessionId"] = self._session
        os.write(self._commands, json.dumps(command).encode() + b"\0")
        deadline = time.monotonic() + timeout
        while True:
            message = self._read(deadline)
            if message.get("id") == self._next_id:
                if "error" in message:
                    raise AssertionError(f"{method} failed: {message['error']}")
                return message["result"]

    def _read(self, deadline: float) -> dict[str, Any]:
        while b"\0" not in self._buffer:
            remaining = deadline - time.monotonic()
            if remaining <= 0 or not select.select([self._answers], [], [], remaining)[0]:
                raise AssertionError("the browser did not answer in time")
            chunk = os.read(self._answers, 1 << 16)
            if not chunk:
                raise AssertionError("the browser closed its pipe")
            self._buffer += chunk
        message, self._buffer = self._buffer.split(b"\0", 1)
        return dict(json.loads(message))

    def open(self, url: str) -> None:
        self.send("Page.navigate", {"url": url}, page=True)

    def evaluate(self, expression: str, *, timeout: float = 60) -> Any:
        """The value of a JavaScript expression in the page (a promise is awaited)."""
        result = self.send(
            "Runtime.evaluate",
            {"expression": expression, "awaitPromise": True, "returnByValue": True},
            timeout=timeout,
            page=True,
        )
        if "exceptionDetails" in result:
            raise AssertionError(f"the page's script failed: {result['exceptionDetails']}")
        return result["result"].get("value")

    def close(self) -> None:
        os.close(self._commands)
        os.close(self._answers)
        os.kill(self.pid, signal.SIGTERM)
        os.waitpid(self.pid, 0)
