"""GET /api/v1/stats/breakdown: paginated breakdown rows for the key's site."""

from aizen.http import Request, Response, authorize_stats, json_response, lambda_entry
from aizen.query import service
from aizen.query.params.breakdown import BreakdownParams


def breakdown(request: Request) -> Response:
    access = authorize_stats(request)
    params = BreakdownParams.from_query(request.query)
    return json_response(request, 200, service.breakdown(access.site, params))


lambda_handler = lambda_entry(breakdown, route="GET /api/v1/stats/breakdown")
