"""The edge in front of the HTTP API (template.yaml, docs/deploying.md): CloudFront with an AWS WAF
web ACL whose rate-based rule refuses a flood from one address before it reaches API Gateway,
where every client shares the stage throttle. On by default (production), off for a dev stack."""

import tomllib
from typing import Any

import pytest

from aizen_local.template import PROJECT_ROOT, load_template

TEMPLATE = load_template()
RESOURCES = TEMPLATE.resources
DEFAULTS = TEMPLATE.parameter_defaults()
CACHING_DISABLED = "4135ea2d-6df8-44a3-9df3-4b5a84be39ad"  # Managed-CachingDisabled
ALL_VIEWER_EXCEPT_HOST = "b689b0a8-53d0-40ab-baf2-68738e2966ac"  # Managed-AllViewerExceptHostHeader


def _value(expression: Any, parameters: dict[str, str], region: str) -> Any:
    """A Rules or Conditions expression of the template, under these parameters and Region."""
    if not isinstance(expression, dict):
        return expression
    [(function, argument)] = expression.items()
    if function == "Ref":
        return region if argument == "AWS::Region" else {**DEFAULTS, **parameters}[argument]
    if function == "Condition":
        return _value(TEMPLATE.raw["Conditions"][argument], parameters, region)
    values = [_value(part, parameters, region) for part in argument]
    if function == "Fn::Equals":
        return values[0] == values[1]
    if function == "Fn::Not":
        return not values[0]
    if function == "Fn::And":
        return all(values)
    if function == "Fn::Or":
        return any(values)
    raise AssertionError(f"{function} is not understood here")


def _refused_by(parameters: dict[str, str], region: str = "us-east-1") -> list[str]:
    """The template's Rules whose assertions fail: CloudFormation refuses the deploy, naming them."""
    return [
        name
        for name, rule in TEMPLATE.raw["Rules"].items()
        if _value(rule.get("RuleCondition", True), parameters, region)
        and not all(_value(assertion["Assert"], parameters, region) for assertion in rule["Assertions"])
    ]


def _condition(name: str, parameters: dict[str, str], region: str = "us-east-1") -> bool:
    return bool(_value(TEMPLATE.raw["Conditions"][name], parameters, region))


PRODUCTION = {"TrustCloudFrontViewerHeaders": "true", "CloudFrontOriginSecret": "s" * 43}


def test_the_edge_is_on_by_default_and_the_production_config_deploys_it() -> None:
    samconfig = tomllib.loads((PROJECT_ROOT / "samconfig.toml").read_text())
    production = samconfig["default"]["deploy"]["parameters"]["parameter_overrides"]
    dev = samconfig["dev"]["deploy"]["parameters"]["parameter_overrides"]

    assert DEFAULTS["EdgeProtection"] == "true"
    assert 'EdgeProtection="true"' in production
    assert 'TrustCloudFrontViewerHeaders="true"' in production
    assert 'EdgeProtection="false"' in dev
    assert "CloudFrontOriginSecret" not in production + dev  # a secret is never committed
    assert TEMPLATE.raw["Parameters"]["CloudFrontOriginSecret"]["NoEcho"] is True


@pytest.mark.parametrize(
    ("parameters", "region", "refused"),
    [
        (PRODUCTION, "us-east-1", []),
        (PRODUCTION, "eu-central-1", ["EdgeWebAclOutsideUsEast1"]),
        ({**PRODUCTION, "EdgeWebAclArn": "arn:aws:wafv2:us-east-1:1:global/webacl/x/y"}, "eu-central-1", []),
        ({}, "us-east-1", ["EdgeNeedsTheViewersAddress"]),  # the template's defaults alone: say what is missing
        ({"EdgeProtection": "false"}, "eu-central-1", []),  # a dev stack
    ],
)
def test_a_deploy_is_refused_when_the_edge_could_not_work(
    parameters: dict[str, str], region: str, refused: list[str]
) -> None:
    assert _refused_by(parameters, region) == refused


@pytest.mark.parametrize(
    ("parameters", "region", "creates_web_acl"),
    [
        (PRODUCTION, "us-east-1", True),
        ({**PRODUCTION, "EdgeWebAclArn": "arn:aws:wafv2:us-east-1:1:global/webacl/x/y"}, "us-east-1", False),
        ({**PRODUCTION, "EdgeWebAclArn": "arn:aws:wafv2:us-east-1:1:global/webacl/x/y"}, "eu-central-1", False),
        ({"EdgeProtection": "false"}, "us-east-1", False),
    ],
)
def test_the_stack_creates_its_web_acl_only_in_us_east_1_and_only_without_one_given(
    parameters: dict[str, str], region: str, creates_web_acl: bool
) -> None:
    assert RESOURCES["EdgeWebAcl"]["Condition"] == "CreateEdgeWebAcl"
    assert _condition("CreateEdgeWebAcl", parameters, region) is creates_web_acl


def test_the_web_acl_refuses_an_address_over_its_rate_at_the_edge() -> None:
    web_acl = RESOURCES["EdgeWebAcl"]["Properties"]
    [rule] = web_acl["Rules"]

    assert web_acl["Scope"] == "CLOUDFRONT"
    assert web_acl["DefaultAction"] == {"Allow": {}}
    assert rule["Statement"]["RateBasedStatement"] == {
        "AggregateKeyType": "IP",
        "EvaluationWindowSec": 60,
        "Limit": {"Ref": "EdgeRequestsPerMinutePerAddress"},
    }
    assert rule["Action"] == {"Block": {"CustomResponse": {"ResponseCode": 429}}}


def test_the_edge_never_refuses_a_client_within_its_per_ip_windows_and_one_address_cannot_fill_the_stage() -> None:
    per_address = int(DEFAULTS["EdgeRequestsPerMinutePerAddress"])
    ip_window = int(DEFAULTS["IpLimitPerMinute"])

    # A client within our windows sends its API window, as many events and a preflight for each
    assert per_address >= 3 * ip_window
    # What one address gets through the edge is a small part of the second every client shares
    assert per_address / 60 <= int(DEFAULTS["ApiThrottlingRateLimit"]) / 10


def test_the_distribution_sends_every_request_to_the_api_uncached_with_what_the_api_reads() -> None:
    distribution = RESOURCES["EdgeDistribution"]
    config = distribution["Properties"]["DistributionConfig"]
    [origin] = config["Origins"]
    behavior = config["DefaultCacheBehavior"]

    assert distribution["Condition"] == "EdgeOn"
    assert config["WebACLId"] == {
        "Fn::If": ["CreateEdgeWebAcl", {"Fn::GetAtt": ["EdgeWebAcl", "Arn"]}, {"Ref": "EdgeWebAclArn"}]
    }
    assert origin["DomainName"] == {"Fn::Sub": "${AizenHttpApi}.execute-api.${AWS::Region}.${AWS::URLSuffix}"}
    assert origin["CustomOriginConfig"]["OriginProtocolPolicy"] == "https-only"
    assert behavior["TargetOriginId"] == origin["Id"]
    assert set(behavior["AllowedMethods"]) == {"GET", "HEAD", "OPTIONS", "PUT", "PATCH", "POST", "DELETE"}
    assert behavior["CachePolicyId"] == CACHING_DISABLED
    # Authorization, Cookie, Origin, every query string, CloudFront-Viewer-*; never the viewer's Host
    assert behavior["OriginRequestPolicyId"] == ALL_VIEWER_EXCEPT_HOST
    assert behavior["ViewerProtocolPolicy"] == "https-only"


def test_the_distribution_proves_itself_to_the_functions_with_the_origin_secret() -> None:
    [origin] = RESOURCES["EdgeDistribution"]["Properties"]["DistributionConfig"]["Origins"]

    assert origin["OriginCustomHeaders"] == {
        "Fn::If": [
            "HasOriginSecret",
            [{"HeaderName": "X-Aizen-Origin-Verify", "HeaderValue": {"Ref": "CloudFrontOriginSecret"}}],
            {"Ref": "AWS::NoValue"},
        ]
    }


def test_the_edge_url_is_an_output_of_a_stack_with_the_edge() -> None:
    output = TEMPLATE.raw["Outputs"]["EdgeUrl"]

    assert output["Condition"] == "EdgeOn"
    assert output["Value"] == {"Fn::Sub": "https://${EdgeDistribution.DomainName}"}
