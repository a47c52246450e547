"""Comparisons with an earlier period: its dates and the change of each metric (docs/stats.md,
Comparisons). Pure: no I/O.

The earlier period is whole local days of the site's calendar, like every period:
`previous_period` is the same number of days just before, `year_over_year` the same dates a
year earlier, `custom` the dates asked for. `match_day_of_week` moves the first two to start on
the main period's first weekday.
"""

from calendar import isleap
from datetime import date, timedelta

COMPARE_MODES = ("previous_period", "year_over_year", "custom")
SHIFTED_MODES = ("previous_period", "year_over_year")  # the modes match_day_of_week applies to
# Rolling (24h) and open-ended (all) periods have no earlier period of the same kind.
NOT_COMPARABLE_PERIODS = ("24h", "all")
# Metrics whose change is a difference in percentage points, not a percent change.
POINT_METRICS = ("bounce_rate", "conversion_rate")


def comparison_days(
    mode: str,
    first: date,
    last: date,
    *,
    match_day_of_week: bool = False,
    custom_from: date | None = None,
    custom_to: date | None = None,
) -> tuple[date, date]:
    """First and last local day (inclusive) of the period `first`..`last` is compared with."""
    if mode == "custom":
        if custom_from is None or custom_to is None:
            raise ValueError("custom comparisons need compare_from and compare_to")
        return custom_from, custom_to
    if mode == "previous_period":
        length = (last - first).days + 1
        start, end = first - timedelta(days=length), first - timedelta(days=1)
    elif mode == "year_over_year":
        start, end = year_earlier(first, end=False), year_earlier(last, end=True)
    else:
        raise ValueError(f"unknown comparison {mode}")
    return _same_weekday(start, end, first) if match_day_of_week else (start, end)


def year_earlier(day: date, *, end: bool) -> date:
    """The same month and day a year earlier. 29 February becomes the 28th; a period that ends on
    28 February of a common year ends on the 29th of a leap year before it (whole Februaries)."""
    earlier = day.year - 1
    if day.month == 2 and day.day == 29:
        return date(earlier, 2, 28)
    if end and day.month == 2 and day.day == 28 and isleap(earlier):
        return date(earlier, 2, 29)
    return day.replace(year=earlier)


def _same_weekday(start: date, end: date, source_first: date) -> tuple[date, date]:
    """`start`..`end` moved to the nearest start on `source_first`'s weekday; forward only while the
    moved period still ends before `source_first` (a comparison never reaches into the main period
    by being moved)."""
    back = (start.weekday() - source_first.weekday()) % 7
    if back == 0:
        return start, end
    forward = 7 - back
    shift = forward if forward < back and end + timedelta(days=forward) < source_first else -back
    return start + timedelta(days=shift), end + timedelta(days=shift)


def change(metric: str, current: float | None, previous: float | None) -> int | float | None:
    """Percent change, rounded to a whole number (halves away from zero); for bounce_rate and
    conversion_rate the difference in percentage points (one decimal). None when the earlier value
    is 0, or either is null (a page without engagement reports has no time_on_page)."""
    if not previous or current is None:
        return None
    # Every metric is an integer or has at most two decimals: hundredths are exact integers.
    now, before = round(current * 100), round(previous * 100)
    if metric in POINT_METRICS:
        return (now - before) / 100
    difference = abs(now - before) * 100
    whole = (2 * difference + before) // (2 * before)
    return whole if now >= before else -whole
