"""Ingestion: one tracker request → enriched raw events, one PutItem each.

The client address's own per-IP window (IPv6 per /64; its counter named by a keyed hash, never
the address) is counted first, before the body is read: a refused event is never parsed nor
written. The sites are found by domain (cached per process, unknown domains too); bots are
dropped; then each site's own window of events
(its ceiling) is counted before its event is written. Every event a window refuses is counted in
a metric (`EventsRefusedByAddress`, `EventsRefusedBySite`).
"""

import itertools
import threading
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from urllib.parse import urlsplit, urlunsplit

from aws_lambda_powertools.metrics import MetricUnit

from aizen import clock, ratelimit
from aizen.errors import InvalidRequest, NotFound, RateLimited
from aizen.events import EventKind, RawEvent
from aizen.ingest import enrich, visitors, wire
from aizen.ingest.channels import channel_for
from aizen.ingest.visitors import visitor_for
from aizen.names import canonical_browser, canonical_os
from aizen.observability import metrics
from aizen.settings import get_settings
from aizen.store import accounts, events

SITE_CACHE_SECONDS = 300.0  # sites never move domains
# A domain no site has is remembered for this long: a site created meanwhile starts counting within it.
UNKNOWN_DOMAIN_CACHE_SECONDS = 60.0
MAX_CACHED_DOMAINS = 10_000  # the oldest entries make room (each ~0.3 KB)
MAX_LINK = 1024


@dataclass(frozen=True, slots=True)
class SiteRef:
    id: str
    domain: str
    timezone: str


_sites: dict[str, tuple[float, SiteRef | None]] = {}  # domain -> (expires at, site or None)
_sites_lock = threading.Lock()


@dataclass(frozen=True, slots=True)
class IngestRequest:
    body: bytes
    client_ip: str  # the address Aizen trusts: aizen.http.client_address
    headers: Mapping[str, str]  # lower-cased names


@dataclass(frozen=True, slots=True)
class IngestOutcome:
    stored: int
    dropped: str | None = None  # "bot" when nothing was stored on purpose


def sites_by_domains(domains: Sequence[str]) -> list[SiteRef]:
    """The sites of `domains` (distinct), in their order. What the cache does not hold is looked up
    in one go (`accounts.get_sites_by_domains`), and misses are cached too, for less long."""
    now = clock.now()
    found: dict[str, SiteRef | None] = {}
    for domain in domains:
        cached = _sites.get(domain)
        if cached is not None and cached[0] > now:
            found[domain] = cached[1]
    missing = [domain for domain in domains if domain not in found]
    if missing:
        sites = accounts.get_sites_by_domains(missing)
        with _sites_lock:
            for domain in missing:
                site = sites.get(domain)
                ref = SiteRef(site.id, site.domain, site.timezone) if site else None
                found[domain] = ref
                _sites.pop(domain, None)  # re-inserted last: the dict's order is oldest first
                _sites[domain] = (now + (SITE_CACHE_SECONDS if ref else UNKNOWN_DOMAIN_CACHE_SECONDS), ref)
            excess = len(_sites) - MAX_CACHED_DOMAINS
            if excess > 0:
                for oldest in list(itertools.islice(_sites, excess)):
                    del _sites[oldest]
    return [site for site in (found[domain] for domain in domains) if site is not None]


def reset_cache() -> None:
    with _sites_lock:
        _sites.clear()


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
    name: str | None = None,
    props: str | None = None,
    interactive: bool = True,
    engaged_ms: int | None = None,
    scroll_depth: int | None = None,
) -> RawEvent:
    """The enriched event (shared by the endpoint and `aizen import`, whose `os`/`browser` may be any name).

    `name` is kept for custom events only (the other kinds' names are implied), `interactive`
    and the engagement figures only for the kinds they describe (RawEvent's fields)."""
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
        link=stored_link(link) if link else None,
        name=name if kind == "custom" else None,
        props=props,
        interactive=interactive or kind != "custom",
        engaged_ms=engaged_ms if kind == "engagement" else None,
        scroll_depth=scroll_depth if kind == "engagement" else None,
    )


def stored_link(url: str) -> str:
    """An outbound link as stored: scheme, host and path. The query and fragment go (they carry
    tokens, session ids and personal data far more often than anything a report needs), and so
    does any `user:password@` before the host."""
    parts = urlsplit(url)
    return urlunsplit((parts.scheme, parts.netloc.rpartition("@")[2].lower(), parts.path, "", ""))[:MAX_LINK]


def _link(event: wire.TrackerEvent) -> str | None:
    """An outbound click's clicked URL (`props.url`); None for the other kinds."""
    if event.kind != "outbound_click":
        return None
    link = event.props.get("url")
    if not isinstance(link, str) or not link:
        raise InvalidRequest("props.url: required for 'Outbound Link: Click' (the clicked URL)")
    return enrich.valid_url("props.url", link)


def _within_site_ceilings(sites: list[SiteRef], limit: int) -> list[SiteRef]:
    """The sites whose own window of events has room for this one (each counted); when none has,
    the last refusal is raised."""
    admitted: list[SiteRef] = []
    refusal: RateLimited | None = None
    for site in sites:
        try:
            ratelimit.consume_site_events(site.id, limit)
        except RateLimited as error:
            refusal = error
        else:
            admitted.append(site)
    if refusal is not None:
        metrics.add_metric(name="EventsRefusedBySite", unit=MetricUnit.Count, value=len(sites) - len(admitted))
        if not admitted:
            raise refusal
    return admitted


def ingest(request: IngestRequest) -> IngestOutcome:
    settings = get_settings()
    timestamp_ms = int(clock.now() * 1000)
    ip = request.client_ip
    try:
        address = visitors.address_key(ratelimit.address_window(ip), timestamp_ms)
        ratelimit.consume_event_ip(address, settings.event_ip_limit_per_minute)
    except RateLimited:
        metrics.add_metric(name="EventsRefusedByAddress", unit=MetricUnit.Count, value=1)
        raise
    event = wire.parse(request.body)
    enrich.valid_url("url (u)", event.url)
    sites = sites_by_domains(event.domains)
    if not sites:
        raise NotFound(f"domain (d): no site is registered for {', '.join(event.domains)}")
    link = _link(event)
    user_agent = request.headers.get("user-agent", "")
    agent = enrich.parse_user_agent(user_agent)
    if agent.bot:
        return IngestOutcome(stored=0, dropped="bot")
    geo = geography(ip, request.headers)
    admitted = _within_site_ceilings(sites, settings.site_event_limit_per_minute)
    for site in admitted:
        events.put_event(
            build_event(
                site,
                timestamp_ms=timestamp_ms,
                kind=event.kind,
                url=event.url,
                referrer=event.referrer,
                visitor_id=visitor_for(site.id, site.timezone, timestamp_ms, ip, user_agent),
                agent=agent,
                geo=geo,
                hash_mode=event.hash_mode,
                link=link,
                name=event.name,
                props=event.stored_props,
                interactive=event.interactive,
                engaged_ms=event.engaged_ms,
                scroll_depth=event.scroll_depth,
            )
        )
    return IngestOutcome(stored=len(admitted))
