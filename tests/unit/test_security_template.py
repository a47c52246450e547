"""Security review checks on template.yaml and the code's shape (docs/security.md)."""

import ast
from pathlib import Path
from typing import Any

import pytest

from aizen_local.template import PROJECT_ROOT, load_template
from tests.iam_policies import IamRequest, allows
from tests.iam_policies import statements as policy_of

TEMPLATE = load_template()
FUNCTIONS = {spec.logical_id: spec for spec in TEMPLATE.functions()}
KEY_MANAGEMENT = ["ApiKeysListFunction", "ApiKeysCreateFunction", "ApiKeysRevokeFunction"]
GOAL_MANAGEMENT = ["GoalsListFunction", "GoalsCreateFunction", "GoalsDeleteFunction"]
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


@pytest.mark.parametrize("function", KEY_MANAGEMENT + GOAL_MANAGEMENT)
def test_key_management_functions_cannot_touch_raw_events(function: str) -> None:
    policies = FUNCTIONS[function].properties["Policies"]

    assert "EventsTable" not in repr(policies)


# What the code may do and what it may not, as AWS would decide (tests/iam_policies.py). The
# requests every function really makes are checked by tests/integration/test_iam_policies.py.
MAIN, EVENTS, SALTS = "MainTable", "EventsTable", "SaltsTable"
COUNTER = ("hits", "pk", "sk", "ttl")  # the attributes a rate counter's UpdateItem names
WRITES = {"dynamodb:PutItem", "dynamodb:UpdateItem", "dynamodb:DeleteItem", "dynamodb:BatchWriteItem"}


def _may(
    function: str,
    action: str,
    table: str,
    partition_key: str,
    attributes: tuple[str, ...] | None = None,
    return_values: str | None = None,
) -> bool:
    if action in {"dynamodb:PutItem", "dynamodb:UpdateItem", "dynamodb:DeleteItem"} and return_values is None:
        return_values = "NONE"  # the default DynamoDB sets on a write
    request = IamRequest(
        f"dynamodb:{action.removeprefix('dynamodb:')}", table, (partition_key,), attributes, return_values
    )
    return allows(policy_of(TEMPLATE, function), request)


@pytest.mark.parametrize("function", sorted(FUNCTIONS))
def test_no_function_is_granted_a_scan_a_partiql_statement_or_a_sam_policy_template(function: str) -> None:
    # A Scan has no leading keys, so a LeadingKeys condition would not stop it (ForAllValues of
    # nothing is true): it must never be granted. policy_of also fails on any non-inline policy.
    actions = {action for statement in policy_of(TEMPLATE, function) for action in _as_list(statement["Action"])}

    assert not {action for action in actions if "Scan" in action or "PartiQL" in action or "*" in action}
    for table in (MAIN, EVENTS, SALTS):
        assert not allows(policy_of(TEMPLATE, function), IamRequest("dynamodb:Scan", table, ()))


@pytest.mark.parametrize("function", sorted(FUNCTIONS))
def test_every_grant_on_main_and_salts_is_limited_to_partitions(function: str) -> None:
    for statement in policy_of(TEMPLATE, function):
        if {"Fn::GetAtt": [EVENTS, "Arn"]} in _as_list(statement["Resource"]):
            continue  # raw events: partitions are <site id>#…, which IAM cannot tie to a caller's site
        if not {MAIN, SALTS} & {resource["Fn::GetAtt"][0] for resource in _as_list(statement["Resource"])}:
            continue  # the rollup queue (SQS): no partitions
        leading = statement.get("Condition", {}).get("ForAllValues:StringLike", {}).get("dynamodb:LeadingKeys")
        assert leading, f"{function}: {statement['Sid']} is not limited to partitions"
        assert all(not pattern.startswith("*") for pattern in leading)


@pytest.mark.parametrize("function", sorted(FUNCTIONS))
def test_every_update_names_the_attributes_it_may_change_and_returns_no_others(function: str) -> None:
    for statement in policy_of(TEMPLATE, function):
        if not {"dynamodb:UpdateItem", "dynamodb:PutItem"} & set(_as_list(statement["Action"])):
            continue
        if statement["Sid"] in ("ReadAndWriteRollups", "WriteRawEvents"):
            continue  # the rollup's own partitions (ROLLUP#*), ingestion's raw events: whole items
        conditions = statement["Condition"]
        keys = {"p", "s"} if {"Fn::GetAtt": [EVENTS, "Arn"]} in _as_list(statement["Resource"]) else {"pk", "sk"}
        assert conditions["ForAllValues:StringEquals"]["dynamodb:Attributes"], statement["Sid"]
        assert keys <= set(conditions["ForAllValues:StringEquals"]["dynamodb:Attributes"])  # AWS requires the keys
        returned = set(conditions["StringEqualsIfExists"]["dynamodb:ReturnValues"])
        assert returned <= {"NONE", "UPDATED_OLD", "UPDATED_NEW"}, statement["Sid"]


def test_only_ingestion_reaches_the_salts_table() -> None:
    reaching = sorted(function for function in FUNCTIONS if "SaltsTable" in repr(policy_of(TEMPLATE, function)))

    assert reaching == ["IngestEventFunction"]


STATS = ["StatsAggregateFunction", "StatsTimeseriesFunction", "StatsBreakdownFunction", "StatsRealtimeFunction"]
KEY = ("pk", "sk")


@pytest.mark.parametrize("function", STATS)
@pytest.mark.parametrize(
    ("action", "table", "partition_key", "attributes", "allowed"),
    [
        # Bearer auth, the rollups, raw events: reads by key, nothing else readable
        ("GetItem", MAIN, "TOKEN#aiz_live_0123456789ab", None, True),
        ("GetItem", MAIN, "SITE#s_1", None, True),
        ("GetItem", MAIN, "USER#u_1", None, True),
        ("Query", MAIN, "ROLLUP#s_1#days", None, True),
        ("Query", EVENTS, "s_1#20260402#0", None, True),
        ("GetItem", MAIN, "SESSION#abc", None, False),
        ("GetItem", MAIN, "EMAIL#a@example.com", None, False),
        ("Query", MAIN, "SITE#s_1", None, False),
        ("GetItem", SALTS, "SALT#s_1", None, False),
        # last_used_at of a key record, and no other attribute of a SITE# item
        ("UpdateItem", MAIN, "SITE#s_1", (*KEY, "last_used_at"), True),
        ("UpdateItem", MAIN, "SITE#s_1", (*KEY, "owner_user_id"), False),
        ("UpdateItem", MAIN, "SITE#s_1", (*KEY, "last_used_at", "revoked_at"), False),
        ("UpdateItem", MAIN, "USER#u_1", (*KEY, "last_used_at"), False),
        # its counters, with their own attributes
        ("UpdateItem", MAIN, "RATE#ip#198.51.100.7", COUNTER, True),
        ("UpdateItem", MAIN, "RATE#key#k_1", COUNTER, True),
        ("UpdateItem", MAIN, "RATE#key#k_1", (*COUNTER, "owner_user_id"), False),
        ("PutItem", MAIN, "SITE#s_1", (*KEY, "last_used_at"), False),
        ("PutItem", EVENTS, "s_1#20260402#0", None, False),
    ],
)
def test_the_stats_functions_read_by_key_and_write_only_counters_and_last_used_at(
    function: str, action: str, table: str, partition_key: str, attributes: tuple[str, ...] | None, allowed: bool
) -> None:
    assert _may(function, action, table, partition_key, attributes) is allowed


def test_an_update_asking_for_whole_items_back_is_refused() -> None:
    assert _may(STATS[0], "UpdateItem", MAIN, "SITE#s_1", (*KEY, "last_used_at"), "UPDATED_NEW")
    assert not _may(STATS[0], "UpdateItem", MAIN, "SITE#s_1", (*KEY, "last_used_at"), "ALL_NEW")
    assert not _may(STATS[0], "UpdateItem", MAIN, "SITE#s_1", (*KEY, "last_used_at"), "ALL_OLD")


KEY_RECORD = (*KEY, "id", "site_id", "created_by_user_id", "name", "scope", "key_prefix", "created_at", "updated_at")
TOKEN_RECORD = (*KEY, "key_prefix", "token_hash", "key_id", "site_id", "scope")


# The limit of active keys: a counter on the site's item (SITE#<id>/SITE), moved in the same
# transaction that creates (Put of the KEY# and TOKEN# records) or revokes (Update of them) a key.
# Without these grants the transaction is AccessDenied on AWS, and every create or revoke a 500.
@pytest.mark.parametrize(
    ("function", "action", "partition_key", "attributes", "allowed"),
    [
        ("ApiKeysCreateFunction", "UpdateItem", "SITE#s_1", (*KEY, "active_keys"), True),
        ("ApiKeysCreateFunction", "PutItem", "SITE#s_1", (*KEY_RECORD, "counted"), True),
        ("ApiKeysCreateFunction", "PutItem", "TOKEN#aiz_live_0123456789ab", TOKEN_RECORD, True),
        ("ApiKeysCreateFunction", "PutItem", "SITE#s_1", (*KEY, "domain", "owner_user_id", "timezone"), False),
        ("ApiKeysCreateFunction", "UpdateItem", "SITE#s_1", (*KEY, "owner_user_id"), False),
        ("ApiKeysCreateFunction", "UpdateItem", "TOKEN#aiz_live_0123456789ab", (*KEY, "active_keys"), False),
        ("ApiKeysCreateFunction", "UpdateItem", "USER#u_1", (*KEY, "active_keys"), False),
        ("ApiKeysCreateFunction", "PutItem", "SESSION#abc", (*KEY, "user_id", "expires_at"), False),
        ("ApiKeysCreateFunction", "DeleteItem", "SITE#s_1", KEY, False),
        ("ApiKeysRevokeFunction", "UpdateItem", "SITE#s_1", (*KEY, "revoked_at", "updated_at", "counted"), True),
        ("ApiKeysRevokeFunction", "UpdateItem", "SITE#s_1", (*KEY, "active_keys"), True),
        ("ApiKeysRevokeFunction", "UpdateItem", "TOKEN#aiz_live_0123456789ab", (*KEY, "revoked_at"), True),
        ("ApiKeysRevokeFunction", "UpdateItem", "SITE#s_1", (*KEY, "owner_user_id"), False),
        ("ApiKeysRevokeFunction", "UpdateItem", "TOKEN#aiz_live_0123456789ab", (*KEY, "token_hash"), False),
        ("ApiKeysRevokeFunction", "PutItem", "SITE#s_1", KEY_RECORD, False),
        ("ApiKeysRevokeFunction", "DeleteItem", "SITE#s_1", KEY, False),
        ("ApiKeysListFunction", "UpdateItem", "SITE#s_1", (*KEY, "active_keys"), False),
        ("ApiKeysListFunction", "PutItem", "SITE#s_1", KEY_RECORD, False),
        ("ApiKeysListFunction", "GetItem", "SESSION#abc", None, True),
        ("ApiKeysListFunction", "Query", "SITE#s_1", None, True),
        ("ApiKeysListFunction", "GetItem", "TOKEN#aiz_live_0123456789ab", None, False),
        ("ApiKeysListFunction", "GetItem", "USER#u_1", None, False),
    ],
)
def test_key_management_may_move_the_active_key_counter_only_where_it_must(
    function: str, action: str, partition_key: str, attributes: tuple[str, ...] | None, allowed: bool
) -> None:
    assert _may(function, action, MAIN, partition_key, attributes) is allowed


@pytest.mark.parametrize("function", KEY_MANAGEMENT + GOAL_MANAGEMENT)
def test_key_management_counts_the_ip_window_and_touches_no_other_counter(function: str) -> None:
    assert _may(function, "UpdateItem", MAIN, "RATE#ip#198.51.100.7", COUNTER)
    assert not _may(function, "UpdateItem", MAIN, "RATE#key#k_1", COUNTER)
    assert not _may(function, "UpdateItem", MAIN, "RATE#ip#198.51.100.7", (*COUNTER, "owner_user_id"))


GOAL = (*KEY, "goal_id", "name", "event_name", "page_pattern", "created_at", "counted")


# Goals live in their own partitions (GOALS#<site id>): creating and deleting them never needs a
# write to a site's own partition beyond its goal_count, and no function may delete a site or a key.
@pytest.mark.parametrize(
    ("function", "action", "partition_key", "attributes", "allowed"),
    [
        ("GoalsCreateFunction", "PutItem", "GOALS#s_1", GOAL, True),
        ("GoalsCreateFunction", "PutItem", "GOALS#s_1", (*KEY, "goal_id"), True),
        ("GoalsCreateFunction", "UpdateItem", "SITE#s_1", (*KEY, "goal_count"), True),
        ("GoalsCreateFunction", "GetItem", "SESSION#abc", None, True),
        ("GoalsCreateFunction", "GetItem", "SITE#s_1", None, True),
        ("GoalsCreateFunction", "PutItem", "SITE#s_1", GOAL, False),
        ("GoalsCreateFunction", "PutItem", "GOALS#s_1", (*GOAL, "owner_user_id"), False),
        ("GoalsCreateFunction", "UpdateItem", "SITE#s_1", (*KEY, "active_keys"), False),
        ("GoalsCreateFunction", "UpdateItem", "SITE#s_1", (*KEY, "owner_user_id"), False),
        ("GoalsCreateFunction", "DeleteItem", "GOALS#s_1", KEY, False),
        ("GoalsCreateFunction", "PutItem", "TOKEN#aiz_live_0123456789ab", KEY, False),
        ("GoalsDeleteFunction", "GetItem", "GOALS#s_1", None, True),
        ("GoalsDeleteFunction", "DeleteItem", "GOALS#s_1", (*KEY, "counted"), True),
        ("GoalsDeleteFunction", "DeleteItem", "GOALS#s_1", KEY, True),
        ("GoalsDeleteFunction", "UpdateItem", "SITE#s_1", (*KEY, "goal_count"), True),
        ("GoalsDeleteFunction", "DeleteItem", "SITE#s_1", KEY, False),
        ("GoalsDeleteFunction", "DeleteItem", "USER#u_1", KEY, False),
        ("GoalsDeleteFunction", "PutItem", "GOALS#s_1", GOAL, False),
        ("GoalsDeleteFunction", "UpdateItem", "SITE#s_1", (*KEY, "active_keys"), False),
        ("GoalsListFunction", "Query", "GOALS#s_1", None, True),
        # the billing gate reads the owner's item; no goal function may write it
        ("GoalsListFunction", "GetItem", "USER#u_1", None, True),
        ("GoalsCreateFunction", "GetItem", "USER#u_1", None, True),
        ("GoalsDeleteFunction", "GetItem", "USER#u_1", None, True),
        ("GoalsCreateFunction", "UpdateItem", "USER#u_1", (*KEY, "billing_active"), False),
        ("GoalsCreateFunction", "PutItem", "USER#u_1", (*KEY, "billing_active"), False),
        ("GoalsListFunction", "GetItem", "SESSION#abc", None, True),
        ("GoalsListFunction", "Query", "SITE#s_1", None, False),
        ("GoalsListFunction", "PutItem", "GOALS#s_1", GOAL, False),
        ("GoalsListFunction", "UpdateItem", "SITE#s_1", (*KEY, "goal_count"), False),
        ("ApiKeysCreateFunction", "PutItem", "GOALS#s_1", GOAL, False),
        ("ApiKeysRevokeFunction", "UpdateItem", "SITE#s_1", (*KEY, "goal_count"), False),
        ("StatsBreakdownFunction", "Query", "GOALS#s_1", None, True),
        ("StatsBreakdownFunction", "PutItem", "GOALS#s_1", GOAL, False),
        ("RollupFunction", "Query", "GOALS#s_1", None, True),
        ("RollupFunction", "DeleteItem", "GOALS#s_1", KEY, False),
    ],
)
def test_goal_management_writes_only_goals_and_the_goal_counter(
    function: str, action: str, partition_key: str, attributes: tuple[str, ...] | None, allowed: bool
) -> None:
    assert _may(function, action, MAIN, partition_key, attributes) is allowed


@pytest.mark.parametrize(
    ("action", "table", "partition_key", "allowed"),
    [
        ("GetItem", MAIN, "SITE#s_1", True),
        ("Query", MAIN, "ROLLUP#s_1#days", True),
        ("GetItem", MAIN, "ROLLUP#s_1#days", True),
        ("PutItem", MAIN, "ROLLUP#s_1#days", True),
        ("DeleteItem", MAIN, "ROLLUP#s_1#dirty", True),
        ("DeleteItem", MAIN, "ROLLUP#s_1#attempts", True),
        ("BatchWriteItem", MAIN, "ROLLUP#s_1#page", True),
        ("Query", EVENTS, "s_1#20260402#0", True),
        ("Query", MAIN, "SITES", False),  # the dispatcher's: a worker has one site
        ("PutItem", MAIN, "SITE#s_1", False),
        ("UpdateItem", MAIN, "SITE#s_1", False),
        ("DeleteItem", MAIN, "USER#u_1", False),
        ("BatchWriteItem", MAIN, "TOKEN#aiz_live_0123456789ab", False),
        ("GetItem", MAIN, "TOKEN#aiz_live_0123456789ab", False),
        ("GetItem", MAIN, "SESSION#abc", False),
        ("PutItem", EVENTS, "s_1#20260402#0", False),
        ("GetItem", SALTS, "SALT#s_1", False),
    ],
)
def test_the_rollup_writes_only_rollups_and_reads_only_sites_and_raw_events(
    action: str, table: str, partition_key: str, allowed: bool
) -> None:
    assert _may("RollupFunction", action, table, partition_key) is allowed


def test_the_rollup_counts_a_days_attempts_and_updates_nothing_else() -> None:
    attempts = ("pk", "sk", "tries", "ttl")

    assert _may("RollupFunction", "UpdateItem", MAIN, "ROLLUP#s_1#attempts", attempts)
    assert not _may("RollupFunction", "UpdateItem", MAIN, "ROLLUP#s_1#days", attempts)
    assert not _may("RollupFunction", "UpdateItem", MAIN, "ROLLUP#s_1#attempts", (*attempts, "visitors"))
    assert not _may("RollupFunction", "UpdateItem", MAIN, "ROLLUP#s_1#attempts", attempts, "ALL_NEW")


ROLLUP_QUEUE, DEAD_LETTERS = "RollupQueue", "RollupDeadLetterQueue"
RECEIVE = ["sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:ChangeMessageVisibility", "sqs:GetQueueAttributes"]


@pytest.mark.parametrize(
    ("function", "action", "queue", "allowed"),
    [
        ("RollupDispatchFunction", "sqs:SendMessage", ROLLUP_QUEUE, True),
        *[("RollupDispatchFunction", action, ROLLUP_QUEUE, False) for action in RECEIVE],
        *[("RollupFunction", action, ROLLUP_QUEUE, True) for action in RECEIVE],
        ("RollupFunction", "sqs:SendMessage", ROLLUP_QUEUE, False),
        *[("RollupFunction", action, DEAD_LETTERS, False) for action in ["sqs:SendMessage", *RECEIVE]],
        *[("RollupDispatchFunction", action, DEAD_LETTERS, False) for action in ["sqs:SendMessage", *RECEIVE]],
    ],
)
def test_the_dispatcher_only_sends_and_the_worker_only_receives_on_the_rollup_queue(
    function: str, action: str, queue: str, allowed: bool
) -> None:
    assert allows(policy_of(TEMPLATE, function), IamRequest(action, queue, ())) is allowed


def test_no_other_function_reaches_a_queue() -> None:
    reaching = sorted(function for function in FUNCTIONS if "sqs:" in repr(policy_of(TEMPLATE, function)))

    assert reaching == ["CompactionDispatchFunction", "CompactionFunction", "RollupDispatchFunction", "RollupFunction"]


COMPACTION_QUEUE, COMPACTION_DEAD_LETTERS = "CompactionQueue", "CompactionDeadLetterQueue"


@pytest.mark.parametrize(
    ("function", "action", "queue", "allowed"),
    [
        ("CompactionDispatchFunction", "sqs:SendMessage", COMPACTION_QUEUE, True),
        *[("CompactionDispatchFunction", action, COMPACTION_QUEUE, False) for action in RECEIVE],
        *[("CompactionFunction", action, COMPACTION_QUEUE, True) for action in RECEIVE],
        ("CompactionFunction", "sqs:SendMessage", COMPACTION_QUEUE, False),
        *[
            (function, action, queue, False)
            for function in ("CompactionDispatchFunction", "CompactionFunction")
            for queue in (COMPACTION_DEAD_LETTERS, ROLLUP_QUEUE, DEAD_LETTERS)
            for action in ["sqs:SendMessage", *RECEIVE]
        ],
        *[
            (function, action, COMPACTION_QUEUE, False)
            for function in ("RollupDispatchFunction", "RollupFunction")
            for action in ["sqs:SendMessage", *RECEIVE]
        ],
    ],
)
def test_the_compaction_dispatcher_only_sends_and_its_worker_only_receives_on_the_compaction_queue(
    function: str, action: str, queue: str, allowed: bool
) -> None:
    assert allows(policy_of(TEMPLATE, function), IamRequest(action, queue, ())) is allowed


@pytest.mark.parametrize(
    ("function", "action", "table", "partition_key", "allowed"),
    [
        ("CompactionDispatchFunction", "Query", MAIN, "SITES", True),
        ("CompactionDispatchFunction", "GetItem", MAIN, "SITE#s_1", False),
        ("CompactionDispatchFunction", "Query", EVENTS, "s_1#20260402#0", False),
        ("CompactionDispatchFunction", "GetItem", EVENTS, "s_1#compaction", False),
        ("CompactionFunction", "GetItem", MAIN, "SITE#s_1", True),
        ("CompactionFunction", "Query", MAIN, "SITES", False),  # the dispatcher's: a worker has one site
        ("CompactionFunction", "GetItem", MAIN, "TOKEN#aiz_live_0123456789ab", False),
        ("CompactionFunction", "BatchWriteItem", MAIN, "ROLLUP#s_1#dirty", True),
        ("CompactionFunction", "BatchWriteItem", MAIN, "ROLLUP#s_1#days", False),
        ("CompactionFunction", "Query", EVENTS, "s_1#20260402#0", True),
        ("CompactionFunction", "BatchWriteItem", EVENTS, "s_1#blocks", True),
        ("CompactionFunction", "DeleteItem", EVENTS, "s_1#attempts", True),
        ("CompactionFunction", "BatchWriteItem", EVENTS, "s_1#20260402#0", False),  # never a single item
        ("CompactionFunction", "DeleteItem", EVENTS, "s_1#20260402#0", False),
        ("CompactionFunction", "PutItem", EVENTS, "s_1#blocks", False),
        ("CompactionFunction", "GetItem", SALTS, "SALT#s_1", False),
    ],
)
def test_the_compaction_worker_writes_only_blocks_markers_and_attempts(
    function: str, action: str, table: str, partition_key: str, allowed: bool
) -> None:
    assert _may(function, action, table, partition_key) is allowed


def test_the_compaction_worker_updates_only_the_watermark_and_attempts() -> None:
    watermark, attempts = ("p", "s", "w", "n"), ("p", "s", "n", "x")

    assert _may("CompactionFunction", "UpdateItem", EVENTS, "s_1#compaction", watermark)
    assert _may("CompactionFunction", "UpdateItem", EVENTS, "s_1#attempts", attempts)
    assert not _may("CompactionFunction", "UpdateItem", EVENTS, "s_1#compaction", (*watermark, "x"))
    assert not _may("CompactionFunction", "UpdateItem", EVENTS, "s_1#attempts", (*attempts, "w"))
    assert not _may("CompactionFunction", "UpdateItem", EVENTS, "s_1#blocks", attempts)
    assert not _may("CompactionFunction", "UpdateItem", EVENTS, "s_1#20260402#0", ("p", "s", "u"))
    assert not _may("CompactionFunction", "UpdateItem", EVENTS, "s_1#compaction", watermark, "ALL_NEW")


@pytest.mark.parametrize(
    ("action", "table", "partition_key", "allowed"),
    [
        ("Query", MAIN, "SITES", True),
        ("GetItem", MAIN, "SITE#s_1", False),
        ("GetItem", MAIN, "SITES", False),
        ("Query", MAIN, "ROLLUP#s_1#days", False),
        ("PutItem", MAIN, "ROLLUP#s_1#days", False),
        ("Query", EVENTS, "s_1#20260402#0", False),
    ],
)
def test_the_rollup_dispatcher_lists_the_sites_and_reads_nothing_else(
    action: str, table: str, partition_key: str, allowed: bool
) -> None:
    assert _may("RollupDispatchFunction", action, table, partition_key) is allowed


def test_a_batch_with_one_key_outside_the_rollups_is_refused_whole() -> None:
    batch = IamRequest("dynamodb:BatchWriteItem", MAIN, ("ROLLUP#s_1#page", "SITE#s_1"))

    assert not allows(policy_of(TEMPLATE, "RollupFunction"), batch)


# Data at rest and in logs --------------------------------------------------------------------


@pytest.mark.parametrize("table", ["MainTable", "EventsTable", "SaltsTable"])
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
    **{function: ["RATE#ip#198.51.100.7", "RATE#key#k_1", "RATE#site#s_1"] for function in STATS},
    **{function: ["RATE#ip#198.51.100.7"] for function in KEY_MANAGEMENT + GOAL_MANAGEMENT},
    "IngestEventFunction": ["RATE#ip#event#0123456789abcdef0123456789abcdef", "RATE#site#event#s_1"],
}


@pytest.mark.parametrize("function", sorted(RATE_COUNTERS))
def test_every_rate_limited_function_may_update_its_counters(function: str) -> None:
    # Without it the counter's UpdateItem is AccessDenied on AWS, and every request a 500 (moto
    # and the local stack do not enforce IAM, so only this test sees it)
    for partition_key in RATE_COUNTERS[function]:
        assert _may(function, "UpdateItem", MAIN, partition_key, COUNTER, "UPDATED_NEW"), partition_key


@pytest.mark.parametrize(
    ("action", "table", "partition_key", "attributes", "allowed"),
    [
        ("GetItem", MAIN, "DOMAIN#example.com", None, True),
        ("GetItem", MAIN, "SITE#s_1", None, True),
        ("GetItem", SALTS, "SALT#s_1", None, True),
        ("GetItem", SALTS, "SALT#ratelimit", None, True),
        ("PutItem", SALTS, "SALT#s_1", (*KEY, "salt", "ttl"), True),
        ("PutItem", SALTS, "SALT#ratelimit", (*KEY, "salt", "ttl"), True),
        ("PutItem", EVENTS, "s_1#20260402#0", None, True),
        ("UpdateItem", MAIN, "RATE#ip#event#0123", COUNTER, True),
        ("UpdateItem", MAIN, "RATE#site#event#s_1", COUNTER, True),
        ("UpdateItem", MAIN, "RATE#site#s_1", COUNTER, False),
        ("BatchGetItem", MAIN, "DOMAIN#example.com", None, True),
        ("GetItem", MAIN, "TOKEN#aiz_live_0123456789ab", None, False),
        ("GetItem", MAIN, "SESSION#abc", None, False),
        ("GetItem", MAIN, "USER#u_1", None, False),
        ("GetItem", MAIN, "SALT#s_1", None, False),
        ("PutItem", MAIN, "SALT#s_1", (*KEY, "salt", "ttl"), False),
        ("PutItem", SALTS, "SALT#s_1", (*KEY, "salt", "ttl", "note"), False),
        ("PutItem", MAIN, "SITE#s_1", (*KEY, "salt", "ttl"), False),
        ("UpdateItem", MAIN, "RATE#ip#198.51.100.7", COUNTER, False),
        ("UpdateItem", MAIN, "RATE#key#k_1", COUNTER, False),
        ("UpdateItem", MAIN, "SITE#s_1", (*KEY, "last_used_at"), False),
        ("DeleteItem", SALTS, "SALT#s_1", KEY, False),
        ("Query", EVENTS, "s_1#20260402#0", None, False),
    ],
)
def test_ingestion_reads_only_its_lookups_and_writes_only_salts_counters_and_events(
    action: str, table: str, partition_key: str, attributes: tuple[str, ...] | None, allowed: bool
) -> None:
    assert _may("IngestEventFunction", action, table, partition_key, attributes) is allowed


# The stats functions that read raw events over long ranges (docs/performance.md, "Lambda sizing").
RAW_READ_FUNCTIONS = {"StatsAggregateFunction", "StatsTimeseriesFunction", "StatsBreakdownFunction"}


@pytest.mark.parametrize("spec", FUNCTIONS.values(), ids=lambda spec: spec.logical_id)
def test_every_function_has_a_bounded_timeout(spec: Any) -> None:
    # HTTP functions 10 s, the raw-read stats functions under the HTTP API's 30 s integration
    # timeout; the jobs (scheduled or queued) 900 s
    limit = (29 if spec.logical_id in RAW_READ_FUNCTIONS else 10) if spec.routes else 900

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


def test_ingestion_reads_sites_by_batch_and_salts_by_key_and_nothing_else() -> None:
    # Up to 10 domains in one BatchGetItem (aizen.store.accounts); no Scan, no Query of Main
    reads = [
        action
        for statement in policy_of(TEMPLATE, "IngestEventFunction")
        if statement["Resource"] == {"Fn::GetAtt": ["MainTable", "Arn"]}
        for action in _as_list(statement["Action"])
        if action not in ("dynamodb:PutItem", "dynamodb:UpdateItem")
    ]

    assert sorted(reads) == ["dynamodb:BatchGetItem", "dynamodb:GetItem"]
