"""GET /api/v1/stats/realtime: current visitors; never cached, whatever the outcome."""

from aws_lambda_powertools.event_handler import Response

from aizen.errors import NotImplementedYet
from aizen.http import add_response_headers, authorize_stats, build_resolver, lambda_entry

app = build_resolver()


@app.get("/api/v1/stats/realtime")
def realtime() -> Response[str]:
    add_response_headers(app, {"Cache-Control": "no-store"})
    authorize_stats(app)
    raise NotImplementedYet("Realtime visitors are not available yet in this version of Aizen")


lambda_handler = lambda_entry(app)
