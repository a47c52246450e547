"""The layer keeps botocore's models only for the services its Makefile names (AWS_SERVICES):
every service the layer's code asks boto3 for must be one of them."""

import ast
import re

from aizen_local.template import PROJECT_ROOT

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
