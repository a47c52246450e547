"""Ingestion: one tracker request → enriched raw events, one PutItem each.

The client address's own per-IP window (its counter named by a keyed hash of the address,
never the address) is counted first, before the body is read: a refused event is never
parsed nor written. The site is found by domain (cached per process for a few minutes:
sites never move domains); bots and event names other than pageviews and outbound clicks
are dropped.
"""

import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass

from aizen import clock, ratelimit
from aizen.errors import InvalidRequest, NotFound
from aizen.events import EventKind, RawEvent
from aizen.ingest import enrich, visitors, wire
from aizen.ingest.channels import channel_for
from aizen.ingest.visitors import visitor_for
from aizen.names import canonical_browser, canonical_os
from aizen.settings import get_settings
from aizen.store import accounts, events

_SITE_CACHE_SECONDS = 300.0
_sites: dict[str, tuple[float, "SiteRef"]] = {}
_sites_lock = threading.Lock()


@dataclass(frozen=True, slots=True)
class SiteRef:
    id: str
    domain: str
    timezone: str


@dataclass(frozen=True, slots=True)
class IngestRequest:
    body: bytes
    source_ip: str  # API Gateway's sourceIp (the TCP peer)
    headers: Mapping[str, str]  # lower-cased names


@dataclass(frozen=True, slots=True)
class IngestOutcome:
    stored: int
    dropped: str | None = None  # "bot" | "event_name" when nothing was stored on purpose


def site_by_domain(domain: str) -> SiteRef | None:
    now = time.monotonic()
    cached = _sites.get(domain)
    if cached is not None and cached[0] > now:
        return cached[1]
    site_id = accounts.get_site_id_by_domain(domain)
    site = accounts.get_site(site_id) if site_id else None
    if site is None:
        return None
    ref = SiteRef(site.id, site.domain, site.timezone)
    with _sites_lock:
        _sites[domain] = (now + _SITE_CACHE_SECONDS, ref)
    return ref


def reset_cache() -> None:
    with _sites_lock:
        _sites.clear()


def client_address(source_ip: str, headers: Mapping[str, str]) -> str:
    """API Gateway's source IP; CloudFront's viewer address only when configured. Never X-Forwarded-For."""
    if get_settings().trust_cloudfront_viewer_headers:
        return enrich.cloudfront_viewer_ip(dict(headers)) or source_ip
    return source_ip


def geography(ip: str, headers: Mapping[str, str]) -> enrich.Geo:
    settings = get_settings()
    if settings.trust_cloudfront_viewer_headers and "cloudfront-viewer-country" in headers:
        return enrich.geo_from_cloudfront(dict(headers))
    if settings.geoip_database:
        return enrich.geo_from_database(settings.geoip_database, ip)
    return enrich.NO_GEO


def build_event(
    site: SiteRef,
    *,
    timestamp_ms: int,
    kind: EventKind,
    url: str,
    referrer: str | None,
    visitor_id: str,
    agent: enrich.Agent,
    geo: enrich.Geo,
    hash_mode: bool = False,
    link: str | None = None,
) -> RawEvent:
    """The enriched event (shared by the endpoint and `aizen import`, whose `os`/`browser` may be any name)."""
    referrer_host = enrich.external_referrer(referrer, site.domain)
    return RawEvent(
        site_id=site.id,
        timestamp_ms=timestamp_ms,
        kind=kind,
        visitor_id=visitor_id,
        page=enrich.page_of(url, hash_mode=hash_mode),
        referrer=referrer_host,
        channel=channel_for(referrer_host, enrich.utm_of(url)),
        country=geo.country,
        region=geo.region,
        city=geo.city,
        device=agent.device,
        browser=None if agent.browser is None else canonical_browser(agent.browser),
        os=None if agent.os is None else canonical_os(agent.os),
        link=link,
    )


def _kind_and_link(event: wire.TrackerEvent) -> tuple[EventKind, str | None] | None:
    if event.name == wire.PAGEVIEW:
        return "pageview", None
    if event.name == wire.OUTBOUND_CLICK:
        link = event.props.get("url")
        if not isinstance(link, str) or not link:
            raise InvalidRequest("props.url: required for 'Outbound Link: Click' (the clicked URL)")
        return "outbound_click", enrich.valid_url("props.url", link)[:1024]
    return None


def ingest(request: IngestRequest) -> IngestOutcome:
    timestamp_ms = int(clock.now() * 1000)
    ip = client_address(request.source_ip, request.headers)
    ratelimit.consume_event_ip(visitors.address_key(ip, timestamp_ms), get_settings().ip_limit_per_minute)
    event = wire.parse(request.body)
    enrich.valid_url("url (u)", event.url)
    sites = [site for site in (site_by_domain(domain) for domain in event.domains) if site is not None]
    if not sites:
        raise NotFound(f"domain (d): no site is registered for {', '.join(event.domains)}")
    kind_and_link = _kind_and_link(event)
    if kind_and_link is None:
        return IngestOutcome(stored=0, dropped="event_name")
    user_agent = request.headers.get("user-agent", "")
    agent = enrich.parse_user_agent(user_agent)
    if agent.bot:
        return IngestOutcome(stored=0, dropped="bot")
    kind, link = kind_and_link
    geo = geography(ip, request.headers)
    for site in sites:
        events.put_event(
            build_event(
                site,
                timestamp_ms=timestamp_ms,
                kind=kind,
                url=event.url,
                referrer=event.referrer,
                visitor_id=visitor_for(site.id, site.timezone, timestamp_ms, ip, user_agent),
                agent=agent,
                geo=geo,
                hash_mode=event.hash_mode,
                link=link,
            )
        )
    return IngestOutcome(stored=len(sites))
