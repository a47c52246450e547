"""GET /api/v1/stats/aggregate: top-line metrics for the key's site."""

from aws_lambda_powertools.event_handler import Response

from aizen.errors import NotImplementedYet
from aizen.http import authorize_stats, build_resolver, lambda_entry

app = build_resolver()


@app.get("/api/v1/stats/aggregate")
def aggregate() -> Response[str]:
    authorize_stats(app)
    raise NotImplementedYet("Aggregate metrics are not available yet in this version of Aizen")


lambda_handler = lambda_entry(app)
