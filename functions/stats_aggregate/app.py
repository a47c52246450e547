"""GET /api/v1/stats/aggregate: top-line metrics for the key's site."""

from aizen.http import Request, Response, authorize_stats, json_response, lambda_entry
from aizen.query import service
from aizen.query.params.aggregate import AggregateParams


def aggregate(request: Request) -> Response:
    access = authorize_stats(request)
    params = AggregateParams.from_query(request.query)
    return json_response(request, 200, service.aggregate(access.site, params))


lambda_handler = lambda_entry(aggregate, route="GET /api/v1/stats/aggregate")
