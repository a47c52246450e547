"""Security review checks on template.yaml and the code's shape (docs/security.md)."""

import ast
import fnmatch
from pathlib import Path
from typing import Any

import pytest

from aizen_local.template import PROJECT_ROOT, load_template

TEMPLATE = load_template()
FUNCTIONS = {spec.logical_id: spec for spec in TEMPLATE.functions()}
KEY_MANAGEMENT = ["ApiKeysListFunction", "ApiKeysCreateFunction", "ApiKeysRevokeFunction"]
# Modules that open network connections of their own: the layer and the handlers fetch nothing (SSRF).
NETWORK_CLIENTS = {"urllib.request", "http.client", "requests", "httpx", "urllib3", "aiohttp", "socket", "ftplib"}


def _statements(function: str) -> list[dict[str, Any]]:
    statements: list[dict[str, Any]] = []
    for policy in FUNCTIONS[function].properties.get("Policies", []):
        if isinstance(policy, dict) and "Statement" in policy:
            value = policy["Statement"]
            statements.extend(value if isinstance(value, list) else [value])
    return statements


def _as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def _python_files() -> list[Path]:
    return sorted((PROJECT_ROOT / "layers/aizen/aizen").rglob("*.py")) + sorted(
        (PROJECT_ROOT / "functions").rglob("*.py")
    )


# IAM (API5, least privilege) ----------------------------------------------------------------


@pytest.mark.parametrize("function", sorted(FUNCTIONS))
def test_inline_statements_name_a_table_and_no_wildcard_action(function: str) -> None:
    for statement in _statements(function):
        resources = _as_list(statement["Resource"])
        assert "*" not in resources, f"{function}: {statement.get('Sid')} applies to every resource"
        assert all(isinstance(resource, dict) and "Fn::GetAtt" in resource for resource in resources)
        assert all("*" not in action for action in _as_list(statement["Action"])), statement.get("Sid")


@pytest.mark.parametrize("function", KEY_MANAGEMENT)
def test_key_management_functions_cannot_touch_raw_events(function: str) -> None:
    policies = FUNCTIONS[function].properties["Policies"]

    assert "EventsTable" not in repr(policies)


# Key management's one grant outside its own partitions: counting the API's per-IP window.
IP_COUNTER = {"ForAllValues:StringLike": {"dynamodb:LeadingKeys": ["RATE#ip#*"]}}


@pytest.mark.parametrize("function", ["ApiKeysCreateFunction", "ApiKeysRevokeFunction"])
def test_key_writes_are_limited_to_site_and_token_partitions(function: str) -> None:
    writes = [
        statement
        for statement in _statements(function)
        if statement["Action"] != "dynamodb:GetItem" and statement.get("Condition") != IP_COUNTER
    ]

    assert writes
    for statement in writes:
        [(operator, condition)] = statement["Condition"].items()
        assert operator == "ForAllValues:StringLike"
        assert list(condition) == ["dynamodb:LeadingKeys"]
        assert set(condition["dynamodb:LeadingKeys"]) <= {"SITE#*", "TOKEN#*"}, statement.get("Sid")


# The limit of active keys: a counter on the site's item (SITE#<id>/SITE), moved in the same
# transaction that creates (Put of the KEY# and TOKEN# records) or revokes (Update of them) a key.
# Without these grants the transaction is AccessDenied on AWS, and every create or revoke a 500.
@pytest.mark.parametrize(
    ("function", "action", "partition_key", "allowed"),
    [
        ("ApiKeysCreateFunction", "dynamodb:UpdateItem", "SITE#s_1", True),
        ("ApiKeysCreateFunction", "dynamodb:PutItem", "SITE#s_1", True),
        ("ApiKeysCreateFunction", "dynamodb:PutItem", "TOKEN#aiz_live_0123456789ab", True),
        ("ApiKeysCreateFunction", "dynamodb:UpdateItem", "TOKEN#aiz_live_0123456789ab", False),
        ("ApiKeysCreateFunction", "dynamodb:UpdateItem", "USER#u_1", False),
        ("ApiKeysCreateFunction", "dynamodb:PutItem", "SESSION#abc", False),
        ("ApiKeysCreateFunction", "dynamodb:DeleteItem", "SITE#s_1", False),
        ("ApiKeysRevokeFunction", "dynamodb:UpdateItem", "SITE#s_1", True),
        ("ApiKeysRevokeFunction", "dynamodb:UpdateItem", "TOKEN#aiz_live_0123456789ab", True),
        ("ApiKeysRevokeFunction", "dynamodb:PutItem", "SITE#s_1", False),
        ("ApiKeysRevokeFunction", "dynamodb:DeleteItem", "SITE#s_1", False),
        ("ApiKeysListFunction", "dynamodb:UpdateItem", "SITE#s_1", False),
        ("ApiKeysListFunction", "dynamodb:PutItem", "SITE#s_1", False),
    ],
)
def test_key_management_may_move_the_active_key_counter_only_where_it_must(
    function: str, action: str, partition_key: str, allowed: bool
) -> None:
    assert _may_update_main_table_item(function, partition_key, action) is allowed


# Data at rest and in logs --------------------------------------------------------------------


@pytest.mark.parametrize("function", KEY_MANAGEMENT)
def test_key_management_counts_the_ip_window_and_touches_no_other_counter(function: str) -> None:
    counters = [statement for statement in _statements(function) if "RATE#" in repr(statement)]

    assert [statement["Action"] for statement in counters] == ["dynamodb:UpdateItem"]
    assert counters[0]["Condition"] == IP_COUNTER


@pytest.mark.parametrize("table", ["MainTable", "EventsTable"])
def test_tables_are_encrypted_at_rest(table: str) -> None:
    assert TEMPLATE.tables()[table]["SSESpecification"]["SSEEnabled"] is True


def test_powertools_never_logs_the_event_nor_traces_responses() -> None:
    globals_ = TEMPLATE.raw["Globals"]["Function"]
    variables = globals_["Environment"]["Variables"]

    assert variables["POWERTOOLS_LOGGER_LOG_EVENT"] == "false"
    assert variables["POWERTOOLS_TRACER_CAPTURE_RESPONSE"] == "false"
    assert globals_["Tracing"] == "Active"


@pytest.mark.parametrize("spec", FUNCTIONS.values(), ids=lambda spec: spec.logical_id)
def test_every_handler_goes_through_an_entry_that_does_not_log_the_event(spec: Any) -> None:
    source = spec.module_path.read_text()

    assert "lambda_handler = lambda_entry(" in source or "@logger.inject_lambda_context(log_event=False)" in source
    assert "log_event=True" not in source


def test_the_shared_entry_injects_the_context_with_the_http_correlation_id_and_without_the_event() -> None:
    source = (PROJECT_ROOT / "layers/aizen/aizen/http.py").read_text()

    assert "correlation_id_path=correlation_paths.API_GATEWAY_HTTP, log_event=False" in source
    assert "traced_when_sampled(" in source  # which never records responses: tests/unit/test_observability.py


# Stage throttling (API4): API Gateway's own limit per route, behind the per-IP windows -----------


def test_every_route_of_the_http_api_is_throttled_by_the_stage_from_parameters() -> None:
    properties = TEMPLATE.resources["AizenHttpApi"]["Properties"]

    assert properties["DefaultRouteSettings"] == {
        "ThrottlingRateLimit": {"Ref": "ApiThrottlingRateLimit"},
        "ThrottlingBurstLimit": {"Ref": "ApiThrottlingBurstLimit"},
    }
    # No route is left to the account's limits by a setting of its own
    assert "RouteSettings" not in properties
    assert all("RouteSettings" not in event["Properties"] for spec in FUNCTIONS.values() for event in _events(spec))


@pytest.mark.parametrize(("parameter", "default"), [("ApiThrottlingRateLimit", 500), ("ApiThrottlingBurstLimit", 1000)])
def test_the_stage_throttle_defaults_to_500_a_second_with_bursts_of_1000(parameter: str, default: int) -> None:
    spec = TEMPLATE.raw["Parameters"][parameter]

    assert spec["Type"] == "Number"
    assert spec["Default"] == default
    assert spec["MinValue"] >= 1


def test_the_stage_throttle_never_refuses_one_client_within_its_per_ip_window() -> None:
    # A single address may send its whole minute window at once: the burst must hold it, so the
    # per-IP windows (our answers, in our error shape) refuse a lone client before API Gateway does
    defaults = TEMPLATE.parameter_defaults()
    burst, rate = int(defaults["ApiThrottlingBurstLimit"]), int(defaults["ApiThrottlingRateLimit"])

    assert burst >= rate
    assert burst >= int(defaults["IpLimitPerMinute"])
    assert burst >= int(defaults["EventIpLimitPerMinute"])


def _events(spec: Any) -> list[dict[str, Any]]:
    return list(spec.properties.get("Events", {}).values())


# CORS (API8) ---------------------------------------------------------------------------------


def test_the_http_api_has_no_cors_configuration() -> None:
    assert "CorsConfiguration" not in TEMPLATE.resources["AizenHttpApi"].get("Properties", {})


def test_only_ingestion_answers_preflight() -> None:
    preflights = [route.function for route in TEMPLATE.routes() if route.method == "OPTIONS"]

    assert preflights == ["IngestEventFunction"]


# Resource consumption (API4) -----------------------------------------------------------------


# The rate counters each function's code counts (aizen.ratelimit), as partition keys: the API's
# per-IP window, the key's and the site's on the stats routes, the API's per-IP window on key
# management, ingestion's own per-IP window and its per-site ceiling on /api/event.
RATE_COUNTERS = {
    **{
        function: ["RATE#ip#198.51.100.7", "RATE#key#k_1", "RATE#site#s_1"]
        for function in (
            "StatsAggregateFunction",
            "StatsTimeseriesFunction",
            "StatsBreakdownFunction",
            "StatsRealtimeFunction",
        )
    },
    **{function: ["RATE#ip#198.51.100.7"] for function in KEY_MANAGEMENT},
    "IngestEventFunction": ["RATE#ip#event#0123456789abcdef0123456789abcdef", "RATE#site#event#s_1"],
}


def _may_update_main_table_item(function: str, partition_key: str, action: str = "dynamodb:UpdateItem") -> bool:
    for statement in _statements(function):
        if statement["Effect"] != "Allow" or action not in _as_list(statement["Action"]):
            continue
        if {"Fn::GetAtt": ["MainTable", "Arn"]} not in _as_list(statement["Resource"]):
            continue
        condition = statement.get("Condition", {}).get("ForAllValues:StringLike", {})
        patterns = condition.get("dynamodb:LeadingKeys")
        if patterns is None or any(fnmatch.fnmatchcase(partition_key, pattern) for pattern in patterns):
            return True
    return False


@pytest.mark.parametrize("function", sorted(RATE_COUNTERS))
def test_every_rate_limited_function_may_update_its_counters(function: str) -> None:
    # Without it the counter's UpdateItem is AccessDenied on AWS, and every request a 500 (moto
    # and the local stack do not enforce IAM, so only this test sees it)
    for partition_key in RATE_COUNTERS[function]:
        assert _may_update_main_table_item(function, partition_key), f"{function} cannot count {partition_key}"


@pytest.mark.parametrize(
    ("action", "partition_key", "allowed"),
    [
        ("dynamodb:PutItem", "SALT#s_1", True),
        ("dynamodb:PutItem", "SALT#ratelimit", True),
        ("dynamodb:PutItem", "SITE#s_1", False),
        ("dynamodb:PutItem", "TOKEN#aiz_live_x", False),
        ("dynamodb:UpdateItem", "RATE#ip#event#0123", True),
        ("dynamodb:UpdateItem", "RATE#site#event#s_1", True),
        ("dynamodb:UpdateItem", "RATE#site#s_1", False),
        ("dynamodb:UpdateItem", "RATE#ip#198.51.100.7", False),
        ("dynamodb:UpdateItem", "RATE#key#k_1", False),
        ("dynamodb:UpdateItem", "SITE#s_1", False),
        ("dynamodb:DeleteItem", "SALT#s_1", False),
    ],
)
def test_ingestion_writes_only_salts_and_its_own_counters(action: str, partition_key: str, allowed: bool) -> None:
    assert _may_update_main_table_item("IngestEventFunction", partition_key, action) is allowed


def test_ingestion_reads_sites_by_batch_and_salts_by_key_and_nothing_else() -> None:
    # Up to 10 domains in one BatchGetItem (aizen.store.accounts.get_sites_by_domains); no Scan, no Query
    reads = [
        action
        for statement in _statements("IngestEventFunction")
        if statement["Resource"] == {"Fn::GetAtt": ["MainTable", "Arn"]}
        for action in _as_list(statement["Action"])
        if action not in ("dynamodb:PutItem", "dynamodb:UpdateItem")
    ]

    assert sorted(reads) == ["dynamodb:BatchGetItem", "dynamodb:GetItem"]


@pytest.mark.parametrize("function", sorted(KEY_MANAGEMENT))
def test_key_management_counts_only_the_ip_window(function: str) -> None:
    assert not _may_update_main_table_item(function, "RATE#key#k_1")


@pytest.mark.parametrize("spec", FUNCTIONS.values(), ids=lambda spec: spec.logical_id)
def test_every_function_has_a_bounded_timeout(spec: Any) -> None:
    limit = 900 if spec.schedules else 10

    assert spec.properties["Timeout"] <= limit


# SSRF (API7) ---------------------------------------------------------------------------------


@pytest.mark.parametrize("path", _python_files(), ids=lambda path: str(path.relative_to(PROJECT_ROOT)))
def test_no_module_opens_network_connections_of_its_own(path: Path) -> None:
    imported: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            imported.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            imported.add(node.module)
            imported.update(f"{node.module}.{alias.name}" for alias in node.names)

    assert not {name for name in imported if name in NETWORK_CLIENTS or name.split(".")[0] in NETWORK_CLIENTS}
