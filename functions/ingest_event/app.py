"""POST /api/event: event ingestion in Plausible's wire format (CORS open for trackers)."""

from aws_lambda_powertools.event_handler import Response

from aizen.http import JSON, build_resolver, client_ip, lambda_entry, raw_body
from aizen.ingest.service import IngestRequest, ingest

app = build_resolver(cors=True)


@app.post("/api/event")
def ingest_event() -> Response[str]:
    event = app.current_event
    outcome = ingest(
        IngestRequest(
            body=raw_body(app),
            source_ip=client_ip(app),
            headers={name.lower(): value for name, value in (event.headers or {}).items()},
        )
    )
    headers = {"X-Aizen-Dropped": outcome.dropped} if outcome.dropped else {}
    return Response(status_code=202, content_type=JSON, body='{"ok":true}', headers=headers)


lambda_handler = lambda_entry(app)
