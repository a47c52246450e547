"""A function's init (its module import, once per execution environment) does only what
requests need: no X-Ray SDK, no pydantic-settings, no validator of a model it never uses
(docs/performance.md, Cold start)."""

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
        **load_template().function_environment({"MainTable": "main", "EventsTable": "events"}),
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
def test_importing_a_function_loads_neither_the_xray_sdk_nor_pydantic_settings(spec: FunctionSpec) -> None:
    loaded = _import_app(spec, "print(json.dumps(sorted(sys.modules)))")

    assert not [name for name in loaded if name.startswith(("aws_xray_sdk", "pydantic_settings", "dotenv"))]


@pytest.mark.parametrize("spec", STATS, ids=lambda spec: spec.logical_id)
def test_a_stats_function_builds_no_validator_at_import(spec: FunctionSpec) -> None:
    # The records and query-parameter models build on first use: the request that needs them
    built = _import_app(
        spec,
        "from aizen import models\n"
        "from aizen.query import params\n"
        "classes = [getattr(module, name) for module in (models, params) for name in dir(module)]\n"
        "print(json.dumps(sorted(c.__name__ for c in classes\n"
        "    if isinstance(c, type) and getattr(c, '__pydantic_complete__', False))))",
    )

    assert built == []
