"""Enrichment: user agent, referrer, page, utm parameters and geography.

User agents are parsed by `ua-parser` (the uap-core rules, shipped as `ua-parser-builtins`)
through `user-agents-ng` (device class and ua-parser's own bot flag), and checked against
`crawler-user-agents` (a maintained list of crawler patterns). Geography comes from
CloudFront's viewer headers when the deployment trusts them, else from a MaxMind-format
City database read with `maxminddb`. Every lookup here is pure or cached per process.
"""

import functools
import ipaddress
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl, unquote, urlsplit

import crawleruseragents
import maxminddb
import user_agents

from aizen.errors import InvalidRequest

_UTM = ("utm_source", "utm_medium", "utm_campaign", "utm_content", "utm_term")
_MAX_PAGE = 512
_MAX_VALUE = 256
# ua-parser names the mobile builds of a browser separately ("Mobile Safari", "Chrome Mobile iOS");
# the device class already says "mobile", so the browser is reported as its family ("Safari", "Chrome").
_BROWSER_SUFFIXES = (" Mobile WebView", " Mobile iOS", " Mobile", " iOS", " WebView")


@dataclass(frozen=True, slots=True)
class Agent:
    browser: str | None
    os: str | None
    device: str | None  # desktop | mobile | tablet
    bot: bool


@dataclass(frozen=True, slots=True)
class Geo:
    country: str | None = None
    region: str | None = None
    city: str | None = None


NO_GEO = Geo()


def _family(name: str | None) -> str | None:
    if not name or name == "Other":
        return None
    name = name.removeprefix("Mobile ")
    for suffix in _BROWSER_SUFFIXES:
        if name.endswith(suffix) and len(name) > len(suffix):
            return name[: -len(suffix)]
    return name


@functools.lru_cache(maxsize=4096)
def parse_user_agent(user_agent: str) -> Agent:
    """Browser family, OS family, device class and whether it is a bot (cached: few distinct agents)."""
    if not user_agent.strip():
        return Agent(None, None, None, bot=True)  # no user agent: a script, not a browser
    parsed = user_agents.parse(user_agent)
    bot = bool(parsed.is_bot) or crawleruseragents.is_crawler(user_agent)
    if parsed.is_tablet:
        device: str | None = "tablet"
    elif parsed.is_mobile:
        device = "mobile"
    elif parsed.is_pc:
        device = "desktop"
    else:
        device = None
    return Agent(_family(parsed.browser.family), _family(parsed.os.family), device, bot)


def host_of(url: str) -> str | None:
    try:
        host = urlsplit(url.strip()).hostname
    except ValueError:
        return None
    if not host:
        return None
    return host.lower().rstrip(".").removeprefix("www.")


def external_referrer(referrer: str | None, site_domain: str) -> str | None:
    """The referrer's host without www., unless it is the site itself (or one of its subdomains)."""
    if not referrer:
        return None
    host = host_of(referrer)
    if host is None or host == site_domain or host.endswith("." + site_domain):
        return None
    return host[:_MAX_VALUE]


def page_of(url: str, *, hash_mode: bool) -> str:
    """The URL's path without query; in hash mode the fragment stays (`/#/settings`)."""
    parts = urlsplit(url)
    path = unquote(parts.path) or "/"
    if hash_mode and parts.fragment:
        path = f"{path}#{parts.fragment}"
    return path[:_MAX_PAGE]


def utm_of(url: str) -> dict[str, str]:
    query = urlsplit(url).query
    if not query:
        return {}
    return {name: value[:_MAX_VALUE] for name, value in parse_qsl(query) if name in _UTM and value}


def valid_url(field: str, value: str) -> str:
    try:
        parts = urlsplit(value)
    except ValueError:
        raise InvalidRequest(f"{field}: {value[:100]!r} is not a URL") from None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise InvalidRequest(f"{field}: must be an absolute http(s) URL, got {value[:100]!r}")
    return value


# Geography -----------------------------------------------------------------------------


@functools.lru_cache(maxsize=4)
def _reader(path: str) -> Any:
    return maxminddb.open_database(path)


def _name(record: Any) -> str | None:
    if isinstance(record, dict):
        names = record.get("names")
        if isinstance(names, dict):
            name = names.get("en")
            return str(name) if name else None
    return None


@functools.lru_cache(maxsize=8192)
def geo_from_database(path: str, ip: str) -> Geo:
    """Country, ISO 3166-2 region and city from a MaxMind-format City database (GeoLite2, DB-IP)."""
    try:
        record = _reader(path).get(ipaddress.ip_address(ip))
    except ValueError:
        return NO_GEO
    if not isinstance(record, dict):
        return NO_GEO
    country_record = record.get("country") or {}
    country = country_record.get("iso_code") if isinstance(country_record, dict) else None
    region = None
    subdivisions = record.get("subdivisions")
    if country and isinstance(subdivisions, list) and subdivisions and isinstance(subdivisions[0], dict):
        code = subdivisions[0].get("iso_code")
        region = f"{country}-{code}" if code else None
    return Geo(str(country) if country else None, region, _name(record.get("city")))


def geo_from_cloudfront(headers: dict[str, str]) -> Geo:
    """CloudFront-Viewer-Country / -Country-Region / -City (the region header is ISO 3166-2's suffix)."""
    country = headers.get("cloudfront-viewer-country", "").strip().upper() or None
    region_code = headers.get("cloudfront-viewer-country-region", "").strip().upper()
    city = unquote(headers.get("cloudfront-viewer-city", "")).strip() or None
    region = f"{country}-{region_code}" if country and region_code else None
    return Geo(country, region, city[:_MAX_VALUE] if city else None)
