"""DELETE /api/sites/{siteId}/api-keys/{keyId}: revoke a key (idempotent)."""

from aws_lambda_powertools.event_handler import Response

from aizen.access import limit_key_management_request
from aizen.auth.keys import owned_site, revoke_api_key
from aizen.http import build_resolver, client_ip, dashboard_user, json_response, lambda_entry

app = build_resolver()


@app.delete("/api/sites/<siteId>/api-keys/<keyId>")
def revoke(siteId: str, keyId: str) -> Response[str]:  # noqa: N803 - the route's own parameter names
    limit_key_management_request(client_ip(app))
    site = owned_site(dashboard_user(app, write=True), siteId)
    revoke_api_key(site.id, keyId)
    return json_response(app, 200, {"ok": True})


lambda_handler = lambda_entry(app)
