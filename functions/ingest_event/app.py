"""POST /api/event: event ingestion in Plausible's wire format (CORS open for trackers)."""

from aizen.http import CorsPolicy, Request, Response, json_response, lambda_entry
from aizen.ingest.service import IngestRequest, ingest


def ingest_event(request: Request) -> Response:
    outcome = ingest(IngestRequest(body=request.body, client_ip=request.client_ip, headers=request.headers))
    # A bot's drop answers exactly as a stored event: saying so would tell its author when the
    # user agent needs changing. An unknown event name is the sender's own choice: saying so helps.
    dropped = {"X-Aizen-Dropped": "event_name"} if outcome.dropped == "event_name" else {}
    return json_response(request, 202, {"ok": True}, headers=dropped)


lambda_handler = lambda_entry(ingest_event, route="POST /api/event", cors=CorsPolicy())
