"""Goal management through its three handlers: create, list, delete (docs/api.md, Goals)."""

import json
from typing import Any

import pytest

from aizen import site_goals
from aizen.goals import MAX_GOALS_PER_SITE, Goal
from aizen.site_goals import MAX_GOAL_BODY_BYTES
from aizen.store import accounts, dynamo
from aizen.store import goals as goal_store
from aizen_local import cli, connection
from tests.support import (
    DASHBOARD_ORIGIN,
    FrozenClock,
    HandlerResponse,
    Owner,
    dashboard_headers,
    invoke,
    main_table_items,
    make_owner,
)

CREATE, LIST, DELETE = "GoalsCreateFunction", "GoalsListFunction", "GoalsDeleteFunction"


def goals_path(site_id: str, goal_id: str | None = None) -> str:
    return f"/api/sites/{site_id}/goals" + (f"/{goal_id}" if goal_id else "")


def create(owner: Owner, body: Any, **kwargs: Any) -> HandlerResponse:
    headers = kwargs.pop("headers", dashboard_headers(owner.session))
    raw = body if isinstance(body, str) else json.dumps(body)
    return invoke(CREATE, goals_path(kwargs.pop("site_id", owner.site.id)), headers=headers, body=raw, **kwargs)


def list_goals(owner: Owner, **kwargs: Any) -> HandlerResponse:
    headers = kwargs.pop("headers", dashboard_headers(owner.session, origin=None))
    return invoke(LIST, goals_path(kwargs.pop("site_id", owner.site.id)), headers=headers, **kwargs)


def delete(owner: Owner, goal_id: str, **kwargs: Any) -> HandlerResponse:
    headers = kwargs.pop("headers", dashboard_headers(owner.session))
    return invoke(DELETE, goals_path(kwargs.pop("site_id", owner.site.id), goal_id), headers=headers, **kwargs)


def names(owner: Owner) -> list[str]:
    return [goal["name"] for goal in list_goals(owner).body["goals"]]


def goal_count(site_id: str) -> int:
    item = dynamo.main_table().get_item(Key={"pk": f"SITE#{site_id}", "sk": "SITE"})["Item"]
    return int(item.get("goal_count", 0))  # type: ignore[arg-type]


def goal_items() -> list[dict[str, Any]]:
    return [item for item in main_table_items() if str(item["pk"]).startswith("GOALS#")]


# Create and list --------------------------------------------------------------------------------


def test_event_and_page_goals_are_created_and_listed_oldest_first(owner: Owner, clock: FrozenClock) -> None:
    # When
    signup = create(owner, {"event": "Signup"})
    clock.advance(1)
    blog = create(owner, {"page": "/blog/**"})
    clock.advance(1)
    named = create(owner, {"event": "File Download", "display_name": "Downloads"})

    # Then
    assert (signup.status, blog.status, named.status) == (201, 201, 201)
    assert signup.body["goal"] == {
        "id": signup.body["goal"]["id"],
        "name": "Signup",
        "event": "Signup",
        "page": None,
        "created_at": int(clock.now()) - 2,
    }
    assert blog.body["goal"]["name"] == "Visit /blog/**"
    assert (blog.body["goal"]["event"], blog.body["goal"]["page"]) == (None, "/blog/**")
    assert named.body["goal"]["name"] == "Downloads"
    assert list_goals(owner).body == {"goals": [signup.body["goal"], blog.body["goal"], named.body["goal"]]}
    # the stats read the same goals
    assert [goal.name for goal in goal_store.list_goals(owner.site.id)] == ["Signup", "Visit /blog/**", "Downloads"]
    assert goal_count(owner.site.id) == 3


def test_list_is_empty_without_goals_and_shows_only_the_sites_own(owner: Owner) -> None:
    other = make_owner(user_id="user_2", site_id="site_2", domain="other.example")
    create(other, {"event": "Signup"})

    assert list_goals(owner).body == {"goals": []}
    assert names(other) == ["Signup"]


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({}, "exactly one of event and page is required"),
        ({"event": "Signup", "page": "/x"}, "exactly one of event and page is required"),
        ({"display_name": "Signups"}, "exactly one of event and page is required"),
        ({"event": ""}, "event:"),
        ({"event": "   "}, "event: must not be blank"),
        ({"event": "S" * 121}, "event:"),
        ({"event": 5}, "event:"),
        ({"event": "pageview"}, "event: pageview is not a custom event"),
        ({"event": "engagement"}, "event: engagement is not a custom event"),
        ({"page": "blog"}, "page:"),
        ({"page": "/" + "x" * 2000}, "page:"),
        ({"event": "Signup", "display_name": " "}, "display_name: must not be blank"),
        ({"event": "Signup", "display_name": "D" * 121}, "display_name:"),
        ({"event": "Signup", "colour": "red"}, "Unknown field colour"),
        ("[1]", "The request body must be a JSON object"),
        ("{oops", "The request body must be a JSON object"),
    ],
)
def test_a_bad_goal_is_400_naming_the_field_and_nothing_is_stored(owner: Owner, body: Any, message: str) -> None:
    response = create(owner, body)

    assert response.status == 400, response.body
    assert response.body["error"]["code"] == "invalid_request"
    assert message in response.body["error"]["message"]
    assert goal_items() == []
    assert goal_count(owner.site.id) == 0


def test_the_largest_goal_is_accepted_and_a_body_over_the_limit_is_413(owner: Owner) -> None:
    largest = {"page": "/" + "x" * 1999, "display_name": "D" * 120}
    assert create(owner, largest).status == 201
    too_big = create(owner, json.dumps({"event": "Signup"}) + " " * MAX_GOAL_BODY_BYTES)
    assert (too_big.status, too_big.body["error"]["code"]) == (413, "payload_too_large")


@pytest.mark.parametrize(
    ("first", "second", "message"),
    [
        ({"event": "Signup"}, {"event": "Signup"}, "already has a goal for event 'Signup'"),
        ({"event": "Signup"}, {"event": "Signup", "display_name": "Other"}, "already has a goal for event 'Signup'"),
        ({"page": "/blog/**"}, {"page": "/blog/**", "display_name": "Blog"}, "already has a goal for page '/blog/**'"),
        ({"event": "Signup"}, {"page": "/signup", "display_name": "Signup"}, "already has a goal named 'Signup'"),
        ({"page": "/x"}, {"event": "Visit /x"}, "already has a goal named 'Visit /x'"),
    ],
)
def test_a_duplicate_goal_is_409_and_nothing_is_written(
    owner: Owner, first: dict[str, str], second: dict[str, str], message: str
) -> None:
    assert create(owner, first).status == 201
    stored = goal_items()

    response = create(owner, second)

    assert response.status == 409
    assert response.body["error"]["code"] == "conflict"
    assert message in response.body["error"]["message"]
    assert goal_items() == stored
    assert goal_count(owner.site.id) == 1


def test_the_same_event_on_two_sites_is_no_duplicate(owner: Owner) -> None:
    other = make_owner(user_id="user_2", site_id="site_2", domain="other.example")

    assert (create(owner, {"event": "Signup"}).status, create(other, {"event": "Signup"}).status) == (201, 201)


# The limit ----------------------------------------------------------------------------------------


def fill(owner: Owner, count: int) -> None:
    """`count` goals, through the domain (the handlers' per-IP window is 60 a minute)."""
    for number in range(count):
        site_goals.create_goal(owner.site.id, site_goals.CreateGoalRequest(event=f"Event {number}"))


def test_the_101st_goal_is_409_and_deleting_one_frees_its_slot(owner: Owner) -> None:
    # Given a site with the most goals a site may have
    fill(owner, MAX_GOALS_PER_SITE)

    # When / Then
    refused = create(owner, {"event": "One too many"})
    assert refused.status == 409
    assert refused.body["error"]["message"] == (
        f"Site {owner.site.id} already has 100 goals, the most a site may have; delete one to create another"
    )
    assert len(names(owner)) == MAX_GOALS_PER_SITE == goal_count(owner.site.id)
    first = list_goals(owner).body["goals"][0]["id"]
    assert delete(owner, first).status == 200
    assert create(owner, {"event": "One too many"}).status == 201
    assert len(names(owner)) == MAX_GOALS_PER_SITE == goal_count(owner.site.id)


def test_a_creation_racing_another_for_the_last_slot_is_refused(owner: Owner) -> None:
    # Given a site with one slot left, and another creation that lands while ours is on its way
    dynamo.main_table().update_item(
        Key={"pk": f"SITE#{owner.site.id}", "sk": "SITE"},
        UpdateExpression="SET goal_count = :almost",
        ExpressionAttributeValues={":almost": MAX_GOALS_PER_SITE - 1},
    )
    raced: list[str] = []

    def another_creation_lands_first(**_: Any) -> None:
        if not raced:  # once: the racer's own transaction passes through here too
            raced.append("racing")
            assert create(owner, {"event": "The racer"}).status == 201

    events = dynamo.client().meta.events
    events.register("before-call.dynamodb.TransactWriteItems", another_creation_lands_first)
    try:
        response = create(owner, {"event": "Ours"})
    finally:
        events.unregister("before-call.dynamodb.TransactWriteItems", another_creation_lands_first)

    # Then the racer took the last slot: nothing read first could have let ours pass
    assert raced
    assert response.status == 409
    assert names(owner) == ["The racer"]
    assert goal_count(owner.site.id) == MAX_GOALS_PER_SITE


# Delete -------------------------------------------------------------------------------------------


def test_delete_removes_the_goal_its_guards_and_its_slot(owner: Owner) -> None:
    goal = create(owner, {"event": "Signup"}).body["goal"]

    response = delete(owner, goal["id"])

    assert (response.status, response.body) == (200, {"ok": True})
    assert list_goals(owner).body == {"goals": []}
    assert goal_items() == []  # no guard left behind: the same goal can be created again
    assert goal_count(owner.site.id) == 0
    assert create(owner, {"event": "Signup"}).status == 201


def test_deleting_twice_or_an_unknown_goal_is_404(owner: Owner) -> None:
    goal = create(owner, {"event": "Signup"}).body["goal"]
    assert delete(owner, goal["id"]).status == 200

    again = delete(owner, goal["id"])
    unknown = delete(owner, "0" * 32)

    assert (again.status, again.body["error"]["code"]) == (404, "not_found")
    assert unknown.status == 404
    assert goal_count(owner.site.id) == 0


def test_a_goal_of_another_site_is_404_even_for_its_owner(clock: FrozenClock) -> None:
    # Given a user owning two sites, with a goal on site A
    owner = make_owner(site_id="site_a", domain="a.example")
    accounts.put_site(owner.site._replace(id="site_b", domain="b.example"))
    goal = create(owner, {"event": "Signup"}).body["goal"]

    # When the goal is deleted through site B's URL
    response = delete(owner, goal["id"], site_id="site_b")

    # Then it is not found there, and stays
    assert response.status == 404
    assert names(owner) == ["Signup"]


def test_a_goal_stored_without_a_slot_is_deleted_and_frees_none(owner: Owner) -> None:
    create(owner, {"event": "Counted"})
    goal_store.put_goal(owner.site.id, Goal("g_fixture", "Fixture", event_name="Fixture", created_at=1))

    assert delete(owner, "g_fixture").status == 200

    assert names(owner) == ["Counted"]
    assert goal_count(owner.site.id) == 1


# Access: exactly the key management's ----------------------------------------------------------


def _call(operation: str, owner: Owner, headers: dict[str, str], site_id: str | None = None) -> HandlerResponse:
    site = site_id or owner.site.id
    if operation == "create":
        return create(owner, {"event": "Signup"}, headers=headers, site_id=site)
    if operation == "list":
        return list_goals(owner, headers=headers, site_id=site)
    return delete(owner, "0" * 32, headers=headers, site_id=site)


@pytest.mark.parametrize("operation", ["create", "list", "delete"])
def test_unknown_site_is_404(owner: Owner, operation: str) -> None:
    response = _call(operation, owner, dashboard_headers(owner.session), site_id="no_such_site")

    assert (response.status, response.body["error"]["code"]) == (404, "not_found")


@pytest.mark.parametrize("operation", ["create", "list", "delete"])
@pytest.mark.parametrize("cookie", [None, "aizen_session=", "other_cookie=1"])
def test_no_valid_session_is_401(owner: Owner, operation: str, cookie: str | None) -> None:
    headers = {"Origin": DASHBOARD_ORIGIN} | ({"Cookie": cookie} if cookie else {})

    response = _call(operation, owner, headers)

    assert (response.status, response.body["error"]["code"]) == (401, "unauthorized")


@pytest.mark.parametrize("operation", ["create", "list", "delete"])
def test_signed_in_but_not_the_owner_is_403_and_nothing_changes(owner: Owner, operation: str) -> None:
    intruder = make_owner(user_id="user_2", site_id="site_2", domain="other.example")
    goal = create(owner, {"event": "Signup"}).body["goal"]
    headers = dashboard_headers(intruder.session)

    if operation == "create":
        response = create(owner, {"event": "Other"}, headers=headers)
    elif operation == "list":
        response = list_goals(owner, headers=dashboard_headers(intruder.session, origin=None))
    else:
        response = delete(owner, goal["id"], headers=headers)

    assert (response.status, response.body["error"]["code"]) == (403, "forbidden")
    assert response.body["error"]["message"] == "Only the site owner can manage its goals"
    assert names(owner) == ["Signup"]


@pytest.mark.parametrize("operation", ["create", "list", "delete"])
def test_an_owner_without_api_access_is_403_and_nothing_changes(operation: str, clock: FrozenClock) -> None:
    # Given: an owner whose plan has no API access, with a goal stored before (by the operator)
    unpaid = make_owner(billing=False)
    goal = site_goals.create_goal(unpaid.site.id, site_goals.CreateGoalRequest(event="Signup"))
    before = goal_items()

    # When
    if operation == "create":
        response = create(unpaid, {"event": "Other"})
    elif operation == "list":
        response = list_goals(unpaid)
    else:
        response = delete(unpaid, goal.goal_id)

    # Then: refused after the owner check, like the stats routes for this owner; nothing written
    assert (response.status, response.body["error"]["code"]) == (403, "forbidden")
    assert response.body["error"]["message"] == (
        "Goals are unavailable for this site: the site owner's plan does not include API access"
    )
    assert goal_items() == before
    assert goal_count(unpaid.site.id) == 1


def test_the_billing_check_comes_after_the_owner_check(clock: FrozenClock) -> None:
    # Given: a site of an owner without API access, and another user, signed in, who has it
    unpaid = make_owner(billing=False)
    intruder = make_owner(user_id="user_2", site_id="site_2", domain="other.example")

    # When
    response = list_goals(unpaid, headers=dashboard_headers(intruder.session, origin=None))

    # Then: the intruder learns only that the site is not theirs, not the owner's plan
    assert response.body["error"]["message"] == "Only the site owner can manage its goals"


def test_the_command_line_manages_goals_of_an_owner_without_api_access(
    clock: FrozenClock, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    # Given: an owner without API access; the command line is the operator's, with the test's tables
    monkeypatch.setattr(connection, "connect", lambda stack: None)
    unpaid = make_owner(billing=False)

    # When
    created = cli.main(["goals", "create", "--site", unpaid.site.id, "--event", "Signup"])
    goal = json.loads(capsys.readouterr().out)["goal"]
    listed = cli.main(["goals", "list", "--site", unpaid.site.id])
    goals = json.loads(capsys.readouterr().out)["goals"]
    deleted = cli.main(["goals", "delete", "--site", unpaid.site.id, goal["id"]])

    # Then: no plan is checked
    assert (created, listed, deleted) == (0, 0, 0)
    assert goals == [goal]
    assert goal_items() == []


@pytest.mark.parametrize("operation", ["create", "delete"])
@pytest.mark.parametrize("origin", [None, "https://evil.example", "https://dashboard.test.evil.example", "null"])
def test_writes_need_the_dashboard_origin(owner: Owner, operation: str, origin: str | None) -> None:
    goal = create(owner, {"event": "Signup"}).body["goal"]
    headers = dashboard_headers(owner.session, origin=origin)

    if operation == "create":
        response = create(owner, {"event": "Other"}, headers=headers)
    else:
        response = delete(owner, goal["id"], headers=headers)

    assert (response.status, response.body["error"]["code"]) == (403, "forbidden")
    assert names(owner) == ["Signup"]


def test_reading_needs_no_origin(owner: Owner) -> None:
    assert list_goals(owner, headers={"Cookie": owner.session.cookie}).status == 200
