"""POST /api/event's limits: a window per address sized for carrier-grade NAT, a ceiling per site,
and every refused event counted in a metric (the real handler against moto, on the frozen clock)."""

import json
from collections.abc import Callable
from typing import Any

import pytest

from aizen.settings import Settings
from tests.support import (
    FrozenClock,
    HandlerResponse,
    emf_records,
    invoke,
    main_table_items,
    make_owner,
    stored_event_count,
)

FUNCTION = "IngestEventFunction"
UA = "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0"
BOT = "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)"


def post(
    domain: str = "example.com", *, ip: str = "198.51.100.7", name: str = "pageview", ua: str = UA
) -> HandlerResponse:
    body = json.dumps({"n": name, "u": f"https://{domain.split(',')[0]}/", "d": domain})
    return invoke(
        FUNCTION, "/api/event", method="POST", headers={"Content-Type": "text/plain", "User-Agent": ua}, body=body,
        source_ip=ip,
    )  # fmt: skip


def _address(n: int) -> str:
    return f"203.0.{n // 250}.{1 + n % 250}"


def _refusals(output: str) -> dict[str, float]:
    """The refused-event metrics of the EMF records printed, summed by name."""
    totals: dict[str, float] = {}
    for record in emf_records(output):
        for name, values in record["values"].items():
            if name.startswith("EventsRefused"):
                totals[name] = totals.get(name, 0.0) + sum(values)
    return totals


# The address's window: against abuse only -------------------------------------------------------


def test_hundreds_of_events_a_minute_from_one_address_are_stored_with_the_defaults(
    aizen_env: Callable[..., Settings], clock: FrozenClock
) -> None:
    # Given: the default limits (a carrier-grade NAT puts hundreds of a site's visitors behind one address)
    settings = aizen_env(EVENT_IP_LIMIT_PER_MINUTE=None, SITE_EVENT_LIMIT_PER_MINUTE=None)
    make_owner()

    # When: 300 events in one minute from one address
    statuses = [post(ip="203.0.113.9").status for _ in range(300)]

    # Then: every one is stored; the stats API's own per-IP limit stays 60 a minute
    assert statuses == [202] * 300
    assert stored_event_count() == 300
    assert (settings.event_ip_limit_per_minute, settings.ip_limit_per_minute) == (1000, 60)


def test_an_address_over_its_window_is_refused_and_counted(
    aizen_env: Callable[..., Settings], clock: FrozenClock, capsys: pytest.CaptureFixture[str]
) -> None:
    # Given: an address limit of 3
    aizen_env(EVENT_IP_LIMIT_PER_MINUTE="3")
    make_owner()
    assert [post(ip="203.0.113.9").status for _ in range(3)] == [202] * 3
    capsys.readouterr()

    # When: two more from that address
    refused = [post(ip="203.0.113.9") for _ in range(2)]

    # Then: both 429 naming the address's window, not stored, and each counted once
    assert [response.status for response in refused] == [429, 429]
    assert "minute per IP address for events" in refused[0].body["error"]["message"]
    assert stored_event_count() == 3
    assert _refusals(capsys.readouterr().out) == {"EventsRefusedByAddress": 2.0}


# The site's ceiling: every address together -------------------------------------------------------


def test_a_site_over_its_ceiling_refuses_events_from_every_address(
    aizen_env: Callable[..., Settings], clock: FrozenClock, capsys: pytest.CaptureFixture[str]
) -> None:
    # Given: a ceiling of 5 events a minute per site, two sites
    aizen_env(SITE_EVENT_LIMIT_PER_MINUTE="5")
    make_owner()
    make_owner(user_id="user_2", site_id="site_2", domain="other.test")

    # When: 7 events for the first site from 7 addresses (each well under its own window)
    responses = [post(ip=_address(n)) for n in range(7)]

    # Then: 5 stored, then 429 with the site window's headers, each refusal counted
    assert [response.status for response in responses] == [202] * 5 + [429] * 2
    limited = responses[-1]
    assert limited.body["error"]["code"] == "rate_limited"
    assert "minute per site for events" in limited.body["error"]["message"]
    assert limited.headers["x-ratelimit-limit"] == "5"
    assert limited.headers["retry-after"] == str(clock.next_boundary(60) - int(clock.now()))
    assert _refusals(capsys.readouterr().out) == {"EventsRefusedBySite": 2.0}
    assert stored_event_count() == 5

    # And: the other site is not affected, and the next minute starts afresh
    assert post("other.test", ip=_address(8)).status == 202
    clock.current = clock.next_boundary(60)
    assert post(ip=_address(9)).status == 202
    assert stored_event_count() == 7


def test_the_ceiling_counts_only_events_that_would_be_stored(
    aizen_env: Callable[..., Settings], clock: FrozenClock
) -> None:
    # Given: a ceiling of 2, and a minute of bots, names over the limit, bad bodies and unknown domains
    aizen_env(SITE_EVENT_LIMIT_PER_MINUTE="2")
    make_owner()
    assert post(ua=BOT).status == 202
    assert post(name="S" * 121).status == 400
    assert invoke(FUNCTION, "/api/event", method="POST", body="{", source_ip="198.51.100.7").status == 400
    assert post("nope.test").status == 404

    # When / Then: none of them spent the site's window
    assert [post().status for _ in range(3)] == [202, 202, 429]
    [counter] = [item for item in main_table_items() if str(item["pk"]).startswith("RATE#site#event#")]
    assert (counter["pk"], int(counter["hits"])) == ("RATE#site#event#site_1", 2)


def test_a_listed_site_over_its_ceiling_does_not_stop_the_others(
    aizen_env: Callable[..., Settings], clock: FrozenClock, capsys: pytest.CaptureFixture[str]
) -> None:
    # Given: a ceiling of 1, spent by site_1
    aizen_env(SITE_EVENT_LIMIT_PER_MINUTE="1")
    make_owner()
    make_owner(user_id="user_2", site_id="site_2", domain="other.test")
    assert post().status == 202
    capsys.readouterr()

    # When: an event listing both sites
    response = post("example.com,other.test")

    # Then: stored for site_2, refused (and counted) for site_1
    assert response.status == 202
    assert stored_event_count() == 2
    assert _refusals(capsys.readouterr().out) == {"EventsRefusedBySite": 1.0}


def test_the_ceilings_never_touch_the_stats_api_limit(aizen_env: Callable[..., Settings], clock: FrozenClock) -> None:
    # Given: the defaults
    settings = aizen_env(IP_LIMIT_PER_MINUTE=None)
    make_owner()

    # When: 61 stats requests from one address
    realtime = ("StatsRealtimeFunction", "/api/v1/stats/realtime")
    statuses = [invoke(*realtime, source_ip="203.0.113.9").status for _ in range(61)]

    # Then: its own 60-a-minute limit, as the public API documentation promises
    assert settings.ip_limit_per_minute == 60
    assert statuses == [401] * 60 + [429]


def _metric_values(records: list[dict[str, Any]], name: str) -> list[float]:
    return [value for record in records for value in record["values"].get(name, [])]


def test_refusals_are_emitted_on_the_route_the_alarm_reads(
    aizen_env: Callable[..., Settings], clock: FrozenClock, capsys: pytest.CaptureFixture[str]
) -> None:
    aizen_env(EVENT_IP_LIMIT_PER_MINUTE="1")
    make_owner()
    post()
    capsys.readouterr()

    assert post().status == 429

    [record] = emf_records(capsys.readouterr().out)
    assert (record["namespace"], record["dimensions"]) == ("Aizen", [["route", "service"]])
    assert (record["route"], record["service"]) == ("POST /api/event", "aizen")
    assert _metric_values([record], "EventsRefusedByAddress") == [1.0]
