"""Distinct values per day: a day's rollup keeps its top values per property and folds the
rest into one `(other)` row (docs/rollups.md, "Distinct values per day")."""

import json
from collections.abc import Callable, Iterator
from datetime import date, timedelta
from typing import Any

import pytest

from aizen import admin
from aizen.events import RawEvent
from aizen.goals import Goal
from aizen.importing import history
from aizen.models import Site
from aizen.periods import day_start_ms, today_in, zone
from aizen.rollup import job
from aizen.rollup.compute import MAX_KEPT_BYTES, compute_day
from aizen.settings import Settings, SettingsError
from aizen.store import accounts, rollups
from aizen.store import events as event_store
from aizen.store import goals as goal_store
from aizen.vocabulary import GOAL_KEY_SEPARATOR
from tests.support import FrozenClock, bearer, invoke, make_key

DAY = 86_400
ApplyEnv = Callable[..., Settings]


def _site(timezone: str = "Europe/Berlin") -> Site:
    admin.create_user("owner1@example.com", user_id="user_1")
    site = accounts.get_site(admin.create_site("site1.example", timezone, "user_1", site_id="site_1").id)
    assert site is not None
    return site


def _today(clock: FrozenClock, site: Site) -> date:
    return today_in(zone(site.timezone), clock.now())


class _Traffic:
    """Events of one site-local day, each a minute after the one before."""

    def __init__(self, site: Site, day: date) -> None:
        self._site = site
        self._next_ms = day_start_ms(day, zone(site.timezone)) + 3_600_000

    def add(self, visitor: str, page: str, *, kind: str = "pageview", gap_minutes: int = 1, **fields: Any) -> None:
        self._next_ms += gap_minutes * 60_000
        event_store.put_event(RawEvent(self._site.id, self._next_ms, kind, visitor, page, **fields))  # type: ignore[arg-type]


def _rows(site: Site, prop: str, day: date) -> list[list[Any]]:
    key = day.isoformat()
    days = rollups.rolled_up_days(site.id, key, key)
    return [row for _, part in rollups.day_tables(site.id, prop, key, key, days) for row in part]


def _visitor(number: int) -> str:
    return f"{number:016x}"


def test_a_day_over_the_limit_keeps_its_top_values_and_counts_the_rest_as_one_other_row(
    clock: FrozenClock, aizen_env: ApplyEnv
) -> None:
    # Given: a limit of 3 values, and a day with 7 pages
    aizen_env(ROLLUP_VALUES_PER_DAY="3")
    site = _site()
    day = _today(clock, site)
    traffic = _Traffic(site, day)
    for number, page in enumerate(["/a"] * 4 + ["/b"] * 3 + ["/c"] * 2):
        traffic.add(_visitor(number), page)
    traffic.add(_visitor(10), "/d")
    traffic.add(_visitor(10), "/d")
    traffic.add(_visitor(11), "/e")
    for page in ("/e", "/f", "/g"):  # one visitor of three folded pages
        traffic.add(_visitor(12), page)
    unlimited = compute_day(site, day)

    # When
    clock.advance(2 * DAY)
    job.run()

    # Then: /c (2 visitors, 2 pageviews) ranks before /e (2, 2) by value; the folded pages'
    # visitors are counted once each (3, not 1 + 2 + 1 + 1), their pageviews added up
    assert _rows(site, "page", day) == [["(other)", 3, 6], ["/a", 4, 4], ["/b", 3, 3], ["/c", 2, 2]]
    assert _rows(site, "entry_page", day) == [["(other)", 3], ["/a", 4], ["/b", 3], ["/c", 2]]
    # the kept values are exactly what the day holds without a limit, and the totals are untouched
    assert [row for row in unlimited.tables["page"] if row[0] in ("/a", "/b", "/c")] == _rows(site, "page", day)[1:]
    day_item = rollups.rolled_up_days(site.id, day.isoformat(), day.isoformat())[day.isoformat()]
    assert (day_item["visitors"], day_item["pageviews"]) == (12, 15)


def test_a_visitor_of_several_folded_session_values_counts_once_in_other(
    clock: FrozenClock, aizen_env: ApplyEnv
) -> None:
    # Given: a limit of 2, five referrers, and a visitor with two sessions from two folded ones
    aizen_env(ROLLUP_VALUES_PER_DAY="2")
    site = _site()
    day = _today(clock, site)
    traffic = _Traffic(site, day)
    for number, referrer in enumerate(["one.example"] * 3 + ["two.example"] * 2 + ["three.example"]):
        traffic.add(_visitor(number), "/", referrer=referrer)
    traffic.add(_visitor(9), "/", referrer="four.example")
    traffic.add(_visitor(9), "/", referrer="five.example", gap_minutes=45)  # a new session
    for link in ["https://a.example/"] * 2 + ["https://b.example/", "https://c.example/"]:
        traffic.add(_visitor(0), "/", kind="outbound_click", link=link, referrer="one.example")

    # When
    clock.advance(2 * DAY)
    job.run()

    # Then
    # rows are [value, visitors, pageviews, visits]: visitor 9's two sessions are two visits of one visitor,
    # and visitor 0's clicks, most of an hour after its pageview, are a second session from one.example
    assert _rows(site, "referrer", day) == [["(other)", 2, 3, 3], ["one.example", 3, 3, 4], ["two.example", 2, 2, 2]]
    assert _rows(site, "exit_link", day) == [["(other)", 1], ["https://a.example/", 2], ["https://b.example/", 1]]


def test_long_values_are_kept_up_to_the_size_budget_and_the_day_stays_one_item(clock: FrozenClock) -> None:
    # Given: the default limit (1,000) and 300 pages of 500 characters, non-ASCII (6 bytes each
    # in the stored JSON), one visitor each
    site = _site()
    day = _today(clock, site)
    traffic = _Traffic(site, day)
    pages = [f"/{number:03d}".ljust(500, "é") for number in range(300)]
    for number, page in enumerate(pages):
        traffic.add(_visitor(number), page)

    # When
    clock.advance(2 * DAY)
    job.run()

    # Then: the first pages by value up to 100,000 bytes as stored, the others one row, in one item
    kept = MAX_KEPT_BYTES // len(json.dumps(pages[0]))
    assert kept == 33
    assert _rows(site, "page", day) == [["(other)", 300 - kept, 300 - kept], *([page, 1, 1] for page in pages[:kept])]
    assert rollups.rolled_up_days(site.id, day.isoformat(), day.isoformat())[day.isoformat()]["parts"]["page"] == 1


@pytest.fixture
def rows_read(monkeypatch: pytest.MonkeyPatch) -> dict[str, int]:
    """Rollup rows the planner reads from the store, per day."""
    counted: dict[str, int] = {}
    day_tables = rollups.day_tables

    def counting(*args: Any, **kwargs: Any) -> Iterator[tuple[str, list[list[Any]]]]:
        for day, rows in day_tables(*args, **kwargs):
            counted[day] = counted.get(day, 0) + len(rows)
            yield day, rows

    monkeypatch.setattr(rollups, "day_tables", counting)
    return counted


def test_a_flood_of_random_pages_costs_a_long_breakdown_at_most_the_limit_per_day(
    clock: FrozenClock, aizen_env: ApplyEnv, rows_read: dict[str, int]
) -> None:
    # Given: a limit of 5; for two days, 3 real visitors and one client sending 40 random pages
    aizen_env(ROLLUP_VALUES_PER_DAY="5")
    site = _site()
    first = _today(clock, site)
    for offset in range(2):
        traffic = _Traffic(site, first + timedelta(days=offset))
        for number in range(3):
            traffic.add(_visitor(number), "/")
            traffic.add(_visitor(number), "/pricing")
        for number in range(40):
            traffic.add(_visitor(99), f"/junk/{offset}/{number:02d}")
    clock.advance(3 * DAY)
    job.run()
    _, token = make_key(site.id)

    for period in ("12m", "all"):
        rows_read.clear()

        # When
        response = invoke(
            "StatsBreakdownFunction",
            "/api/v1/stats/breakdown",
            query={"period": period, "property": "page", "metrics": "visitors,pageviews", "limit": "3"},
            headers=bearer(token),
        )

        # Then: each day's table is read with at most 5 + 1 rows (not 42), the real pages are exact
        assert response.status == 200, response.body
        assert rows_read == {(first + timedelta(days=offset)).isoformat(): 6 for offset in range(2)}
        assert response.body["results"] == [
            {"value": "/", "visitors": 6, "pageviews": 6},
            {"value": "/pricing", "visitors": 6, "pageviews": 6},
            {"value": "(other)", "visitors": 2, "pageviews": 74},
        ]
        assert response.body["pagination"]["total_rows"] == 9


def test_a_value_folded_on_some_days_counts_only_its_days_under_the_limit(
    clock: FrozenClock, aizen_env: ApplyEnv
) -> None:
    # Given: a limit of 2; /x is kept on the first day (2 pages) and folded on the second (3 pages)
    aizen_env(ROLLUP_VALUES_PER_DAY="2")
    site = _site()
    first = _today(clock, site)
    for offset, pages in enumerate([["/", "/", "/", "/x"], ["/", "/", "/", "/y", "/y", "/x"]]):
        traffic = _Traffic(site, first + timedelta(days=offset))
        for number, page in enumerate(pages):
            traffic.add(_visitor(number), page)
    clock.advance(3 * DAY)
    job.run()
    _, token = make_key(site.id)

    # When
    response = invoke(
        "StatsBreakdownFunction",
        "/api/v1/stats/breakdown",
        query={"period": "12m", "property": "page", "metrics": "visitors"},
        headers=bearer(token),
    )

    # Then: /x has its first day's visitor only; the second day's is in (other)
    assert response.body["results"] == [
        {"value": "/", "visitors": 6},
        {"value": "/y", "visitors": 2},
        {"value": "(other)", "visitors": 1},
        {"value": "/x", "visitors": 1},
    ]


def test_each_history_import_is_limited_and_imports_add_up(clock: FrozenClock, aizen_env: ApplyEnv) -> None:
    # Given: a limit of 1 and a day a year ago, imported twice with different visitors
    aizen_env(ROLLUP_VALUES_PER_DAY="1")
    site = _site()
    old_day = _today(clock, site) - timedelta(days=365)
    start = day_start_ms(old_day, zone(site.timezone)) + 12 * 3_600_000

    def batch(prefix: str, pages: list[str]) -> list[RawEvent]:
        return [RawEvent(site.id, start, "pageview", f"{prefix}{n:015x}", page) for n, page in enumerate(pages)]

    # When
    history.add_history(site, batch("a", ["/a", "/a", "/b"]))
    history.add_history(site, batch("b", ["/b", "/b", "/a"]))

    # Then: each import kept its top page and folded the other; the day holds both, added
    stored = history.stored_day(site, old_day)
    assert stored is not None
    assert stored.tables["page"] == [["(other)", 2, 2], ["/a", 2, 2], ["/b", 2, 2]]


def test_a_goal_table_keeps_the_limit_of_goal_values_and_each_goal_folds_the_rest_into_its_other_row(
    clock: FrozenClock, aizen_env: ApplyEnv, rows_read: dict[str, int]
) -> None:
    # Given: a limit of 3; a goal on every page and a Signup goal; a day with four real pages
    # and one client sending six random pages
    aizen_env(ROLLUP_VALUES_PER_DAY="3")
    site = _site()
    every_page = Goal(goal_id="g1", name="Visit /**", event_name=None, page_pattern="/**", created_at=1)
    signup = Goal(goal_id="g2", name="Signup", event_name="Signup", page_pattern=None, created_at=1)
    for goal in (every_page, signup):
        goal_store.put_goal(site.id, goal)
    day = _today(clock, site)
    traffic = _Traffic(site, day)
    for number in range(4):
        traffic.add(_visitor(number), "/")
    for number in range(3):
        traffic.add(_visitor(number), "/pricing")
    traffic.add(_visitor(4), "/signup")
    traffic.add(_visitor(4), "/signup", kind="custom", name="Signup")
    for number in range(6):
        traffic.add(_visitor(9), f"/junk/{number}")

    # When
    clock.advance(2 * DAY)
    job.run()

    # Then: the table keeps 3 (goal, page) rows, each goal's top pages in turn (so the flood of one
    # goal cannot fold another goal's only page); the rest of each goal is its (other) row, whose
    # converters count once each (visitors 4 and 9: 2) and whose conversions add up (1 + 6)
    def key(goal: Goal, page: str) -> str:
        return goal.goal_id + GOAL_KEY_SEPARATOR + page

    assert _rows(site, "goals:page", day) == [
        [key(every_page, "(other)"), 2, 7],
        [key(every_page, "/"), 4, 4],
        [key(every_page, "/pricing"), 3, 3],
        [key(signup, "/signup"), 1, 1],
    ]
    # a goal's session-attribute tables are limited the same way (here one value each: nothing folds)
    assert _rows(site, "goals:device", day) == [[key(every_page, "(none)"), 6, 14], [key(signup, "(none)"), 1, 1]]

    # and a long goal breakdown reads the day's 4 page rows (not 10; and its 2 `goals` rows, which
    # say the goal was counted that day) and counts the kept pages exactly
    rows_read.clear()
    _, token = make_key(site.id)
    response = invoke(
        "StatsBreakdownFunction",
        "/api/v1/stats/breakdown",
        query={"period": "12m", "property": "page", "goal": "Visit /**", "metrics": "visitors,pageviews"},
        headers=bearer(token),
    )
    assert response.status == 200, response.body
    assert rows_read[day.isoformat()] == 4 + 2
    assert response.body["results"] == [
        {"value": "/", "visitors": 4, "pageviews": 4},
        {"value": "/pricing", "visitors": 3, "pageviews": 3},
        {"value": "(other)", "visitors": 2, "pageviews": 7},
    ]


def test_the_limit_is_a_setting_of_at_least_one(aizen_env: ApplyEnv) -> None:
    assert aizen_env().rollup_values_per_day == 1000
    assert aizen_env(ROLLUP_VALUES_PER_DAY="50").rollup_values_per_day == 50
    with pytest.raises(SettingsError, match="AIZEN_ROLLUP_VALUES_PER_DAY: must be an integer of at least 1"):
        aizen_env(ROLLUP_VALUES_PER_DAY="0")
