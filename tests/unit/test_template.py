"""Facts about template.yaml that the code relies on (routes, runtime, tables, IAM)."""

import ast
from fnmatch import fnmatchcase
from typing import Any

import pytest

from aizen_local.queues import event_source_mappings
from aizen_local.template import PROJECT_ROOT, FunctionSpec, load_template

TEMPLATE = load_template()
FUNCTIONS = {spec.logical_id: spec for spec in TEMPLATE.functions()}
READ_ONLY_ON_EVENTS = [
    "StatsAggregateFunction",
    "StatsTimeseriesFunction",
    "StatsBreakdownFunction",
    "StatsRealtimeFunction",
    "ApiKeysListFunction",
]

EVENTS_ARN = {"Fn::GetAtt": ["EventsTable", "Arn"]}
MAIN_ARN = {"Fn::GetAtt": ["MainTable", "Arn"]}
# SAM policy templates that touch DynamoDB tables, by whether they can write.
SAM_READ_ONLY_TEMPLATES = frozenset({"DynamoDBReadPolicy", "DynamoDBStreamReadPolicy", "DynamoDBDescribePolicy"})
# Every DynamoDB IAM action that changes data or tables; wildcards in a policy are matched against these.
DYNAMODB_WRITE_ACTIONS = (
    "dynamodb:PutItem",
    "dynamodb:UpdateItem",
    "dynamodb:DeleteItem",
    "dynamodb:BatchWriteItem",
    "dynamodb:PartiQLInsert",
    "dynamodb:PartiQLUpdate",
    "dynamodb:PartiQLDelete",
    "dynamodb:CreateTable",
    "dynamodb:UpdateTable",
    "dynamodb:DeleteTable",
    "dynamodb:UpdateTimeToLive",
    "dynamodb:RestoreTableFromBackup",
    "dynamodb:RestoreTableToPointInTime",
    "dynamodb:ImportTable",
)


def _as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def _mentions(resource: Any, table: str) -> bool:
    """Whether an IAM Resource (string, Ref, GetAtt, Sub, Join) can denote `table`."""
    if isinstance(resource, str):
        return resource == "*" or (resource.startswith("arn:aws:dynamodb:") and resource.endswith(":table/*"))
    if isinstance(resource, dict):
        if resource.get("Ref") == table:
            return True
        if "Fn::GetAtt" in resource:
            target = resource["Fn::GetAtt"]
            return (target[0] if isinstance(target, list) else str(target).split(".")[0]) == table
        if "Fn::Sub" in resource:
            template = _as_list(resource["Fn::Sub"])[0]
            return f"${{{table}" in template or ":table/*" in template or template == "*"
        return any(_mentions(part, table) for part in resource.values())
    if isinstance(resource, list):
        return any(_mentions(part, table) for part in resource)
    return False


def _is_write_action(action: str) -> bool:
    return any(fnmatchcase(known.lower(), action.lower()) for known in DYNAMODB_WRITE_ACTIONS)


def write_grants_on(policies: list[Any], table: str) -> list[str]:
    """Why `policies` (a SAM function's Policies) may write to `table`; empty when they cannot."""
    grants: list[str] = []
    for policy in policies:
        if isinstance(policy, str):  # a managed policy name or ARN: only the read-only one is known safe
            if not policy.endswith("AmazonDynamoDBReadOnlyAccess"):
                grants.append(f"managed policy {policy}")
            continue
        for name, value in policy.items():
            if name == "Statement":
                for statement in _as_list(value):
                    if statement.get("Effect") != "Allow" or not _mentions(statement.get("Resource"), table):
                        continue
                    grants.extend(
                        f"{statement.get('Sid', 'statement')}: {action}"
                        for action in _as_list(statement.get("Action", []))
                        if _is_write_action(action)
                    )
            elif name not in SAM_READ_ONLY_TEMPLATES and (
                not isinstance(value, dict) or _mentions(value.get("TableName"), table)
            ):
                grants.append(f"SAM policy template {name}")
    return grants


# Routes and handlers ---------------------------------------------------------------------


def test_the_template_declares_functions_and_routes() -> None:
    assert len(FUNCTIONS) >= 9
    assert len(TEMPLATE.routes()) >= 9


@pytest.mark.parametrize("route", TEMPLATE.routes(), ids=lambda route: route.route_key)
def test_every_route_has_a_function_module_defining_its_handler(route: Any) -> None:
    spec = FUNCTIONS[route.function]

    assert spec.module_path.is_file(), f"{route.route_key}: {spec.module_path} is missing"
    tree = ast.parse(spec.module_path.read_text())
    defined = {
        target.id
        for node in tree.body
        if isinstance(node, ast.Assign)
        for target in node.targets
        if isinstance(target, ast.Name)
    } | {node.name for node in tree.body if isinstance(node, ast.FunctionDef)}
    assert spec.handler_name in defined, f"{spec.module_path} does not define {spec.handler_name}"


def test_route_keys_are_unique() -> None:
    keys = [route.route_key for route in TEMPLATE.routes()]

    assert len(keys) == len(set(keys))


@pytest.mark.parametrize("spec", FUNCTIONS.values(), ids=lambda spec: spec.logical_id)
def test_every_function_module_exists(spec: FunctionSpec) -> None:
    assert spec.module_path.is_file()


# Runtime -----------------------------------------------------------------------------------


def test_globals_set_python313_on_arm64() -> None:
    globals_ = TEMPLATE.raw["Globals"]["Function"]

    assert globals_["Runtime"] == "python3.13"
    assert globals_["Architectures"] == ["arm64"]


@pytest.mark.parametrize("spec", FUNCTIONS.values(), ids=lambda spec: spec.logical_id)
def test_every_function_runs_python313_on_arm64(spec: FunctionSpec) -> None:
    assert spec.properties["Runtime"] == "python3.13"
    assert spec.properties["Architectures"] == ["arm64"]


def test_the_layer_matches_the_functions_runtime() -> None:
    layer = TEMPLATE.resources["AizenLayer"]["Properties"]

    assert "python3.13" in layer["CompatibleRuntimes"]
    assert "arm64" in layer["CompatibleArchitectures"]


# Tables --------------------------------------------------------------------------------------


@pytest.mark.parametrize("table", ["MainTable", "EventsTable"])
def test_tables_have_point_in_time_recovery(table: str) -> None:
    properties = TEMPLATE.tables()[table]

    assert properties["PointInTimeRecoverySpecification"]["PointInTimeRecoveryEnabled"] is True


# Tables whose items include salts (aizen.store.salts): visitor-id salts and the rate-limit salt.
SALT_TABLES = ["SaltsTable"]


@pytest.mark.parametrize("table", SALT_TABLES)
def test_no_backup_of_the_stack_holds_a_salt(table: str) -> None:
    # A restored backup holding salts would let its holder recover the address behind a visitor id
    resource = TEMPLATE.resources[table]
    recovery = resource["Properties"].get("PointInTimeRecoverySpecification", {})

    assert recovery.get("PointInTimeRecoveryEnabled", False) is False
    assert "StreamSpecification" not in resource["Properties"]  # no copy of the items leaves the table
    assert resource["DeletionPolicy"] == "Delete"  # not retained past the stack
    assert {"Key": "aizen:backup", "Value": "never"} in resource["Properties"]["Tags"]
    assert not [name for name, other in TEMPLATE.resources.items() if other["Type"].startswith("AWS::Backup::")]


def test_salts_are_written_only_to_the_salts_table() -> None:
    source = (PROJECT_ROOT / "layers/aizen/aizen/store/salts.py").read_text()

    assert "salts_table()" in source
    assert "main_table" not in source
    assert "events_table" not in source
    assert TEMPLATE.raw["Globals"]["Function"]["Environment"]["Variables"]["AIZEN_SALTS_TABLE"] == {"Ref": "SaltsTable"}


@pytest.mark.parametrize(("table", "attribute"), [("MainTable", "ttl"), ("EventsTable", "x"), ("SaltsTable", "ttl")])
def test_tables_have_ttl_enabled(table: str, attribute: str) -> None:
    ttl = TEMPLATE.tables()[table]["TimeToLiveSpecification"]

    assert ttl["Enabled"] is True
    assert ttl["AttributeName"] == attribute


# Read-only rule -------------------------------------------------------------------------------


@pytest.mark.parametrize("function", READ_ONLY_ON_EVENTS)
def test_read_only_functions_cannot_write_events(function: str) -> None:
    policies = FUNCTIONS[function].properties.get("Policies", [])

    assert policies, f"{function} has no Policies to check"
    assert write_grants_on(policies, "EventsTable") == []


def test_functions_that_write_events_are_detected() -> None:
    # The ingest function writes raw events: the rule must see that in the real template.
    assert write_grants_on(FUNCTIONS["IngestEventFunction"].properties["Policies"], "EventsTable") == [
        "WriteRawEvents: dynamodb:PutItem"
    ]


def test_rollup_writes_on_main_table_are_detected_but_events_stay_read_only() -> None:
    policies = FUNCTIONS["RollupFunction"].properties["Policies"]

    assert write_grants_on(policies, "MainTable") == [
        "ReadAndWriteRollups: dynamodb:PutItem",
        "ReadAndWriteRollups: dynamodb:DeleteItem",
        "ReadAndWriteRollups: dynamodb:BatchWriteItem",
        "CountDayAttempts: dynamodb:UpdateItem",
    ]
    assert write_grants_on(policies, "EventsTable") == []


@pytest.mark.parametrize(
    "policy",
    [
        pytest.param({"DynamoDBCrudPolicy": {"TableName": {"Ref": "EventsTable"}}}, id="crud-template"),
        pytest.param({"DynamoDBWritePolicy": {"TableName": {"Ref": "EventsTable"}}}, id="write-template"),
        pytest.param(
            {"Statement": [{"Effect": "Allow", "Action": "dynamodb:PutItem", "Resource": EVENTS_ARN}]},
            id="put-on-getatt",
        ),
        pytest.param(
            {"Statement": [{"Effect": "Allow", "Action": ["dynamodb:GetItem", "dynamodb:Update*"], "Resource": "*"}]},
            id="wildcard-action-any-resource",
        ),
        pytest.param(
            {"Statement": {"Effect": "Allow", "Action": "dynamodb:*", "Resource": {"Fn::Sub": "${EventsTable.Arn}"}}},
            id="service-wildcard-on-sub",
        ),
        pytest.param(
            {"Statement": [{"Effect": "Allow", "Action": "*", "Resource": [{"Fn::GetAtt": "EventsTable.Arn"}]}]},
            id="star",
        ),
        pytest.param("AmazonDynamoDBFullAccess", id="managed-policy"),
    ],
)
def test_write_grants_on_events_are_detected(policy: Any) -> None:
    assert write_grants_on([policy], "EventsTable") != []


@pytest.mark.parametrize(
    "policy",
    [
        pytest.param({"DynamoDBReadPolicy": {"TableName": {"Ref": "EventsTable"}}}, id="read-template"),
        pytest.param({"DynamoDBCrudPolicy": {"TableName": {"Ref": "MainTable"}}}, id="crud-on-other-table"),
        pytest.param(
            {"Statement": [{"Effect": "Allow", "Action": "dynamodb:PutItem", "Resource": MAIN_ARN}]},
            id="put-on-other-table",
        ),
        pytest.param(
            {"Statement": [{"Effect": "Allow", "Action": ["dynamodb:GetItem", "dynamodb:Query"], "Resource": "*"}]},
            id="reads-anywhere",
        ),
        pytest.param(
            {"Statement": [{"Effect": "Deny", "Action": "dynamodb:PutItem", "Resource": "*"}]},
            id="deny",
        ),
    ],
)
def test_read_grants_are_not_mistaken_for_writes(policy: Any) -> None:
    assert write_grants_on([policy], "EventsTable") == []


@pytest.mark.parametrize("function", ["StatsAggregateFunction", "StatsTimeseriesFunction", "StatsBreakdownFunction"])
def test_the_stats_functions_that_read_ranges_get_a_full_vcpu(function: str) -> None:
    # Raw reads are CPU-bound; Lambda gives one vCPU at 1,769 MB (docs/performance.md, Lambda sizing)
    assert FUNCTIONS[function].properties["MemorySize"] == 1769


# The local stack's queues ----------------------------------------------------------------------


def test_the_local_stack_gives_each_dispatcher_its_queue_and_plays_each_event_source_mapping() -> None:
    template = load_template()

    assert template.queue_variables() == {
        "AIZEN_ROLLUP_QUEUE_URL": "RollupQueue",
        "AIZEN_COMPACTION_QUEUE_URL": "CompactionQueue",
    }
    assert sorted(event_source_mappings(template)) == [
        ("CompactionQueue", "CompactionFunction", 1),
        ("RollupQueue", "RollupFunction", 1),
    ]
    scheduled = {spec.logical_id: spec.schedules for spec in template.functions() if spec.schedules}
    assert scheduled == {
        "RollupDispatchFunction": ("rate(1 hour)",),
        "CompactionDispatchFunction": ("rate(15 minutes)",),
    }
