"""Every `aizen` command writes its result, and only its result, to stdout.

One JSON document per command (`traffic` streams NDJSON by design, `serve` one JSON
line); logs and progress bars go to stderr. The commands are read from the CLI's own
parser, so a command added without a case here fails `test_every_command_has_a_case`.
"""

import argparse
import itertools
import json
import subprocess
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest

from aizen_local.cli import build_parser
from aizen_local.traffic import TrafficPlan, ndjson_lines
from tests.e2e.conftest import RunningStack, Tenant, make_tenant

pytestmark = pytest.mark.e2e


def _leaf_commands(parser: argparse.ArgumentParser, prefix: tuple[str, ...] = ()) -> Iterator[str]:
    """`users create`, `keys list`, `rollup`...: every command a user can run."""
    sub_commands = [action for action in parser._actions if isinstance(action, argparse._SubParsersAction)]
    if not sub_commands:
        yield " ".join(prefix)
    for action in sub_commands:
        for name, sub_parser in action.choices.items():
            yield from _leaf_commands(sub_parser, (*prefix, name))


COMMANDS = sorted(_leaf_commands(build_parser()))


@dataclass(frozen=True)
class Output:
    """One run's stdout, and whether the command streams NDJSON by design."""

    stdout: str
    ndjson: bool = False


@dataclass(frozen=True)
class World:
    stack: RunningStack
    owner: Tenant
    tmp_path: Path


_numbers = itertools.count(1)


def _run(world: World, *args: str, stdin: str | None = None) -> "subprocess.CompletedProcess[str]":
    result = world.stack.cli(*args, check=False, stdin=stdin)
    assert result.returncode == 0, f"aizen {' '.join(args)} failed: {result.stderr}"
    return result


def _site_with_traffic(world: World) -> tuple[str, Path]:
    """A new site of the owner, and a file of its last three days' traffic."""
    domain = f"output{next(_numbers)}.example.com"
    site = world.stack.cli_json(
        "sites", "create", "--domain", domain, "--timezone", "UTC", "--owner", world.owner.user_id
    )
    traffic = world.tmp_path / f"{domain}.ndjson"
    plan = TrafficPlan(domain, "UTC", datetime.now(UTC), days=3, start_visitors=5.0)
    traffic.write_text("".join(f"{line}\n" for line in ndjson_lines(plan)))
    return str(site["id"]), traffic


def _users_create(world: World) -> list[Output]:
    return [Output(_run(world, "users", "create", "--email", f"output{next(_numbers)}@example.com").stdout)]


def _sites_create(world: World) -> list[Output]:
    domain = f"sites{next(_numbers)}.example.com"
    return [
        Output(
            _run(
                world, "sites", "create", "--domain", domain, "--timezone", "UTC", "--owner", world.owner.user_id
            ).stdout
        )
    ]


def _sessions_create(world: World) -> list[Output]:
    return [Output(_run(world, "sessions", "create", "--user", world.owner.user_id).stdout)]


def _keys_create(world: World) -> list[Output]:
    return [Output(_run(world, "keys", "create", "--site", world.owner.site_id, "--name", "output").stdout)]


def _keys_list(world: World) -> list[Output]:
    return [Output(_run(world, "keys", "list", "--site", world.owner.site_id).stdout)]


def _keys_revoke(world: World) -> list[Output]:
    key = world.stack.cli_json("keys", "create", "--site", world.owner.site_id, "--name", "to revoke")
    return [Output(_run(world, "keys", "revoke", "--site", world.owner.site_id, "--key", key["key"]["id"]).stdout)]


def _goals_create(world: World) -> list[Output]:
    site = world.owner.site_id
    event = _run(world, "goals", "create", "--site", site, "--event", f"Output {next(_numbers)}")
    page = _run(world, "goals", "create", "--site", site, "--page", f"/output/{next(_numbers)}/**", "--name", "Out")
    assert json.loads(page.stdout)["goal"]["name"] == "Out"
    return [Output(event.stdout), Output(page.stdout)]


def _goals_list(world: World) -> list[Output]:
    return [Output(_run(world, "goals", "list", "--site", world.owner.site_id).stdout)]


def _goals_delete(world: World) -> list[Output]:
    goal = world.stack.cli_json("goals", "create", "--site", world.owner.site_id, "--event", "To delete")
    return [Output(_run(world, "goals", "delete", "--site", world.owner.site_id, goal["goal"]["id"]).stdout)]


def _import(world: World) -> list[Output]:
    # With the progress bar off (from standard input) and on (from a file): the bar is drawn on stderr
    quiet_site, quiet_traffic = _site_with_traffic(world)
    quiet = _run(world, "import", "--site", quiet_site, "-", "--no-progress", stdin=quiet_traffic.read_text())
    shown_site, shown_traffic = _site_with_traffic(world)
    shown = _run(world, "import", "--site", shown_site, str(shown_traffic), "--progress")
    assert "writing" not in quiet.stderr
    assert "writing" in shown.stderr
    return [Output(quiet.stdout), Output(shown.stdout)]


def _rollup(world: World) -> list[Output]:
    # The import marks its days for the job, so the job rolls them up, and logs that it finished
    site, traffic = _site_with_traffic(world)
    _run(world, "import", "--site", site, str(traffic), "--no-progress")
    result = _run(world, "rollup", "--site", site)
    assert json.loads(result.stdout)["days_rolled_up"] > 0
    assert "rollup finished" in result.stderr
    return [Output(result.stdout)]


def _compact(world: World) -> list[Output]:
    # The import's single items lie in finished hours: the job packs them, and logs that it finished
    site, traffic = _site_with_traffic(world)
    _run(world, "import", "--site", site, str(traffic), "--no-progress")
    result = _run(world, "compact", "--site", site)
    assert json.loads(result.stdout)["events_packed"] > 0
    assert "compaction finished" in result.stderr
    return [Output(result.stdout)]


def _traffic(world: World) -> list[Output]:
    args = ("--domain", "traffic.example.com", "--days", "2", "--visitors", "5", "--end", "2026-04-02T00:00:00Z")
    return [Output(_run(world, "traffic", *args).stdout, ndjson=True)]


def _openapi(world: World) -> list[Output]:
    return [Output(_run(world, "openapi").stdout)]


def _serve(world: World) -> list[Output]:
    # A handler (in a worker process) logs a refused request: the log line reaches the stack's stderr
    response = httpx.get(f"{world.stack.url}/api/v1/stats/aggregate", timeout=60)
    assert response.status_code == 401
    deadline = time.monotonic() + 30
    while "request refused" not in world.stack.log_file.read_text():
        assert time.monotonic() < deadline, "the refused request was never logged on the stack's stderr"
        time.sleep(0.2)
    return [Output(world.stack.out_file.read_text())]


CASES: dict[str, Callable[[World], list[Output]]] = {
    "users create": _users_create,
    "sites create": _sites_create,
    "sessions create": _sessions_create,
    "keys create": _keys_create,
    "keys list": _keys_list,
    "keys revoke": _keys_revoke,
    "goals create": _goals_create,
    "goals list": _goals_list,
    "goals delete": _goals_delete,
    "import": _import,
    "rollup": _rollup,
    "compact": _compact,
    "traffic": _traffic,
    "openapi": _openapi,
    "serve": _serve,
}


@pytest.fixture(scope="module")
def world(stack: RunningStack, tmp_path_factory: pytest.TempPathFactory) -> World:
    return World(stack, make_tenant(stack), tmp_path_factory.mktemp("cli-output"))


def test_every_command_has_a_case() -> None:
    assert set(COMMANDS) == set(CASES), "give every `aizen` command a case in CASES"


@pytest.mark.parametrize("command", COMMANDS)
def test_stdout_is_only_the_result(command: str, world: World) -> None:
    for output in CASES[command](world):
        if output.ndjson:
            lines = output.stdout.splitlines()
            assert lines
            for line in lines:
                json.loads(line)
        else:
            json.loads(output.stdout)
