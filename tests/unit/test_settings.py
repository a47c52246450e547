"""Settings read from the environment that template.yaml sets."""

from collections.abc import Callable

import pytest

from aizen.settings import Settings, SettingsError, get_settings
from aizen_local.template import load_template
from tests.support import EDGE_SECRET

ApplyEnv = Callable[..., Settings]


@pytest.mark.parametrize(
    ("raw", "origins"),
    [
        ("https://app.example.com", ("https://app.example.com",)),
        ("https://app.example.com/", ("https://app.example.com",)),
        ("https://a.example.com, https://b.example.com/", ("https://a.example.com", "https://b.example.com")),
        (" https://a.example.com ,,  ,https://b.example.com ", ("https://a.example.com", "https://b.example.com")),
        ("", ()),
        (" , ", ()),
    ],
)
def test_dashboard_origins_are_split_on_commas(aizen_env: ApplyEnv, raw: str, origins: tuple[str, ...]) -> None:
    assert aizen_env(DASHBOARD_ORIGINS=raw).dashboard_origins == origins


def test_dashboard_origins_default_to_none(aizen_env: ApplyEnv) -> None:
    assert aizen_env(DASHBOARD_ORIGINS=None).dashboard_origins == ()


def test_limits_and_retention_default_to_the_design(aizen_env: ApplyEnv) -> None:
    settings = aizen_env(
        IP_LIMIT_PER_MINUTE=None,
        KEY_LIMIT_PER_HOUR=None,
        RAW_RETENTION_DAYS=None,
        SITE_STATS_LIMIT_PER_HOUR=None,
        EVENT_IP_LIMIT_PER_MINUTE=None,
        SITE_EVENT_LIMIT_PER_MINUTE=None,
    )

    assert settings.ip_limit_per_minute == 60
    assert settings.key_limit_per_hour == 600
    assert settings.raw_retention_days == 90
    assert settings.site_stats_limit_per_hour == 3000
    assert settings.event_ip_limit_per_minute == 1000
    assert settings.site_event_limit_per_minute == 3000


def test_numbers_are_read_from_the_environment(aizen_env: ApplyEnv) -> None:
    settings = aizen_env(IP_LIMIT_PER_MINUTE="7", KEY_LIMIT_PER_HOUR="5", DYNAMODB_MAX_ATTEMPTS="1")

    assert (settings.ip_limit_per_minute, settings.key_limit_per_hour, settings.dynamodb_max_attempts) == (7, 5, 1)


@pytest.mark.parametrize("missing", ["MAIN_TABLE", "EVENTS_TABLE"])
def test_missing_table_name_fails(aizen_env: ApplyEnv, missing: str) -> None:
    with pytest.raises(SettingsError) as raised:
        aizen_env(**{missing: None})

    assert str(raised.value) == f"AIZEN_{missing} is required"


@pytest.mark.parametrize(
    ("variables", "message"),
    [
        ({"KEY_LIMIT_PER_HOUR": "0"}, "AIZEN_KEY_LIMIT_PER_HOUR: must be an integer of at least 1"),
        ({"IP_LIMIT_PER_MINUTE": "-1"}, "AIZEN_IP_LIMIT_PER_MINUTE: must be an integer of at least 1"),
        ({"IP_LIMIT_PER_MINUTE": "sixty"}, "AIZEN_IP_LIMIT_PER_MINUTE: must be an integer"),
        ({"DYNAMODB_MAX_ATTEMPTS": "11"}, "AIZEN_DYNAMODB_MAX_ATTEMPTS: must be an integer from 1 to 10"),
        ({"DYNAMODB_READ_TIMEOUT": "0"}, "AIZEN_DYNAMODB_READ_TIMEOUT: must be a number above 0"),
        ({"DYNAMODB_CONNECT_TIMEOUT": "soon"}, "AIZEN_DYNAMODB_CONNECT_TIMEOUT: must be a number"),
        ({"TRUST_CLOUDFRONT_VIEWER_HEADERS": "maybe"}, "AIZEN_TRUST_CLOUDFRONT_VIEWER_HEADERS: must be true or false"),
        ({"MAIN_TABLE": "ab"}, "AIZEN_MAIN_TABLE: must be at least 3 characters"),
    ],
)
def test_invalid_values_fail_naming_the_variable(aizen_env: ApplyEnv, variables: dict[str, str], message: str) -> None:
    with pytest.raises(SettingsError) as raised:
        aizen_env(**variables)

    assert str(raised.value) == message


@pytest.mark.parametrize(
    ("raw", "trusted"), [("true", True), ("TRUE", True), ("1", True), ("false", False), ("0", False)]
)
def test_flags_are_read_from_the_environment(aizen_env: ApplyEnv, raw: str, trusted: bool) -> None:
    settings = aizen_env(TRUST_CLOUDFRONT_VIEWER_HEADERS=raw, CLOUDFRONT_ORIGIN_SECRET=EDGE_SECRET)

    assert settings.trust_cloudfront_viewer_headers is trusted


def test_trusting_cloudfront_needs_the_origin_secret(aizen_env: ApplyEnv) -> None:
    with pytest.raises(SettingsError) as raised:
        aizen_env(TRUST_CLOUDFRONT_VIEWER_HEADERS="true", CLOUDFRONT_ORIGIN_SECRET="")

    assert str(raised.value) == "AIZEN_TRUST_CLOUDFRONT_VIEWER_HEADERS needs AIZEN_CLOUDFRONT_ORIGIN_SECRET"


@pytest.mark.parametrize(("raw", "secret"), [("", None), ("  ", None), (EDGE_SECRET, EDGE_SECRET)])
def test_an_empty_origin_secret_means_none(aizen_env: ApplyEnv, raw: str, secret: str | None) -> None:
    assert aizen_env(CLOUDFRONT_ORIGIN_SECRET=raw).cloudfront_origin_secret == secret


def test_a_short_origin_secret_fails(aizen_env: ApplyEnv) -> None:
    with pytest.raises(SettingsError) as raised:
        aizen_env(CLOUDFRONT_ORIGIN_SECRET="x" * 31)

    assert str(raised.value) == "AIZEN_CLOUDFRONT_ORIGIN_SECRET: must be empty or at least 32 characters"


def test_the_template_refuses_trust_without_the_origin_secret() -> None:
    template = load_template().raw
    rule = template["Rules"]["CloudFrontTrustNeedsTheOriginSecret"]
    secret = template["Parameters"]["CloudFrontOriginSecret"]

    assert rule["RuleCondition"] == {"Fn::Equals": [{"Ref": "TrustCloudFrontViewerHeaders"}, "true"]}
    assert rule["Assertions"][0]["Assert"] == {"Fn::Not": [{"Fn::Equals": [{"Ref": "CloudFrontOriginSecret"}, ""]}]}
    assert (secret["NoEcho"], secret["Default"]) == (True, "")


@pytest.mark.parametrize(("raw", "path"), [("", None), ("  ", None), ("/opt/geo/City.mmdb", "/opt/geo/City.mmdb")])
def test_an_empty_geoip_database_means_none(aizen_env: ApplyEnv, raw: str, path: str | None) -> None:
    assert aizen_env(GEOIP_DATABASE=raw).geoip_database == path


def test_settings_are_cached_until_cleared(aizen_env: ApplyEnv, monkeypatch: pytest.MonkeyPatch) -> None:
    # Given settings read once
    first = aizen_env(KEY_LIMIT_PER_HOUR="5")

    # When the environment changes without clearing the cache
    monkeypatch.setenv("AIZEN_KEY_LIMIT_PER_HOUR", "9")

    # Then the cached value stays, until the cache is cleared
    assert get_settings() is first
    assert get_settings().key_limit_per_hour == 5
    get_settings.cache_clear()
    assert get_settings().key_limit_per_hour == 9


def test_settings_are_immutable(aizen_env: ApplyEnv) -> None:
    settings = aizen_env()

    with pytest.raises(AttributeError):
        settings.key_limit_per_hour = 1  # type: ignore[misc]


def test_every_aizen_variable_of_the_template_is_a_setting() -> None:
    variables = load_template().raw["Globals"]["Function"]["Environment"]["Variables"]
    aizen_variables = {name.removeprefix("AIZEN_").lower() for name in variables if name.startswith("AIZEN_")}

    assert aizen_variables <= set(Settings._fields)
    required = set(Settings._fields) - set(Settings._field_defaults)
    assert required <= aizen_variables


def test_template_parameter_defaults_match_the_setting_defaults() -> None:
    defaults = load_template().parameter_defaults()
    setting_defaults = Settings._field_defaults

    assert int(defaults["IpLimitPerMinute"]) == setting_defaults["ip_limit_per_minute"]
    assert int(defaults["KeyLimitPerHour"]) == setting_defaults["key_limit_per_hour"]
    assert int(defaults["SiteStatsLimitPerHour"]) == setting_defaults["site_stats_limit_per_hour"]
    assert int(defaults["EventIpLimitPerMinute"]) == setting_defaults["event_ip_limit_per_minute"]
    assert int(defaults["SiteEventLimitPerMinute"]) == setting_defaults["site_event_limit_per_minute"]
    assert int(defaults["RawRetentionDays"]) == setting_defaults["raw_retention_days"]
    assert int(defaults["RollupValuesPerDay"]) == setting_defaults["rollup_values_per_day"]
