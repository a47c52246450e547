"""GET /api/v1/stats/timeseries: chart points for the key's site."""

from aws_lambda_powertools.event_handler import Response

from aizen.errors import NotImplementedYet
from aizen.http import authorize_stats, build_resolver, lambda_entry

app = build_resolver()


@app.get("/api/v1/stats/timeseries")
def timeseries() -> Response[str]:
    authorize_stats(app)
    raise NotImplementedYet("Timeseries are not available yet in this version of Aizen")


lambda_handler = lambda_entry(app)
