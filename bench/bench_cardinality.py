"""Benchmark of a page breakdown over a year of rollups on a site flooded with random pages.

    .venv/bin/python bench/bench_cardinality.py
    .venv/bin/python bench/bench_cardinality.py --unlimited-days 0     # skip the "before" case

A client sending random pages (7 events a minute from one address makes 10,000 a day)
fills a day's page table with values nobody else has. Since a day keeps at most
`rollup_values_per_day` values per property and `MAX_KEPT_BYTES` of them as stored
(docs/rollups.md, "Distinct values per day"), this prints:

1. one flooded day rolled up by the rollup code itself (`rollup_of_events`): 10,000
   random pages of 512 characters from one visitor, on top of 200 real pages: the
   rows kept, their size, and the time the fold takes;
2. `property=page&period=12m` over 365 days that each hold the worst a limited day can
   hold — 1,000 distinct values of 98 characters (filling the 100,000 bytes) and `(other)`, none
   shared between days — written with the rollup code's own `put_day`;
3. for comparison, what the same breakdown cost before the limit: 30 days of 10,000
   random 512-character pages each.

For each query: DynamoDB requests and bytes read, CPU time excluding the DynamoDB calls
(moto runs in this process), and the peak of memory allocated during the query
(tracemalloc; moto's own transient allocations included).
"""

import argparse
import json
import os
import random
import string
import time
import tracemalloc
import zlib
from datetime import timedelta
from typing import Any

import moto_in_process  # noqa: F401 - first: paths and environment before any aizen import
from dynamo_meter import Meter
from moto import mock_aws

from aizen import clock
from aizen.events import RawEvent
from aizen.models import Site
from aizen.periods import day_start_ms, today_in, zone
from aizen.query import service
from aizen.query.params.breakdown import BreakdownParams
from aizen.rollup.compute import MAX_KEPT_BYTES, rollup_of_events
from aizen.settings import get_settings
from aizen.store import rollups
from aizen_local.store import ensure_tables
from aizen_local.template import load_template

NOW = 1_775_159_000  # 2026-04-02T19:43:20Z
TOTALS = {"visitors": 1000, "pageviews": 20000, "sessions": 1000, "bounces": 0, "duration_ms": 0}


def _site(number: int) -> Site:
    return Site(f"site_flood{number}", f"flood{number}.example", "Europe/Berlin", "u", 1)


def _random_page(rng: random.Random, length: int) -> str:
    return "/" + "".join(rng.choices(string.ascii_letters + string.digits, k=length - 1))


def one_flooded_day(rng: random.Random) -> None:
    site = _site(0)
    day = today_in(zone(site.timezone), NOW) - timedelta(days=1)
    start = day_start_ms(day, zone(site.timezone))
    events = [
        RawEvent(site.id, start + n * 60_000, "pageview", f"{n % 3000:016x}", f"/docs/{n % 200:03d}")
        for n in range(20_000)
    ]
    events += [
        RawEvent(site.id, start + n * 8_600, "pageview", "f" * 16, _random_page(rng, 512)) for n in range(10_000)
    ]
    started = time.process_time()
    rollup = rollup_of_events(site, day, events)
    spent = time.process_time() - started
    rows = rollup.tables["page"]
    rollups.put_day(site.id, day.isoformat(), "bench", rollup.totals, {"page": rows})
    parts = rollups.rolled_up_days(site.id, day.isoformat(), day.isoformat())[day.isoformat()]["parts"]["page"]
    compressed = len(zlib.compress(json.dumps(rows, separators=(",", ":")).encode()))
    print("one flooded day (20,000 real pageviews of 200 pages + 10,000 random 512-character pages)")
    limit = get_settings().rollup_values_per_day
    print(f"  page rows kept         {len(rows):>10,}  (of 10,200 values; limit {limit:,})")
    print(f"  (other)                {next(row for row in rows if row[0] == '(other)')!s:>10}")
    print(f"  page table             {compressed:>10,} bytes compressed, {parts} item(s)")
    print(f"  rollup of the day      {spent * 1000:>10.0f} ms CPU (both passes, every property)")


def load_limited(site: Site, rng: random.Random, days: int) -> None:
    """Days as full as a limited day can be: `limit` values filling MAX_KEPT_BYTES (with their quotes)."""
    limit = get_settings().rollup_values_per_day
    length = MAX_KEPT_BYTES // limit - 2
    last = today_in(zone(site.timezone), NOW) - timedelta(days=1)
    for offset in range(days):
        rows: list[list[Any]] = [["(other)", 900, 9000]]
        rows += [[_random_page(rng, length), 1, 10] for _ in range(limit)]
        rollups.put_day(site.id, (last - timedelta(days=offset)).isoformat(), "bench", TOTALS, {"page": sorted(rows)})


def load_unlimited(site: Site, rng: random.Random, days: int) -> None:
    """Days as they were stored before the limit: 10,000 random 512-character pages each."""
    last = today_in(zone(site.timezone), NOW) - timedelta(days=1)
    for offset in range(days):
        rows = sorted([_random_page(rng, 512), 1, 1] for _ in range(10_000))
        rollups.put_day(site.id, (last - timedelta(days=offset)).isoformat(), "bench", TOTALS, {"page": rows})


def measure(name: str, meter: Meter, site: Site, period: str) -> None:
    params = BreakdownParams.from_query({"period": period, "property": "page", "metrics": "visitors,pageviews"})
    service.breakdown(site, params)  # warm: imports, connections
    meter.reset()
    cpu = time.process_time()
    answer = service.breakdown(site, params)
    total = time.process_time() - cpu
    requests, read, store_cpu = meter.requests, meter.bytes, meter.store_cpu
    tracemalloc.start()  # a second run, traced: tracemalloc slows every allocation
    service.breakdown(site, params)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    print(f"\n{name}")
    print(f"  rows merged            {answer['pagination']['total_rows']:>10,}")
    print(f"  DynamoDB requests      {requests:>10,}")
    print(f"  bytes read             {read:>10,}")
    print(f"  CPU time, excl. store  {(total - store_cpu) * 1000:>10.0f} ms")
    print(f"  peak memory            {peak / 1e6:>10.1f} MB")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--days", type=int, default=365, help="limited days for the 12m breakdown")
    parser.add_argument("--unlimited-days", type=int, default=30, help="days of the 'before' case (0: skip)")
    args = parser.parse_args()
    clock.now = lambda: float(NOW)
    rng = random.Random(5)
    with mock_aws():
        ensure_tables(load_template(), load_template().table_names(os.environ), None)
        one_flooded_day(rng)
        meter = Meter()
        limited = _site(1)
        load_limited(limited, rng, args.days)
        measure(
            f"12m page breakdown, {args.days} flooded days at the limit (the last 364 in the period)",
            meter,
            limited,
            "12m",
        )
        if args.unlimited_days:
            unlimited = _site(2)
            load_unlimited(unlimited, rng, args.unlimited_days)
            measure(
                f"before the limit: 30d page breakdown, {args.unlimited_days} days of 10,000 random pages",
                meter,
                unlimited,
                "30d",
            )


if __name__ == "__main__":
    main()
