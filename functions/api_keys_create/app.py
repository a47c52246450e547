"""POST /api/sites/{siteId}/api-keys: create a key; the token is shown once."""

from aws_lambda_powertools.event_handler import Response

from aizen.access import limit_key_management_request
from aizen.auth.keys import MAX_CREATE_BODY_BYTES, CreateKeyRequest, issue_api_key, key_view, owned_site
from aizen.http import build_resolver, client_ip, dashboard_user, json_response, lambda_entry, raw_body
from aizen.validation import parse_json_body

app = build_resolver()


@app.post("/api/sites/<siteId>/api-keys")
def create_api_key(siteId: str) -> Response[str]:  # noqa: N803 - the route's own parameter name
    limit_key_management_request(client_ip(app))
    user_id = dashboard_user(app, write=True)
    site = owned_site(user_id, siteId)
    request = parse_json_body(CreateKeyRequest, raw_body(app), max_bytes=MAX_CREATE_BODY_BYTES)
    key, token = issue_api_key(site.id, user_id, request.name, request.expires_at)
    return json_response(app, 201, {"key": key_view(key), "token": token})


lambda_handler = lambda_entry(app)
