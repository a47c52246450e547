"""The checked-in sample events drive the real handlers (what `sam local invoke -e` does)."""

import json
from typing import Any

import pytest

from aizen_local.apigw import LocalLambdaContext
from aizen_local.functions import load_handler
from aizen_local.template import PROJECT_ROOT, FunctionSpec, load_template

HTTP_FUNCTIONS = [spec for spec in load_template().functions() if spec.routes]
# No records exist for the samples' placeholder token and session, so each endpoint
# answers with its authentication error; ingestion finds no site for the sample's domain.
EXPECTED = {
    "StatsAggregateFunction": (401, "unauthorized"),
    "StatsTimeseriesFunction": (401, "unauthorized"),
    "StatsBreakdownFunction": (401, "unauthorized"),
    "StatsRealtimeFunction": (401, "unauthorized"),
    "ApiKeysListFunction": (401, "unauthorized"),
    "ApiKeysCreateFunction": (401, "unauthorized"),
    "ApiKeysRevokeFunction": (401, "unauthorized"),
    "GoalsListFunction": (401, "unauthorized"),
    "GoalsCreateFunction": (401, "unauthorized"),
    "GoalsDeleteFunction": (401, "unauthorized"),
    "IngestEventFunction": (404, "not_found"),
}


def test_every_http_function_has_an_expectation() -> None:
    assert set(EXPECTED) == {spec.logical_id for spec in HTTP_FUNCTIONS}


@pytest.mark.parametrize("spec", HTTP_FUNCTIONS, ids=lambda spec: spec.logical_id)
def test_sample_event_reaches_its_route(spec: FunctionSpec) -> None:
    event: dict[str, Any] = json.loads((PROJECT_ROOT / "events" / f"{spec.logical_id}.json").read_text())

    answer = load_handler(spec.logical_id)(event, LocalLambdaContext(function_name=spec.logical_id))

    # Not a "No such route" 404: the handler matched the sample's path and method.
    status, code = EXPECTED[spec.logical_id]
    assert answer["statusCode"] == status
    assert json.loads(answer["body"])["error"]["code"] == code
