"""GET /api/v1/stats/timeseries: chart points for the key's site."""

from aizen.http import Request, Response, authorize_stats, json_response, lambda_entry
from aizen.query import service
from aizen.query.params.timeseries import TimeseriesParams


def timeseries(request: Request) -> Response:
    access = authorize_stats(request)
    params = TimeseriesParams.from_query(request.query)
    return json_response(request, 200, service.timeseries(access.site, params))


lambda_handler = lambda_entry(timeseries, route="GET /api/v1/stats/timeseries")
