"""DELETE /api/sites/{siteId}/api-keys/{keyId}: revoke a key (idempotent)."""

from aizen.access import limit_key_management_request
from aizen.auth.keys import owned_site, revoke_api_key
from aizen.http import Request, Response, dashboard_user, json_response, lambda_entry


def revoke(request: Request) -> Response:
    limit_key_management_request(request.client_ip)
    site = owned_site(dashboard_user(request, write=True), request.path_parameters["siteId"])
    revoke_api_key(site.id, request.path_parameters["keyId"])
    return json_response(request, 200, {"ok": True})


lambda_handler = lambda_entry(revoke, route="DELETE /api/sites/{siteId}/api-keys/{keyId}")
