"""How much of each stats function's init could lazy imports remove?

The hardening issue asks for a stats function's init at most 1.3x `import boto3`, by lazy
imports and no work at import time that the first request does not need. This benchmark
measures what the first request needs. In each stats function's Lambda layout (as
bench_coldstart.py builds it) a fresh interpreter imports boto3, then `app` with every
module's own execution time recorded, then answers one real request (a valid key, 30
days of traffic, in an embedded DynamoDB). Python's sys.monitoring records which modules
had a function run. For the modules `app` imported it prints:

- modules none of whose functions ever ran, at init or in the request: work nobody used,
  which perfect lazy imports would remove (a lower bound of what laziness could save);
- modules none of whose functions ran *in the request*: an upper bound. It counts modules
  whose classes, constants or init-time calls the request does rely on (Aizen's error
  classes and records, Powertools' constants), so the real saving is less;
- the best init ratio to `import boto3` even if the upper bound were removed.

    .venv/bin/python bench/bench_init_needs.py [--runs 5]
"""

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bench_coldstart import build_function, build_layout, lambda_environment

from aizen_local.apigw import http_event
from aizen_local.store import EmbeddedDynamoDB, ensure_tables
from aizen_local.template import load_template

PROBE = Path(__file__).with_name("init_probe.py")
REQUESTS = {
    "StatsAggregateFunction": "period=30d&metrics=visitors,pageviews,bounce_rate,visit_duration",
    "StatsTimeseriesFunction": "period=30d&metrics=visitors,pageviews",
    "StatsBreakdownFunction": "period=30d&property=page&metrics=visitors,pageviews",
    "StatsRealtimeFunction": "minutes=30",
}
TABLES = {"MainTable": "bench-main", "EventsTable": "bench-events", "SaltsTable": "bench-salts"}


def seed_site(endpoint: str) -> tuple[str, str]:
    """A site with 30 days of generated traffic and a key; returns (domain, token)."""
    os.environ.update(
        {
            "AWS_ENDPOINT_URL_DYNAMODB": endpoint,
            "AWS_DEFAULT_REGION": "us-east-1",
            "AWS_ACCESS_KEY_ID": "bench",
            "AWS_SECRET_ACCESS_KEY": "bench",
            "AIZEN_MAIN_TABLE": TABLES["MainTable"],
            "AIZEN_EVENTS_TABLE": TABLES["EventsTable"],
            "AIZEN_SALTS_TABLE": TABLES["SaltsTable"],
            "POWERTOOLS_TRACE_DISABLED": "true",
        }
    )
    # Imported once the environment names the embedded store.
    from aizen import admin
    from aizen.auth.keys import issue_api_key
    from aizen.importing.service import import_events
    from aizen_local.traffic import TrafficPlan, ndjson_lines

    ensure_tables(load_template(), TABLES, endpoint)
    user = admin.create_user("bench@aizen.test")
    site = admin.create_site("bench.aizen.test", "America/Los_Angeles", user.id)
    import_events(site.id, ndjson_lines(TrafficPlan(site.domain, site.timezone, datetime.now(UTC), days=30)))
    return site.id, issue_api_key(site.id, user.id, "bench", None)[1]


def probe(task: Path, layer: Path, event_file: Path, environment: dict[str, str]) -> dict[str, Any]:
    result = subprocess.run(
        [sys.executable, "-I", str(PROBE), str(task), str(layer), str(event_file)],
        capture_output=True,
        text=True,
        check=True,
        env=environment,
        cwd=task,
    )
    answer: dict[str, Any] = json.loads(result.stdout.strip().splitlines()[-1])
    return answer


def summarize(run: dict[str, Any]) -> dict[str, float]:
    """Seconds: boto3, init, module time, and the two bounds of what laziness could remove."""
    called_ever = set(run["called_at_init"]) | set(run["called_by_request"])
    called_by_request = set(run["called_by_request"])
    modules = run["executed_at_init"]
    return {
        "boto3": run["boto3"],
        "init": run["init"],
        "modules": sum(seconds for _, seconds in modules),
        "never_called": sum(seconds for name, seconds in modules if name not in called_ever),
        "not_called_by_request": sum(seconds for name, seconds in modules if name not in called_by_request),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()

    template = load_template()
    database = EmbeddedDynamoDB().start()
    try:
        _, token = seed_site(database.endpoint)

        with tempfile.TemporaryDirectory() as scratch:
            layer = build_layout(Path(scratch) / "layer")
            print(
                f"{'function':24} {'status':>6} {'boto3':>8} {'init':>15} {'modules':>9} {'never called':>13}"
                f" {'not called by request':>22} {'best init':>10}"
            )
            for spec in template.functions():
                if spec.logical_id not in REQUESTS:
                    continue
                task = build_function(spec, Path(scratch) / "task")
                route = spec.routes[0]
                event_file = Path(scratch) / f"{spec.logical_id}.json"
                event = http_event(
                    route, route.path, headers={"Authorization": f"Bearer {token}"}, query=REQUESTS[spec.logical_id]
                )
                event_file.write_text(json.dumps(event))
                environment = lambda_environment(
                    template,
                    task,
                    {
                        "AWS_ENDPOINT_URL_DYNAMODB": database.endpoint,
                        # Unsampled: the X-Ray SDK is the first sampled invocation's cost, not init's.
                        "_X_AMZN_TRACE_ID": "Root=1-00000000-000000000000000000000000;Sampled=0",
                    },
                )
                raw = [probe(task, layer, event_file, environment) for _ in range(args.runs)]
                status = {run["status"] for run in raw}
                runs = [summarize(run) for run in raw]
                median = {name: statistics.median(run[name] for run in runs) for name in runs[0]}
                floor = median["boto3"]
                best = (floor + median["init"] - median["not_called_by_request"]) / floor
                print(
                    f"{spec.logical_id:24} {','.join(map(str, status)):>6} {floor * 1000:5.1f} ms"
                    f" {median['init'] * 1000:6.1f} ms {(floor + median['init']) / floor:4.2f}x"
                    f" {median['modules'] * 1000:6.1f} ms {median['never_called'] * 1000:10.1f} ms"
                    f" {median['not_called_by_request'] * 1000:19.1f} ms {best:9.2f}x"
                )
    finally:
        database.stop()


if __name__ == "__main__":
    main()
