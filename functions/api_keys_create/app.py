"""POST /api/sites/{siteId}/api-keys: create a key; the token is shown once."""

from aizen.access import limit_key_management_request
from aizen.auth.keys import MAX_CREATE_BODY_BYTES, CreateKeyRequest, issue_api_key, key_view, owned_site
from aizen.http import Request, Response, dashboard_user, json_response, lambda_entry
from aizen.validation import parse_json_body


def create_api_key(request: Request) -> Response:
    limit_key_management_request(request.client_ip)
    user_id = dashboard_user(request, write=True)
    site = owned_site(user_id, request.path_parameters["siteId"])
    body = parse_json_body(CreateKeyRequest, request.body, max_bytes=MAX_CREATE_BODY_BYTES)
    key, token = issue_api_key(site.id, user_id, body.name, body.expires_at)
    return json_response(request, 201, {"key": key_view(key), "token": token})


lambda_handler = lambda_entry(create_api_key, route="POST /api/sites/{siteId}/api-keys")
