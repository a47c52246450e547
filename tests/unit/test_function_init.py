"""A function's init (its module import, once per execution environment) does only what
requests need: no X-Ray SDK, no pydantic-settings, and for stats functions no pydantic and no
router (docs/performance.md, Cold start)."""

import json
import subprocess
import sys
from typing import Any

import pytest

from aizen_local.template import PROJECT_ROOT, FunctionSpec, load_template

SAMPLED = "Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=1"
FUNCTIONS = load_template().functions()
STATS = [spec for spec in FUNCTIONS if spec.logical_id.startswith("Stats")]


def _import_app(spec: FunctionSpec, probe: str) -> Any:
    """`probe`'s JSON output after importing the function's module in a fresh interpreter, as on Lambda."""
    environment = {
        **load_template().function_environment({"MainTable": "main", "EventsTable": "events", "SaltsTable": "salts"}),
        "AWS_DEFAULT_REGION": "us-east-1",
        "LAMBDA_TASK_ROOT": str(spec.code_uri),
        "_X_AMZN_TRACE_ID": SAMPLED,
    }
    result = subprocess.run(
        [sys.executable, "-c", f"import json, sys, app\n{probe}"],
        cwd=spec.code_uri,
        env={"PATH": "", "PYTHONPATH": f"{spec.code_uri}:{PROJECT_ROOT / 'layers' / 'aizen'}", **environment},
        capture_output=True,
        text=True,
        check=True,
    )
    return json.loads(result.stdout)


@pytest.mark.parametrize("spec", FUNCTIONS, ids=lambda spec: spec.logical_id)
def test_importing_a_function_loads_no_xray_sdk_no_pydantic_settings_and_no_router(spec: FunctionSpec) -> None:
    loaded = _import_app(spec, "print(json.dumps(sorted(sys.modules)))")

    unneeded = ("aws_xray_sdk", "pydantic_settings", "dotenv", "aws_lambda_powertools.event_handler")
    assert not [name for name in loaded if name.startswith(unneeded)]


@pytest.mark.parametrize("spec", STATS, ids=lambda spec: spec.logical_id)
def test_a_stats_function_imports_neither_pydantic_nor_the_powertools_resolvers(spec: FunctionSpec) -> None:
    # Both would break the stats functions' cold-start target: see aizen.http, aizen.settings, aizen.models
    loaded = _import_app(spec, "print(json.dumps(sorted(sys.modules)))")

    assert not [name for name in loaded if name.startswith(("pydantic", "aws_lambda_powertools.event_handler"))]
    assert not [name for name in loaded if name.split(".")[0] == "asyncio"]


def test_ingestion_sets_up_no_user_agent_parser_at_init() -> None:
    # ua-parser and its rules are set up at the first user agent (docs/performance.md, Ingestion)
    [ingest] = [spec for spec in FUNCTIONS if spec.logical_id == "IngestEventFunction"]
    loaded = _import_app(ingest, "print(json.dumps(sorted(sys.modules)))")

    assert [name for name in loaded if name.startswith(("ua_parser", "user_agents"))] == []


def test_ingestion_imports_no_pydantic() -> None:
    # Its body is read by aizen.ingest.wire; the size check lives in aizen.bodies, apart from aizen.validation
    (spec,) = [spec for spec in FUNCTIONS if spec.logical_id == "IngestEventFunction"]
    loaded = _import_app(spec, "print(json.dumps(sorted(sys.modules)))")

    assert not [name for name in loaded if name.split(".")[0] in ("pydantic", "pydantic_core")]
    assert "aizen.validation" not in loaded
