"""GET /api/v1/stats/timeseries: chart points for the key's site."""

from aws_lambda_powertools.event_handler import Response

from aizen.http import authorize_stats, build_resolver, json_response, lambda_entry
from aizen.query import service
from aizen.query.params import TimeseriesParams
from aizen.validation import parse_query

app = build_resolver()


@app.get("/api/v1/stats/timeseries")
def timeseries() -> Response[str]:
    access = authorize_stats(app)
    params = parse_query(TimeseriesParams, app.current_event.query_string_parameters)
    return json_response(app, 200, service.timeseries(access.site, params))


lambda_handler = lambda_entry(app)
