"""Traffic-shifting deploys (docs/operations.md, Deploy and roll back): every function publishes a
version behind the alias `live`, and CodeDeploy shifts the HTTP functions' alias and rolls it back on alarms."""

import json
import os
import re
import subprocess
from functools import cache
from typing import Any

import pytest

from aizen_local.template import PROJECT_ROOT, FunctionSpec, load_template

TEMPLATE = load_template()
FUNCTIONS = {spec.logical_id: spec for spec in TEMPLATE.functions()}
HTTP_FUNCTIONS = [spec for spec in FUNCTIONS.values() if spec.routes]
ALIAS = "live"
# CodeDeploy's predefined Lambda deployment configurations (CodeDeployDefault.Lambda<name>).
CODEDEPLOY_LAMBDA_CONFIGS = {
    "AllAtOnce",
    *(f"Canary10Percent{minutes}Minutes" for minutes in (5, 10, 15, 30)),
    "Linear10PercentEvery1Minute",
    *(f"Linear10PercentEvery{minutes}Minutes" for minutes in (2, 3, 10)),
}
TOOLS_PYTHON = PROJECT_ROOT / ".venv-tools" / "bin" / "python"
SAM_SEPARATE_RESOURCES = ("Events", "DeploymentPreference")


def _references(value: Any) -> set[str]:
    """Logical ids (or parameters) that a property value names through Ref, GetAtt or Sub."""
    found: set[str] = set()
    if isinstance(value, dict):
        for key, inner in value.items():
            if key == "Ref" and isinstance(inner, str):
                found.add(inner)
            elif key == "Fn::GetAtt":
                found.add(inner[0] if isinstance(inner, list) else str(inner).split(".")[0])
            elif key == "Fn::Sub":
                text, variables = (inner, {}) if isinstance(inner, str) else (inner[0], inner[1])
                found.update(name.split(".")[0] for name in re.findall(r"\$\{([^}!]+)\}", text))
                found.update(_references(variables))
            else:
                found.update(_references(inner))
    elif isinstance(value, list):
        for inner in value:
            found.update(_references(inner))
    return found


def _dependencies(resources: dict[str, Any], logical_id: str) -> set[str]:
    """Every resource `logical_id` depends on, directly or not (references anywhere in it, DependsOn).
    A SAM function's Events and DeploymentPreference become resources of their own (permissions, rules,
    deployment groups) that depend on the function, not the other way round: they are left out."""
    seen: set[str] = set()
    pending = [logical_id]
    while pending:
        resource = resources[pending.pop()]
        depends_on = resource.get("DependsOn", [])
        properties = resource.get("Properties", {})
        if resource["Type"] == "AWS::Serverless::Function":
            properties = {key: value for key, value in properties.items() if key not in SAM_SEPARATE_RESOURCES}
        named = _references({**resource, "Properties": properties, "Type": None})
        named.update(depends_on if isinstance(depends_on, list) else [depends_on])
        for name in named & resources.keys():
            if name not in seen:
                seen.add(name)
                pending.append(name)
    return seen


def _deployment_alarms(spec: FunctionSpec) -> list[Any]:
    """The alarms of the function's DeploymentPreference when rollbacks on alarms are on."""
    alarms = spec.properties["DeploymentPreference"]["Alarms"]
    condition, when_on, when_off = alarms["Fn::If"]
    assert condition == "RollBackOnAlarms"
    assert when_off == [{"Ref": "AWS::NoValue"}]
    assert isinstance(when_on, list)
    return when_on


def _alarm_reading(namespace: str, metric: str, dimension: dict[str, Any]) -> str:
    """The one alarm that reads `metric` with `dimension`, single-metric or metric math."""
    found = []
    for logical_id, resource in TEMPLATE.resources.items():
        if resource["Type"] != "AWS::CloudWatch::Alarm":
            continue
        alarm = resource["Properties"]
        stats = (
            [alarm]
            if "MetricName" in alarm
            else [q["MetricStat"]["Metric"] for q in alarm["Metrics"] if "MetricStat" in q]
        )
        if any(
            (s["Namespace"], s["MetricName"]) == (namespace, metric) and dimension in s["Dimensions"] for s in stats
        ):
            found.append(logical_id)
    (logical_id,) = found
    return logical_id


# The alias ---------------------------------------------------------------------------------------


def test_every_function_publishes_a_version_behind_the_alias_live() -> None:
    assert TEMPLATE.raw["Globals"]["Function"]["AutoPublishAlias"] == ALIAS
    aliases = {spec.logical_id: spec.properties["AutoPublishAlias"] for spec in FUNCTIONS.values()}

    assert aliases == dict.fromkeys(FUNCTIONS, ALIAS)


# The deployment preference of the HTTP functions -------------------------------------------------


def test_there_are_http_functions() -> None:
    assert len(HTTP_FUNCTIONS) >= 8


@pytest.mark.parametrize("spec", HTTP_FUNCTIONS, ids=lambda spec: spec.logical_id)
def test_every_http_function_shifts_traffic_with_the_deployment_type_parameter(spec: FunctionSpec) -> None:
    preference = spec.properties["DeploymentPreference"]

    assert preference.get("Enabled", True) is True
    assert preference["Type"] == {"Fn::Sub": "CodeDeployDefault.Lambda${DeploymentType}"}


@pytest.mark.parametrize("spec", HTTP_FUNCTIONS, ids=lambda spec: spec.logical_id)
def test_every_http_function_rolls_back_on_the_5xx_alarm_and_its_own_errors_alarm(spec: FunctionSpec) -> None:
    api_5xx = _alarm_reading("AWS/ApiGateway", "5xx", {"Name": "ApiId", "Value": {"Ref": "AizenHttpApi"}})
    errors = _alarm_reading("AWS/Lambda", "Errors", {"Name": "FunctionName", "Value": {"Ref": spec.logical_id}})

    # The 5xx alarm by its name (no Ref: see the next test), the function's errors alarm by Ref.
    assert _deployment_alarms(spec) == [TEMPLATE.resources[api_5xx]["Properties"]["AlarmName"], {"Ref": errors}]


@pytest.mark.parametrize("spec", HTTP_FUNCTIONS, ids=lambda spec: spec.logical_id)
def test_no_deployment_alarm_depends_on_the_http_api(spec: FunctionSpec) -> None:
    # SAM points the API's integrations at the alias, and the alias's UpdatePolicy names the deployment
    # group, which references its alarms: an alarm that depends on the API closes a circular dependency.
    resources = TEMPLATE.resources
    for alarm in _deployment_alarms(spec):
        for logical_id in _references(alarm) & resources.keys():
            assert "AizenHttpApi" not in _dependencies(resources, logical_id) | {logical_id}, logical_id


def test_the_deployment_type_is_a_codedeploy_lambda_configuration_and_defaults_to_a_canary() -> None:
    parameter = TEMPLATE.raw["Parameters"]["DeploymentType"]

    assert set(parameter["AllowedValues"]) <= CODEDEPLOY_LAMBDA_CONFIGS
    assert "AllAtOnce" in parameter["AllowedValues"]
    assert parameter["Default"] == "Canary10Percent10Minutes"


def test_rollbacks_on_alarms_are_on_unless_the_parameter_turns_them_off() -> None:
    assert TEMPLATE.raw["Parameters"]["DeploymentAlarms"]["Default"] == "true"
    assert TEMPLATE.raw["Conditions"]["RollBackOnAlarms"] == {"Fn::Equals": [{"Ref": "DeploymentAlarms"}, "true"]}


# What SAM makes of it (the SAM translator of .venv-tools, offline) ------------------------------

TRANSLATE = """
import json, sys
from samtranslator.translator.transform import transform
from samtranslator.yaml_helper import yaml_parse

class Policies:
    def load(self):
        names = ["service-role/AWSLambdaBasicExecutionRole", "AWSXrayWriteOnlyAccess"]
        names.append("service-role/AWSCodeDeployRoleForLambda")
        return {name.split("/")[-1]: "arn:aws:iam::aws:policy/" + name for name in names}

template = yaml_parse(sys.stdin.read())
for resource in template["Resources"].values():
    properties = resource.get("Properties", {})
    for key in ("CodeUri", "ContentUri"):
        if isinstance(properties.get(key), str):
            properties[key] = "s3://bucket/" + properties[key].strip("/")
json.dump(transform(template, {}, Policies()), sys.stdout)
"""


@cache
def _translated() -> dict[str, Any]:
    if not TOOLS_PYTHON.exists():
        pytest.skip("no .venv-tools (make install creates it)")
    result = subprocess.run(
        [str(TOOLS_PYTHON), "-c", TRANSLATE],
        input=(PROJECT_ROOT / "template.yaml").read_text(),
        capture_output=True,
        text=True,
        env={**os.environ, "AWS_DEFAULT_REGION": "us-east-1"},
        check=True,
    )
    translated: dict[str, Any] = json.loads(result.stdout)
    return translated


def _cycles(resources: dict[str, Any]) -> list[list[str]]:
    """Circular dependencies between resources, UpdatePolicy references included (CloudFormation counts them)."""
    graph = {logical_id: _references(resource) & resources.keys() for logical_id, resource in resources.items()}
    cycles: list[list[str]] = []
    state: dict[str, str] = {}

    def visit(node: str, path: list[str]) -> None:
        state[node] = "open"
        for target in sorted(graph[node]):
            if state.get(target) == "open":
                cycles.append([*path[path.index(target) :], node, target] if target in path else [node, target])
            elif target not in state:
                visit(target, [*path, node])
        state[node] = "done"

    for node in sorted(graph):
        if node not in state:
            visit(node, [])
    return cycles


def test_the_translated_template_has_no_circular_dependency() -> None:
    assert _cycles(_translated()["Resources"]) == []


@pytest.mark.parametrize("spec", HTTP_FUNCTIONS, ids=lambda spec: spec.logical_id)
def test_api_gateway_invokes_the_alias_and_codedeploy_shifts_it(spec: FunctionSpec) -> None:
    resources = _translated()["Resources"]
    alias = f"{spec.logical_id}Alias{ALIAS}"
    integrations = [
        operation["x-amazon-apigateway-integration"]["uri"]["Fn::Sub"]
        for path in resources["AizenHttpApi"]["Properties"]["Body"]["paths"].values()
        for operation in path.values()
        if f"${{{spec.logical_id}" in json.dumps(operation["x-amazon-apigateway-integration"]["uri"])
    ]
    group = resources[resources[alias]["UpdatePolicy"]["CodeDeployLambdaAliasUpdate"]["DeploymentGroupName"]["Ref"]]

    assert len(integrations) == len(spec.routes)
    assert all(f"${{{alias}}}" in uri for uri in integrations)
    assert group["Properties"]["AutoRollbackConfiguration"]["Events"] == [
        "DEPLOYMENT_FAILURE",
        "DEPLOYMENT_STOP_ON_ALARM",
        "DEPLOYMENT_STOP_ON_REQUEST",
    ]
    alarms = group["Properties"]["AlarmConfiguration"]["Fn::If"][1]["Alarms"]
    assert [alarm["Name"] for alarm in alarms] == _deployment_alarms(spec)


def test_the_rollup_schedule_and_queue_invoke_the_alias() -> None:
    resources = _translated()["Resources"]
    (target,) = resources["RollupDispatchFunctionSchedule"]["Properties"]["Targets"]
    mapping = resources["RollupFunctionQueueMapping"]["Properties"]

    assert target["Arn"] == {"Ref": f"RollupDispatchFunctionAlias{ALIAS}"}
    assert resources["RollupDispatchFunctionSchedulePermission"]["Properties"]["FunctionName"] == target["Arn"]
    assert mapping["FunctionName"] == {"Ref": f"RollupFunctionAlias{ALIAS}"}
    assert mapping["EventSourceArn"] == {"Fn::GetAtt": ["RollupQueue", "Arn"]}


def test_the_compaction_schedule_and_queue_invoke_the_alias() -> None:
    resources = _translated()["Resources"]
    (target,) = resources["CompactionDispatchFunctionSchedule"]["Properties"]["Targets"]
    mapping = resources["CompactionFunctionQueueMapping"]["Properties"]

    assert target["Arn"] == {"Ref": f"CompactionDispatchFunctionAlias{ALIAS}"}
    assert mapping["FunctionName"] == {"Ref": f"CompactionFunctionAlias{ALIAS}"}
    assert mapping["EventSourceArn"] == {"Fn::GetAtt": ["CompactionQueue", "Arn"]}
