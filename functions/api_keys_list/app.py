"""GET /api/sites/{siteId}/api-keys: the owner's keys for a site, newest first."""

from aws_lambda_powertools.event_handler import Response

from aizen.access import limit_key_management_request
from aizen.auth.keys import key_view, owned_site, site_keys
from aizen.http import build_resolver, client_ip, dashboard_user, json_response, lambda_entry

app = build_resolver()


@app.get("/api/sites/<siteId>/api-keys")
def list_api_keys(siteId: str) -> Response[str]:  # noqa: N803 - the route's own parameter name
    limit_key_management_request(client_ip(app))
    site = owned_site(dashboard_user(app, write=False), siteId)
    return json_response(app, 200, {"keys": [key_view(key) for key in site_keys(site.id)]})


lambda_handler = lambda_entry(app)
