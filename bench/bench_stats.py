"""Benchmark of the stats query engine over 30 days of raw events in moto.

    .venv/bin/python bench/bench_stats.py            # 200k events
    .venv/bin/python bench/bench_stats.py --million  # 1M events

Loads a site's events into moto's in-process DynamoDB with the store's own batch
writer (BatchWriteItem, 25 items a request: the fastest path that still goes through
the real API and item format), then runs, for a filtered 30-day aggregate and a
filtered page breakdown, the same source the endpoints use and prints:

- DynamoDB requests and bytes read (response bodies) for the query,
- store time (the Query requests, moto included, and item decoding),
- the query engine's CPU time excluding the store (grouping, sessions, filters,
  counting), measured with time.process_time over the events the store returned,
  and events aggregated per engine CPU-second (target: >= 1,000,000).
"""

import argparse
import os
import random
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT / "layers" / "aizen"), str(ROOT / "local")]
os.environ.update(
    {
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_ACCESS_KEY_ID": "bench",
        "AWS_SECRET_ACCESS_KEY": "bench",
        "AIZEN_MAIN_TABLE": "bench-main",
        "AIZEN_EVENTS_TABLE": "bench-events",
        "AIZEN_SALTS_TABLE": "bench-salts",
        "POWERTOOLS_TRACE_DISABLED": "true",
    }
)
os.environ.pop("AWS_ENDPOINT_URL_DYNAMODB", None)

from dynamo_meter import Meter  # noqa: E402
from moto import mock_aws  # noqa: E402

from aizen import clock  # noqa: E402
from aizen.events import RawEvent  # noqa: E402
from aizen.periods import day_starts_ms, raw_window_first_day, resolve_period, zone  # noqa: E402
from aizen.query.engine import CountingScope, Filters, Totals, ValueTable  # noqa: E402
from aizen.query.sources import count_chunks  # noqa: E402
from aizen.settings import get_settings  # noqa: E402
from aizen.store import events as event_store  # noqa: E402
from aizen_local.store import ensure_tables  # noqa: E402
from aizen_local.template import load_template  # noqa: E402

SITE = "site_bench"
TIMEZONE = "America/Los_Angeles"
NOW = 1_775_159_000  # 2026-04-02T19:43:20Z
PAGES = ["/", "/pricing", "/docs", "/blog/one", "/blog/two", "/about", "/signup", "/#/settings"] + [
    f"/docs/page-{n}" for n in range(40)
]
REFERRERS = [None, "google.com", "news.ycombinator.com", "github.com", "bing.com", "x.com"]
COUNTRIES = [
    ("US", "US-CA", "San Francisco"),
    ("US", "US-NY", "New York"),
    ("DE", "DE-BE", "Berlin"),
    (None, None, None),
]


def generate(total: int, seed: int = 7) -> list[RawEvent]:
    rng = random.Random(seed)
    start_ms = (NOW - 30 * 86_400) * 1000
    events: list[RawEvent] = []
    visitor = 0
    while len(events) < total:
        visitor += 1
        visitor_id = f"{rng.getrandbits(60):015x}{visitor % 256:02x}"[-16:]
        ts = rng.randint(start_ms, NOW * 1000 - 3_600_000)
        place = rng.choice(COUNTRIES)
        attributes: dict[str, Any] = {
            "referrer": rng.choice(REFERRERS),
            "channel": rng.choice(["Direct", "Organic Search", "Referral"]),
            "country": place[0],
            "region": place[1],
            "city": place[2],
            "device": rng.choice(["desktop", "mobile", "tablet"]),
            "browser": rng.choice(["Chrome", "Safari", "Firefox", "Edge"]),
            "os": rng.choice(["Windows", "macOS", "iOS", "Android", "Linux"]),
        }
        for _ in range(rng.randint(1, 8)):
            click = rng.random() < 0.1
            events.append(
                RawEvent(
                    SITE,
                    ts,
                    "outbound_click" if click else "pageview",
                    visitor_id,
                    rng.choice(PAGES),
                    link="https://github.com/example/repo" if click else None,
                    **attributes,
                )
            )
            ts += rng.choice([5_000, 40_000, 120_000, 600_000, 2_400_000])
    return events[:total]


def scope_of(filters: Filters) -> CountingScope:
    period = resolve_period("30d", TIMEZONE, NOW)
    tz = zone(TIMEZONE)
    first = max(period.first_day, raw_window_first_day(tz, NOW, get_settings().raw_retention_days))
    day_starts = day_starts_ms(first, period.last_day, tz)
    return CountingScope(day_starts=day_starts, start_ms=period.start_ms, end_ms=period.end_ms, filters=filters)


def read(meter: Meter) -> list[tuple[int, list[RawEvent]]]:
    """The store's side of a 30-day query (the same for both queries: filters run in the engine)."""
    day_starts = scope_of(Filters()).day_starts
    meter.reset()
    started = time.perf_counter()
    chunks = list(event_store.query_event_days(SITE, day_starts[0], day_starts[-1]))
    events = sum(len(chunk) for _, chunk in chunks)
    print("\nstore: one 30-day read (what both queries below send to DynamoDB)")
    print(f"  events read            {events:>12,}")
    print(f"  DynamoDB requests      {meter.requests:>12,}")
    print(f"  bytes read             {meter.bytes:>12,}  (response bodies)")
    print(
        f"  store time (moto)      {time.perf_counter() - started:>12.2f} s  (moto's in-process server; not the target)"
    )
    return chunks


def run(name: str, filters: Filters, make_accumulator: Any, chunks: list[tuple[int, list[RawEvent]]]) -> None:
    events = sum(len(chunk) for _, chunk in chunks)
    accumulator = make_accumulator()
    cpu = time.process_time()
    count_chunks(scope_of(filters), chunks, accumulator)
    engine_seconds = time.process_time() - cpu
    print(f"\n{name}")
    print(f"  engine CPU time        {engine_seconds:>12.3f} s")
    print(f"  events per CPU-second  {events / engine_seconds:>12,.0f}")
    if isinstance(accumulator, Totals):
        print(
            f"  answer                 visitors={accumulator.visitors} pageviews={accumulator.pageviews} "
            f"bounce_rate={accumulator.bounce_rate} visit_duration={accumulator.visit_duration}"
        )
    else:
        top = sorted(accumulator.values(), key=lambda v: -accumulator.metric("visitors", v))[:3]
        print(f"  answer                 {[(v, accumulator.metric('visitors', v)) for v in top]}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--million", action="store_true", help="1,000,000 events instead of 200,000")
    parser.add_argument("--events", type=int, help="any other number of events")
    args = parser.parse_args()
    total = args.events or (1_000_000 if args.million else 200_000)
    clock.now = lambda: float(NOW)
    with mock_aws():
        ensure_tables(load_template(), load_template().table_names(os.environ), None)
        events = generate(total)
        started = time.perf_counter()
        event_store.put_events(events, threads=1)
        print(
            f"loaded {total:,} events over 30 days into moto in {time.perf_counter() - started:.1f} s "
            f"(BatchWriteItem, 25 items a request)"
        )
        chunks = read(Meter())
        run(
            "filtered 30-day aggregate (country=US, device=mobile)",
            Filters(country="US", device="mobile"),
            Totals,
            chunks,
        )
        run(
            "filtered page breakdown (referrer=google.com)",
            Filters(referrer="google.com"),
            lambda: ValueTable("page"),
            chunks,
        )


if __name__ == "__main__":
    main()
