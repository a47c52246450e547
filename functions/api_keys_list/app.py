"""GET /api/sites/{siteId}/api-keys: the owner's keys for a site, newest first."""

from aizen.access import limit_key_management_request
from aizen.auth.keys import key_view, owned_site, site_keys
from aizen.http import Request, Response, dashboard_user, json_response, lambda_entry


def list_api_keys(request: Request) -> Response:
    limit_key_management_request(request.client_ip)
    site = owned_site(dashboard_user(request, write=False), request.path_parameters["siteId"])
    return json_response(request, 200, {"keys": [key_view(key) for key in site_keys(site.id)]})


lambda_handler = lambda_entry(list_api_keys, route="GET /api/sites/{siteId}/api-keys")
