"""POST /api/event: event ingestion in Plausible's wire format (CORS open for trackers)."""

from aizen.http import CorsPolicy, Request, Response, json_response, lambda_entry
from aizen.ingest.service import IngestRequest, ingest


def ingest_event(request: Request) -> Response:
    # A bot's drop answers exactly as a stored event: saying so would tell its author when the
    # user agent needs changing.
    ingest(IngestRequest(body=request.body, client_ip=request.client_ip, headers=request.headers))
    return json_response(request, 202, {"ok": True})


lambda_handler = lambda_entry(ingest_event, route="POST /api/event", cors=CorsPolicy())
