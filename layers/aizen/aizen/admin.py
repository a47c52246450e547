"""Operator actions: create users and sites (the `aizen` command line uses these)."""

import re
import secrets
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from aizen import clock
from aizen.errors import InvalidRequest, NotFound
from aizen.models import Site, User, site_domain
from aizen.store import accounts

_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


def create_user(email: str, *, billing_active: bool = True, user_id: str | None = None) -> User:
    if not _EMAIL.fullmatch(email):
        raise InvalidRequest(f"email: {email!r} is not an email address")
    user = User(
        id=user_id or f"user_{secrets.token_hex(6)}",
        email=email,
        billing_active=billing_active,
        created_at=int(clock.now()),
    )
    accounts.put_user(user)
    return user


def validate_timezone(timezone: str) -> str:
    if timezone not in available_timezones():
        raise InvalidRequest(f"timezone: {timezone!r} is not an IANA time zone (e.g. America/Los_Angeles)")
    try:
        ZoneInfo(timezone)
    except ZoneInfoNotFoundError as error:  # pragma: no cover - available_timezones() said it exists
        raise InvalidRequest(f"timezone: {timezone!r} cannot be loaded") from error
    return timezone


def create_site(domain: str, timezone: str, owner_user_id: str, *, site_id: str | None = None) -> Site:
    normalized = site_domain(domain)
    if normalized is None:
        raise InvalidRequest(f"domain: {domain!r} is not a domain name (e.g. example.com)")
    validate_timezone(timezone)
    if accounts.get_user(owner_user_id) is None:
        raise NotFound(f"owner: user {owner_user_id} not found")
    site = Site(
        id=site_id or f"site_{secrets.token_hex(6)}",
        domain=normalized,
        timezone=timezone,
        owner_user_id=owner_user_id,
        created_at=int(clock.now()),
    )
    accounts.put_site(site)
    return site
