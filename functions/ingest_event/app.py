"""POST /api/event: event ingestion in Plausible's wire format (CORS open for trackers)."""

from aizen.http import CorsPolicy, Request, Response, json_response, lambda_entry
from aizen.ingest.service import IngestRequest, ingest


def ingest_event(request: Request) -> Response:
    outcome = ingest(IngestRequest(body=request.body, source_ip=request.source_ip, headers=request.headers))
    dropped = {"X-Aizen-Dropped": outcome.dropped} if outcome.dropped else {}
    return json_response(request, 202, {"ok": True}, headers=dropped)


lambda_handler = lambda_entry(ingest_event, route="POST /api/event", cors=CorsPolicy())
