"""Builders shared by the tests: tables from the template, records, handler calls."""

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import boto3

from aizen.auth import keys as key_management
from aizen.auth.sessions import NewSession, start_session
from aizen.models import Site, User
from aizen.settings import get_settings
from aizen.store import accounts
from aizen_local.apigw import LocalLambdaContext, http_event
from aizen_local.functions import function_spec, load_handler
from aizen_local.template import create_table_request, load_template

DASHBOARD_ORIGIN = "https://dashboard.test"


def create_tables_from_template() -> None:
    """The template's tables under the names the settings point at (moto must be active)."""
    settings = get_settings()
    names = {"MainTable": settings.main_table, "EventsTable": settings.events_table}
    client = boto3.client("dynamodb")
    for logical_id, properties in load_template().tables().items():
        client.create_table(**create_table_request(names[logical_id], properties))


@dataclass(frozen=True)
class Owner:
    user: User
    site: Site
    session: NewSession


def make_owner(
    *, user_id: str = "user_1", site_id: str = "site_1", domain: str = "example.com", billing: bool = True
) -> Owner:
    user = User(id=user_id, email=f"{user_id}@example.com", billing_active=billing, created_at=1_700_000_000)
    site = Site(id=site_id, domain=domain, timezone="America/Los_Angeles", owner_user_id=user_id, created_at=1)
    accounts.put_user(user)
    accounts.put_site(site)
    return Owner(user=user, site=site, session=start_session(user_id))


def make_key(site_id: str, user_id: str = "user_1", name: str = "test key", **kwargs: Any) -> tuple[Any, str]:
    return key_management.issue_api_key(site_id, user_id, name, kwargs.get("expires_at"))


@dataclass(frozen=True)
class HandlerResponse:
    status: int
    headers: dict[str, str]
    body: Any


def invoke(
    function: str,
    path: str,
    *,
    method: str | None = None,
    headers: Mapping[str, str] | None = None,
    query: str | Mapping[str, str] = "",
    body: str | bytes | None = None,
    source_ip: str = "198.51.100.7",
) -> HandlerResponse:
    """Call a template function's handler with the event API Gateway would send."""
    spec = function_spec(function)
    route = next(r for r in spec.routes if method is None or r.method == method)
    match = route.pattern().match(path)
    assert match, f"{path} does not match {route.path}"
    event = http_event(
        route, path, headers=headers, query=query, body=body, source_ip=source_ip, path_parameters=match.groupdict()
    )
    answer = load_handler(function)(event, LocalLambdaContext(function_name=function))
    raw_body = answer.get("body") or ""
    return HandlerResponse(
        status=answer["statusCode"],
        headers={name.lower(): value for name, value in (answer.get("headers") or {}).items()},
        body=json.loads(raw_body) if raw_body else None,
    )
