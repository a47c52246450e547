"""GET /api/v1/stats/realtime: current visitors; never cached, whatever the outcome."""

from aws_lambda_powertools.event_handler import Response

from aizen.http import add_response_headers, authorize_stats, build_resolver, json_response, lambda_entry
from aizen.query import service
from aizen.query.params import RealtimeParams
from aizen.validation import parse_query

app = build_resolver()


@app.get("/api/v1/stats/realtime")
def realtime() -> Response[str]:
    add_response_headers(app, {"Cache-Control": "no-store"})
    access = authorize_stats(app)
    params = parse_query(RealtimeParams, app.current_event.query_string_parameters)
    return json_response(app, 200, service.realtime(access.site, params))


lambda_handler = lambda_entry(app)
