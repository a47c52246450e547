"""Periods and timeseries buckets in a site's local calendar (docs/stats.md, Periods). Pure: no I/O.

All instants are integer UTC milliseconds. A local day starts at the first instant
whose local date is that day (local midnight, or the end of a DST gap that swallows
midnight). Hour buckets follow the local wall clock's (date, hour, fold) label: a
new bucket starts whenever that label changes, so the repeated hour of a fall-back
night is two buckets (fold 0 and fold 1), the skipped hour of a spring-forward night
has none, and 30/45-minute offsets (Asia/Kathmandu, Australia/Lord_Howe's 30-minute
DST shift) start their buckets at :15, :30 or :45 past the UTC hour.
"""

from datetime import UTC, date, datetime, time, timedelta
from typing import Literal, NamedTuple, get_args
from zoneinfo import ZoneInfo

Preset = Literal["today", "yesterday", "24h", "7d", "30d", "12m", "wtd", "mtd", "ytd", "month", "custom", "all"]
Interval = Literal["hour", "day", "week", "month"]
PRESETS: tuple[str, ...] = get_args(Preset)
INTERVALS: tuple[str, ...] = get_args(Interval)

# Custom ranges are limited to this span so a request cannot ask for millions of buckets.
EARLIEST_DATE = date(1970, 1, 1)
LATEST_DATE = date(2099, 12, 31)

_STEP_MS = 15 * 60 * 1000  # every UTC offset in use since 1980 is a multiple of 15 minutes


class Period(NamedTuple):
    """A resolved period: local dates (inclusive) and the UTC instants they cover."""

    preset: str
    first_day: date
    last_day: date
    start_ms: int  # inclusive
    end_ms: int  # exclusive
    timezone: str

    @property
    def days(self) -> list[date]:
        """The local dates the range touches (a 24h range touches two)."""
        return days_between(self.first_day, self.last_day)

    @property
    def whole_days(self) -> bool:
        """True when the range is whole local days (every preset except 24h)."""
        return self.preset != "24h"

    def as_json(self) -> dict[str, str]:
        return {"from": self.first_day.isoformat(), "to": self.last_day.isoformat(), "preset": self.preset}


def zone(name: str) -> ZoneInfo:
    return ZoneInfo(name)


def days_between(first: date, last: date) -> list[date]:
    return [first + timedelta(days=offset) for offset in range((last - first).days + 1)]


def local_date(timestamp_ms: int, tz: ZoneInfo) -> date:
    return datetime.fromtimestamp(timestamp_ms / 1000, tz).date()


def day_start_ms(day: date, tz: ZoneInfo) -> int:
    """The first instant (UTC ms) whose local date is `day`."""
    midnight = datetime.combine(day, time(0), tzinfo=tz)
    candidates = [int(midnight.replace(fold=fold).timestamp() * 1000) for fold in (0, 1)]
    start = min(candidate for candidate in candidates if local_date(candidate, tz) >= day)
    # A DST gap that straddles midnight: walk back to the gap's end.
    while local_date(start - _STEP_MS, tz) == day:
        start -= _STEP_MS
    return start


def day_starts_ms(first: date, last: date, tz: ZoneInfo) -> list[int]:
    """Start of every local day from `first` to the day after `last` (len = days + 1)."""
    return [day_start_ms(day, tz) for day in days_between(first, last + timedelta(days=1))]


def _hour_label(timestamp_ms: int, tz: ZoneInfo) -> tuple[date, int, int]:
    local = datetime.fromtimestamp(timestamp_ms / 1000, tz)
    return (local.date(), local.hour, local.fold)


def hour_starts_ms(start_ms: int, end_ms: int, tz: ZoneInfo) -> list[int]:
    """Start of every local hour bucket in [start_ms, end_ms); start_ms must be a bucket start."""
    starts: list[int] = []
    previous: tuple[date, int, int] | None = None
    for instant in range(start_ms, end_ms, _STEP_MS):
        label = _hour_label(instant, tz)
        if label != previous:
            starts.append(instant)
            previous = label
    return starts


def _first_of_month(day: date) -> date:
    return day.replace(day=1)


def _previous_month(day: date) -> tuple[date, date]:
    last = _first_of_month(day) - timedelta(days=1)
    return _first_of_month(last), last


def today_in(tz: ZoneInfo, now_seconds: float) -> date:
    return datetime.fromtimestamp(now_seconds, tz).date()


def raw_window_first_day(tz: ZoneInfo, now_seconds: float, retention_days: int) -> date:
    """First local day of the raw window: the last `retention_days` local days, today included."""
    return today_in(tz, now_seconds) - timedelta(days=retention_days - 1)


def resolve_period(
    preset: str,
    timezone: str,
    now_seconds: float,
    *,
    custom_from: date | None = None,
    custom_to: date | None = None,
    first_retained_day: date | None = None,
) -> Period:
    """The local date range (and UTC instants) of a preset at `now_seconds` (docs/stats.md, Periods).

    `custom_from`/`custom_to` must be given for `custom` (the parameter parser checks
    that); `first_retained_day` is the site's first day with data, for `all`.
    """
    tz = zone(timezone)
    today = today_in(tz, now_seconds)
    if preset == "24h":
        return _rolling_day(tz, timezone, now_seconds, today)
    first, last = _date_range(preset, today, custom_from, custom_to, first_retained_day)
    return Period(
        preset=preset,
        first_day=first,
        last_day=last,
        start_ms=day_start_ms(first, tz),
        end_ms=day_start_ms(last + timedelta(days=1), tz),
        timezone=timezone,
    )


def _date_range(
    preset: str, today: date, custom_from: date | None, custom_to: date | None, first_retained_day: date | None
) -> tuple[date, date]:
    match preset:
        case "today":
            return today, today
        case "yesterday":
            return today - timedelta(days=1), today - timedelta(days=1)
        case "7d":
            return today - timedelta(days=6), today
        case "30d":
            return today - timedelta(days=29), today
        case "12m":
            return today - timedelta(days=364), today
        case "wtd":
            return today - timedelta(days=today.weekday()), today
        case "mtd":
            return _first_of_month(today), today
        case "ytd":
            return today.replace(month=1, day=1), today
        case "month":
            return _previous_month(today)
        case "custom":
            if custom_from is None or custom_to is None:
                raise ValueError("custom periods need both from and to")
            return custom_from, custom_to
        case "all":
            first = first_retained_day if first_retained_day is not None and first_retained_day <= today else today
            return first, today
    raise ValueError(f"unknown period {preset}")


def _rolling_day(tz: ZoneInfo, timezone: str, now_seconds: float, today: date) -> Period:
    """The 24 local hour buckets ending with the current one."""
    now_ms = int(now_seconds * 1000)
    scan_start = day_start_ms(today - timedelta(days=2), tz)
    scan_end = day_start_ms(today + timedelta(days=1), tz)
    starts = hour_starts_ms(scan_start, scan_end, tz)
    current = max(index for index, start in enumerate(starts) if start <= now_ms)
    first = current - 23
    end_ms = starts[current + 1] if current + 1 < len(starts) else scan_end
    return Period(
        preset="24h",
        first_day=local_date(starts[first], tz),
        last_day=today,
        start_ms=starts[first],
        end_ms=end_ms,
        timezone=timezone,
    )


def bucket_starts(period: Period, interval: str) -> list[int]:
    """UTC ms of every bucket start in the period, in order (docs/stats.md, Buckets).

    Week (Monday) and month buckets are calendar-aligned, except the first, which
    starts at the period's first day.
    """
    tz = zone(period.timezone)
    if interval == "hour":
        return hour_starts_ms(period.start_ms, period.end_ms, tz)
    days = period.days
    if interval == "day":
        chosen = days
    elif interval == "week":
        chosen = [day for index, day in enumerate(days) if index == 0 or day.weekday() == 0]
    elif interval == "month":
        chosen = [day for index, day in enumerate(days) if index == 0 or day.day == 1]
    else:
        raise ValueError(f"unknown interval {interval}")
    return [day_start_ms(day, tz) for day in chosen]


def format_instant(timestamp_ms: int) -> str:
    """`2026-02-28T08:00:00.000Z`."""
    moment = datetime.fromtimestamp(timestamp_ms / 1000, UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{timestamp_ms % 1000:03d}Z"


def default_interval(period: Period) -> str:
    """Hourly for 24h and single-day ranges, daily otherwise."""
    return "hour" if period.preset == "24h" or period.first_day == period.last_day else "day"


def inside_raw_window(period: Period, now_seconds: float, retention_days: int) -> bool:
    return period.first_day >= raw_window_first_day(zone(period.timezone), now_seconds, retention_days)


__all__ = [
    "EARLIEST_DATE",
    "INTERVALS",
    "LATEST_DATE",
    "PRESETS",
    "Interval",
    "Period",
    "Preset",
    "bucket_starts",
    "day_start_ms",
    "day_starts_ms",
    "default_interval",
    "format_instant",
    "hour_starts_ms",
    "inside_raw_window",
    "local_date",
    "raw_window_first_day",
    "resolve_period",
    "today_in",
    "zone",
]
