"""Enrichment: user agent, referrer, page, utm parameters and geography.

User agents are parsed by `ua-parser`'s 1.x API (the uap-core rules, shipped as
`ua-parser-builtins`), set up at the first user agent and compiling only the rules it
tries, and checked against `crawler-user-agents` (a maintained list of crawler patterns). Geography comes from
CloudFront's viewer headers when the deployment trusts them, else from a MaxMind-format
City database read with `maxminddb`. Every lookup here is pure or cached per process.
"""

import functools
import ipaddress
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl, unquote, urlsplit

import crawleruseragents
import maxminddb

from aizen.errors import InvalidRequest
from aizen.names import canonical_browser, canonical_os

if TYPE_CHECKING:
    import ua_parser

_UTM = ("utm_source", "utm_medium", "utm_campaign", "utm_content", "utm_term")
_MAX_PAGE = 512
_MAX_VALUE = 256

# The device class from ua-parser's families (docs/ingestion.md, "Device class").
_TABLET_DEVICES = frozenset({"iPad", "Generic Tablet", "BlackBerry Playbook", "HP TouchPad", "Microsoft Surface RT"})
_TABLET_DEVICE_PREFIXES = ("Kindle",)  # "Kindle", "Kindle Fire", "Kindle Fire HD 8.9\" WiFi"...
_TABLET_BRANDS = frozenset({"Generic_Android_Tablet"})
_PHONE_DEVICES = frozenset(
    {"iPhone", "iPod", "Generic Smartphone", "Generic Feature Phone", "BlackBerry", "iOS-Device", "PlayStation Vita"}
)
_MOBILE_OS = frozenset(
    {
        "iOS",
        "Windows Phone",
        "Windows Mobile",
        "BlackBerry OS",
        "Symbian OS",
        "Symbian^3",
        "Symbian^3 Anna",
        "Symbian^3 Belle",
        "Nokia Series 40",
        "Nokia Series 30 Plus",
        "KaiOS",
        "Firefox OS",
        "Bada",
        "Maemo",
        "MeeGo",
        "Sailfish",
        "HarmonyOS",
    }
)
_MOBILE_BROWSERS = frozenset({"Opera Mini", "Opera Mobile", "IE Mobile", "Firefox Mobile", "Chrome Mobile"})
_DESKTOP_OS = frozenset({"Windows", "Mac OS X", "Chrome OS"})
_IPADOS_FIRST_MAJOR = 13  # iPadOS 13 (2019) split from iOS; an iPad on iOS 12 or older ran iOS


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


@functools.cache
def _parser() -> "ua_parser.Parser":
    """ua-parser over uap-core's rules, set up at the first user agent rather than at import.

    The rules are lazy: a rule's regular expression is compiled the first time a user agent
    reaches it (ua-parser's legacy API, which user-agents-ng reads, compiled all ~1,270 at
    import). Python's `re` matches them, as the legacy API did (docs/performance.md says why
    not the `ua-parser-rs` accelerator).
    """
    import ua_parser  # with its rules, at the first user agent (docs/performance.md)
    from ua_parser.basic import Resolver

    return ua_parser.Parser(Resolver(ua_parser.load_lazy_builtins()))


def _device_class(user_agent: str, result: "ua_parser.DefaultedResult") -> str | None:
    device, brand = result.device.family, result.device.brand
    os = result.os.family
    if device in _TABLET_DEVICES or device.startswith(_TABLET_DEVICE_PREFIXES) or brand in _TABLET_BRANDS:
        return "tablet"
    if device in _PHONE_DEVICES:
        return "mobile"
    if os == "Android":  # Android's browsers say "Mobile" on phones only
        return "mobile" if "Mobile" in user_agent else "tablet"
    if os == "Windows" and result.os.major is not None:  # ua-parser's "versions" RT (ARM tablets) and CE (handhelds)
        if result.os.major.startswith("RT"):
            return "tablet"
        if result.os.major == "CE":
            return "mobile"
    if os in _MOBILE_OS or result.user_agent.family in _MOBILE_BROWSERS or "MIDP" in user_agent:
        return "mobile"
    if os in _DESKTOP_OS or (os != "Other" and "X11" in user_agent):  # X11: Linux and BSD desktops
        return "desktop"
    return None  # TVs, consoles, cars, unknown


def _os_name(result: "ua_parser.DefaultedResult") -> str | None:
    os = result.os
    if os.family == "Other":
        return None
    major = int(os.major) if os.major and os.major.isdigit() else 0
    if os.family == "iOS" and result.device.family == "iPad" and major >= _IPADOS_FIRST_MAJOR:
        return "iPadOS"
    return canonical_os(os.family)


@functools.lru_cache(maxsize=4096)
def parse_user_agent(user_agent: str) -> Agent:
    """Browser family, OS, device class and whether it is a bot (cached: few distinct agents)."""
    if not user_agent.strip():
        return Agent(None, None, None, bot=True)  # no user agent: a script, not a browser
    result = _parser().parse(user_agent).with_defaults()  # a domain without a match: family "Other"
    bot = result.device.family == "Spider" or crawleruseragents.is_crawler(user_agent)
    browser = result.user_agent.family
    return Agent(
        None if browser == "Other" else canonical_browser(browser),
        _os_name(result),
        _device_class(user_agent, result),
        bot,
    )


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
