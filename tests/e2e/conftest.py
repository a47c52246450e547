"""End-to-end tier: `aizen serve` in a subprocess, spoken to over real HTTP with httpx.

Fixtures use the `aizen` command line (also in subprocesses) to create users,
sites, sessions and keys in the stack's embedded store, so this process's own
environment (pointed at moto in-process for the other tiers) is never touched.
"""

import itertools
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

AIZEN = str(Path(sys.executable).with_name("aizen"))
# A deadline, not a wait: the demo stack imports a year of traffic before it prints its line,
# which takes minutes on a loaded 2-core machine (make test runs the other tiers beside it).
_STARTUP_SECONDS = 240


def _clean_environment(state_file: Path) -> dict[str, str]:
    """The environment of a fresh shell: no test tables, no endpoint override."""
    environment = {
        name: value
        for name, value in os.environ.items()
        if not name.startswith(("AIZEN_", "POWERTOOLS_")) and name != "AWS_ENDPOINT_URL_DYNAMODB"
    }
    environment["AIZEN_LOCAL_STATE"] = str(state_file)
    return environment


@dataclass
class RunningStack:
    process: "subprocess.Popen[bytes]"
    summary: dict[str, Any]
    out_file: Path
    log_file: Path
    cli_environment: dict[str, str]
    _tenant_maker: "subprocess.Popen[str] | None" = None

    @property
    def url(self) -> str:
        return str(self.summary["api_url"])

    def cli(self, *args: str, check: bool = True, stdin: str | None = None) -> "subprocess.CompletedProcess[str]":
        """Run `aizen ARGS` against this stack's tables."""
        result = subprocess.run(
            [AIZEN, *args],
            input=stdin,
            capture_output=True,
            text=True,
            env=self.cli_environment,
            timeout=120,
            check=False,
        )
        if check and result.returncode != 0:
            raise AssertionError(f"aizen {' '.join(args)} failed: {result.stderr}")
        return result

    def cli_json(self, *args: str) -> Any:
        return json.loads(self.cli(*args).stdout)

    @property
    def tenant_log(self) -> Path:
        return self.out_file.with_name("tenants.log")

    def tenant_maker(self) -> "subprocess.Popen[str]":
        """The one process that makes this stack's tenants (`make_tenant`), started on first use."""
        if self._tenant_maker is None:
            self._tenant_maker = subprocess.Popen(
                [sys.executable, "-c", _TENANT_SCRIPT],
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=self.tenant_log.open("w"),
                text=True,
                env=self.cli_environment,
            )
        return self._tenant_maker

    def stop(self) -> None:
        if self._tenant_maker is not None:
            assert self._tenant_maker.stdin is not None
            self._tenant_maker.stdin.close()
            self._tenant_maker.wait(timeout=20)
        self.process.terminate()
        try:
            self.process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.process.kill()


@dataclass
class StartingStack:
    """`aizen serve` launched, not yet ready: `ready()` waits for its JSON line."""

    process: "subprocess.Popen[bytes]"
    out_file: Path
    log_file: Path
    environment: dict[str, str]
    deadline: float

    def ready(self) -> RunningStack:
        while not self.out_file.read_text().endswith("\n"):
            if self.process.poll() is not None or time.monotonic() > self.deadline:
                self.process.kill()
                raise AssertionError(f"aizen serve did not start: {self.log_file.read_text()}")
            time.sleep(0.2)
        summary = json.loads(self.out_file.read_text().splitlines()[0])
        main, events, salts = summary["tables"]
        cli_environment = {
            **self.environment,
            "AWS_ENDPOINT_URL_DYNAMODB": summary["dynamodb_endpoint"],
            "AIZEN_MAIN_TABLE": main,
            "AIZEN_EVENTS_TABLE": events,
            "AIZEN_SALTS_TABLE": salts,
        }
        return RunningStack(
            process=self.process,
            summary=summary,
            out_file=self.out_file,
            log_file=self.log_file,
            cli_environment=cli_environment,
        )

    def stop(self) -> None:
        """Stop it whether or not it became ready."""
        self.process.terminate()
        try:
            self.process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.process.kill()


def launch_stack(tmp_path: Path, *extra: str, environment: dict[str, str] | None = None) -> StartingStack:
    """Launch `aizen serve` on a free port; its output goes to files (a full pipe would block it)."""
    state_file = tmp_path / "local-stack.json"
    out_file, log_file = tmp_path / "serve.out", tmp_path / "serve.log"
    env = {**_clean_environment(state_file), **(environment or {})}
    process = subprocess.Popen(
        [AIZEN, "serve", "--port", "0", *extra], stdout=out_file.open("w"), stderr=log_file.open("w"), env=env
    )
    return StartingStack(process, out_file, log_file, env, time.monotonic() + _STARTUP_SECONDS)


def start_stack(tmp_path: Path, *extra: str, environment: dict[str, str] | None = None) -> RunningStack:
    """Start `aizen serve` on a free port and wait until it is ready."""
    return launch_stack(tmp_path, *extra, environment=environment).ready()


# The demo stack (`make dev`'s, tests/e2e/test_make_dev.py) spends most of its start-up seeding a year
# of traffic. It is launched as soon as the session knows it will run those tests, and they run
# last: the seeding overlaps the rest of the tier (much of it waiting on windows and the browser).
_DEMO_TESTS = "test_make_dev.py"
_demo_launch: list[tuple[StartingStack, Path]] = []


def _is_demo_test(item: pytest.Item) -> bool:
    return item.path.name == _DEMO_TESTS and item.path.parent == Path(__file__).parent


@pytest.hookimpl(trylast=True)
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    items.sort(key=_is_demo_test)  # stable: every other test keeps its order


def pytest_collection_finish(session: pytest.Session) -> None:
    if not session.config.option.collectonly and any(_is_demo_test(item) for item in session.items):
        directory = Path(tempfile.mkdtemp(prefix="aizen-demo-stack-"))
        _demo_launch.append((launch_stack(directory), directory))


def pytest_sessionfinish() -> None:
    while _demo_launch:
        starting, directory = _demo_launch.pop()
        starting.stop()
        shutil.rmtree(directory, ignore_errors=True)


@pytest.fixture(scope="module")
def demo_stack(tmp_path_factory: pytest.TempPathFactory) -> RunningStack:
    """`aizen serve` with its demo tenant: the one launched at collection (stopped at the session's end)."""
    if not _demo_launch:  # a session that did not collect the demo tests (e.g. a plugin's own run)
        directory = tmp_path_factory.mktemp("demo")
        _demo_launch.append((launch_stack(directory), directory))
    return _demo_launch[0][0].ready()


# Ingestion's window per address at 60 a minute rather than its default (1000, sized for carrier-grade
# NAT): the real-clock check that exactly the limit passes a concurrent burst then needs 80 events, not 1,020.
EVENT_IP_LIMIT_PER_MINUTE = 60
# A key's hour at 100 requests rather than its default (600): the real-clock burst then needs 120
# requests, not 650 (that the handler applies the default of 600 is tests/integration/test_rate_limits.py's,
# and that the template's default is the setting's, tests/unit/test_settings.py's).
KEY_LIMIT_PER_HOUR = 100


@pytest.fixture(scope="session")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningStack]:
    running = start_stack(
        tmp_path_factory.mktemp("stack"),
        "--no-demo",
        environment={
            "AIZEN_EVENT_IP_LIMIT_PER_MINUTE": str(EVENT_IP_LIMIT_PER_MINUTE),
            "AIZEN_KEY_LIMIT_PER_HOUR": str(KEY_LIMIT_PER_HOUR),
        },
    )
    yield running
    running.stop()


_addresses = itertools.count(1)


def next_loopback_address() -> str:
    """A loopback address no other test has used (each has its own per-IP budget)."""
    number = next(_addresses)
    return f"127.0.{1 + number // 250}.{1 + number % 250}"


def client_from(address: str, base_url: str) -> httpx.Client:
    return httpx.Client(base_url=base_url, transport=httpx.HTTPTransport(local_address=address), timeout=60.0)


@pytest.fixture
def http(stack: RunningStack) -> Iterator[httpx.Client]:
    """An HTTP client on its own loopback address."""
    with client_from(next_loopback_address(), stack.url) as client:
        yield client


def wait_for_window_room(window_seconds: int, needed_seconds: float) -> None:
    """Fixed windows: start a burst only when it can finish inside one window."""
    remaining = window_seconds - time.time() % window_seconds
    if remaining < needed_seconds:
        time.sleep(remaining + 0.5)


@dataclass(frozen=True)
class Tenant:
    user_id: str
    site_id: str
    cookie: str
    token: str
    key_id: str


_tenants = itertools.count(1)

# A tenant's four `aizen` commands, run by the CLI's own `main` in one interpreter per stack, which
# makes every tenant the session asks for (one line in: its number and billing; one line out): a
# test's setup, not a test of the commands (test_cli.py and test_cli_output.py run those one process
# each), so the session pays one start-up for all its tenants, not one or four per tenant.
_TENANT_SCRIPT = """
import contextlib, io, json, sys
from aizen_local.cli import main

def run(*args):
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        status = main(list(args))
    assert status == 0, f"aizen {' '.join(args)} exited {status}"
    return json.loads(out.getvalue())

for request in sys.stdin:
    number, billing = json.loads(request)
    user = run("users", "create", "--email", f"owner{number}@example.com", *([] if billing else ["--no-billing"]))
    site = run("sites", "create", "--domain", f"site{number}.example.com", "--timezone", "Europe/Berlin",
               "--owner", user["id"])
    session = run("sessions", "create", "--user", user["id"])
    key = run("keys", "create", "--site", site["id"], "--name", "e2e")
    print(json.dumps([user["id"], site["id"], session["cookie"], key["token"], key["key"]["id"]]), flush=True)
"""


def make_tenant(stack: RunningStack, *, billing: bool = True) -> Tenant:
    """A user (with or without billing), their site, a session and an API key, made with `aizen`'s commands."""
    maker = stack.tenant_maker()
    assert maker.stdin is not None
    assert maker.stdout is not None
    maker.stdin.write(json.dumps([next(_tenants), billing]) + "\n")
    maker.stdin.flush()
    answer = maker.stdout.readline()
    if not answer:
        raise AssertionError(f"making a tenant failed: {stack.tenant_log.read_text()}")
    user_id, site_id, cookie, token, key_id = json.loads(answer)
    return Tenant(user_id, site_id, cookie, token, key_id)


@pytest.fixture
def tenant(stack: RunningStack) -> Tenant:
    return make_tenant(stack)
