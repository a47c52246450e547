"""Enrichment: user agents (real libraries), referrers, pages, channels, geography."""

import json
import subprocess
import sys
from pathlib import Path

import crawleruseragents
import pytest
from ua_parser import user_agent_parser as legacy_parser

from aizen.ingest import enrich
from aizen.ingest.channels import channel_for
from aizen_local.template import PROJECT_ROOT
from aizen_local.traffic import BOT_USER_AGENTS, USER_AGENTS
from tests.geoip import write_city_database

CHROME_WINDOWS = (
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36"
)
SAFARI_IPHONE = (
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) "
    "Version/17.5 Mobile/15E148 Safari/604.1"
)
SAFARI_IPAD = SAFARI_IPHONE.replace("iPhone; CPU iPhone OS", "iPad; CPU OS")
CHROME_ANDROID = (
    "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/131.0.0.0 Mobile Safari/537.36"
)


@pytest.mark.parametrize(
    ("user_agent", "expected"),
    [
        (CHROME_WINDOWS, ("Chrome", "Windows", "desktop")),
        (SAFARI_IPHONE, ("Safari", "iOS", "mobile")),
        (SAFARI_IPAD, ("Safari", "iPadOS", "tablet")),
        (CHROME_ANDROID, ("Chrome", "Android", "mobile")),
    ],
)
def test_user_agents(user_agent: str, expected: tuple[str, str, str]) -> None:
    agent = enrich.parse_user_agent(user_agent)
    assert (agent.browser, agent.os, agent.device) == expected
    assert not agent.bot


# One user agent per rule of docs/ingestion.md's "Device class", with the names it reports.
@pytest.mark.parametrize(
    ("user_agent", "expected"),
    [
        (
            "Mozilla/5.0 (Linux; Android 13; KFTRWI) AppleWebKit/537.36 (KHTML, like Gecko) Silk/120.3.1 "
            "like Chrome/120.0.6099.230 Safari/537.36",
            ("Amazon Silk", "Android", "tablet"),
        ),
        (
            "Mozilla/5.0 (iPod touch; CPU iPhone OS 9_3_2 like Mac OS X) AppleWebKit/601.1.46 (KHTML, like Gecko) "
            "Mobile/13F69",
            ("Safari", "iOS", "mobile"),
        ),
        (
            "Mozilla/5.0 (Linux; Android 14; SM-X710) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 "
            "Safari/537.36",
            ("Chrome", "Android", "tablet"),
        ),
        ("Mozilla/5.0 (Android 14; Tablet; rv:133.0) Gecko/133.0 Firefox/133.0", ("Firefox", "Android", "tablet")),
        ("Mozilla/5.0 (Android 14; Mobile; rv:133.0) Gecko/133.0 Firefox/133.0", ("Firefox", "Android", "mobile")),
        (
            "Mozilla/5.0 (compatible; MSIE 10.0; Windows NT 6.2; ARM; Trident/6.0)",
            ("Internet Explorer", "Windows", "tablet"),
        ),
        ("Mozilla/5.0 (WindowsCE 6.0; rv:2.0.1) Gecko/20100101 Firefox/4.0.1", ("Firefox", "Windows", "mobile")),
        (
            "Mozilla/5.0 (compatible; MSIE 10.0; Windows Phone 8.0; Trident/6.0; IEMobile/10.0; ARM; Touch; NOKIA; "
            "Lumia 920)",
            ("Internet Explorer", "Windows Phone", "mobile"),
        ),
        (
            "Opera/9.80 (J2ME/MIDP; Opera Mini/9.80 (J2ME/22.478; U; en) Presto/2.5.25 Version/10.54",
            ("Opera Mini", None, "mobile"),
        ),
        (
            "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4 "
            "Safari/605.1.15",
            ("Safari", "macOS", "desktop"),
        ),
        (
            "Mozilla/5.0 (X11; CrOS x86_64 14541.0.0) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 "
            "Safari/537.36",
            ("Chrome", "ChromeOS", "desktop"),
        ),
        ("Mozilla/5.0 (X11; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0", ("Firefox", "Linux", "desktop")),
        ("Mozilla/5.0 (X11; FreeBSD amd64; rv:133.0) Gecko/20100101 Firefox/133.0", ("Firefox", "FreeBSD", "desktop")),
        (
            "Mozilla/5.0 (SMART-TV; Linux; Tizen 2.3) AppleWebkit/538.1 (KHTML, like Gecko) SamsungBrowser/1.0 TV "
            "Safari/538.1",
            ("Samsung Internet", "Tizen", None),
        ),
        (
            "Mozilla/5.0 (iPad; CPU OS 12_5_7 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) "
            "Version/12.1.2 Mobile/15E148 Safari/604.1",
            ("Safari", "iOS", "tablet"),
        ),
    ],
)
def test_device_classes_and_names(user_agent: str, expected: tuple[str | None, str | None, str | None]) -> None:
    agent = enrich.parse_user_agent(user_agent)
    assert (agent.browser, agent.os, agent.device) == expected
    assert not agent.bot


def test_bots_are_what_ua_parsers_legacy_api_and_the_crawler_list_called_bots() -> None:
    # The example user agents of crawler-user-agents' patterns (every 8th: the rules are the same
    # regular expressions, compiled by the same `re`) and the demo traffic's agents: ua-parser's
    # Spider decision is the one its legacy API (read by user-agents-ng) made, and every example is a bot.
    examples = [example for entry in crawleruseragents.CRAWLER_USER_AGENTS_DATA for example in entry["instances"]]
    agents = [*examples[::8], *(agent for agent, _ in USER_AGENTS), *BOT_USER_AGENTS]

    def spider(agent: str) -> bool:
        device = enrich._parser().parse_device(agent)  # the parser parse_user_agent uses
        return device is not None and device.family == "Spider"

    def legacy_spider(agent: str) -> bool:
        return bool(legacy_parser.ParseDevice(agent)["family"] == "Spider")  # type: ignore[no-untyped-call]

    decisions = [(legacy_spider(agent), spider(agent)) for agent in agents]

    assert [agent for agent, (legacy, new) in zip(agents, decisions, strict=True) if legacy != new] == []
    assert sum(legacy for legacy, _ in decisions) > 100  # the Spider rule is exercised
    assert all(enrich.parse_user_agent(agent).bot for agent in examples[::8])
    assert not any(enrich.parse_user_agent(agent).bot for agent, _ in USER_AGENTS)


def test_importing_enrichment_sets_up_no_user_agent_parser() -> None:
    # ua-parser and its rules are set up at the first user agent (docs/performance.md)
    loaded = subprocess.run(
        [sys.executable, "-c", "import json, sys, aizen.ingest.enrich; print(json.dumps(sorted(sys.modules)))"],
        env={"PATH": "", "PYTHONPATH": str(PROJECT_ROOT / "layers" / "aizen")},
        capture_output=True,
        text=True,
        check=True,
    )
    assert [name for name in json.loads(loaded.stdout) if name.startswith(("ua_parser", "user_agents"))] == []


@pytest.mark.parametrize(
    "user_agent",
    [
        "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)",
        "Mozilla/5.0 (compatible; AhrefsBot/7.0; +http://ahrefs.com/robot/)",
        "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) HeadlessChrome/120.0.0.0 Safari/537.36",
        "curl/8.5.0",
        "python-requests/2.32.3",
        "",
    ],
)
def test_bots(user_agent: str) -> None:
    assert enrich.parse_user_agent(user_agent).bot


def test_referrer_is_external_host_without_www() -> None:
    assert enrich.external_referrer("https://www.google.com/search?q=x", "example.com") == "google.com"
    assert enrich.external_referrer("https://example.com/pricing", "example.com") is None
    assert enrich.external_referrer("https://www.example.com/", "example.com") is None
    assert enrich.external_referrer("https://blog.example.com/", "example.com") is None
    assert enrich.external_referrer(None, "example.com") is None
    assert enrich.external_referrer("not a url", "example.com") is None


def test_page_drops_query_and_fragment_except_in_hash_mode() -> None:
    assert enrich.page_of("https://a.test/pricing?utm_source=x#top", hash_mode=False) == "/pricing"
    assert enrich.page_of("https://a.test", hash_mode=False) == "/"
    assert enrich.page_of("https://a.test/#/settings?tab=1", hash_mode=True) == "/#/settings?tab=1"
    assert enrich.page_of("https://a.test/caf%C3%A9", hash_mode=False) == "/café"


@pytest.mark.parametrize(
    ("referrer", "query", "channel"),
    [
        (None, "", "Direct"),
        ("google.com", "", "Organic Search"),
        ("duckduckgo.com", "", "Organic Search"),
        ("google.co.uk", "", "Organic Search"),
        ("t.co", "", "Organic Social"),
        ("m.facebook.com", "", "Organic Social"),
        ("news.ycombinator.com", "", "Organic Social"),
        ("youtube.com", "", "Organic Video"),
        ("github.com", "", "Referral"),
        ("blog.example.org", "", "Referral"),
        ("amazon.com", "", "Organic Shopping"),
        (None, "utm_source=google&utm_medium=cpc", "Paid Search"),
        ("t.co", "utm_source=twitter&utm_medium=paid_social", "Paid Social"),
        (None, "utm_source=newsletter&utm_medium=email", "Email"),
        (None, "utm_source=partner&utm_medium=affiliate", "Affiliates"),
        (None, "utm_source=ads&utm_medium=display", "Display"),
        (None, "utm_source=x&utm_medium=cpc&utm_campaign=cross-network-q1", "Cross-network"),
        (None, "utm_source=x&utm_medium=ppc", "Paid Other"),
        (None, "utm_source=sms", "SMS"),
        (None, "utm_source=firebase", "Mobile Push Notifications"),
        (None, "utm_source=podcast&utm_medium=audio", "Audio"),
        (None, "utm_source=something", "Unassigned"),
    ],
)
def test_ga4_channels(referrer: str | None, query: str, channel: str) -> None:
    assert channel_for(referrer, enrich.utm_of(f"https://a.test/?{query}")) == channel


def test_geo_from_a_city_database(tmp_path: Path) -> None:
    path = str(write_city_database(tmp_path / "city.mmdb"))
    assert enrich.geo_from_database(path, "198.51.100.7") == enrich.Geo("DE", "DE-BE", "Berlin")
    assert enrich.geo_from_database(path, "2001:db8::5") == enrich.Geo("FR", "FR-IDF", "Paris")
    assert enrich.geo_from_database(path, "8.8.8.8") == enrich.NO_GEO
    assert enrich.geo_from_database(path, "not-an-ip") == enrich.NO_GEO


def test_geo_from_cloudfront_headers() -> None:
    headers = {
        "cloudfront-viewer-country": "JP",
        "cloudfront-viewer-country-region": "13",
        "cloudfront-viewer-city": "Tokyo",
    }
    assert enrich.geo_from_cloudfront(headers) == enrich.Geo("JP", "JP-13", "Tokyo")
