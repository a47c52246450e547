"""POST /api/event through the real handler against moto: storage, visitor ids, salts, errors."""

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from aizen.events import RawEvent
from aizen.importing import service as importer
from aizen.ingest import service, visitors
from aizen.settings import Settings
from aizen.store import dynamo, salts
from aizen.store.events import query_events
from tests.geoip import write_city_database
from tests.support import (
    EDGE_SECRET,
    STATS_PATHS,
    THROUGH_THE_EDGE,
    FrozenClock,
    HandlerResponse,
    invoke,
    main_table_items,
    make_owner,
    record_dynamodb_calls,
    salts_table_items,
)

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
    assert (event.device, event.browser, event.os) == ("desktop", "Safari", "macOS")
    assert len(event.visitor_id) == 16


def test_outbound_click_and_json_long_names(clock: FrozenClock) -> None:
    make_owner()
    payload = {"name": "Outbound Link: Click", "url": "https://example.com/", "domain": "example.com",
               "props": {"url": "https://github.com/x"}}  # fmt: skip
    assert post(json.dumps(payload), **{"Content-Type": "application/json"}).status == 202
    [event] = stored()
    assert (event.kind, event.link, event.channel) == ("outbound_click", "https://github.com/x", "Direct")


@pytest.mark.parametrize(
    ("clicked", "link"),
    [
        ("https://github.com/x?token=s3cr3t&email=a%40b.test#frag", "https://github.com/x"),
        ("https://user:password@Partner.example/offer?id=42", "https://partner.example/offer"),
        ("http://partner.example:8080/a/b/", "http://partner.example:8080/a/b/"),
    ],
)
def test_outbound_links_are_stored_without_query_fragment_or_credentials(
    clock: FrozenClock, clicked: str, link: str
) -> None:
    make_owner()
    payload = {"n": "Outbound Link: Click", "u": "https://example.com/", "d": "example.com", "p": {"url": clicked}}

    assert post(payload).status == 202

    [event] = stored()
    assert event.link == link
    assert "s3cr3t" not in json.dumps(_event_items(), default=repr)


def test_a_bots_event_answers_exactly_like_a_stored_one(clock: FrozenClock) -> None:
    make_owner()
    bot = post(pageview(), ua="Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)")
    # A bot's drop answers exactly as a stored event would: nothing tells its author to change the agent
    human = post(pageview())
    assert (bot.status, bot.headers, bot.body) == (human.status, human.headers, human.body)
    assert "x-aizen-dropped" not in bot.headers
    assert len(stored()) == 1


def test_custom_events_props_and_engagement_are_stored(clock: FrozenClock) -> None:
    # Given: the payloads of Plausible's npm tracker (object props) and legacy script (string props)
    make_owner()
    page = "https://example.com/pricing"
    payloads = [
        {"n": "pageview", "u": page, "d": "example.com", "r": "https://www.google.com/", "p": {"author": "ann"}},
        {"n": "Signup", "u": page, "d": "example.com", "r": None, "p": {"plan": "pro", "seats": 3}},
        {"n": "Signup", "u": page, "d": "example.com", "r": None, "p": '{"plan":"free"}'},
        {"n": "Video: Play", "u": page, "d": "example.com", "i": False},
        {"n": "File Download", "u": page, "d": "example.com", "p": {"url": "https://example.com/a.pdf"}},
        {"n": "404", "u": "https://example.com/nope", "d": "example.com", "p": {"path": "/nope"}},
        {"n": "engagement", "u": "https://example.com/app#/settings", "d": "example.com", "sd": 100, "e": 325,
         "h": 1},
        {"n": "Outbound Link: Click", "u": page, "d": "example.com", "p": {"url": "https://github.com/x?t=1"}},
    ]  # fmt: skip

    # When
    for payload in payloads:
        response = post(payload)
        assert response.status == 202, response.body

    # Then: every event is stored with what its kind carries, in one session of one visitor
    events = sorted(stored(), key=lambda event: (event.kind, event.name or "", event.props or ""))
    assert [(e.kind, e.name, e.props, e.interactive, e.engaged_ms, e.scroll_depth, e.page) for e in events] == [
        ("custom", "404", '{"path":"/nope"}', True, None, None, "/nope"),
        ("custom", "File Download", '{"url":"https://example.com/a.pdf"}', True, None, None, "/pricing"),
        ("custom", "Signup", '{"plan":"free"}', True, None, None, "/pricing"),
        ("custom", "Signup", '{"plan":"pro","seats":"3"}', True, None, None, "/pricing"),
        ("custom", "Video: Play", None, False, None, None, "/pricing"),
        ("engagement", None, None, True, 325, 100, "/app#/settings"),
        ("outbound_click", None, None, True, None, None, "/pricing"),
        ("pageview", None, '{"author":"ann"}', True, None, None, "/pricing"),
    ]
    assert len({event.visitor_id for event in events}) == 1
    assert events[6].link == "https://github.com/x"


def test_a_custom_event_over_a_limit_is_400_and_nothing_is_stored(clock: FrozenClock) -> None:
    make_owner()
    too_long = post({"n": "S" * 121, "u": "https://example.com/", "d": "example.com"})
    too_many = post(
        {"n": "Signup", "u": "https://example.com/", "d": "example.com", "p": {str(n): "v" for n in range(31)}}
    )
    assert (too_long.status, too_long.body["error"]["code"]) == (400, "invalid_request")
    assert too_long.body["error"]["message"] == "name (n): at most 120 characters; got 121"
    assert too_many.status == 400
    assert too_many.body["error"]["message"] == "props (p): at most 30 properties; got 31"
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
    big = post(pageview(url="https://example.com/" + "a" * 132_000))
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
    salt_items = [item for item in salts_table_items() if item["pk"] == "SALT#site_1"]
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


def test_salts_are_kept_only_in_the_salts_table_which_no_backup_holds(clock: FrozenClock) -> None:
    # Given: a site that received live events and an import whose visitor ids come from addresses
    make_owner()
    post(pageview())
    importer.import_events(
        "site_1",
        [json.dumps({"timestamp": "2026-04-01T12:00:00.000Z", "name": "pageview", "url": "https://example.com/",
                     "ip": "203.0.113.5", "user_agent": UA})],
    )  # fmt: skip

    # Then: every salt (the site's days, the rate-limit salt) is in the salts table, and Main, which
    # has point-in-time recovery, holds none (tests/unit/test_template.py holds the tables' settings)
    assert {(item["pk"], item["sk"]) for item in salts_table_items()} == {
        ("SALT#site_1", "2026-04-02"),
        ("SALT#site_1", "2026-04-01"),
        ("SALT#ratelimit", "2026-04-02"),
    }
    assert [item for item in main_table_items() if str(item["pk"]).startswith("SALT#")] == []
    assert all(len(salts.get_salt(str(item["pk"])[5:], str(item["sk"])) or b"") == 16 for item in salts_table_items())


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
    aizen_env(TRUST_CLOUDFRONT_VIEWER_HEADERS="true", CLOUDFRONT_ORIGIN_SECRET=EDGE_SECRET)
    service.reset_cache()
    post(pageview(), ip="198.51.100.7", **cloudfront, **THROUGH_THE_EDGE)
    post(pageview(), ip="198.51.100.99", **cloudfront, **THROUGH_THE_EDGE)
    trusted = [event for event in stored() if event.country == "JP"]
    assert len(trusted) == 2
    assert trusted[0].region == "JP-13"
    assert trusted[0].visitor_id == trusted[1].visitor_id  # the viewer address, not the source IP


def test_two_counter_updates_and_one_put_item_per_event(clock: FrozenClock) -> None:
    make_owner()
    post(pageview())  # warms the site and salt caches
    calls = record_dynamodb_calls()
    post(pageview())
    # The address's event window, the site's (one conditional UpdateItem each), then the event itself
    assert [call.operation for call in calls] == ["UpdateItem", "UpdateItem", "PutItem"]
    assert "RATE#ip#event#" in calls[0].body
    assert "RATE#site#event#site_1" in calls[1].body
    assert len(stored()) == 2


# Rate limit: every address has its own window of events, apart from its API window ----------------


def _rate_counters() -> dict[str, int]:
    return {str(item["pk"]): int(item["hits"]) for item in main_table_items() if str(item["pk"]).startswith("RATE#")}


def _event_counter(ip: str, clock: FrozenClock) -> str:
    """The event window's counter of an address: named by its keyed hash, never the address."""
    return f"RATE#ip#event#{visitors.address_key(ip, int(clock.now() * 1000))}"


def test_the_event_over_the_address_limit_is_429_and_not_stored(
    aizen_env: Callable[..., Settings], clock: FrozenClock
) -> None:
    # Given: an address limit of 60 events a minute, and 60 pageviews from one address, each stored
    aizen_env(EVENT_IP_LIMIT_PER_MINUTE="60")
    make_owner()
    for n in range(60):
        assert post(pageview(), ip="203.0.113.9").status == 202, f"event {n + 1}"

    # When: the 61st arrives in the same minute, from a browser on the tracked site
    limited = post(pageview(), ip="203.0.113.9", Origin="https://example.com")

    # Then: 429 in the error shape, with the headers of the window that refused it, readable
    # by the browser (CORS), and nothing more is stored
    window_end = clock.next_boundary(60)
    assert limited.status == 429
    assert limited.body["error"]["code"] == "rate_limited"
    assert "minute per IP address for events" in limited.body["error"]["message"]
    assert limited.headers["retry-after"] == str(window_end - int(clock.now()))
    assert limited.headers["cache-control"] == "no-store"
    assert limited.headers["x-ratelimit-limit"] == "60"
    assert limited.headers["x-ratelimit-remaining"] == "0"
    assert limited.headers["x-ratelimit-reset"] == str(window_end)
    assert limited.headers["access-control-allow-origin"] == "*"
    assert len(stored()) == 60

    # And: another address is not affected, and the next minute starts afresh
    assert post(pageview(), ip="203.0.113.10").status == 202
    clock.current = window_end
    assert post(pageview(), ip="203.0.113.9").status == 202
    assert len(stored()) == 62


def test_the_event_limit_is_checked_before_the_body(aizen_env: Callable[..., Settings], clock: FrozenClock) -> None:
    # Given: a limit of 3, spent on a malformed, an oversized and an unknown-domain event
    aizen_env(EVENT_IP_LIMIT_PER_MINUTE="3")
    make_owner()
    assert post("{", ip="203.0.113.9").status == 400
    assert post(pageview(url="https://example.com/" + "a" * 132_000), ip="203.0.113.9").status == 413
    assert post(pageview(domain="nope.test"), ip="203.0.113.9").status == 404

    # When / Then: even a malformed body is now refused as rate limited, before it is read
    assert post("{", ip="203.0.113.9").status == 429
    assert post(pageview(), ip="203.0.113.9").status == 429
    assert stored() == []


def test_events_do_not_spend_the_api_window_of_their_address(
    aizen_env: Callable[..., Settings], clock: FrozenClock
) -> None:
    # Given: an address that used up its event window (a NAT full of the site's visitors)
    aizen_env(IP_LIMIT_PER_MINUTE="3", EVENT_IP_LIMIT_PER_MINUTE="3")
    make_owner()
    for _ in range(3):
        assert post(pageview(), ip="203.0.113.9").status == 202
    assert post(pageview(), ip="203.0.113.9").status == 429

    # When: a developer behind the same address calls the API
    statuses = [invoke(name, path, source_ip="203.0.113.9").status for name, path in STATS_PATHS.items()]

    # Then: the API window is untouched (the calls reach auth), and is spent only by them
    assert statuses[:3] == [401, 401, 401]
    assert statuses[3] == 429
    assert _rate_counters() == {
        _event_counter("203.0.113.9", clock): 3,
        "RATE#site#event#site_1": 3,
        "RATE#ip#203.0.113.9": 3,
    }


def test_the_api_does_not_spend_the_event_window_of_its_address(
    aizen_env: Callable[..., Settings], clock: FrozenClock
) -> None:
    # Given: an address that used up its API window
    aizen_env(IP_LIMIT_PER_MINUTE="2", EVENT_IP_LIMIT_PER_MINUTE="2")
    make_owner()
    aggregate = ("StatsAggregateFunction", STATS_PATHS["StatsAggregateFunction"])
    for _ in range(2):
        assert invoke(*aggregate, source_ip="203.0.113.9").status == 401
    assert invoke(*aggregate, source_ip="203.0.113.9").status == 429

    # When / Then: the visitors behind it still send their events
    assert [post(pageview(), ip="203.0.113.9").status for _ in range(3)] == [202, 202, 429]
    assert len(stored()) == 2


def test_the_preflight_is_not_counted(aizen_env: Callable[..., Settings], clock: FrozenClock) -> None:
    # Given: a limit of 1 and many preflights from one address
    aizen_env(EVENT_IP_LIMIT_PER_MINUTE="1")
    make_owner()
    for _ in range(5):
        preflight = invoke(
            FUNCTION,
            "/api/event",
            method="OPTIONS",
            headers={"Origin": "https://example.com", "Access-Control-Request-Method": "POST"},
            source_ip="203.0.113.9",
        )
        assert preflight.status == 204

    # Then: no counter moved, and the address's one event of the minute is stored
    assert _rate_counters() == {}
    assert post(pageview(), ip="203.0.113.9").status == 202
    assert post(pageview(), ip="203.0.113.9").status == 429


def test_the_event_window_is_the_address_ingestion_trusts(
    aizen_env: Callable[..., Settings], clock: FrozenClock
) -> None:
    # Given: a limit of 1
    aizen_env(EVENT_IP_LIMIT_PER_MINUTE="1")
    make_owner()

    # X-Forwarded-For never opens another window
    assert post(pageview(), ip="198.51.100.7", **{"X-Forwarded-For": "203.0.113.1"}).status == 202
    assert post(pageview(), ip="198.51.100.7", **{"X-Forwarded-For": "203.0.113.2"}).status == 429

    # Behind a trusted CloudFront the source IP is an edge's: each viewer address has its own window
    aizen_env(
        EVENT_IP_LIMIT_PER_MINUTE="1", TRUST_CLOUDFRONT_VIEWER_HEADERS="true", CLOUDFRONT_ORIGIN_SECRET=EDGE_SECRET
    )
    for viewer in ("203.0.113.50", "203.0.113.51"):
        viewer_headers = {"CloudFront-Viewer-Address": f"{viewer}:443", **THROUGH_THE_EDGE}
        assert post(pageview(), ip="192.0.2.1", **viewer_headers).status == 202
    viewer_headers = {"CloudFront-Viewer-Address": "203.0.113.50:443", **THROUGH_THE_EDGE}
    assert post(pageview(), ip="192.0.2.1", **viewer_headers).status == 429
    assert {name for name in _rate_counters() if name.startswith("RATE#ip#event#")} == {
        _event_counter(address, clock) for address in ("198.51.100.7", "203.0.113.50", "203.0.113.51")
    }


def test_the_event_window_never_stores_the_address(aizen_env: Callable[..., Settings], clock: FrozenClock) -> None:
    # Given: an address that sent events until it was refused
    aizen_env(EVENT_IP_LIMIT_PER_MINUTE="60")
    make_owner()
    for _ in range(61):
        post(pageview(), ip="203.0.113.9")

    # Then: its counter is named by a keyed hash under a salt of the UTC date (TTL'd like the
    # visitor salts), so neither the counter nor anything else in either table holds the address
    [counter] = [item for item in main_table_items() if str(item["pk"]).startswith("RATE#ip#event#")]
    assert counter["pk"] == _event_counter("203.0.113.9", clock)
    assert int(counter["hits"]) == 60
    [rate_salt] = [item for item in salts_table_items() if item["pk"] == f"SALT#{visitors.RATE_LIMIT_SCOPE}"]
    assert rate_salt["sk"] == "2026-04-02"  # the UTC date
    assert int(rate_salt["ttl"]) == 1_775_174_400 + 2 * 86400  # 2026-04-03T00:00Z + 2 days
    everything = json.dumps(main_table_items() + _event_items(), default=repr)
    assert "203.0.113.9" not in everything
    # A new UTC date, a new salt: yesterday's counter names cannot be matched to an address later
    tomorrow = int((clock.now() + 86400) * 1000)
    assert visitors.address_key("203.0.113.9", tomorrow) != visitors.address_key("203.0.113.9", tomorrow - 86_400_000)
