"""DELETE /api/sites/{siteId}/goals/{goalId}: delete a goal (its slot is free at once)."""

from aizen.access import limit_key_management_request
from aizen.http import Request, Response, dashboard_user, json_response, lambda_entry
from aizen.site_goals import delete_goal, managed_site


def delete(request: Request) -> Response:
    limit_key_management_request(request.client_ip)
    site = managed_site(dashboard_user(request, write=True), request.path_parameters["siteId"])
    delete_goal(site.id, request.path_parameters["goalId"])
    return json_response(request, 200, {"ok": True})


lambda_handler = lambda_entry(delete, route="DELETE /api/sites/{siteId}/goals/{goalId}")
