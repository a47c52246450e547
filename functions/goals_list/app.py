"""GET /api/sites/{siteId}/goals: the site's goals, oldest first."""

from aizen.access import limit_key_management_request
from aizen.http import Request, Response, dashboard_user, json_response, lambda_entry
from aizen.site_goals import goal_view, managed_site, site_goals


def list_goals(request: Request) -> Response:
    limit_key_management_request(request.client_ip)
    site = managed_site(dashboard_user(request, write=False), request.path_parameters["siteId"])
    return json_response(request, 200, {"goals": [goal_view(goal) for goal in site_goals(site.id)]})


lambda_handler = lambda_entry(list_goals, route="GET /api/sites/{siteId}/goals")
