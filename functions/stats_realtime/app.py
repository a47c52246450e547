"""GET /api/v1/stats/realtime: current visitors; never cached, whatever the outcome."""

from aizen.http import Request, Response, authorize_stats, json_response, lambda_entry
from aizen.query import service
from aizen.query.params.realtime import RealtimeParams


def realtime(request: Request) -> Response:
    request.add_response_headers({"Cache-Control": "no-store"})
    access = authorize_stats(request)
    params = RealtimeParams.from_query(request.query)
    return json_response(request, 200, service.realtime(access.site, params))


lambda_handler = lambda_entry(realtime, route="GET /api/v1/stats/realtime")
