"""POST /api/event: event ingestion in Plausible's wire format (CORS open for trackers)."""

from aws_lambda_powertools.event_handler import Response

from aizen.errors import NotImplementedYet
from aizen.http import build_resolver, lambda_entry

app = build_resolver(cors=True)


@app.post("/api/event")
def ingest() -> Response[str]:
    raise NotImplementedYet("Event ingestion is not available yet in this version of Aizen")


lambda_handler = lambda_entry(app)
