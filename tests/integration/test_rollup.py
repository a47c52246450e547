"""The scheduled rollup job: which days it rolls up, what it writes, and how it recovers."""

import json
import random
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest

from aizen import admin
from aizen.errors import RollupDayChanged
from aizen.events import RawEvent
from aizen.importing import history
from aizen.importing import service as importer
from aizen.models import Site
from aizen.observability import logger
from aizen.periods import day_start_ms, zone
from aizen.rollup import job
from aizen.rollup.compute import compute_day
from aizen.store import accounts, rollups
from aizen.store import events as event_store
from aizen.store.dynamo import main_table
from aizen_local import cli, connection
from aizen_local.apigw import LocalLambdaContext
from aizen_local.functions import load_handler
from aizen_local.template import PROJECT_ROOT
from tests.support import FrozenClock, main_table_items

DAY = 86_400


def _site(clock: FrozenClock, number: int = 1, timezone: str = "Europe/Berlin") -> str:
    user = admin.create_user(f"owner{number}@example.com", user_id=f"user_{number}")
    return admin.create_site(f"site{number}.example", timezone, user.id, site_id=f"site_{number}").id


def _rolled_up_site(clock: FrozenClock) -> tuple[Site, date]:
    """Site 1 three days on, its finished days rolled up by the job; and yesterday's date."""
    site = accounts.get_site(_site(clock))
    assert site is not None
    clock.advance(3 * DAY)
    job.run()
    return site, date.fromtimestamp(clock.now()) - timedelta(days=1)


def _pageview_an_hour_into(site: Site, day: date, visitor: str, page: str) -> RawEvent:
    """A pageview an hour into the site's local `day`."""
    return RawEvent(site.id, day_start_ms(day, zone(site.timezone)) + 3_600_000, "pageview", visitor, page)


def _traffic(site_id: str, timezone: str, first_day: date, days: int, seed: int = 7) -> None:
    rng = random.Random(seed)  # noqa: S311 - test traffic, not secrets
    tz = zone(timezone)
    for offset in range(days):
        start = day_start_ms(first_day + timedelta(days=offset), tz)
        for _ in range(rng.randint(5, 25)):
            visitor = f"{rng.getrandbits(64):016x}"
            moment = start + rng.randrange(0, 23 * 3_600_000)
            for _ in range(rng.randint(1, 4)):
                moment += rng.randrange(1_000, 40 * 60_000)
                event_store.put_event(
                    RawEvent(
                        site_id=site_id,
                        timestamp_ms=moment,
                        kind="outbound_click" if rng.random() < 0.1 else "pageview",
                        visitor_id=visitor,
                        page=rng.choice(["/", "/pricing", "/blog", "/docs"]),
                        referrer=rng.choice([None, "google.com", "news.ycombinator.com"]),
                        country=rng.choice(["DE", "US", None]),
                        device=rng.choice(["desktop", "mobile"]),
                        link="https://github.com/example" if rng.random() < 0.5 else None,
                    )
                )


def _without_generations(days: dict[str, dict[str, object]]) -> dict[str, dict[str, object]]:
    return {day: {name: value for name, value in record.items() if name != "gen"} for day, record in days.items()}


def test_no_sites_no_work() -> None:
    assert job.run().as_dict() == {
        "sites": 0,
        "days_rolled_up": 0,
        "items_written": 0,
        "events_read": 0,
        "failed_sites": [],
        "days_left": 0,
        "days_set_aside": [],
    }


def test_a_new_site_has_no_finished_day_yet(clock: FrozenClock) -> None:
    _site(clock)

    report = job.run()

    assert (report.sites, report.days_rolled_up, report.failed_sites) == (1, 0, [])


def test_every_finished_day_is_rolled_up_once(clock: FrozenClock) -> None:
    # Given: a site with five days of traffic, and time moved on a week
    site_id = _site(clock)
    created = date.fromtimestamp(clock.now())
    _traffic(site_id, "Europe/Berlin", created, 5)
    clock.advance(7 * DAY)

    # When
    first = job.run()
    second = job.run()

    # Then: the finished days (creation day .. yesterday) once; nothing the second time
    assert first.days_rolled_up == 7
    assert first.events_read > 0
    assert second.days_rolled_up == 0
    rolled = rollups.rolled_up_days(site_id, "2000-01-01", "2100-01-01")
    assert len(rolled) == 7


def test_the_cli_prints_only_the_report_and_logs_on_stderr(
    clock: FrozenClock, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    # Given: days to roll up, and the test's own tables
    monkeypatch.setattr(connection, "connect", lambda stack: None)
    _traffic(_site(clock), "Europe/Berlin", date.fromtimestamp(clock.now()), 2)
    clock.advance(3 * DAY)

    # When
    status = cli.main(["rollup"])
    captured = capsys.readouterr()
    logger.info("after the command")

    # Then: stdout is the report alone (`aizen rollup | jq` works), the job's log line is on stderr,
    # and the layer's logger writes to stdout again once the command is done (as in Lambda)
    assert status == 0
    assert json.loads(captured.out)["days_rolled_up"] == 3
    assert json.loads(captured.err)["message"] == "rollup finished"
    assert json.loads(capsys.readouterr().out)["message"] == "after the command"


def test_rollup_items_hold_what_the_raw_events_say(clock: FrozenClock) -> None:
    site_id = _site(clock)
    created = date.fromtimestamp(clock.now())
    _traffic(site_id, "Europe/Berlin", created, 3)
    clock.advance(4 * DAY)

    job.run()

    site = accounts.get_site(site_id)
    assert site is not None
    rolled = rollups.rolled_up_days(site_id, "2000-01-01", "2100-01-01")
    for day_text, record in rolled.items():
        expected = compute_day(site, date.fromisoformat(day_text))
        assert {name: record[name] for name in expected.totals} == expected.totals
        for prop, rows in expected.tables.items():
            stored = [row for _, part in rollups.day_tables(site_id, prop, day_text, day_text, rolled) for row in part]
            assert sorted(stored) == sorted(rows), (day_text, prop)


def test_rerunning_a_day_rewrites_the_same_numbers(clock: FrozenClock) -> None:
    site_id = _site(clock)
    _traffic(site_id, "Europe/Berlin", date.fromtimestamp(clock.now()), 2)
    clock.advance(3 * DAY)
    job.run()
    before = rollups.rolled_up_days(site_id, "2000-01-01", "2100-01-01")
    pages_before = list(rollups.day_tables(site_id, "page", "2000-01-01", "2100-01-01", before))

    # When: an import marks the days changed and the job runs again (a new generation)
    rollups.mark_dirty(site_id, list(before))
    clock.advance(60)
    report = job.run()

    # Then
    after = rollups.rolled_up_days(site_id, "2000-01-01", "2100-01-01")
    assert report.days_rolled_up == len(before)
    assert _without_generations(after) == _without_generations(before)
    assert list(rollups.day_tables(site_id, "page", "2000-01-01", "2100-01-01", after)) == pages_before
    # and the replaced generation's parts are gone
    page_parts = [item for item in main_table_items() if item["pk"] == f"ROLLUP#{site_id}#page"]
    assert {str(item["sk"]).split("#")[1] for item in page_parts} == {record["gen"] for record in after.values()}
    assert list(rollups.dirty_days(site_id)) == []


def test_a_day_marked_again_while_it_is_rolled_up_stays_due(
    clock: FrozenClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given: a rolled-up day an import marks, and an import that writes another event and marks
    # the day again after the job has read that day's raw events (and its first mark)
    site, yesterday = _rolled_up_site(clock)
    site_id = site.id
    late = _pageview_an_hour_into(site, yesterday, "d" * 16, "/late")
    rollups.mark_dirty(site_id, [yesterday.isoformat()])
    compute = compute_day

    def compute_then_an_import_lands(site_: Any, day: date) -> Any:
        rollup = compute(site_, day)
        event_store.put_event(late)
        history.mark_changed_days(site, [late])
        return rollup

    monkeypatch.setattr("aizen.rollup.job.compute_day", compute_then_an_import_lands)

    # When the job runs while that import lands
    job.run()

    # Then the new mark stays, and the next run rolls the day up with the late event
    assert list(rollups.dirty_days(site_id)) == [yesterday.isoformat()]
    monkeypatch.setattr("aizen.rollup.job.compute_day", compute)
    report = job.run()
    assert report.days_rolled_up == 1
    assert list(rollups.dirty_days(site_id)) == []
    day_item = rollups.rolled_up_days(site_id, yesterday.isoformat(), yesterday.isoformat())[yesterday.isoformat()]
    assert day_item["pageviews"] == 1


def test_an_import_marks_its_days_again_once_its_events_are_in(clock: FrozenClock) -> None:
    # Given a site with rolled-up days
    site_id = _site(clock)
    site = accounts.get_site(site_id)
    assert site is not None
    clock.advance(3 * DAY)
    yesterday = date.fromtimestamp(clock.now()) - timedelta(days=1)
    moment = datetime.fromtimestamp(day_start_ms(yesterday, zone(site.timezone)) / 1000 + 3600, UTC)
    line = {"timestamp": moment.isoformat(), "name": "pageview", "url": "https://site1.example/", "visitor_id": "v1"}
    marks: list[dict[str, str]] = []
    put_events = event_store.put_events

    def record_marks_then_write(*args: Any, **kwargs: Any) -> int:
        marks.append(rollups.dirty_days(site_id))
        return put_events(*args, **kwargs)

    # When an import writes a recent event
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(event_store, "put_events", record_marks_then_write)
        importer.import_events(site_id, [json.dumps(line)], threads=1)

    # Then the day was marked before the write and marked again, with a new mark, after it
    assert list(marks[0]) == [yesterday.isoformat()]
    assert rollups.dirty_days(site_id)[yesterday.isoformat()] != marks[0][yesterday.isoformat()]


def test_a_crash_part_way_then_a_rerun_gives_the_same_result(
    clock: FrozenClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given: the same traffic on two sites; the first site's rollup crashes on its third day
    crashing = _site(clock, 1)
    healthy = _site(clock, 2)
    for site_id in (crashing, healthy):
        _traffic(site_id, "Europe/Berlin", date.fromtimestamp(clock.now()), 5, seed=3)
    clock.advance(6 * DAY)
    real_put_day = rollups.put_day
    calls = {"count": 0}

    def flaky_put_day(site_id: str, *args: object, **kwargs: object) -> int:
        if site_id == crashing:
            calls["count"] += 1
            if calls["count"] == 3:
                raise RuntimeError("lost the connection")
        return real_put_day(site_id, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(rollups, "put_day", flaky_put_day)

    # When
    crashed = job.run()
    monkeypatch.setattr(rollups, "put_day", real_put_day)
    resumed = job.run()

    # Then: the healthy site was not held up; the re-run finished the rest; both agree
    assert crashed.failed_sites == [crashing]
    assert resumed.failed_sites == []
    assert crashed.days_rolled_up + resumed.days_rolled_up == 12
    assert _without_generations(rollups.rolled_up_days(crashing, "2000-01-01", "2100-01-01")) == _without_generations(
        rollups.rolled_up_days(healthy, "2000-01-01", "2100-01-01")
    )


def test_value_tables_split_across_items_never_drop_values(clock: FrozenClock) -> None:
    # Given: rows far larger than one item may hold
    rows = [[f"/articles/{n:06d}/{'x' * 200}", n % 7 + 1, n % 11 + 1] for n in range(40_000)]

    # When
    rollups.put_day("site_big", "2026-01-01", "g1", {"visitors": 1}, {"page": rows})

    # Then
    days = rollups.rolled_up_days("site_big", "2026-01-01", "2026-01-01")
    assert days["2026-01-01"]["parts"]["page"] > 1
    stored = [
        row for _, part in rollups.day_tables("site_big", "page", "2026-01-01", "2026-01-01", days) for row in part
    ]
    assert stored == rows


def test_parts_of_an_unfinished_generation_are_ignored(clock: FrozenClock) -> None:
    rollups.put_day("site_x", "2026-01-01", "g1", {"visitors": 1}, {"page": [["/a", 1, 1]]})
    days = rollups.rolled_up_days("site_x", "2026-01-01", "2026-01-01")

    # A rewrite that crashed after writing its tables but before its day item
    main_table().put_item(Item={"pk": "ROLLUP#site_x#page", "sk": "2026-01-01#g2#000", "rows": b"garbage"})

    stored = list(rollups.day_tables("site_x", "page", "2026-01-01", "2026-01-01", days))
    assert stored == [("2026-01-01", [["/a", 1, 1]])]


def test_the_worker_rolls_up_the_site_of_its_sample_event(clock: FrozenClock) -> None:
    _site(clock, 1)
    _site(clock, 2)
    clock.advance(2 * DAY)
    event = json.loads((PROJECT_ROOT / "events" / "RollupFunction.json").read_text())

    result = load_handler("RollupFunction")(event, LocalLambdaContext(function_name="RollupFunction"))

    assert [report["days_rolled_up"] for report in result["sites"]] == [2]
    assert rollups.rolled_up_days("site_1", "2000-01-01", "2100-01-01")
    assert rollups.rolled_up_days("site_2", "2000-01-01", "2100-01-01") == {}


def test_history_past_the_raw_window_merges_into_the_days_rollup(clock: FrozenClock) -> None:
    # Given: a site and events from a year ago, imported in two batches of different visitors
    site_id = _site(clock)
    site = accounts.get_site(site_id)
    assert site is not None
    old_day = date.fromtimestamp(clock.now()) - timedelta(days=365)
    start = day_start_ms(old_day, zone(site.timezone)) + 12 * 3_600_000

    def batch(visitor: str) -> list[RawEvent]:
        return [
            RawEvent(site_id, start, "pageview", visitor, "/"),
            RawEvent(site_id, start + 60_000, "pageview", visitor, "/pricing"),
        ]

    # When
    history.add_history(site, batch("a" * 16))
    history.add_history(site, batch("b" * 16))

    # Then: the day holds both, added together
    stored = history.stored_day(site, old_day)
    assert stored is not None
    totals = {"visitors": 2, "pageviews": 4, "sessions": 2, "bounces": 0, "duration_ms": 120_000, "events": 4}
    assert stored.totals == totals
    assert sorted(stored.tables["page"]) == [["/", 2, 2], ["/pricing", 2, 2]]
    assert stored.tables["entry_page"] == [["/", 2]]


def test_two_imports_adding_to_one_day_at_once_both_count(clock: FrozenClock, monkeypatch: pytest.MonkeyPatch) -> None:
    # Given: a site, a day a year ago, and a second import that writes the day right after
    # the first one has read it (between its read and its write)
    site_id = _site(clock)
    site = accounts.get_site(site_id)
    assert site is not None
    old_day = date.fromtimestamp(clock.now()) - timedelta(days=365)
    start = day_start_ms(old_day, zone(site.timezone)) + 12 * 3_600_000
    read_stored = history._stored
    interleaved: list[str] = []

    def read_then_another_import_writes(site_: object, day: date) -> object:
        stored = read_stored(site, day)
        if not interleaved:
            interleaved.append(day.isoformat())
            history.add_history(site, [RawEvent(site_id, start, "pageview", "b" * 16, "/")])
        return stored

    monkeypatch.setattr(history, "_stored", read_then_another_import_writes)

    # When the first import adds its own visitor
    report = history.add_history(site, [RawEvent(site_id, start + 60_000, "pageview", "a" * 16, "/about")])

    # Then its write found the day changed, read it again and added to it: both count
    assert interleaved == [old_day.isoformat()]
    assert report.days == 1
    stored = history.stored_day(site, old_day)
    assert stored is not None
    assert (stored.totals["visitors"], stored.totals["pageviews"]) == (2, 2)
    assert sorted(stored.tables["page"]) == [["/", 1, 1], ["/about", 1, 1]]


def test_a_day_rewritten_from_a_stale_version_is_refused(clock: FrozenClock) -> None:
    # Given a day rolled up once, at generation "a"
    site_id = _site(clock)
    totals = {"visitors": 1, "pageviews": 1, "sessions": 1, "bounces": 1, "duration_ms": 0}
    rollups.put_day(site_id, "2025-01-01", "a", totals, {}, based_on=None)

    # When a writer that computed from "no item yet" (or from another version) writes it
    with pytest.raises(RollupDayChanged):
        rollups.put_day(site_id, "2025-01-01", "b", {**totals, "visitors": 9}, {}, based_on=None)
    with pytest.raises(RollupDayChanged):
        rollups.put_day(site_id, "2025-01-01", "c", {**totals, "visitors": 9}, {}, based_on="b")

    # Then the day keeps the version it had; a writer based on it succeeds
    assert rollups.rolled_up_days(site_id, "2025-01-01", "2025-01-01")["2025-01-01"]["visitors"] == 1
    rollups.put_day(site_id, "2025-01-01", "d", {**totals, "visitors": 2}, {}, based_on="a")
    assert rollups.rolled_up_days(site_id, "2025-01-01", "2025-01-01")["2025-01-01"]["visitors"] == 2


def test_recent_imported_days_are_rolled_up_again(clock: FrozenClock) -> None:
    site, yesterday = _rolled_up_site(clock)
    site_id = site.id
    event = _pageview_an_hour_into(site, yesterday, "c" * 16, "/")
    event_store.put_event(event)

    marked = history.mark_changed_days(site, [event])
    report = job.run()

    assert marked == [yesterday.isoformat()]
    assert report.days_rolled_up == 1
    assert rollups.rolled_up_days(site_id, marked[0], marked[0])[marked[0]]["visitors"] == 1
