"""A slow, obviously-correct computation of every stats answer straight from a list of events.

Written from docs/stats.md (Periods, Buckets, Counting) without using the engine (aizen.query) or aizen.periods,
so that tests can hold the endpoints against it. Clarity over speed: every event is
converted to local time with zoneinfo, bucket starts are found by scanning minutes.
"""

import itertools
import json
import math
import random
from collections import defaultdict
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from aizen.events import RawEvent

NONE = "(none)"
GAP_MS = 30 * 60 * 1000
SESSION_ATTRIBUTES = ("referrer", "channel", "country", "region", "city", "device", "browser", "os")


def local(ts_ms: int, tz: ZoneInfo) -> datetime:
    return datetime.fromtimestamp(ts_ms / 1000, tz)


def val(event: RawEvent, name: str) -> str:
    value = getattr(event, name)
    return value if value else NONE


# Periods -----------------------------------------------------------------------------------


def expected_days(
    preset: str, today: date, custom: tuple[date, date] | None, first_data: date | None
) -> tuple[date, date]:
    if preset == "today":
        return today, today
    if preset == "yesterday":
        return today - timedelta(1), today - timedelta(1)
    if preset in ("7d", "30d", "12m"):
        return today - timedelta({"7d": 6, "30d": 29, "12m": 364}[preset]), today
    if preset == "wtd":
        return today - timedelta(today.weekday()), today
    if preset == "mtd":
        return date(today.year, today.month, 1), today
    if preset == "ytd":
        return date(today.year, 1, 1), today
    if preset == "month":
        last = date(today.year, today.month, 1) - timedelta(1)
        return date(last.year, last.month, 1), last
    if preset == "custom":
        assert custom is not None
        return custom
    if preset == "all":
        return (first_data or today), today
    raise AssertionError(preset)


def hour_label(ts_ms: int, tz: ZoneInfo) -> tuple[date, int, int]:
    moment = local(ts_ms, tz)
    return (moment.date(), moment.hour, moment.fold)


def minute_scan(start_ms: int, end_ms: int, tz: ZoneInfo) -> list[int]:
    """Every instant (whole UTC minute) where the local hour label changes."""
    starts, previous = [], None
    for ts in range(start_ms, end_ms, 60_000):
        label = hour_label(ts, tz)
        if label != previous:
            starts.append(ts)
            previous = label
    return starts


def first_instant_of(day: date, tz: ZoneInfo) -> int:
    """Scan minutes around UTC midnight for the first instant whose local date is `day`."""
    probe = int(datetime(day.year, day.month, day.day, tzinfo=UTC).timestamp() * 1000) - 16 * 3_600_000
    while local(probe, tz).date() < day:  # hour steps, then back one hour and minute steps
        probe += 3_600_000
    probe -= 3_600_000
    while local(probe, tz).date() < day:
        probe += 60_000
    return probe


@dataclass(frozen=True)
class Range:
    first: date
    last: date
    start_ms: int
    end_ms: int


def expected_range(
    preset: str, tz: ZoneInfo, now_ms: int, custom: tuple[date, date] | None, first_data: date | None
) -> Range:
    today = local(now_ms, tz).date()
    if preset == "24h":
        hours = minute_scan(first_instant_of(today - timedelta(2), tz), first_instant_of(today + timedelta(1), tz), tz)
        current = max(i for i, start in enumerate(hours) if start <= now_ms)
        end = hours[current + 1] if current + 1 < len(hours) else first_instant_of(today + timedelta(1), tz)
        return Range(local(hours[current - 23], tz).date(), today, hours[current - 23], end)
    first, last = expected_days(preset, today, custom, first_data)
    return Range(first, last, first_instant_of(first, tz), first_instant_of(last + timedelta(1), tz))


# Counting ----------------------------------------------------------------------------------


@dataclass
class RefSession:
    events: list[RawEvent]

    @property
    def first(self) -> RawEvent:
        return self.events[0]


def sessions_of(events: list[RawEvent], tz: ZoneInfo) -> dict[tuple[str, date], list[RefSession]]:
    by_visitor: dict[tuple[str, date], list[RawEvent]] = defaultdict(list)
    for event in events:
        by_visitor[(event.visitor_id, local(event.timestamp_ms, tz).date())].append(event)
    result: dict[tuple[str, date], list[RefSession]] = {}
    for key, group in by_visitor.items():
        group = sorted(group, key=lambda e: e.timestamp_ms)
        sessions = [RefSession([group[0]])]
        for previous, event in itertools.pairwise(group):
            if event.timestamp_ms - previous.timestamp_ms > GAP_MS:
                sessions.append(RefSession([event]))
            else:
                sessions[-1].events.append(event)
        # Engagement reports alone do not make a visit (docs/stats.md, Counting).
        result[key] = [session for session in sessions if any(e.kind != "engagement" for e in session.events)]
    return result


def bounced(session: RefSession) -> bool:
    """Exactly one pageview and no interaction: an outbound click or an interactive custom event."""
    pageviews = [e for e in session.events if e.kind == "pageview"]
    interactions = [e for e in session.events if e.kind == "outbound_click" or (e.kind == "custom" and e.interactive)]
    return len(pageviews) == 1 and not interactions


def session_ok(session: RefSession, filters: dict[str, str]) -> bool:
    plain = all(val(session.first, name) == value for name, value in filters.items() if name not in ("page", "filters"))
    conditions = ref_conditions(filters.get("filters", ""))
    return plain and all(
        condition_holds(condition, session_value(session, condition[0]))
        for condition in conditions
        if condition[0] != "page" and not is_conversion_condition(condition)
    )


def event_ok(event: RawEvent, session: RefSession, filters: dict[str, str], rng: Range) -> bool:
    if not rng.start_ms <= event.timestamp_ms < rng.end_ms:
        return False
    if "page" in filters and event.page != filters["page"]:
        return False
    for condition in ref_conditions(filters.get("filters", "")):
        if condition[0] == "page" and not condition_holds(condition, event.page):
            return False
    return session_ok(session, filters)


# The filters= parameter (docs/stats.md, Filters), read and matched the slow way ------------

RefCondition = tuple[str, bool, list[str]]  # (property, negated, patterns); props: "props:<key>"
REF_PROPERTIES = {
    "event:page": "page",
    "event:goal": "goal",
    "visit:entry_page": "entry_page",
    "visit:exit_page": "exit_page",
    "visit:referrer": "referrer",
    "visit:source": "referrer",
    **{f"visit:{name}": name for name in SESSION_ATTRIBUTES},
}


def _split_unescaped(text: str, separator: str) -> list[str]:
    """Split at each `separator` not preceded by an escaping backslash; escapes are kept."""
    parts, current, index = [], "", 0
    while index < len(text):
        if text[index] == "\\":
            current += text[index : index + 2]
            index += 2
        elif text[index] == separator:
            parts.append(current)
            current, index = "", index + 1
        else:
            current += text[index]
            index += 1
    return [*parts, current]


def _unescape(text: str) -> str:
    out, index = "", 0
    while index < len(text):
        if text[index] == "\\":
            index += 1
        out += text[index]
        index += 1
    return out


def ref_conditions(text: str) -> list[RefCondition]:
    """`visit:country==US|DE;event:page!=/blog/**` -> [(property, negated, patterns)]; well-formed input only."""
    if not text:
        return []
    conditions = []
    for part in _split_unescaped(text, ";"):
        cut = min(index for index in (part.find("=="), part.find("!=")) if index >= 0)
        name, negated, values = part[:cut], part[cut] == "!", part[cut + 2 :]
        prop_name = "props:" + name.removeprefix("event:props:") if name.startswith("event:props:") else None
        conditions.append(
            (prop_name or REF_PROPERTIES[name], negated, [_unescape(value) for value in _split_unescaped(values, "|")])
        )
    return conditions


def is_conversion_condition(condition: RefCondition) -> bool:
    """event:goal and event:props:<key>: matched on goals and props (goal_matching), not by `matching`."""
    return condition[0] == "goal" or condition[0].startswith("props:")


def wildcard_match(pattern: str, value: str) -> bool:
    """`**` is any characters, `*` any characters but `/`, everything else itself: tried every way."""
    if not pattern:
        return not value
    if pattern.startswith("**"):
        return any(wildcard_match(pattern[2:], value[cut:]) for cut in range(len(value) + 1))
    if pattern[0] == "*":
        reach = value.find("/") if "/" in value else len(value)
        return any(wildcard_match(pattern[1:], value[cut:]) for cut in range(reach + 1))
    return bool(value) and value[0] == pattern[0] and wildcard_match(pattern[1:], value[1:])


def condition_holds(condition: RefCondition, value: str) -> bool:
    _, negated, patterns = condition
    return any(wildcard_match(pattern, value) for pattern in patterns) != negated


def session_value(session: RefSession, prop: str) -> str:
    """A session's value for a condition: its first event's attribute, or its first/last pageview's page."""
    pages = [event.page for event in session.events if event.kind == "pageview"]
    if prop == "entry_page":
        return pages[0] if pages else NONE
    if prop == "exit_page":
        return pages[-1] if pages else NONE
    return val(session.first, prop)


def matching(
    events: list[RawEvent], tz: ZoneInfo, filters: dict[str, str], rng: Range
) -> list[tuple[tuple[str, date], RefSession, list[RawEvent]]]:
    """(visitor, session, matching events) for every session with at least one matching event."""
    out = []
    for visitor, sessions in sessions_of(events, tz).items():
        for session in sessions:
            hits = [e for e in session.events if event_ok(e, session, filters, rng)]
            if hits:
                out.append((visitor, session, hits))
    return out


def round_half_up(value: float, digits: int = 0) -> float:
    scale = 10**digits
    return float(math.floor(value * scale + 0.5 + 1e-9) / scale)


def aggregate(events: list[RawEvent], tz: ZoneInfo, filters: dict[str, str], rng: Range) -> dict[str, Any]:
    rows = matching(events, tz, filters, rng)
    visitors = {visitor for visitor, _, _ in rows}
    pageviews = sum(1 for _, _, hits in rows for e in hits if e.kind == "pageview")
    counted = [s for _, s, _ in rows if rng.start_ms <= s.first.timestamp_ms < rng.end_ms]
    bounces = sum(1 for s in counted if bounced(s))
    durations = [s.events[-1].timestamp_ms - s.events[0].timestamp_ms for s in counted]
    return {
        "visitors": len(visitors),
        "pageviews": pageviews,
        "bounce_rate": round_half_up(100 * bounces / len(counted), 1) if counted else 0,
        "visit_duration": int(round_half_up(sum(durations) / len(counted) / 1000)) if counted else 0,
        "visits": len(counted),
        "views_per_visit": round_half_up(pageviews / len(counted), 2) if counted else 0,
    }


def bucket_label(ts_ms: int, interval: str, tz: ZoneInfo, rng: Range) -> Any:
    moment = local(ts_ms, tz)
    day = moment.date()
    if interval == "hour":
        return hour_label(ts_ms, tz)
    if interval == "day":
        return day
    if interval == "week":
        return max(day - timedelta(day.weekday()), rng.first)
    return max(date(day.year, day.month, 1), rng.first)


def timeseries(
    events: list[RawEvent], tz: ZoneInfo, filters: dict[str, str], rng: Range, interval: str
) -> dict[Any, dict[str, int | float]]:
    """{bucket label: {visitors, pageviews, visits, views_per_visit}} for the buckets that have data.

    A visit (a session with a matching event, starting in the range) counts in the bucket of its first event."""
    visitors: dict[Any, set[tuple[str, date]]] = defaultdict(set)
    pageviews: dict[Any, int] = defaultdict(int)
    visits: dict[Any, int] = defaultdict(int)
    for visitor, session, hits in matching(events, tz, filters, rng):
        for event in hits:
            label = bucket_label(event.timestamp_ms, interval, tz, rng)
            visitors[label].add(visitor)
            if event.kind == "pageview":
                pageviews[label] += 1
        if rng.start_ms <= session.first.timestamp_ms < rng.end_ms:
            visits[bucket_label(session.first.timestamp_ms, interval, tz, rng)] += 1
    return {
        label: {
            "visitors": len(visitors[label]),
            "pageviews": pageviews[label],
            "visits": visits[label],
            "views_per_visit": round_half_up(pageviews[label] / visits[label], 2) if visits[label] else 0,
        }
        for label in visitors.keys() | visits.keys()
    }


EMPTY_BUCKET = {"visitors": 0, "pageviews": 0, "visits": 0, "views_per_visit": 0}


def expected_bucket_labels(interval: str, tz: ZoneInfo, rng: Range) -> list[Any]:
    if interval == "hour":
        return [hour_label(ts, tz) for ts in minute_scan(rng.start_ms, rng.end_ms, tz)]
    labels: list[Any] = []
    day = rng.first
    while day <= rng.last:
        label = bucket_label(first_instant_of(day, tz), interval, tz, rng)
        if label not in labels:
            labels.append(label)
        day += timedelta(1)
    return labels


def breakdown(
    events: list[RawEvent], tz: ZoneInfo, filters: dict[str, str], rng: Range, prop: str
) -> dict[str, dict[str, int]]:
    """{value: {metric: n}} with every metric the property allows (visits: sessions per session value)."""
    visitors: dict[str, set[tuple[str, date]]] = defaultdict(set)
    pageviews: dict[str, int] = defaultdict(int)
    entries: dict[str, int] = defaultdict(int)
    clicks: dict[str, int] = defaultdict(int)
    visits: dict[str, int] = defaultdict(int)
    for visitor, session, hits in matching(events, tz, filters, rng):
        if prop in SESSION_ATTRIBUTES and rng.start_ms <= session.first.timestamp_ms < rng.end_ms:
            visits[val(session.first, prop)] += 1
        if prop == "entry_page":
            pageviews_in_session = [e for e in session.events if e.kind == "pageview"]
            if pageviews_in_session and rng.start_ms <= session.first.timestamp_ms < rng.end_ms:
                entries[pageviews_in_session[0].page] += 1
            continue
        for event in hits:
            if prop == "exit_link":
                if event.kind == "outbound_click":
                    clicks[val(event, "link")] += 1
                continue
            value = event.page if prop == "page" else val(session.first, prop)
            visitors[value].add(visitor)
            if event.kind == "pageview":
                pageviews[value] += 1
    if prop == "entry_page":
        return {value: {"entries": n} for value, n in entries.items()}
    if prop == "exit_link":
        return {value: {"clicks": n} for value, n in clicks.items()}
    if prop == "page":
        return {value: {"visitors": len(visitors[value]), "pageviews": pageviews[value]} for value in visitors}
    return {
        value: {"visitors": len(visitors[value]), "pageviews": pageviews[value], "visits": visits[value]}
        for value in visitors
    }


def realtime(events: list[RawEvent], tz: ZoneInfo, now_ms: int, minutes: int) -> int:
    window = [e for e in events if now_ms - minutes * 60_000 <= e.timestamp_ms <= now_ms]
    return len({(e.visitor_id, local(e.timestamp_ms, tz).date()) for e in window})


# Comparisons -------------------------------------------------------------------------------


def _a_year_before(day: date, is_last: bool) -> date:
    try:
        earlier = date(day.year - 1, day.month, day.day)
    except ValueError:  # 29 February of a leap year
        return date(day.year - 1, 2, 28)
    february_ends = day.month == 2 and day + timedelta(1) == date(day.year, 3, 1)
    if is_last and february_ends:
        return date(day.year - 1, 3, 1) - timedelta(1)  # the earlier February's last day
    return earlier


def expected_comparison_days(
    mode: str, first: date, last: date, match_day_of_week: bool, custom: tuple[date, date] | None
) -> tuple[date, date]:
    """docs/stats.md, Comparisons: the earlier period's first and last day."""
    if mode == "custom":
        assert custom is not None
        return custom
    if mode == "previous_period":
        start, end = first - timedelta((last - first).days + 1), first - timedelta(1)
    else:
        start, end = _a_year_before(first, False), _a_year_before(last, True)
    if not match_day_of_week:
        return start, end
    # The nearest start on first's weekday; a later one only while the period still ends before `first`.
    moves = [k for k in range(-6, 7) if (start + timedelta(k)).weekday() == first.weekday()]
    allowed = [k for k in moves if k <= 0 or end + timedelta(k) < first]
    k = min(allowed, key=lambda move: (abs(move), move))
    return start + timedelta(k), end + timedelta(k)


def expected_change(metric: str, current: float, previous: float) -> float | int | None:
    if previous == 0:
        return None
    if metric == "bounce_rate":
        return round_half_up(current - previous, 1) if current >= previous else -round_half_up(previous - current, 1)
    percent = (current - previous) / previous * 100
    magnitude = int(round_half_up(abs(percent)))
    return magnitude if percent >= 0 else -magnitude


def expected_changes(current: dict[str, Any], previous: dict[str, Any], metrics: Any) -> dict[str, Any]:
    return {metric: expected_change(metric, current[metric], previous[metric]) for metric in metrics}


def timeseries_points(
    events: list[RawEvent], tz: ZoneInfo, filters: dict[str, str], rng: Range, interval: str, metrics: Any
) -> list[dict[str, Any]]:
    """The timeseries' `results`: every bucket with its UTC start and the metrics asked for."""
    labels = expected_bucket_labels(interval, tz, rng)
    if interval == "hour":
        instants = minute_scan(rng.start_ms, rng.end_ms, tz)
    else:
        instants = [max(first_instant_of(label, tz), rng.start_ms) for label in labels]
    counts = timeseries(events, tz, filters, rng, interval)
    return [
        {
            "date": datetime.fromtimestamp(instant / 1000, UTC).strftime("%Y-%m-%dT%H:%M:%S.000Z"),
            **{metric: counts.get(label, EMPTY_BUCKET)[metric] for metric in metrics},
        }
        for label, instant in zip(labels, instants, strict=True)
    ]


# Traffic -----------------------------------------------------------------------------------

PAGES = ("/", "/pricing", "/blog/a", "/#/settings", "/docs")
REFERRERS = (None, "google.com", "news.ycombinator.com", "github.com")
CHANNELS = ("Direct", "Organic Search", "Referral", None)
PLACES = (("US", "US-CA", "San Francisco"), ("US", "US-NY", "New York"), ("DE", "DE-BE", "Berlin"), (None, None, None))
DEVICES = ("desktop", "mobile", "tablet", None)
BROWSERS = ("Chrome", "Safari", "Firefox", None)
SYSTEMS = ("Windows", "iOS", "macOS", None)
LINKS = ("https://github.com/example/repo", "https://x.com/example", None)


def random_traffic(seed: int, site_id: str, now_ms: int, *, visitors: int = 25, days: int = 36) -> list[RawEvent]:
    """Visits over the last `days` days: gaps below and above 30 minutes, midnights crossed, (none)s."""
    rng = random.Random(seed)  # noqa: S311 - test traffic
    events: list[RawEvent] = []
    for number in range(visitors):
        visitor = f"{rng.getrandbits(56):014x}{number:02x}"
        for _ in range(rng.randint(1, 4)):
            ts = now_ms - rng.randint(0, days * 86_400_000)
            place = rng.choice(PLACES)
            attributes: dict[str, Any] = {
                "referrer": rng.choice(REFERRERS),
                "channel": rng.choice(CHANNELS),
                "country": place[0],
                "region": place[1],
                "city": place[2],
                "device": rng.choice(DEVICES),
                "browser": rng.choice(BROWSERS),
                "os": rng.choice(SYSTEMS),
            }
            for _ in range(rng.randint(1, 5)):
                if ts > now_ms:
                    break
                click = rng.random() < 0.2
                events.append(
                    RawEvent(
                        site_id=site_id,
                        timestamp_ms=ts,
                        kind="outbound_click" if click else "pageview",
                        visitor_id=visitor,
                        page=rng.choice(PAGES),
                        link=rng.choice(LINKS) if click else None,
                        **attributes,
                    )
                )
                # Attributes may change mid-session (only the first event's count).
                attributes = {**attributes, "referrer": rng.choice(REFERRERS)}
                ts += rng.choice((1_000, 60_000, 29 * 60_000, 30 * 60_000, 31 * 60_000, 3 * 3_600_000))
    return events


# Goals, custom properties, engagement (docs/stats.md, Goals and custom properties; Engagement) ---


@dataclass(frozen=True)
class RefGoal:
    """A goal as the site defines it: a custom event name or a page path pattern."""

    name: str
    event: str | None = None
    page: str | None = None


OUTBOUND_GOAL = "Outbound Link: Click"


def pattern_matches(pattern: str, value: str) -> bool:
    """`**` any characters, `*` any characters but `/`, anything else itself; whole values only.
    Written as a plain recursive walk, not a regular expression."""
    if not pattern:
        return not value
    if pattern.startswith("**"):
        return any(pattern_matches(pattern[2:], value[cut:]) for cut in range(len(value) + 1))
    if pattern[0] == "*":
        stop = value.find("/")
        longest = len(value) if stop < 0 else stop
        return any(pattern_matches(pattern[1:], value[cut:]) for cut in range(longest + 1))
    return bool(value) and value[0] == pattern[0] and pattern_matches(pattern[1:], value[1:])


def converts(goal: RefGoal, event: RawEvent) -> bool:
    if goal.page is not None:
        return event.kind == "pageview" and pattern_matches(goal.page, event.page)
    if event.kind == "custom":
        return event.name == goal.event
    return event.kind == "outbound_click" and goal.event == OUTBOUND_GOAL


def prop(event: RawEvent, key: str) -> str:
    """The event's value of custom property `key`, (none) without it."""
    if event.props is None:
        return NONE
    value = json.loads(event.props).get(key)
    return NONE if value is None else str(value)


def goals_named(condition: RefCondition, goals: list[RefGoal]) -> list[RefGoal]:
    """The goals whose name one of an event:goal condition's patterns matches."""
    return [goal for goal in goals if any(wildcard_match(pattern, goal.name) for pattern in condition[2])]


def goal_filtered(filters: dict[str, str]) -> bool:
    """Only conversions count (conversion_rate allowed): a goal filter, or an event:goal== condition."""
    return "goal" in filters or any(
        name == "goal" and not negated for name, negated, _ in ref_conditions(filters.get("filters", ""))
    )


def split_filters(
    filters: dict[str, str],
) -> tuple[dict[str, str], str | None, list[tuple[str, str]]]:
    """(the seed's filters, the goal filter's name, the property filters)."""
    seed = {name: value for name, value in filters.items() if name != "goal" and not name.startswith("props:")}
    props = [(name.removeprefix("props:"), value) for name, value in filters.items() if name.startswith("props:")]
    return seed, filters.get("goal"), props


def goal_matching(
    events: list[RawEvent],
    tz: ZoneInfo,
    filters: dict[str, str],
    rng: Range,
    goals: list[RefGoal],
    *,
    with_goal: bool = True,
) -> list[tuple[tuple[str, date], RefSession, list[RawEvent]]]:
    """`matching`, with the property filters and event:props conditions (on every event), the
    event:goal!= conditions (sessions that convert one of their goals anywhere are dropped) and,
    unless told not to, the goal filter and event:goal== conditions (only events that convert
    the goal; for each condition, one of its goals) applied to each session's matching events."""
    seed, goal_name, props = split_filters(filters)
    goal = next((g for g in goals if g.name == goal_name), None) if with_goal and goal_name else None
    conditions = [c for c in ref_conditions(filters.get("filters", "")) if is_conversion_condition(c)]
    prop_conditions = [c for c in conditions if c[0] != "goal"]
    wanted = [goals_named(c, goals) for c in conditions if c[0] == "goal" and not c[1]] if with_goal else []
    excluded = [g for c in conditions if c[0] == "goal" and c[1] for g in goals_named(c, goals)]
    out = []
    for visitor, session, hits in matching(events, tz, seed, rng):
        if any(converts(g, e) for e in session.events for g in excluded):
            continue
        kept = [
            e
            for e in hits
            if all(prop(e, key) == value for key, value in props)
            and all(condition_holds(c, prop(e, c[0].removeprefix("props:"))) for c in prop_conditions)
            and (goal is None or converts(goal, e))
            and all(any(converts(g, e) for g in selection) for selection in wanted)
        ]
        if kept:
            out.append((visitor, session, kept))
    return out


def is_event(event: RawEvent) -> bool:
    """What the `events` metric counts: pageviews, outbound clicks, custom events; not engagement."""
    return event.kind != "engagement"


def rate(converters: int, visitors: int) -> float:
    return round_half_up(100 * converters / visitors, 1) if visitors else 0.0


def goal_aggregate(
    events: list[RawEvent], tz: ZoneInfo, filters: dict[str, str], rng: Range, goals: list[RefGoal]
) -> dict[str, Any]:
    """Every aggregate metric, goal and property filters included; conversion_rate with a goal filter."""
    rows = goal_matching(events, tz, filters, rng, goals)
    counted = [s for _, s, _ in rows if rng.start_ms <= s.first.timestamp_ms < rng.end_ms]
    bounces = sum(1 for session in counted if bounced(session))
    durations = [s.events[-1].timestamp_ms - s.events[0].timestamp_ms for s in counted]
    visitors = {visitor for visitor, _, _ in rows}
    numbers: dict[str, Any] = {
        "visitors": len(visitors),
        "pageviews": sum(1 for _, _, hits in rows for e in hits if e.kind == "pageview"),
        "bounce_rate": round_half_up(100 * bounces / len(counted), 1) if counted else 0,
        "visit_duration": int(round_half_up(sum(durations) / len(counted) / 1000)) if counted else 0,
        "events": sum(1 for _, _, hits in rows for e in hits if is_event(e)),
    }
    if goal_filtered(filters):
        base = {visitor for visitor, _, _ in goal_matching(events, tz, filters, rng, goals, with_goal=False)}
        numbers["conversion_rate"] = rate(len(visitors), len(base))
    return numbers


def goal_timeseries(
    events: list[RawEvent], tz: ZoneInfo, filters: dict[str, str], rng: Range, interval: str, goals: list[RefGoal]
) -> dict[Any, dict[str, Any]]:
    """{bucket label: {visitors, pageviews, events[, conversion_rate]}} for buckets with base visitors."""

    def per_bucket(rows: list[tuple[tuple[str, date], RefSession, list[RawEvent]]]) -> dict[Any, dict[str, Any]]:
        visitors: dict[Any, set[tuple[str, date]]] = defaultdict(set)
        counts: dict[Any, dict[str, int]] = defaultdict(lambda: {"pageviews": 0, "events": 0})
        for visitor, _, hits in rows:
            for event in hits:
                label = bucket_label(event.timestamp_ms, interval, tz, rng)
                visitors[label].add(visitor)
                counts[label]["pageviews"] += event.kind == "pageview"
                counts[label]["events"] += is_event(event)
        return {label: {"visitors": len(visitors[label]), **counts[label]} for label in visitors}

    converted = per_bucket(goal_matching(events, tz, filters, rng, goals))
    if not goal_filtered(filters):
        return converted
    base = per_bucket(goal_matching(events, tz, filters, rng, goals, with_goal=False))
    empty = {"visitors": 0, "pageviews": 0, "events": 0}
    return {
        label: {
            **converted.get(label, empty),
            "conversion_rate": rate(converted.get(label, empty)["visitors"], n["visitors"]),
        }
        for label, n in base.items()
    }


def goal_breakdown(
    events: list[RawEvent], tz: ZoneInfo, filters: dict[str, str], rng: Range, prop_name: str, goals: list[RefGoal]
) -> dict[str, dict[str, Any]]:
    """`property=goal` (visitors, events, conversion_rate) or `property=props:<key>` (visitors,
    events, pageviews, and conversion_rate under a goal filter), rows with visitors only."""
    rows = goal_matching(events, tz, filters, rng, goals)
    base_rows = goal_matching(events, tz, filters, rng, goals, with_goal=False)
    if prop_name == "goal":
        all_visitors = {visitor for visitor, _, _ in base_rows}
        out: dict[str, dict[str, Any]] = {}
        for goal in goals:
            conversions = [(visitor, e) for visitor, _, hits in rows for e in hits if converts(goal, e)]
            converters = {visitor for visitor, _ in conversions}
            if converters:
                out[goal.name] = {
                    "visitors": len(converters),
                    "events": len(conversions),
                    "conversion_rate": rate(len(converters), len(all_visitors)),
                }
        return out
    key = prop_name.removeprefix("props:")

    def per_value(
        chosen: list[tuple[tuple[str, date], RefSession, list[RawEvent]]],
    ) -> dict[str, tuple[set[tuple[str, date]], int, int]]:
        table: dict[str, tuple[set[tuple[str, date]], list[int]]] = {}
        for visitor, _, hits in chosen:
            for event in hits:
                if not is_event(event):
                    continue
                visitors, counts = table.setdefault(prop(event, key), (set(), [0, 0]))
                visitors.add(visitor)
                counts[0] += 1
                counts[1] += event.kind == "pageview"
        return {value: (visitors, counts[0], counts[1]) for value, (visitors, counts) in table.items()}

    converted = per_value(rows)
    base = per_value(base_rows)
    result: dict[str, dict[str, Any]] = {}
    for value, (visitors, count, pageviews) in converted.items():
        result[value] = {"visitors": len(visitors), "events": count, "pageviews": pageviews}
        if goal_filtered(filters):
            result[value]["conversion_rate"] = rate(len(visitors), len(base[value][0]))
    return result


def page_engagement(
    events: list[RawEvent], tz: ZoneInfo, filters: dict[str, str], rng: Range, goals: list[RefGoal] | None = None
) -> dict[str, dict[str, Any]]:
    """{page: {visitors, pageviews, time_on_page, scroll_depth}}: time_on_page the page's engaged
    seconds (its engagement reports) per pageview, scroll_depth the mean of each visitor's
    deepest reported scroll on it; None where there is nothing to divide by."""
    visitors: dict[str, set[tuple[str, date]]] = defaultdict(set)
    pageviews: dict[str, int] = defaultdict(int)
    engaged: dict[str, int] = defaultdict(int)
    deepest: dict[str, dict[tuple[str, date], int]] = defaultdict(dict)
    for visitor, _, hits in goal_matching(events, tz, filters, rng, goals or []):
        for event in hits:
            visitors[event.page].add(visitor)
            if event.kind == "pageview":
                pageviews[event.page] += 1
            if event.kind == "engagement":
                engaged[event.page] += event.engaged_ms or 0
                scroll = event.scroll_depth or 0
                deepest[event.page][visitor] = max(deepest[event.page].get(visitor, -1), scroll)
    out: dict[str, dict[str, Any]] = {}
    for page in visitors:
        scrolls = list(deepest[page].values())
        out[page] = {
            "visitors": len(visitors[page]),
            "pageviews": pageviews[page],
            "time_on_page": int(round_half_up(engaged[page] / 1000 / pageviews[page])) if pageviews[page] else None,
            "scroll_depth": int(round_half_up(sum(scrolls) / len(scrolls))) if scrolls else None,
        }
    return out


GOAL_PAGES = ("/", "/pricing", "/blog/a", "/blog/2024/b", "/docs", "/#/settings")
PLANS = ("pro", "free")


def _props(values: dict[str, str]) -> str | None:
    return json.dumps(values, sort_keys=True) if values else None


def random_goal_traffic(seed: int, site_id: str, now_ms: int, *, visitors: int = 25, days: int = 36) -> list[RawEvent]:
    """Visits with what the tracker sends beyond pageviews: pageviews with and without props,
    engagement reports after pageviews (time and scroll), signups with a plan, file downloads,
    a non-interactive custom event, outbound clicks; gaps below and above 30 minutes."""
    rng = random.Random(seed)  # noqa: S311 - test traffic
    events: list[RawEvent] = []
    for number in range(visitors):
        visitor = f"{rng.getrandbits(56):014x}{number:02x}"
        for _ in range(rng.randint(1, 3)):
            ts = now_ms - rng.randint(0, days * 86_400_000)
            attributes = {
                "referrer": rng.choice(REFERRERS),
                "country": rng.choice(PLACES)[0],
                "device": rng.choice(DEVICES),
                "browser": rng.choice(BROWSERS),
            }
            for _ in range(rng.randint(1, 5)):
                if ts > now_ms:
                    break
                page = rng.choice(GOAL_PAGES)
                roll = rng.random()
                common: dict[str, Any] = {"site_id": site_id, "visitor_id": visitor, "page": page, **attributes}
                if roll < 0.45:
                    page_props = _props({"author": rng.choice(("ann", "bo"))} if rng.random() < 0.3 else {})
                    events.append(RawEvent(timestamp_ms=ts, kind="pageview", props=page_props, **common))
                    if rng.random() < 0.7 and ts + 20_000 <= now_ms:
                        for report in range(rng.randint(1, 2)):
                            events.append(
                                RawEvent(
                                    timestamp_ms=ts + 5_000 + report * 9_000,
                                    kind="engagement",
                                    engaged_ms=rng.choice((0, 1_499, 1_500, 4_000, 61_000)),
                                    scroll_depth=rng.choice((0, 25, 50, 100)),
                                    props=page_props,
                                    **common,
                                )
                            )
                elif roll < 0.65:
                    plan = rng.choice((*PLANS, None))
                    events.append(
                        RawEvent(
                            timestamp_ms=ts,
                            kind="custom",
                            name="Signup",
                            props=_props({"plan": plan} if plan else {}),
                            **common,
                        )
                    )
                elif roll < 0.75:
                    events.append(
                        RawEvent(
                            timestamp_ms=ts,
                            kind="custom",
                            name="File Download",
                            props=_props({"url": "/a.pdf"}),
                            **common,
                        )
                    )
                elif roll < 0.85:
                    events.append(
                        RawEvent(timestamp_ms=ts, kind="custom", name="Scrolled", interactive=False, **common)
                    )
                else:
                    events.append(RawEvent(timestamp_ms=ts, kind="outbound_click", link=rng.choice(LINKS), **common))
                attributes = {**attributes, "referrer": rng.choice(REFERRERS)}
                ts += rng.choice((1_000, 60_000, 29 * 60_000, 31 * 60_000, 3 * 3_600_000))
    return events
