"""End-to-end benchmark of raw reads: filtered 30-day queries over packed event blocks.

    .venv/bin/python bench/bench_stats.py            # 200k events
    .venv/bin/python bench/bench_stats.py --million  # 1M events

1. Generates a site's events over 30 days and stores them as DynamoDB holds them once the
   compaction job has run (docs/data-model.md, "Event blocks"): a packed block for every
   finished hour, single items for the last hour. The items go into moto in-process.
2. Calls the stats functions' handlers (the API Gateway event in, the JSON answer out)
   once against moto and records every HTTP answer DynamoDB (moto) gave, keyed by request.
3. Replays those answers at botocore's `before-send` event and times the same calls again:
   CPU time of everything the function does after the network (auth and rate limits,
   building and signing every request, parsing the HTTP bodies, decoding blocks, counting,
   the JSON answer). moto's own cost is not in this figure.

Prints, per query: DynamoDB requests, item bytes read and read units, end-to-end CPU and
events per CPU-second (target: >= 1,000,000); the engine-only figure (counting already
decoded blocks); and, on a sample, the read path before blocks (single items through
boto3's parser). Then the fixed cost of a stats request (an empty site, a 7-day range).
"""

import argparse
import json
import math
import os
import random
import sys
import time
from collections import defaultdict
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
        "AIZEN_IP_LIMIT_PER_MINUTE": "1000000",
        "AIZEN_KEY_LIMIT_PER_HOUR": "1000000",
        "AIZEN_SALTS_TABLE": "bench-salts",
        "POWERTOOLS_TRACE_DISABLED": "true",
        "POWERTOOLS_METRICS_DISABLED": "true",
        "POWERTOOLS_LOG_LEVEL": "WARNING",
    }
)
os.environ.pop("AWS_ENDPOINT_URL_DYNAMODB", None)

from dynamo_meter import Replayer  # noqa: E402
from moto import mock_aws  # noqa: E402

from aizen import clock, compaction  # noqa: E402
from aizen.auth import keys as key_management  # noqa: E402
from aizen.columns import EventBlock  # noqa: E402
from aizen.events import RawEvent  # noqa: E402
from aizen.models import Site, User  # noqa: E402
from aizen.periods import day_starts_ms, raw_window_first_day, resolve_period, zone  # noqa: E402
from aizen.query.engine import CountingScope, Totals, ValueTable, count_chunks  # noqa: E402
from aizen.rollup import job  # noqa: E402
from aizen.settings import get_settings  # noqa: E402
from aizen.store import accounts, dynamo  # noqa: E402
from aizen.store import blocks as block_store  # noqa: E402
from aizen.store import events as event_store  # noqa: E402
from aizen.store.blocks import hour_of  # noqa: E402
from aizen.vocabulary import Filters  # noqa: E402
from aizen_local.apigw import LocalLambdaContext, http_event  # noqa: E402
from aizen_local.functions import function_spec, load_handler  # noqa: E402
from aizen_local.store import ensure_tables  # noqa: E402
from aizen_local.template import load_template  # noqa: E402

SITE = "site_bench"
EMPTY_SITE = "site_empty"
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
QUERIES = [
    (
        "filtered 30-day aggregate (country=US, device=mobile)",
        "StatsAggregateFunction",
        "/api/v1/stats/aggregate",
        "period=30d&country=US&device=mobile&metrics=visitors,pageviews,bounce_rate,visit_duration",
        Filters(country="US", device="mobile"),
        Totals,
    ),
    (
        "filtered 30-day page breakdown (referrer=google.com)",
        "StatsBreakdownFunction",
        "/api/v1/stats/breakdown",
        "period=30d&referrer=google.com&property=page&metrics=visitors,pageviews&limit=100",
        Filters(referrer="google.com"),
        lambda: ValueTable("page"),
    ),
]
READ_UNIT_BYTES = 4096


def generate(total: int, seed: int = 7) -> list[RawEvent]:
    rng = random.Random(seed)
    start_ms = (NOW - 30 * 86_400) * 1000
    events: list[RawEvent] = []
    visitor = 0
    while len(events) < total:
        visitor += 1
        visitor_id = f"{rng.getrandbits(60):015x}{visitor % 256:02x}"[-16:]
        ts = rng.randint(start_ms, NOW * 1000 - 60_000)
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
                    min(ts, NOW * 1000 - 1),
                    "outbound_click" if click else "pageview",
                    visitor_id,
                    rng.choice(PAGES),
                    link="https://github.com/example/repo" if click else None,
                    **attributes,
                )
            )
            ts += rng.choice([5_000, 40_000, 120_000, 600_000, 2_400_000])
    return events[:total]


def store_compacted(events: list[RawEvent]) -> tuple[int, int, int]:
    """Blocks for every hour before the watermark, single items after it, as the compaction
    job leaves them; returns (watermark, block items, block item bytes)."""
    watermark = hour_of(NOW * 1000 - 10 * 60_000)
    hours: defaultdict[int, list[RawEvent]] = defaultdict(list)
    tail = []
    for event in events:
        if event.timestamp_ms < watermark:
            hours[hour_of(event.timestamp_ms)].append(event)
        else:
            tail.append(event)
    items = size = 0
    for hour, hour_events in hours.items():
        parts = block_store.encode_parts(EventBlock.of_events(hour_events), hour)
        block_store.put_hour(SITE, hour, NOW * 1000, parts)
        items += len(parts)
        # p, s (14 bytes), x (a number), c: what DynamoDB counts as the item's size
        key_bytes = len("p") + len(block_store.block_partition(SITE)) + len("s") + 14
        size += sum(key_bytes + len("x") + 7 + len("c") + len(part) for part in parts)
    block_store.advance_watermark(SITE, watermark)
    event_store.put_events(tail, threads=1)
    return watermark, items, size


def scope_of(filters: Filters) -> CountingScope:
    period = resolve_period("30d", TIMEZONE, NOW)
    tz = zone(TIMEZONE)
    first = max(period.first_day, raw_window_first_day(tz, NOW, get_settings().raw_retention_days))
    day_starts = day_starts_ms(first, period.last_day, tz)
    return CountingScope(day_starts=day_starts, start_ms=period.start_ms, end_ms=period.end_ms, filters=filters)


def call(function: str, path: str, query: str, token: str) -> dict[str, Any]:
    route = function_spec(function).routes[0]
    event = http_event(route, path, query=query, headers={"authorization": f"Bearer {token}"}, source_ip="203.0.113.9")
    answer = load_handler(function)(event, LocalLambdaContext(function_name=function))
    if answer["statusCode"] != 200:
        raise SystemExit(f"{function} answered {answer['statusCode']}: {answer['body']}")
    body: dict[str, Any] = json.loads(answer["body"])
    return body


def cpu_of(work: Any, repeats: int) -> float:
    """Median CPU seconds of `work()` (process time: every thread of this process)."""
    times = []
    for _ in range(repeats):
        started = time.process_time()
        work()
        times.append(time.process_time() - started)
    return sorted(times)[len(times) // 2]


def engine_only(filters: Filters, make_accumulator: Any) -> tuple[float, int]:
    """CPU seconds of counting decoded blocks (the store and decoding excluded)."""
    scope = scope_of(filters)
    chunks = [(watermark, list(blocks)) for watermark, blocks in _decoded_chunks(scope)]
    events = sum(len(block) for _, blocks in chunks for block in blocks)
    return cpu_of(lambda: count_chunks(scope, chunks, make_accumulator()), 3), events


def _decoded_chunks(scope: CountingScope) -> list[tuple[int, list[EventBlock]]]:
    from aizen.query.planner import raw_chunks

    return list(raw_chunks(SITE, scope.day_starts[0], scope.day_starts[-1]))


def old_read_path(sample: list[RawEvent]) -> float:
    """Events per CPU-second of the read path before blocks, on a sample: single items
    through boto3's resource (botocore's parser, TypeDeserializer, from_item). Replayed too."""
    from aizen.store.events import from_item

    table = dynamo.events_table()
    partitions = sorted({to["p"] for to in (event_store.to_item(event, 90) for event in sample)})

    def read() -> int:
        count = 0
        for partition in partitions:
            query: dict[str, Any] = {
                "KeyConditionExpression": "p = :p",
                "ExpressionAttributeValues": {":p": partition},
            }
            while True:
                page = table.query(**query)
                count += len([from_item(item) for item in page.get("Items", [])])
                if "LastEvaluatedKey" not in page:
                    break
                query["ExclusiveStartKey"] = page["LastEvaluatedKey"]
        return count

    return len(sample) / cpu_of(read, 3)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--million", action="store_true", help="1,000,000 events instead of 200,000")
    parser.add_argument("--events", type=int, help="any other number of events")
    parser.add_argument("--repeats", type=int, default=3, help="timed runs of each call (median)")
    args = parser.parse_args()
    total = args.events or (1_000_000 if args.million else 200_000)
    clock.now = lambda: float(NOW)
    replayer = Replayer()
    with mock_aws():
        ensure_tables(load_template(), load_template().table_names(os.environ), None)
        replayer.install()
        accounts.put_user(User(id="user_b", email="b@example.com", billing_active=True, created_at=1))
        tokens = {}
        for site_id, domain in ((SITE, "bench.example"), (EMPTY_SITE, "empty.example")):
            accounts.put_site(Site(id=site_id, domain=domain, timezone=TIMEZONE, owner_user_id="user_b", created_at=1))
            tokens[site_id] = key_management.issue_api_key(site_id, "user_b", "bench", None)[1]
        events = generate(total)
        started = time.perf_counter()
        watermark, block_items, block_bytes = store_compacted(events)
        # The empty site as the scheduled jobs leave it: compacted, finished days rolled up.
        compaction.run([EMPTY_SITE])
        job.run([EMPTY_SITE])
        blocked = sum(1 for event in events if event.timestamp_ms < watermark)
        print(
            f"{total:,} events over 30 days: {block_items} block items for {blocked:,} events "
            f"({block_bytes / blocked:.1f} bytes of item data an event), {total - blocked:,} single items "
            f"in the tail; stored in moto in {time.perf_counter() - started:.1f} s"
        )
        # Record: one call of each against moto.
        replayer.mode = "record"
        answers = {name: call(function, path, query, tokens[SITE]) for name, function, path, query, *_ in QUERIES}
        empty = call(
            "StatsAggregateFunction", "/api/v1/stats/aggregate", "period=7d&metrics=visitors", tokens[EMPTY_SITE]
        )
        replayer.mode = "pass"
        sample_events = events[-20_000:]
        event_store.put_events(sample_events, threads=1)  # single items of the old read path
        replayer.mode = "record"
        old_read_path(sample_events)
        replayer.mode = "replay"
        before = old_read_path(sample_events)

    for name, function, path, query, filters, make_accumulator in QUERIES:
        replayer.reset_counts()
        result = call(function, path, query, tokens[SITE])
        assert result == answers[name], "the replayed answer differs from the recorded one"
        requests, body_bytes = replayer.requests, replayer.bytes
        seconds = cpu_of(lambda f=function, p=path, q=query: call(f, p, q, tokens[SITE]), args.repeats)
        engine_seconds, engine_events = engine_only(filters, make_accumulator)
        read_units = math.ceil(block_bytes / READ_UNIT_BYTES)  # strongly consistent: 1 unit per 4 KB
        print(f"\n{name}")
        print(f"  DynamoDB requests      {requests:>12,}  (auth, rate limits, watermark, block pages, tail)")
        print(f"  response bytes         {body_bytes:>12,}  (HTTP bodies, base64 blocks included)")
        print(f"  item bytes read/event  {block_bytes / blocked:>12.1f}  (blocks: what DynamoDB bills)")
        print(f"  read units (blocks)    {read_units:>12,}")
        print(f"  end-to-end CPU         {seconds:>12.3f} s  (median of {args.repeats}; moto excluded)")
        print(f"  events per CPU-second  {total / seconds:>12,.0f}  (end to end; target >= 1,000,000)")
        print(f"  engine only            {engine_events / engine_seconds:>12,.0f}  events per CPU-second (counting)")
        print(f"  answer                 {json.dumps(result.get('metrics') or result['results'][:2])}")
    print(f"\nbefore blocks: single items through boto3's parser: {before:,.0f} events per CPU-second (read only)")
    replayer.reset_counts()
    call("StatsAggregateFunction", "/api/v1/stats/aggregate", "period=7d&metrics=visitors", tokens[EMPTY_SITE])
    fixed_requests = replayer.requests
    fixed = cpu_of(
        lambda: call(
            "StatsAggregateFunction", "/api/v1/stats/aggregate", "period=7d&metrics=visitors", tokens[EMPTY_SITE]
        ),
        max(5, args.repeats),
    )
    print(
        f"fixed cost of a stats request (empty site, 7d): {fixed * 1000:.1f} ms CPU, "
        f"{fixed_requests} DynamoDB requests a call (target <= 15 ms); answer {json.dumps(empty['metrics'])}"
    )


if __name__ == "__main__":
    main()
