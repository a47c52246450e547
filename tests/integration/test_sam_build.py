"""What `sam build` produced (`make test` builds before running pytest).

The layer must be arm64 (sam build silently builds x86_64 without
BuildArchitecture) and must ship bytecode (Lambda's /opt is read-only, and a
layer without .pyc files cold-starts several times slower).
"""

import json
import os
import struct
import subprocess
import sys
from pathlib import Path

import pytest

from aizen_local.template import PROJECT_ROOT, load_template
from tests.support import BOTOCORE_ENDPOINTS

BUILD = PROJECT_ROOT / ".aws-sam" / "build"
LAYER = BUILD / "AizenLayer" / "python"
EM_AARCH64 = 183
PYC_UNCHECKED_HASH = 0b01

pytestmark = [
    pytest.mark.build,
    pytest.mark.skipif(
        not BUILD.exists() and os.environ.get("AIZEN_REQUIRE_BUILD") != "1",
        reason="no .aws-sam/build: run `make build` (make test always does)",
    ),
]


def _elf_machine(path: Path) -> int:
    header = path.read_bytes()[:20]
    assert header[:4] == b"\x7fELF", f"{path} is not an ELF file"
    byte_order = "<" if header[5] == 1 else ">"
    return int(struct.unpack(f"{byte_order}H", header[18:20])[0])


def test_every_compiled_module_is_aarch64() -> None:
    shared_objects = list(BUILD.rglob("*.so")) + list(BUILD.rglob("*.so.*"))

    assert shared_objects, "expected compiled modules (pydantic-core, wrapt) in the build"
    wrong = [str(path.relative_to(BUILD)) for path in shared_objects if _elf_machine(path) != EM_AARCH64]
    assert wrong == []


def test_layer_ships_unchecked_hash_bytecode_for_every_module() -> None:
    sources = [path for path in LAYER.rglob("*.py") if "/bin/" not in str(path)]
    missing, checked = [], []
    for source in sources:
        compiled = source.parent / "__pycache__" / f"{source.stem}.cpython-313.pyc"
        if not compiled.exists():
            missing.append(str(source.relative_to(LAYER)))
            continue
        flags = int.from_bytes(compiled.read_bytes()[4:8], "little")
        if flags != PYC_UNCHECKED_HASH:
            checked.append(str(compiled.relative_to(LAYER)))

    assert sources
    assert missing == []
    assert checked == []


def test_layer_holds_the_aizen_package_and_pinned_requirements() -> None:
    pins = [
        line.split("[")[0].split("==")[0].lower().replace("-", "_")
        for line in (PROJECT_ROOT / "layers" / "aizen" / "requirements.txt").read_text().splitlines()
        if line and not line.startswith("#")
    ]
    installed = {path.name.split("-")[0].lower() for path in LAYER.glob("*.dist-info")}

    assert (LAYER / "aizen" / "http.py").exists()
    assert set(pins) <= installed


def test_every_function_is_built_with_its_handler() -> None:
    for spec in load_template().functions():
        assert (BUILD / spec.logical_id / spec.module_path.name).exists(), spec.logical_id


def test_layer_ships_only_the_models_of_the_aws_services_the_functions_call() -> None:
    for data in (LAYER / "botocore" / "data", LAYER / "boto3" / "data"):
        assert sorted(path.name for path in data.iterdir() if path.is_dir()) == ["dynamodb", "sqs"], data
    # botocore's own configuration stays: endpoints, partitions, retries, defaults
    kept = {path.name for path in (LAYER / "botocore" / "data").iterdir() if path.is_file()}
    assert {"endpoints.json", "partitions.json", "_retry.json", "sdk-default-configuration.json"} <= kept


def test_the_layers_sdk_builds_the_store_connection() -> None:
    # The layer's boto3 and botocore are pure Python; its compiled modules are arm64, so
    # this imports only the SDK from it, in an interpreter that sees nothing else.
    script = (
        "import sys; sys.path.insert(0, sys.argv[1]); import boto3; "
        "assert boto3.__file__.startswith(sys.argv[1]), boto3.__file__; "
        "table = boto3.resource('dynamodb', region_name='us-east-1').Table('t'); "
        "print(table.meta.client.meta.service_model.service_name); "
        "print(boto3.client('sqs', region_name='us-east-1').meta.service_model.service_name)"
    )

    answer = subprocess.run(
        [sys.executable, "-I", "-c", script, str(LAYER)], capture_output=True, text=True, check=False
    )

    assert answer.returncode == 0, answer.stderr
    assert answer.stdout.split() == ["dynamodb", "sqs"]  # the store, and the rollup dispatcher's queue


def _dynamodb_requests(sdk_paths: list[Path], regions: list[str]) -> tuple[Path, dict[str, list[str]]]:
    """`tests.sdk_requests` in a clean interpreter that imports boto3 from `sdk_paths` first:
    the botocore it used, and its requests."""
    paths = [*map(str, sdk_paths), str(PROJECT_ROOT)]
    script = f"import sys; sys.path[:0] = {paths!r}; from tests.sdk_requests import main; main(sys.argv[1:])"
    answer = subprocess.run(
        [sys.executable, "-I", "-c", script, *regions],
        capture_output=True,
        text=True,
        check=False,
        env={"PATH": os.environ["PATH"]},
    )
    assert answer.returncode == 0, answer.stderr
    answered = json.loads(answer.stdout)
    return Path(answered["botocore"]), answered["requests"]


def test_the_layers_pruned_sdk_addresses_and_signs_requests_like_the_full_sdk() -> None:
    # Given every region of every partition, and DynamoDB's own endpoint names ("local", "*-fips")
    partitions = json.loads(BOTOCORE_ENDPOINTS.read_text())["partitions"]
    regions = sorted(
        {region for partition in partitions for region in partition["regions"]}
        | {name for partition in partitions for name in partition["services"]["dynamodb"].get("endpoints", {})}
    )

    # When the layer's SDK (endpoint data pruned to DynamoDB) and the full SDK of the same pins sign a request
    layer_botocore, pruned = _dynamodb_requests([LAYER], regions)
    venv_botocore, full = _dynamodb_requests([], regions)

    # Then both send it to the same URL with the same credential scope, everywhere
    assert layer_botocore.is_relative_to(LAYER)
    assert not venv_botocore.is_relative_to(LAYER)
    assert len(regions) > 50
    assert "local" in regions
    assert pruned == full
