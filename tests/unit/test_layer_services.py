"""The layer keeps botocore's models and endpoint data only for the services its Makefile names
(AWS_SERVICES, pruned by `layers/aizen/prune_sdk.py`): every service the layer's code asks boto3
for must be one of them. That the built layer's SDK still sends those services' requests where
the full SDK does is checked in `tests/integration/test_sam_build.py`."""

import ast
import json
import re
import shutil
from pathlib import Path

import pytest
from prune_sdk import prune, prune_endpoints

from aizen_local.template import PROJECT_ROOT
from tests.support import BOTOCORE_ENDPOINTS

LAYER = PROJECT_ROOT / "layers" / "aizen"


def _kept_services() -> set[str]:
    match = re.search(r"^AWS_SERVICES = (.+)$", (LAYER / "Makefile").read_text(), re.MULTILINE)
    assert match, "layers/aizen/Makefile names no AWS_SERVICES"
    return set(match.group(1).split())


def _requested_services() -> set[str]:
    requested = set()
    for path in list((LAYER / "aizen").rglob("*.py")) + list((PROJECT_ROOT / "functions").rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text())):
            if (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Attribute)
                and node.func.attr in ("client", "resource")
                and isinstance(node.func.value, ast.Name)
                and node.func.value.id in ("boto3", "session")
            ):
                argument = node.args[0] if node.args else None
                assert isinstance(argument, ast.Constant), f"{path}: a boto3 {node.func.attr} of a computed service"
                requested.add(str(argument.value))
    return requested


def test_every_service_the_code_calls_keeps_its_model_in_the_layer() -> None:
    requested = _requested_services()

    assert requested  # the store's DynamoDB resource at least
    assert requested <= _kept_services()


def test_pruned_endpoint_data_keeps_every_partition_and_the_named_services_only(tmp_path: Path) -> None:
    # Given botocore's endpoints.json
    shutil.copy(BOTOCORE_ENDPOINTS, tmp_path / "endpoints.json")
    partitions = json.loads(BOTOCORE_ENDPOINTS.read_text())["partitions"]

    # When it is pruned the way the layer's build prunes it
    prune_endpoints(tmp_path / "endpoints.json", _kept_services())

    # Then every partition keeps its own data, and the kept services keep their endpoints whole
    pruned = json.loads((tmp_path / "endpoints.json").read_text())["partitions"]
    assert [{name: value for name, value in p.items() if name != "services"} for p in pruned] == [
        {name: value for name, value in p.items() if name != "services"} for p in partitions
    ]
    assert [p["services"] for p in pruned] == [
        {name: p["services"][name] for name in _kept_services()} for p in partitions
    ]


def test_pruning_keeps_the_named_services_models_only(tmp_path: Path) -> None:
    # Given an SDK data layout with three services' models
    for package in ("botocore", "boto3"):
        for service in ("dynamodb", "s3", "sts"):
            (tmp_path / package / "data" / service).mkdir(parents=True)
            (tmp_path / package / "data" / service / "service-2.json").write_text("{}")
    (tmp_path / "botocore" / "data" / "_retry.json").write_text("{}")
    shutil.copy(BOTOCORE_ENDPOINTS, tmp_path / "botocore" / "data")

    # When it is pruned to DynamoDB
    prune(tmp_path, {"dynamodb"})

    # Then only DynamoDB's models and botocore's own files are left
    assert sorted(path.name for path in (tmp_path / "boto3" / "data").iterdir()) == ["dynamodb"]
    assert sorted(path.name for path in (tmp_path / "botocore" / "data").iterdir()) == [
        "_retry.json",
        "dynamodb",
        "endpoints.json",
    ]


def test_pruning_refuses_a_service_without_endpoint_data(tmp_path: Path) -> None:
    shutil.copy(BOTOCORE_ENDPOINTS, tmp_path / "endpoints.json")
    before = (tmp_path / "endpoints.json").read_bytes()

    with pytest.raises(SystemExit, match="no endpoint data for \\['dynamodbb'\\]"):
        prune_endpoints(tmp_path / "endpoints.json", {"dynamodb", "dynamodbb"})

    assert (tmp_path / "endpoints.json").read_bytes() == before
