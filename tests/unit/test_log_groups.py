"""Every function logs to a log group of the template with a retention (docs/operations.md, Logs)."""

from typing import Any

import pytest

from aizen_local.template import FunctionSpec, load_template

TEMPLATE = load_template()
FUNCTIONS = {spec.logical_id: spec for spec in TEMPLATE.functions()}
LOG_GROUPS: dict[str, dict[str, Any]] = {
    logical_id: resource.get("Properties", {})
    for logical_id, resource in TEMPLATE.resources.items()
    if resource["Type"] == "AWS::Logs::LogGroup"
}
# The values CloudWatch Logs accepts for RetentionInDays (PutRetentionPolicy).
CLOUDWATCH_RETENTION_DAYS = [1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827]
CLOUDWATCH_RETENTION_DAYS += [2192, 2557, 2922, 3288, 3653]


def _log_group_of(spec: FunctionSpec) -> str:
    reference = spec.properties.get("LoggingConfig", {}).get("LogGroup")
    assert isinstance(reference, dict), f"{spec.logical_id}: LoggingConfig.LogGroup is {reference!r}"
    assert set(reference) == {"Ref"}, f"{spec.logical_id}: LoggingConfig.LogGroup must Ref a template log group"
    name: str = reference["Ref"]
    return name


@pytest.mark.parametrize("spec", FUNCTIONS.values(), ids=lambda spec: spec.logical_id)
def test_every_function_logs_to_a_template_log_group_with_the_retention_parameter(spec: FunctionSpec) -> None:
    group = _log_group_of(spec)

    assert group in LOG_GROUPS, f"{spec.logical_id} logs to {group}, which is not an AWS::Logs::LogGroup"
    assert LOG_GROUPS[group]["RetentionInDays"] == {"Ref": "LogRetentionDays"}


def test_each_function_has_a_log_group_of_its_own_and_no_group_is_unused() -> None:
    groups = [_log_group_of(spec) for spec in FUNCTIONS.values()]

    assert len(groups) == len(set(groups))
    assert set(groups) == set(LOG_GROUPS)


def test_the_retention_parameter_defaults_to_30_days_and_allows_what_cloudwatch_allows() -> None:
    parameter = TEMPLATE.raw["Parameters"]["LogRetentionDays"]

    assert parameter["Type"] == "Number"
    assert parameter["Default"] == 30
    assert parameter["AllowedValues"] == CLOUDWATCH_RETENTION_DAYS


@pytest.mark.parametrize("spec", FUNCTIONS.values(), ids=lambda spec: spec.logical_id)
def test_every_function_keeps_the_role_sam_creates_so_it_can_write_its_logs(spec: FunctionSpec) -> None:
    # Without `Role`, SAM creates the function's role with AWSLambdaBasicExecutionRole, whose
    # logs:CreateLogStream and logs:PutLogEvents apply to every log group, the template's included.
    assert "Role" not in spec.properties
    for policy in spec.properties.get("Policies", []):
        statements = policy.get("Statement", []) if isinstance(policy, dict) else []
        for statement in statements if isinstance(statements, list) else [statements]:
            assert statement.get("Effect") != "Deny", f"{spec.logical_id}: {statement.get('Sid')} denies something"
