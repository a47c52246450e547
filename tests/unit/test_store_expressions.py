"""The store writes its DynamoDB expressions as strings, never with boto3's condition objects.

boto3's DynamoDB resource turns `Key(...)`/`Attr(...)` conditions into expressions with one
placeholder builder per client, reset at the start of every request. The store queries raw
events and writes imports on threads that share that client, so a request on one thread can
reset the builder while another thread is numbering a condition's placeholders: the query
then names the wrong attributes (seen once as moto's "Query condition missed key schema
element: p" under the rollup equivalence tests). String expressions never touch the builder.
"""

import ast
from pathlib import Path

import pytest

from aizen_local.template import PROJECT_ROOT

STORE = sorted((PROJECT_ROOT / "layers/aizen/aizen/store").glob("*.py"))


@pytest.mark.parametrize("path", STORE, ids=lambda path: path.name)
def test_the_store_builds_no_boto3_conditions(path: Path) -> None:
    imported = {
        node.module
        for node in ast.walk(ast.parse(path.read_text()))
        if isinstance(node, ast.ImportFrom) and node.module is not None
    }

    assert "boto3.dynamodb.conditions" not in imported
