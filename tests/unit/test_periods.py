"""aizen.periods: local date ranges and bucket starts, DST-correct in every zone."""

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from aizen.periods import (
    PRESETS,
    Period,
    bucket_starts,
    day_start_ms,
    default_interval,
    format_instant,
    resolve_period,
)
from tests import stats_reference as ref

ZONES = [
    "UTC",
    "America/Los_Angeles",
    "America/New_York",
    "America/St_Johns",
    "America/Santiago",
    "America/Sao_Paulo",
    "Europe/London",
    "Europe/Berlin",
    "Europe/Dublin",
    "Africa/Casablanca",
    "Asia/Kathmandu",
    "Asia/Kolkata",
    "Asia/Tehran",
    "Asia/Tokyo",
    "Australia/Adelaide",
    "Australia/Lord_Howe",
    "Australia/Eucla",
    "Pacific/Chatham",
    "Pacific/Apia",
    "Pacific/Kiritimati",
    "Pacific/Marquesas",
]
HOUR_MS = 3_600_000


def utc(*args: int) -> float:
    return datetime(*args, tzinfo=UTC).timestamp()  # type: ignore[arg-type,misc]


def local_dates(starts: list[int], zone: str) -> list[str]:
    return [datetime.fromtimestamp(start / 1000, ZoneInfo(zone)).isoformat() for start in starts]


def hours(period: Period) -> list[int]:
    return bucket_starts(period, "hour")


# Presets ------------------------------------------------------------------------------------


def test_the_seed_examples_7d_and_30d_include_today() -> None:
    now = utc(2026, 3, 6, 20)  # noon in Los Angeles
    assert resolve_period("7d", "America/Los_Angeles", now).as_json() == {
        "from": "2026-02-28",
        "to": "2026-03-06",
        "preset": "7d",
    }
    assert resolve_period("30d", "America/Los_Angeles", now).as_json()["from"] == "2026-02-05"
    first = bucket_starts(resolve_period("7d", "America/Los_Angeles", now), "day")[0]
    assert format_instant(first) == "2026-02-28T08:00:00.000Z"


def test_today_is_the_site_local_date() -> None:
    now = utc(2026, 3, 6, 3)  # 2026-03-06 in UTC, still the 5th in Los Angeles, the 6th in Tokyo
    assert resolve_period("today", "America/Los_Angeles", now).first_day == date(2026, 3, 5)
    assert resolve_period("today", "Asia/Tokyo", now).first_day == date(2026, 3, 6)


@pytest.mark.parametrize(
    ("preset", "first", "last"),
    [
        ("today", "2026-03-05", "2026-03-05"),  # a Thursday
        ("yesterday", "2026-03-04", "2026-03-04"),
        ("7d", "2026-02-27", "2026-03-05"),
        ("30d", "2026-02-04", "2026-03-05"),
        ("12m", "2025-03-06", "2026-03-05"),
        ("wtd", "2026-03-02", "2026-03-05"),
        ("mtd", "2026-03-01", "2026-03-05"),
        ("ytd", "2026-01-01", "2026-03-05"),
        ("month", "2026-02-01", "2026-02-28"),
    ],
)
def test_preset_ranges(preset: str, first: str, last: str) -> None:
    period = resolve_period(preset, "Europe/Berlin", utc(2026, 3, 5, 12))
    assert (period.first_day.isoformat(), period.last_day.isoformat()) == (first, last)


def test_month_in_january_is_the_previous_december() -> None:
    period = resolve_period("month", "UTC", utc(2026, 1, 15))
    assert (period.first_day, period.last_day) == (date(2025, 12, 1), date(2025, 12, 31))


def test_all_starts_at_the_first_retained_day_or_today() -> None:
    now = utc(2026, 3, 5, 12)
    assert resolve_period("all", "UTC", now, first_retained_day=date(2026, 1, 2)).first_day == date(2026, 1, 2)
    assert resolve_period("all", "UTC", now).first_day == date(2026, 3, 5)


def test_custom_uses_from_and_to() -> None:
    period = resolve_period("custom", "UTC", utc(2026, 3, 5), custom_from=date(2026, 1, 1), custom_to=date(2026, 1, 3))
    assert period.as_json() == {"from": "2026-01-01", "to": "2026-01-03", "preset": "custom"}
    assert default_interval(period) == "day"


def test_24h_is_the_24_local_hours_ending_with_the_current_one() -> None:
    period = resolve_period("24h", "America/Los_Angeles", utc(2026, 3, 6, 20, 30))  # 12:30 local
    starts = hours(period)
    assert len(starts) == 24
    assert format_instant(starts[-1]) == "2026-03-06T20:00:00.000Z"
    assert format_instant(starts[0]) == "2026-03-05T21:00:00.000Z"
    assert period.end_ms == starts[-1] + HOUR_MS
    assert period.as_json() == {"from": "2026-03-05", "to": "2026-03-06", "preset": "24h"}
    assert default_interval(period) == "hour"


def test_24h_at_the_top_of_an_hour_ends_with_that_hour() -> None:
    period = resolve_period("24h", "UTC", utc(2026, 3, 6, 0, 0))
    starts = hours(period)
    assert (format_instant(starts[0]), format_instant(starts[-1])) == (
        "2026-03-05T01:00:00.000Z",
        "2026-03-06T00:00:00.000Z",
    )
    assert period.as_json() == {"from": "2026-03-05", "to": "2026-03-06", "preset": "24h"}


def test_24h_over_a_fall_back_night_spans_23_wall_clock_hours_and_keeps_both_1am_buckets() -> None:
    # 2025-11-02 10:30 EST in New York: the 24 hour buckets go back to 12:00 EDT the day before
    period = resolve_period("24h", "America/New_York", utc(2025, 11, 2, 15, 30))
    starts = hours(period)
    assert len(starts) == 24
    assert period.end_ms - period.start_ms == 24 * HOUR_MS
    local = local_dates(starts, "America/New_York")
    assert (local[0], local[-1]) == ("2025-11-01T12:00:00-04:00", "2025-11-02T10:00:00-05:00")
    assert [moment for moment in local if "T01:" in moment] == [
        "2025-11-02T01:00:00-04:00",
        "2025-11-02T01:00:00-05:00",
    ]


def test_24h_over_a_spring_forward_night_has_no_2am_bucket_and_spans_25_wall_clock_hours() -> None:
    period = resolve_period("24h", "America/Los_Angeles", utc(2026, 3, 8, 17, 30))  # 10:30 PDT
    starts = hours(period)
    assert len(starts) == 24
    local = local_dates(starts, "America/Los_Angeles")
    assert (local[0], local[-1]) == ("2026-03-07T10:00:00-08:00", "2026-03-08T10:00:00-07:00")
    assert not any("T02:" in moment for moment in local)
    assert period.as_json()["from"] == "2026-03-07"


# DST and odd offsets: named cases --------------------------------------------------------------


def test_us_spring_forward_day_has_23_hour_buckets_and_no_2am() -> None:
    period = resolve_period(
        "custom", "America/Los_Angeles", 0, custom_from=date(2026, 3, 8), custom_to=date(2026, 3, 8)
    )
    starts = hours(period)
    assert len(starts) == 23
    assert not any("T02:" in moment for moment in local_dates(starts, "America/Los_Angeles"))
    assert period.end_ms - period.start_ms == 23 * HOUR_MS
    assert format_instant(bucket_starts(period, "day")[0]) == "2026-03-08T08:00:00.000Z"


def test_us_fall_back_day_has_25_hour_buckets_and_the_1am_hour_twice() -> None:
    period = resolve_period("custom", "America/New_York", 0, custom_from=date(2025, 11, 2), custom_to=date(2025, 11, 2))
    starts = hours(period)
    assert len(starts) == 25
    formatted = [format_instant(start) for start in starts]
    assert formatted[1:3] == ["2025-11-02T05:00:00.000Z", "2025-11-02T06:00:00.000Z"]  # 01:00 EDT, 01:00 EST
    assert period.end_ms - period.start_ms == 25 * HOUR_MS


def test_eu_changes_move_midnight_in_utc() -> None:
    period = resolve_period("custom", "Europe/Berlin", 0, custom_from=date(2026, 3, 28), custom_to=date(2026, 3, 30))
    assert [format_instant(start) for start in bucket_starts(period, "day")] == [
        "2026-03-27T23:00:00.000Z",
        "2026-03-28T23:00:00.000Z",
        "2026-03-29T22:00:00.000Z",
    ]
    autumn = resolve_period("custom", "Europe/Berlin", 0, custom_from=date(2025, 10, 26), custom_to=date(2025, 10, 26))
    assert len(hours(autumn)) == 25
    spring = resolve_period("custom", "Europe/London", 0, custom_from=date(2026, 3, 29), custom_to=date(2026, 3, 29))
    assert len(hours(spring)) == 23


def test_kathmandu_buckets_start_at_quarter_past() -> None:
    period = resolve_period("custom", "Asia/Kathmandu", 0, custom_from=date(2026, 3, 6), custom_to=date(2026, 3, 6))
    starts = hours(period)
    assert len(starts) == 24
    assert format_instant(starts[0]) == "2026-03-05T18:15:00.000Z"
    assert all(format_instant(start)[14:16] == "15" for start in starts)


def test_lord_howe_half_hour_dst_shift() -> None:
    # DST ends 2026-04-05 02:00 (+11) -> 01:30 (+10:30): the half hour 01:30-02:00 repeats.
    autumn = resolve_period(
        "custom", "Australia/Lord_Howe", 0, custom_from=date(2026, 4, 5), custom_to=date(2026, 4, 5)
    )
    starts = hours(autumn)
    assert len(starts) == 25
    assert autumn.end_ms - autumn.start_ms == 24 * HOUR_MS + HOUR_MS // 2
    local = local_dates(starts, "Australia/Lord_Howe")
    assert local[1:4] == ["2026-04-05T01:00:00+11:00", "2026-04-05T01:30:00+10:30", "2026-04-05T02:00:00+10:30"]
    # DST starts 2025-10-05 02:00 (+10:30) -> 02:30 (+11): hour 2 is only half an hour long.
    spring = resolve_period(
        "custom", "Australia/Lord_Howe", 0, custom_from=date(2025, 10, 5), custom_to=date(2025, 10, 5)
    )
    local = local_dates(hours(spring), "Australia/Lord_Howe")
    assert local[1:4] == ["2025-10-05T01:00:00+10:30", "2025-10-05T02:30:00+11:00", "2025-10-05T03:00:00+11:00"]
    assert spring.end_ms - spring.start_ms == 23 * HOUR_MS + HOUR_MS // 2


def test_week_and_month_buckets_are_calendar_aligned_except_the_first() -> None:
    period = resolve_period("custom", "UTC", 0, custom_from=date(2026, 1, 28), custom_to=date(2026, 3, 3))
    assert [format_instant(start)[:10] for start in bucket_starts(period, "week")] == [
        "2026-01-28",
        "2026-02-02",
        "2026-02-09",
        "2026-02-16",
        "2026-02-23",
        "2026-03-02",
    ]
    assert [format_instant(start)[:10] for start in bucket_starts(period, "month")] == [
        "2026-01-28",
        "2026-02-01",
        "2026-03-01",
    ]


def test_a_day_whose_midnight_does_not_exist_starts_when_the_gap_ends() -> None:
    # Santiago springs forward at 24:00 -> 01:00 on 2025-09-07.
    start = day_start_ms(date(2025, 9, 7), ZoneInfo("America/Santiago"))
    assert datetime.fromtimestamp(start / 1000, ZoneInfo("America/Santiago")).isoformat() == "2025-09-07T01:00:00-03:00"


# Properties ---------------------------------------------------------------------------------

moments = st.integers(min_value=int(utc(2000, 1, 1)), max_value=int(utc(2037, 12, 31)))
zones = st.sampled_from(ZONES)


@settings(max_examples=150, derandomize=True, deadline=None)
@given(zone=zones, now=moments, preset=st.sampled_from([p for p in PRESETS if p != "custom"]))
def test_every_preset_matches_the_reference(zone: str, now: int, preset: str) -> None:
    tz = ZoneInfo(zone)
    period = resolve_period(preset, zone, now, first_retained_day=date.fromtimestamp(now) - timedelta(days=9))
    first_data = date.fromtimestamp(now) - timedelta(days=9)
    expected = ref.expected_range(
        preset, tz, now * 1000, None, first_data if first_data <= ref.local(now * 1000, tz).date() else None
    )
    assert (period.first_day, period.last_day, period.start_ms, period.end_ms) == (
        expected.first,
        expected.last,
        expected.start_ms,
        expected.end_ms,
    )


@settings(max_examples=120, derandomize=True, deadline=None)
@given(zone=zones, now=moments, length=st.integers(min_value=0, max_value=3))
def test_hour_buckets_are_every_change_of_the_local_hour(zone: str, now: int, length: int) -> None:
    tz = ZoneInfo(zone)
    first = ref.local(now * 1000, tz).date()
    period = resolve_period("custom", zone, now, custom_from=first, custom_to=first + timedelta(days=length))
    assert hours(period) == ref.minute_scan(period.start_ms, period.end_ms, tz)


@settings(max_examples=120, derandomize=True, deadline=None)
@given(
    zone=zones,
    now=moments,
    length=st.integers(min_value=0, max_value=70),
    interval=st.sampled_from(["day", "week", "month"]),
)
def test_day_week_month_buckets_start_at_local_day_starts(zone: str, now: int, length: int, interval: str) -> None:
    tz = ZoneInfo(zone)
    first = ref.local(now * 1000, tz).date()
    rng = ref.Range(first, first + timedelta(days=length), 0, 0)
    period = resolve_period("custom", zone, now, custom_from=rng.first, custom_to=rng.last)
    labels = ref.expected_bucket_labels(interval, tz, rng)
    assert bucket_starts(period, interval) == [ref.first_instant_of(label, tz) for label in labels]
    assert period.start_ms == ref.first_instant_of(rng.first, tz)
