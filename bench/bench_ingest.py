"""Ingestion figures: the handler's CPU time per event (store excluded) and import throughput.

    .venv/bin/python bench/bench_ingest.py [--events 100000]

1. CPU time per event: the real ingest Lambda handler, 100k requests (by default) of the
   demo traffic's user agents and URLs, with the store's PutItem and the per-IP rate counter's
   UpdateItem replaced by no-ops and the site and salt caches warm (as in a warm Lambda);
   `time.process_time` per event.
2. Import throughput: `aizen import`'s domain call writing the same number of generated
   events into the local stack's store (moto's DynamoDB server, as `aizen serve` embeds it).
"""

import argparse
import contextlib
import itertools
import json
import os
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.update(
    {
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_ACCESS_KEY_ID": "local",
        "AWS_SECRET_ACCESS_KEY": "local",
        "AIZEN_MAIN_TABLE": "bench-main",
        "AIZEN_EVENTS_TABLE": "bench-events",
        "AIZEN_SALTS_TABLE": "bench-salts",
        "POWERTOOLS_TRACE_DISABLED": "true",
        "POWERTOOLS_METRICS_DISABLED": "true",
        "POWERTOOLS_LOG_LEVEL": "WARNING",
        "POWERTOOLS_SERVICE_NAME": "aizen",
        "POWERTOOLS_METRICS_NAMESPACE": "Aizen",
    }
)

from aizen import admin  # noqa: E402
from aizen.importing import service as importer  # noqa: E402
from aizen.settings import get_settings  # noqa: E402
from aizen.store import counters  # noqa: E402
from aizen.store import events as event_store  # noqa: E402
from aizen.store.dynamo import reset_connections  # noqa: E402
from aizen_local.apigw import LocalLambdaContext, http_event  # noqa: E402
from aizen_local.functions import function_spec, load_handler  # noqa: E402
from aizen_local.store import EmbeddedDynamoDB, ensure_tables  # noqa: E402
from aizen_local.template import load_template  # noqa: E402
from aizen_local.traffic import TrafficPlan, generate, ndjson_lines  # noqa: E402

DOMAIN = "bench.example.com"


def handler_cpu(records: list[dict[str, object]]) -> float:
    spec = function_spec("IngestEventFunction")
    route = next(route for route in spec.routes if route.method == "POST")
    handler = load_handler("IngestEventFunction")
    context = LocalLambdaContext(function_name="IngestEventFunction")
    requests = []
    for record in records:
        payload = {"n": "pageview", "u": record["url"], "d": DOMAIN, "r": record.get("referrer")}
        headers = {"content-type": "text/plain", "user-agent": str(record["user_agent"])}
        requests.append(
            http_event(route, "/api/event", headers=headers, body=json.dumps(payload), source_ip=str(record["ip"]))
        )
    stored, counted = event_store.put_event, counters.increment_window
    event_store.put_event = lambda event: None  # the store is excluded
    counters.increment_window = lambda *window: 1
    try:
        with open(os.devnull, "w") as sink, contextlib.redirect_stdout(sink):  # metric lines (EMF) go to stdout
            for request in requests[:200]:  # warm: site, salts, user-agent caches, imports
                handler(request, context)
            started = time.process_time()
            for request in requests:
                assert handler(request, context)["statusCode"] == 202
            return (time.process_time() - started) / len(requests)
    finally:
        event_store.put_event = stored
        counters.increment_window = counted


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--events", type=int, default=100_000)
    count = parser.parse_args().events
    store = EmbeddedDynamoDB().start()
    os.environ["AWS_ENDPOINT_URL_DYNAMODB"] = store.endpoint
    get_settings.cache_clear()
    reset_connections()
    ensure_tables(load_template(), load_template().table_names(os.environ), store.endpoint)
    owner = admin.create_user("bench@example.com")
    site = admin.create_site(DOMAIN, "America/Los_Angeles", owner.id)
    plan = TrafficPlan(DOMAIN, "America/Los_Angeles", datetime.now(UTC), days=60, start_visitors=800, growth=1.5)
    records = [
        record
        for record in itertools.islice(generate(plan), count * 2)
        if record["name"] == "pageview" and "bot" not in str(record["user_agent"]).lower()
    ][:count]
    cpu = handler_cpu(records)
    print(f"ingest handler CPU time per event (store excluded, warm): {cpu * 1e6:.0f} µs over {len(records)} events")

    lines = list(itertools.islice(ndjson_lines(plan), count))
    summary = importer.import_events(site.id, lines, threads=4)
    print(
        f"import into the local store (moto server): {summary.imported} events in {summary.seconds:.1f} s "
        f"= {summary.events_per_second:.0f} events/s"
    )
    sizes = [
        event_store.item_size(event_store.to_item(event, 90)) for event in importer.validate(site.id, lines[:20000])[0]
    ]
    print(
        "stored bytes per event (attribute names + values, demo traffic): "
        f"average {sum(sizes) / len(sizes):.1f}, max {max(sizes)}"
    )
    store.stop()


if __name__ == "__main__":
    main()
