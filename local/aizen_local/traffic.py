"""Realistic demo traffic as import records (docs/ingestion.md, `aizen import`).

Months of visits for one site, in the site's time zone: a daily rhythm (quiet nights,
busy afternoons), a weekly one (quieter weekends), steady growth with day-to-day noise,
landing pages and multi-page sessions with bounces, referrers from search engines, social
networks and other sites, utm campaigns (newsletter, paid search, paid social), a
device/browser/OS mix through real user agents, countries/regions/cities, outbound clicks,
custom events (signups with a `plan` prop, file downloads, 404s), pageview props (the blog's
`author`), engagement reports (time and scroll on most pages), and a few bots (which the
import drops, as ingestion would). Deterministic for a seed.
"""

import json
import random
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

# (user agent, weight): desktop, mobile and tablet browsers in proportions like a tech site's.
USER_AGENTS = (
    (
        "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
        "Chrome/131.0.0.0 Safari/537.36",
        30,
    ),
    (
        "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) "
        "Version/17.5 Safari/605.1.15",
        12,
    ),
    (
        "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) "
        "Chrome/131.0.0.0 Safari/537.36",
        10,
    ),
    ("Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:133.0) Gecko/20100101 Firefox/133.0", 7),
    (
        "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
        "Chrome/131.0.0.0 Safari/537.36 Edg/131.0.0.0",
        6,
    ),
    ("Mozilla/5.0 (X11; Ubuntu; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0", 3),
    (
        "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) "
        "Version/17.5 Mobile/15E148 Safari/604.1",
        15,
    ),
    (
        "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) "
        "Chrome/131.0.0.0 Mobile Safari/537.36",
        9,
    ),
    (
        "Mozilla/5.0 (Linux; Android 14; SM-S918B) AppleWebKit/537.36 (KHTML, like Gecko) "
        "SamsungBrowser/25.0 Chrome/121.0.0.0 Mobile Safari/537.36",
        3,
    ),
    (
        "Mozilla/5.0 (iPad; CPU OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) "
        "Version/17.5 Mobile/15E148 Safari/604.1",
        4,
    ),
    (
        "Mozilla/5.0 (Linux; Android 13; SM-X700) AppleWebKit/537.36 (KHTML, like Gecko) "
        "Chrome/131.0.0.0 Safari/537.36",
        1,
    ),
)
BOT_USER_AGENTS = (
    "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)",
    "Mozilla/5.0 (compatible; bingbot/2.0; +http://www.bing.com/bingbot.htm)",
    "Mozilla/5.0 (compatible; AhrefsBot/7.0; +http://ahrefs.com/robot/)",
)
# (country, ISO 3166-2 region, city, weight)
PLACES = (
    ("US", "US-CA", "San Francisco", 10),
    ("US", "US-CA", "Los Angeles", 6),
    ("US", "US-NY", "New York", 9),
    ("US", "US-WA", "Seattle", 4),
    ("US", "US-TX", "Austin", 4),
    ("CA", "CA-ON", "Toronto", 4),
    ("GB", "GB-ENG", "London", 8),
    ("DE", "DE-BE", "Berlin", 6),
    ("DE", "DE-BY", "Munich", 3),
    ("FR", "FR-IDF", "Paris", 5),
    ("NL", "NL-NH", "Amsterdam", 3),
    ("IN", "IN-KA", "Bengaluru", 5),
    ("BR", "BR-SP", "São Paulo", 3),
    ("JP", "JP-13", "Tokyo", 3),
    ("AU", "AU-NSW", "Sydney", 3),
)
# (referrer, landing query, weight): None referrer = direct (or a campaign link in an email app).
SOURCES: tuple[tuple[str | None, str, int], ...] = (
    (None, "", 30),
    ("https://www.google.com/", "", 24),
    ("https://www.bing.com/", "", 3),
    ("https://duckduckgo.com/", "", 3),
    ("https://t.co/", "", 4),
    ("https://www.facebook.com/", "", 2),
    ("https://www.reddit.com/", "", 3),
    ("https://news.ycombinator.com/", "", 3),
    ("https://www.linkedin.com/", "", 2),
    ("https://github.com/", "", 4),
    ("https://dev.to/", "", 2),
    ("https://blog.example.org/privacy-tools", "", 2),
    (None, "?utm_source=newsletter&utm_medium=email&utm_campaign=weekly", 5),
    ("https://www.google.com/", "?utm_source=google&utm_medium=cpc&utm_campaign=brand", 4),
    ("https://t.co/", "?utm_source=twitter&utm_medium=paid_social&utm_campaign=launch", 2),
)
LANDING_PAGES = (("/", 40), ("/blog/privacy-first-analytics", 12), ("/pricing", 10), ("/docs", 8),
                 ("/blog/ga4-migration", 8), ("/features", 7), ("/docs/getting-started", 6),
                 ("/changelog", 3), ("/about", 3), ("/#/demo", 3))  # fmt: skip
NEXT_PAGES = (("/pricing", 18), ("/features", 14), ("/docs", 12), ("/docs/getting-started", 10),
              ("/docs/api", 8), ("/signup", 8), ("/blog", 7), ("/about", 5), ("/contact", 4),
              ("/login", 6), ("/changelog", 4), ("/", 10))  # fmt: skip
PLANS = (("free", 60), ("pro", 30), ("business", 10))  # a signup's `plan` prop
AUTHORS = {"/blog/privacy-first-analytics": "Ana", "/blog/ga4-migration": "Ben"}  # a pageview prop
DOWNLOADS = ("/downloads/aizen-guide.pdf", "/downloads/aizen-cli.tar.gz")
MISSING_PAGES = ("/old-pricing", "/blog/2019/launch", "/docs/v0")  # landing pages that answer 404
OUTBOUND_LINKS = ("https://github.com/aizen-analytics/aizen", "https://twitter.com/aizen", "https://docs.python.org/3/")
# Share of a day's visits per local hour (0..23): quiet nights, busy working afternoons.
HOURLY = (1, 0.6, 0.4, 0.3, 0.3, 0.5, 1, 2, 3.5, 4.5, 5, 5, 4.8, 5, 5.2, 5, 4.6, 4, 3.5, 3.2, 3, 2.6, 2, 1.4)
WEEKDAY = (1.0, 1.05, 1.05, 1.0, 0.9, 0.55, 0.6)  # Monday..Sunday


@dataclass(frozen=True)
class TrafficPlan:
    domain: str
    timezone: str
    end: datetime  # no event at or after this instant
    days: int = 90  # local days ending with end's day
    start_visitors: float = 60.0  # visitors a weekday at the start
    growth: float = 1.8  # the last day's level over the first day's
    seed: int = 7


def _pick(rng: random.Random, weighted: tuple[tuple[Any, ...], ...]) -> tuple[Any, ...]:
    return rng.choices(weighted, weights=[row[-1] for row in weighted])[0]


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _engagement(
    rng: random.Random, url: str, viewed: datetime, left: datetime, common: dict[str, Any]
) -> dict[str, Any]:
    """The report the tracker sends when the visitor leaves a page: engaged time (part of the
    time on the page) and the deepest scroll."""
    on_page_ms = int((left - viewed).total_seconds() * 1000)
    return {
        "timestamp": _iso(left),
        "name": "engagement",
        "url": url,
        "engaged_ms": int(on_page_ms * rng.uniform(0.4, 1.0)),
        "scroll_depth": rng.choice((100, 100, rng.randint(10, 99))),
        **common,
        **({"hash_mode": True} if "#" in url else {}),
    }


def _page_records(
    rng: random.Random, base: str, page: str, moment: datetime, common: dict[str, Any]
) -> list[dict[str, Any]]:
    """The custom events a pageview of `page` may set off, a few seconds after it."""
    later = _iso(moment + timedelta(seconds=rng.randint(3, 40)))
    url = base + page
    if page == "/signup" and rng.random() < 0.4:
        plan = _pick(rng, PLANS)[0]
        return [{"timestamp": later, "name": "Signup", "url": url, "props": {"plan": plan}, **common}]
    if page.startswith("/docs") and rng.random() < 0.12:
        download = base + rng.choice(DOWNLOADS)
        return [{"timestamp": later, "name": "File Download", "url": url, "props": {"url": download}, **common}]
    return []


def _pageview(url: str, moment: datetime, page: str, common: dict[str, Any]) -> dict[str, Any]:
    author = AUTHORS.get(page)
    return {"timestamp": _iso(moment), "name": "pageview", "url": url, **common,
            **({"props": {"author": author}} if author else {})}  # fmt: skip


def _visit(rng: random.Random, plan: TrafficPlan, start: datetime, ip: str) -> list[dict[str, Any]]:
    user_agent = _pick(rng, USER_AGENTS)[0]
    country, region, city, _ = _pick(rng, PLACES)
    referrer, query, _ = _pick(rng, SOURCES)
    base = f"https://{plan.domain}"
    page = _pick(rng, LANDING_PAGES)[0] if rng.random() >= 0.01 else rng.choice(MISSING_PAGES)
    common = {"ip": ip, "user_agent": user_agent, "country": country, "region": region, "city": city}
    url = base + page + query if not page.startswith("/#") else base + "/" + query + page[1:]
    records = [
        {
            **_pageview(url, start, page, common),
            "referrer": referrer,
            **({"hash_mode": True} if "#" in page else {}),
        }
    ]
    if page in MISSING_PAGES:  # the site's 404 page sends Plausible's `404` event, then the visitor leaves
        moment = start + timedelta(seconds=1)
        records.append({"timestamp": _iso(moment), "name": "404", "url": url, "props": {"path": page}, **common})
        return records
    records += _page_records(rng, base, page, start, common)
    moment = start
    pageviews = 1 if rng.random() < 0.42 else min(1 + int(rng.expovariate(0.45)), 12)
    for _ in range(pageviews - 1):
        viewed = moment
        moment += timedelta(seconds=rng.randint(10, 300))
        if rng.random() < 0.2:  # the tracker reports engagement when the route changes (a few here: start-up time)
            records.append(_engagement(rng, url, viewed, moment - timedelta(milliseconds=200), common))
        page = _pick(rng, NEXT_PAGES)[0]
        url = base + page
        records.append(_pageview(url, moment, page, common))
        records += _page_records(rng, base, page, moment, common)
    if rng.random() < 0.2:  # and when the visitor leaves
        records.append(_engagement(rng, url, moment, moment + timedelta(seconds=rng.randint(5, 240)), common))
    if rng.random() < 0.08:
        moment += timedelta(seconds=rng.randint(5, 120))
        records.append(
            {
                "timestamp": _iso(moment),
                "name": "outbound_click",
                "url": base + page,
                "link": rng.choice(OUTBOUND_LINKS),
                **common,
            }
        )
    return sorted(records, key=lambda record: str(record["timestamp"]))


def generate(plan: TrafficPlan) -> Iterator[dict[str, Any]]:
    """Import records in time order per visit (visits ordered by day)."""
    rng = random.Random(plan.seed)  # noqa: S311 - made-up traffic, not secrets
    zone = ZoneInfo(plan.timezone)
    last_day = plan.end.astimezone(zone).date()
    first_day = last_day - timedelta(days=plan.days - 1)
    hours = tuple((hour, weight) for hour, weight in enumerate(HOURLY))
    for offset in range(plan.days):
        day: date = first_day + timedelta(days=offset)
        trend = plan.start_visitors * plan.growth ** (offset / max(plan.days - 1, 1))
        visits = max(0, round(trend * WEEKDAY[day.weekday()] * rng.uniform(0.85, 1.15)))
        for number in range(visits):
            hour = _pick(rng, hours)[0]
            start = datetime(day.year, day.month, day.day, hour, rng.randint(0, 59), rng.randint(0, 59), tzinfo=zone)
            if start >= plan.end:
                continue
            ip = f"10.{offset % 250}.{number // 250 % 250}.{number % 250 + 1}"
            if rng.random() < 0.02:  # a crawler: dropped on import, as ingestion drops it
                yield {"timestamp": _iso(start), "name": "pageview", "url": f"https://{plan.domain}/",
                       "ip": ip, "user_agent": rng.choice(BOT_USER_AGENTS)}  # fmt: skip
                continue
            for record in _visit(rng, plan, start, ip):
                if datetime.fromisoformat(record["timestamp"]) < plan.end:
                    yield record


def ndjson_lines(plan: TrafficPlan) -> Iterator[str]:
    for record in generate(plan):
        yield json.dumps(record, ensure_ascii=False, separators=(",", ":"))
