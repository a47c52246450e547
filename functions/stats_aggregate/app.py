"""GET /api/v1/stats/aggregate: top-line metrics for the key's site."""

from aws_lambda_powertools.event_handler import Response

from aizen.http import authorize_stats, build_resolver, json_response, lambda_entry
from aizen.query import service
from aizen.query.params import AggregateParams
from aizen.validation import parse_query

app = build_resolver()


@app.get("/api/v1/stats/aggregate")
def aggregate() -> Response[str]:
    access = authorize_stats(app)
    params = parse_query(AggregateParams, app.current_event.query_string_parameters)
    return json_response(app, 200, service.aggregate(access.site, params))


lambda_handler = lambda_entry(app)
