"""POST /api/event through the real handler against moto: storage, visitor ids, salts, errors."""

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

from aizen.events import RawEvent
from aizen.ingest import service, visitors
from aizen.settings import Settings
from aizen.store import dynamo, salts
from aizen.store.events import query_events
from tests.geoip import write_city_database
from tests.support import FrozenClock, HandlerResponse, invoke, main_table_items, make_owner

FUNCTION = "IngestEventFunction"
UA = (
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) "
    "Version/17.5 Safari/605.1.15"
)
DAY_MS = 86_400_000


def post(payload: Any, *, ip: str = "198.51.100.7", ua: str = UA, **headers: str) -> HandlerResponse:
    body = payload if isinstance(payload, (str, bytes)) else json.dumps(payload)
    return invoke(
        FUNCTION,
        "/api/event",
        method="POST",
        headers={"Content-Type": "text/plain", "User-Agent": ua, **headers},
        body=body,
        source_ip=ip,
    )


def stored(site_id: str = "site_1") -> list[RawEvent]:
    """Events within a few days of the tests' clocks (query_events queries every UTC day in range)."""
    return list(query_events(site_id, 1_774_800_000_000, 1_775_500_000_000))


def pageview(domain: str = "example.com", url: str = "https://example.com/pricing", **extra: Any) -> dict[str, Any]:
    return {"n": "pageview", "u": url, "d": domain, **extra}


def test_pageview_is_stored_enriched(clock: FrozenClock, aizen_env: Callable[..., Settings], tmp_path: Path) -> None:
    aizen_env(GEOIP_DATABASE=str(write_city_database(tmp_path / "city.mmdb")))
    make_owner()
    response = post(pageview(url="https://example.com/pricing?utm_source=x#top", r="https://www.google.com/"))
    assert response.status == 202
    assert "x-aizen-dropped" not in response.headers
    [event] = stored()
    assert event.timestamp_ms == int(clock.now() * 1000)
    assert (event.kind, event.page, event.referrer, event.channel) == (
        "pageview",
        "/pricing",
        "google.com",
        "Unassigned",
    )
    assert (event.country, event.region, event.city) == ("DE", "DE-BE", "Berlin")
    assert (event.device, event.browser, event.os) == ("desktop", "Safari", "Mac OS X")
    assert len(event.visitor_id) == 16


def test_outbound_click_and_json_long_names(clock: FrozenClock) -> None:
    make_owner()
    payload = {"name": "Outbound Link: Click", "url": "https://example.com/", "domain": "example.com",
               "props": {"url": "https://github.com/x"}}  # fmt: skip
    assert post(json.dumps(payload), **{"Content-Type": "application/json"}).status == 202
    [event] = stored()
    assert (event.kind, event.link, event.channel) == ("outbound_click", "https://github.com/x", "Direct")


def test_dropped_events_say_so(clock: FrozenClock) -> None:
    make_owner()
    other = post({"n": "Signup", "u": "https://example.com/", "d": "example.com"})
    bot = post(pageview(), ua="Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)")
    assert (other.status, other.headers["x-aizen-dropped"]) == (202, "event_name")
    assert (bot.status, bot.headers["x-aizen-dropped"]) == (202, "bot")
    assert stored() == []


def test_errors(clock: FrozenClock) -> None:
    make_owner()
    unknown = post(pageview(domain="nope.test"))
    assert (unknown.status, unknown.body["error"]["code"]) == (404, "not_found")
    bad = post({"n": "pageview", "d": "example.com"})
    assert (bad.status, bad.body["error"]["code"]) == (400, "invalid_request")
    assert bad.body["error"]["message"].startswith("url (u)")
    click = post({"n": "Outbound Link: Click", "u": "https://example.com/", "d": "example.com"})
    assert click.status == 400
    assert click.body["error"]["message"].startswith("props.url")
    big = post(pageview(url="https://example.com/" + "a" * 9000))
    assert (big.status, big.body["error"]["code"]) == (413, "payload_too_large")
    assert stored() == []


def test_comma_separated_domains_store_for_each_known_site(clock: FrozenClock) -> None:
    make_owner()
    make_owner(user_id="user_2", site_id="site_2", domain="other.test")
    assert post(pageview(domain="example.com,other.test,unknown.test")).status == 202
    assert len(stored("site_1")) == 1
    assert len(stored("site_2")) == 1
    assert stored("site_1")[0].visitor_id != stored("site_2")[0].visitor_id


def test_preflight_is_open() -> None:
    response = invoke(
        FUNCTION,
        "/api/event",
        method="OPTIONS",
        headers={"Origin": "https://example.com", "Access-Control-Request-Method": "POST"},
    )
    assert response.status == 204
    assert response.headers["access-control-allow-origin"] == "*"


def test_visitor_ids_follow_site_local_days(clock: FrozenClock) -> None:
    make_owner()  # America/Los_Angeles
    make_owner(user_id="user_2", site_id="site_2", domain="other.test")
    clock.current = 1_775_000_000  # 2026-03-31T23:33:20Z = 16:33 local
    post(pageview())
    clock.advance(3600 * 6)  # 22:33 local, same local day (but the next UTC day)
    post(pageview())
    post(pageview(domain="other.test"))
    clock.advance(3600 * 2)  # 00:33 local: the next local day
    post(pageview())
    post(pageview(), ip="198.51.100.8")
    first, same_day, next_day, other_ip = sorted(stored(), key=lambda event: event.timestamp_ms)[:4]
    assert first.visitor_id == same_day.visitor_id
    assert next_day.visitor_id != first.visitor_id
    assert other_ip.visitor_id not in (next_day.visitor_id, first.visitor_id)
    assert stored("site_2")[0].visitor_id != same_day.visitor_id


def test_salts_are_created_once_with_a_ttl_and_no_ip_or_agent_is_stored(clock: FrozenClock) -> None:
    make_owner()
    post(pageview())
    salt_items = [item for item in main_table_items() if str(item["pk"]).startswith("SALT#")]
    assert len(salt_items) == 1
    assert salt_items[0]["sk"] == "2026-04-02"
    assert int(salt_items[0]["ttl"]) == 1_775_199_600 + 2 * 86400  # 2026-04-03 00:00 PDT + 2 days
    # A racing writer loses the condition and the winner's salt stays.
    assert salts.put_salt_if_absent("site_1", "2026-04-02", b"x" * 16, 1) is False
    visitors.reset_cache()
    post(pageview())
    first, second = stored()
    assert first.visitor_id == second.visitor_id
    everything = json.dumps(main_table_items() + _event_items(), default=repr)
    assert "198.51.100.7" not in everything
    assert "Macintosh" not in everything


def _event_items() -> list[dict[str, Any]]:
    return list(dynamo.events_table().scan()["Items"])


def test_x_forwarded_for_is_ignored_and_cloudfront_only_when_trusted(
    clock: FrozenClock, aizen_env: Callable[..., Settings]
) -> None:
    make_owner()
    post(pageview(), **{"X-Forwarded-For": "203.0.113.1"})
    post(pageview(), ip="198.51.100.7")
    forwarded, direct = stored()
    assert forwarded.visitor_id == direct.visitor_id
    cloudfront = {"CloudFront-Viewer-Address": "203.0.113.50:1234", "CloudFront-Viewer-Country": "JP",
                  "CloudFront-Viewer-Country-Region": "13", "CloudFront-Viewer-City": "Tokyo"}  # fmt: skip
    post(pageview(), **cloudfront)
    assert {event.country for event in stored()} == {None}
    aizen_env(TRUST_CLOUDFRONT_VIEWER_HEADERS="true")
    service.reset_cache()
    post(pageview(), ip="198.51.100.7", **cloudfront)
    post(pageview(), ip="198.51.100.99", **cloudfront)
    trusted = [event for event in stored() if event.country == "JP"]
    assert len(trusted) == 2
    assert trusted[0].region == "JP-13"
    assert trusted[0].visitor_id == trusted[1].visitor_id  # the viewer address, not the source IP


def test_one_put_item_per_event(clock: FrozenClock) -> None:
    from tests.support import record_dynamodb_calls

    make_owner()
    post(pageview())  # warms the site and salt caches
    calls = record_dynamodb_calls()
    post(pageview())
    assert [call.operation for call in calls] == ["PutItem"]
    assert len(stored()) == 2
