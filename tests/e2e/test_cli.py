"""The `aizen` command line: JSON on stdout, JSON errors on stderr with a non-zero exit."""

import json

import pytest

from tests.e2e.conftest import RunningStack

pytestmark = pytest.mark.e2e


def test_users_sites_sessions_keys(stack: RunningStack) -> None:
    user = stack.cli_json("users", "create", "--email", "cli@example.com")
    site = stack.cli_json(
        "sites", "create", "--domain", "WWW.Cli.Example", "--timezone", "Asia/Kathmandu", "--owner", user["id"]
    )
    session = stack.cli_json("sessions", "create", "--user", user["id"])
    key = stack.cli_json(
        "keys", "create", "--site", site["id"], "--name", "reports", "--expires-at", "2099-01-01T00:00:00+02:00"
    )
    listed = stack.cli_json("keys", "list", "--site", site["id"])
    revoked = stack.cli_json("keys", "revoke", "--site", site["id"], "--key", key["key"]["id"])

    assert user["billing_active"] is True
    assert site["domain"] == "cli.example"
    assert session["cookie"] == f"aizen_session={session['token']}"
    assert key["key"]["expires_at"] == 4070901600
    assert [item["id"] for item in listed["keys"]] == [key["key"]["id"]]
    assert revoked == {"ok": True}


def test_goals_create_list_delete(stack: RunningStack) -> None:
    user = stack.cli_json("users", "create", "--email", "goals@example.com")
    site = stack.cli_json("sites", "create", "--domain", "goals.example", "--timezone", "UTC", "--owner", user["id"])

    signup = stack.cli_json("goals", "create", "--site", site["id"], "--event", "Signup")
    blog = stack.cli_json("goals", "create", "--site", site["id"], "--page", "/blog/**", "--name", "Blog readers")
    listed = stack.cli_json("goals", "list", "--site", site["id"])
    twice = stack.cli("goals", "create", "--site", site["id"], "--event", "Signup", check=False)
    bad = stack.cli("goals", "create", "--site", site["id"], "--page", "blog", check=False)
    deleted = stack.cli_json("goals", "delete", "--site", site["id"], signup["goal"]["id"])
    neither = stack.cli("goals", "create", "--site", site["id"], check=False)

    assert (signup["goal"]["name"], signup["goal"]["event"], signup["goal"]["page"]) == ("Signup", "Signup", None)
    assert (blog["goal"]["name"], blog["goal"]["page"]) == ("Blog readers", "/blog/**")
    assert listed == {"goals": [signup["goal"], blog["goal"]]}
    assert (twice.returncode, json.loads(twice.stderr)["error"]["code"]) == (1, "conflict")
    assert json.loads(bad.stderr)["error"]["message"].startswith("page:")
    assert deleted == {"ok": True}
    assert [goal["name"] for goal in stack.cli_json("goals", "list", "--site", site["id"])["goals"]] == ["Blog readers"]
    assert neither.returncode == 2
    assert "--event" in neither.stderr


@pytest.mark.parametrize(
    ("args", "code"),
    [
        (["users", "create", "--email", "not-an-email"], "invalid_request"),
        (
            ["sites", "create", "--domain", "x.example", "--timezone", "Mars/Olympus", "--owner", "user_x"],
            "invalid_request",
        ),
        (["sites", "create", "--domain", "x.example", "--timezone", "UTC", "--owner", "user_missing"], "not_found"),
        (["sessions", "create", "--user", "user_missing"], "not_found"),
        (["keys", "list", "--site", "site_missing"], "not_found"),
        (["goals", "list", "--site", "site_missing"], "not_found"),
        (["goals", "delete", "--site", "site_missing", "g_1"], "not_found"),
    ],
)
def test_bad_input_is_a_json_error_on_stderr(stack: RunningStack, args: list[str], code: str) -> None:
    result = stack.cli(*args, check=False)

    assert result.returncode != 0
    assert result.stdout == ""
    assert json.loads(result.stderr)["error"]["code"] == code


def test_duplicate_email_is_refused(stack: RunningStack) -> None:
    stack.cli_json("users", "create", "--email", "twice@example.com")

    result = stack.cli("users", "create", "--email", "twice@example.com", check=False)

    assert result.returncode == 1
    assert "already exists" in json.loads(result.stderr)["error"]["message"]


def test_usage_errors_exit_2(stack: RunningStack) -> None:
    result = stack.cli("keys", "create", "--site", "s", check=False)

    assert result.returncode == 2
    assert "--name" in result.stderr
