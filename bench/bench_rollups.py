"""Benchmark of unfiltered long-range queries served from rollups.

    .venv/bin/python bench/bench_rollups.py                # 10M events over 12 months
    .venv/bin/python bench/bench_rollups.py --events 1000000

Importing 10M raw events through moto would take hours, so the site's history is
produced the way the rollup job stores it, from generated per-day aggregates: for
each of 365 site-local days, totals (visitors, pageviews, sessions, bounces,
duration) that add up to the requested number of events, and value tables for
every rolled-up property (2,000 distinct pages with a long tail), written with
the rollup code's own `put_day` (table parts, generations, day items). Then the
endpoints' own service functions answer, over moto in-process:

- an unfiltered 12m aggregate,
- a 12m monthly timeseries,
- a 12m page breakdown (first page of 100 rows),

and for each the script prints DynamoDB requests, items and bytes read, and CPU
time: in total and excluding the DynamoDB calls (moto runs in this process, so
its work would otherwise count as ours).
"""

import argparse
import os
import random
import time
from datetime import timedelta
from typing import Any

import moto_in_process  # noqa: F401 - first: paths and environment before any aizen import
from dynamo_meter import Meter
from moto import mock_aws

from aizen import clock
from aizen.models import Site
from aizen.periods import today_in, zone
from aizen.query import service
from aizen.query.params.aggregate import AggregateParams
from aizen.query.params.breakdown import BreakdownParams
from aizen.query.params.timeseries import TimeseriesParams
from aizen.store import rollups
from aizen.vocabulary import ROLLUP_PROPERTIES
from aizen_local.store import ensure_tables
from aizen_local.template import load_template

NOW = 1_775_159_000  # 2026-04-02T19:43:20Z
SITE = Site(id="site_bench", domain="bench.example", timezone="America/Los_Angeles", owner_user_id="u", created_at=1)
VALUES = {
    "page": [f"/docs/{n:04d}" for n in range(2000)],
    "entry_page": [f"/docs/{n:04d}" for n in range(300)],
    "exit_link": [f"https://example.org/{n}" for n in range(200)],
    "channel": ["Direct", "Organic Search", "Referral", "Organic Social", "Email", "Paid Search"],
    "referrer": ["(none)", *[f"site{n}.example" for n in range(300)]],
    "country": ["US", "DE", "GB", "FR", "IN", "BR", "JP", "CA", "(none)"],
    "device": ["desktop", "mobile", "tablet"],
    "browser": ["Chrome", "Safari", "Firefox", "Edge", "(none)"],
    "os": ["Windows", "macOS", "iOS", "Android", "Linux"],
}


def _split(total: int, values: list[str], rng: random.Random) -> list[int]:
    """`total` spread over values with a long tail (weights 1/rank)."""
    weights = [1 / (rank + 1) * rng.uniform(0.8, 1.2) for rank in range(len(values))]
    scale = total / sum(weights)
    return [int(weight * scale) for weight in weights]


def load(events_total: int) -> int:
    rng = random.Random(11)
    last = today_in(zone(SITE.timezone), NOW) - timedelta(days=1)
    first = last - timedelta(days=364)
    per_day = events_total // 365
    written = 0
    day = first
    while day <= last:
        pageviews = int(per_day * 0.93)
        visitors = per_day // 3
        sessions = int(visitors * 1.2)
        totals = {
            "visitors": visitors,
            "pageviews": pageviews,
            "sessions": sessions,
            "bounces": sessions * 2 // 5,
            "duration_ms": sessions * 95_000,
        }
        tables: dict[str, list[list[Any]]] = {}
        for prop, metrics in ROLLUP_PROPERTIES.items():
            first_metric = _split(
                {"entries": sessions, "clicks": per_day - pageviews}.get(metrics[0], visitors), VALUES[prop], rng
            )
            rows = []
            for value, number in zip(VALUES[prop], first_metric, strict=True):
                if number:
                    rows.append([value, number] if len(metrics) == 1 else [value, number, int(number * 2.6)])
            tables[prop] = rows
        written += rollups.put_day(SITE.id, day.isoformat(), "bench", totals, tables)
        day += timedelta(days=1)
    return written


def measure(name: str, meter: Meter, call: Any) -> None:
    meter.reset()
    cpu = time.process_time()
    answer = call()
    total = time.process_time() - cpu
    print(f"\n{name}")
    print(f"  DynamoDB requests      {meter.requests:>10,}")
    print(f"  items read             {meter.items:>10,}")
    print(f"  bytes read             {meter.bytes:>10,}")
    print(f"  CPU time, total        {total * 1000:>10.1f} ms  (moto in-process included)")
    print(f"  CPU time, excl. store  {(total - meter.store_cpu) * 1000:>10.1f} ms")
    print(f"  from_rollups           {answer['meta']['from_rollups']!s:>10}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--events", type=int, default=10_000_000)
    args = parser.parse_args()
    clock.now = lambda: float(NOW)
    with mock_aws():
        ensure_tables(load_template(), load_template().table_names(os.environ), None)
        started = time.perf_counter()
        items = load(args.events)
        print(
            f"{args.events:,} events over 365 days as rollups: {items:,} items in {time.perf_counter() - started:.1f} s"
        )
        meter = Meter()
        measure(
            "unfiltered 12m aggregate",
            meter,
            lambda: service.aggregate(
                SITE,
                AggregateParams.from_query(
                    {"period": "12m", "metrics": "visitors,pageviews,bounce_rate,visit_duration"}
                ),
            ),
        )
        measure(
            "12m monthly timeseries",
            meter,
            lambda: service.timeseries(
                SITE,
                TimeseriesParams.from_query({"period": "12m", "interval": "month", "metrics": "visitors,pageviews"}),
            ),
        )
        measure(
            "12m page breakdown (100 rows)",
            meter,
            lambda: service.breakdown(
                SITE,
                BreakdownParams.from_query({"period": "12m", "property": "page", "metrics": "visitors,pageviews"}),
            ),
        )


if __name__ == "__main__":
    main()
