"""`aizen serve`: the whole API on this machine, from template.yaml, without Docker."""

import json
import logging
import os
import signal
import sys
import threading
from dataclasses import dataclass

from aizen_local import connection
from aizen_local.demo import curl_lines, seed_demo
from aizen_local.gateway import LocalHttpApi
from aizen_local.invoker import LambdaPool
from aizen_local.queues import EmbeddedSqs, QueuePoller, ensure_queues, event_source_mappings
from aizen_local.scheduler import Schedule, rate_seconds
from aizen_local.store import EmbeddedDynamoDB, ensure_tables
from aizen_local.template import load_template

log = logging.getLogger("aizen.local")


@dataclass(frozen=True)
class ServeOptions:
    host: str = "127.0.0.1"
    port: int = 3000
    demo: bool = True
    workers: int = 4


def _function_environment(
    api_origins: list[str], endpoint: str, tables: dict[str, str], sqs_endpoint: str, queues: dict[str, str]
) -> dict[str, str]:
    """Globals' variables from the template, plus what differs on this machine (the queues too)."""
    template = load_template()
    environment = template.function_environment(tables)
    environment["AIZEN_DASHBOARD_ORIGINS"] = os.environ.get("AIZEN_DASHBOARD_ORIGIN") or ",".join(api_origins)
    for name, value in os.environ.items():  # explicit AIZEN_* settings win over template defaults
        if name.startswith("AIZEN_") and name in environment and name != "AIZEN_DASHBOARD_ORIGINS":
            environment[name] = value
    environment.update(
        {
            "AWS_ENDPOINT_URL_DYNAMODB": endpoint,
            "AWS_ENDPOINT_URL_SQS": sqs_endpoint,
            "AWS_DEFAULT_REGION": os.environ["AWS_DEFAULT_REGION"],
            "AWS_ACCESS_KEY_ID": os.environ["AWS_ACCESS_KEY_ID"],
            "AWS_SECRET_ACCESS_KEY": os.environ["AWS_SECRET_ACCESS_KEY"],
            "POWERTOOLS_TRACE_DISABLED": "true",  # no X-Ray daemon here
            "POWERTOOLS_METRICS_DISABLED": "true",  # no CloudWatch here; keeps the console readable
        }
    )
    environment.update({variable: queues[queue] for variable, queue in template.queue_variables().items()})
    return environment


def serve(options: ServeOptions) -> int:
    logging.basicConfig(level=logging.INFO, format="aizen serve: %(message)s", stream=sys.stderr)
    template = load_template()
    embedded: EmbeddedDynamoDB | None = None
    endpoint = os.environ.get("AWS_ENDPOINT_URL_DYNAMODB")
    if not endpoint:
        embedded = EmbeddedDynamoDB().start()
        endpoint = embedded.endpoint
    connection.use_local_aws_defaults()
    tables = {
        logical_id: os.environ.get(variable) or connection.LOCAL_TABLES[logical_id]
        for logical_id, variable in template.table_variables().items()
    }
    ensure_tables(template, tables, endpoint)
    connection.apply(endpoint, tables)
    sqs = EmbeddedSqs().start()
    queues = ensure_queues(template, sqs.endpoint)

    functions = template.functions()
    api = LocalHttpApi((options.host, options.port), functions)
    port = api.server_address[1]
    api_url = f"http://{options.host}:{port}"
    origins = [f"http://127.0.0.1:{port}", f"http://localhost:{port}"]
    pool = LambdaPool(_function_environment(origins, endpoint, tables, sqs.endpoint, queues), options.workers)
    pool.warm_up()
    api.pool = pool

    summary: dict[str, object] = {
        "api_url": api_url,
        "dynamodb_endpoint": endpoint,
        "tables": list(tables.values()),
        "sqs_endpoint": sqs.endpoint,
        "queues": queues,
    }
    if options.demo:
        tenant = seed_demo()
        summary.update(
            {
                "site_id": tenant.site.id,
                "user_id": tenant.user.id,
                "api_key": tenant.api_key,
                "session_cookie": tenant.session.cookie,
                "demo_events": tenant.traffic.imported if tenant.traffic else None,
                "curl": curl_lines(api_url, tenant),
            }
        )
    connection.LocalStackState(api_url, endpoint, tables).write()

    schedules = [
        Schedule(pool, spec.logical_id, rate_seconds(expression), int(spec.properties.get("Timeout", 60)))
        for spec in functions
        for expression in spec.schedules
    ]
    timeouts = {spec.logical_id: int(spec.properties.get("Timeout", 60)) for spec in functions}
    pollers = [
        QueuePoller(queues[queue], function, batch_size, lambda name, event: pool.invoke(name, event, timeouts[name]))
        for queue, function, batch_size in event_source_mappings(template)
    ]
    for schedule in schedules:
        schedule.start()
    for poller in pollers:
        poller.start()

    print(json.dumps(summary), flush=True)
    _print_banner(summary)
    stop = threading.Event()
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, lambda *_: stop.set())
    server_thread = threading.Thread(target=api.serve_forever, name="local-http-api", daemon=True)
    server_thread.start()
    stop.wait()
    log.info("stopping")
    for schedule in schedules:
        schedule.stop()
    for poller in pollers:
        poller.stop()
    api.shutdown()
    pool.shutdown()
    if embedded:
        embedded.stop()
    sqs.stop()
    connection.STATE_FILE.unlink(missing_ok=True)
    return 0


def _print_banner(summary: dict[str, object]) -> None:
    lines = [f"Aizen is running at {summary['api_url']} (DynamoDB: {summary['dynamodb_endpoint']})"]
    if "api_key" in summary:
        lines += [
            f"  demo site:      {summary['site_id']}",
            f"  API key:        {summary['api_key']}",
            f"  session cookie: {summary['session_cookie']}",
            "Try:",
            *(f"  {line}" for line in summary["curl"]),  # type: ignore[attr-defined]
        ]
    lines.append("Ctrl-C stops it.")
    print("\n".join(lines), file=sys.stderr, flush=True)
