"""Enrichment: user agents (real libraries), referrers, pages, channels, geography."""

from pathlib import Path

import pytest

from aizen.ingest import enrich
from aizen.ingest.channels import channel_for
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
        (SAFARI_IPAD, ("Safari", "iOS", "tablet")),
        (CHROME_ANDROID, ("Chrome", "Android", "mobile")),
    ],
)
def test_user_agents(user_agent: str, expected: tuple[str, str, str]) -> None:
    agent = enrich.parse_user_agent(user_agent)
    assert (agent.browser, agent.os, agent.device) == expected
    assert not agent.bot


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
