"""POST /api/sites/{siteId}/goals: a new goal (a custom event's name or a page pattern)."""

from aizen.access import limit_key_management_request
from aizen.http import Request, Response, dashboard_user, json_response, lambda_entry
from aizen.site_goals import MAX_GOAL_BODY_BYTES, CreateGoalRequest, create_goal, goal_view, managed_site
from aizen.validation import parse_json_body


def create(request: Request) -> Response:
    limit_key_management_request(request.client_ip)
    site = managed_site(dashboard_user(request, write=True), request.path_parameters["siteId"])
    body = parse_json_body(CreateGoalRequest, request.body, max_bytes=MAX_GOAL_BODY_BYTES)
    return json_response(request, 201, {"goal": goal_view(create_goal(site.id, body))})


lambda_handler = lambda_entry(create, route="POST /api/sites/{siteId}/goals")
