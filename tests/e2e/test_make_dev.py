"""What `make dev` runs: `aizen serve` with its embedded store and demo data, and its curl lines.

The demo stack (`demo_stack`, tests/e2e/conftest.py) is launched when the session is collected,
and these tests run last, so its seeding overlaps the rest of the tier."""

import json
import shlex
import subprocess
from pathlib import Path

import pytest

from tests.e2e.conftest import RunningStack

pytestmark = pytest.mark.e2e


def _curl(line: str) -> tuple[int, str]:
    """Run a printed curl line (as a user would paste it), returning status and body."""
    args = shlex.split(line)
    result = subprocess.run(
        [*args, "-s", "-o", "-", "-w", "\n%{http_code}"], capture_output=True, text=True, timeout=60
    )
    body, _, status = result.stdout.rpartition("\n")
    return int(status), body


def test_demo_summary_has_a_key_a_session_and_curl_lines(demo_stack: RunningStack) -> None:
    summary = demo_stack.summary
    assert summary["api_key"].startswith("aiz_live_")
    assert summary["session_cookie"].startswith("aizen_session=")
    assert any("/api/v1/stats/" in line for line in summary["curl"])


def test_printed_curl_lines_work(demo_stack: RunningStack) -> None:
    lines = demo_stack.summary["curl"]
    stats_lines = [line for line in lines if "/api/v1/stats/" in line]
    list_line = next(line for line in lines if "-X" not in line and "api-keys" in line)
    create_line = next(line for line in lines if "-X POST" in line)
    delete_line = next(line for line in lines if "-X DELETE" in line)

    # The stats calls pass auth and rate limiting and answer with analytics;
    # the 12m ones reach past the raw window into the demo's year of rollups
    long_range = [line for line in stats_lines if "period=12m" in line]
    assert long_range
    for line in stats_lines:
        status, body = _curl(line.replace("curl -i", "curl"))
        assert status == 200, body
        if line in long_range:
            assert json.loads(body)["meta"]["from_rollups"] is True
    # The demo's goals convert: the goal breakdown shows a conversion rate
    goal_line = next(line for line in stats_lines if "property=goal" in line)
    rows = json.loads(_curl(goal_line)[1])["results"]
    assert {row["value"] for row in rows} >= {"Signup", "Visit /pricing"}
    assert all(0 < row["conversion_rate"] < 100 for row in rows)

    # The demo site's goals, with the printed session cookie
    goals_line = next(line for line in lines if "/goals" in line)
    status, body = _curl(goals_line)
    assert status == 200
    assert {goal["name"] for goal in json.loads(body)["goals"]} == {
        "Signup", "Downloads", "404 pages", "Visit /pricing", "Visit /docs/**",
    }  # fmt: skip

    # Key management with the printed session cookie
    status, body = _curl(list_line)
    assert status == 200
    assert len(json.loads(body)["keys"]) >= 1
    status, body = _curl(create_line)
    assert status == 201
    new_key = json.loads(body)["key"]["id"]
    status, body = _curl(delete_line.replace("<key id>", new_key))
    assert status == 200
    assert json.loads(body) == {"ok": True}


def test_serve_writes_its_state_for_other_commands(demo_stack: RunningStack) -> None:
    state_file = Path(demo_stack.cli_environment["AIZEN_LOCAL_STATE"])
    state = json.loads(state_file.read_text())
    assert state["api_url"] == demo_stack.url

    # Other commands find the stack through it, without any table or endpoint variables
    environment = {
        name: value
        for name, value in demo_stack.cli_environment.items()
        if name not in ("AIZEN_MAIN_TABLE", "AIZEN_EVENTS_TABLE", "AIZEN_SALTS_TABLE", "AWS_ENDPOINT_URL_DYNAMODB")
    }
    result = subprocess.run(
        [demo_stack.cli_environment.get("AIZEN_CLI", "aizen"), "keys", "list", "--site", demo_stack.summary["site_id"]],
        capture_output=True,
        text=True,
        env=environment,
        timeout=60,
        check=False,
        executable=str(Path(__import__("sys").executable).with_name("aizen")),
    )
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["keys"]
