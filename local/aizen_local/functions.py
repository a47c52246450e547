"""Load the functions' handlers from the paths template.yaml gives them."""

import importlib.util
from collections.abc import Callable
from functools import cache
from typing import Any

from aizen_local.template import FunctionSpec, load_template

Handler = Callable[[dict[str, Any], Any], dict[str, Any]]


@cache
def function_spec(logical_id: str) -> FunctionSpec:
    for spec in load_template().functions():
        if spec.logical_id == logical_id:
            return spec
    raise KeyError(f"template.yaml has no function {logical_id}")


@cache
def load_handler(logical_id: str) -> Handler:
    """Import a function's module under a unique name (every function has an app.py)."""
    spec = function_spec(logical_id)
    module_spec = importlib.util.spec_from_file_location(f"aizen_function_{logical_id}", spec.module_path)
    if module_spec is None or module_spec.loader is None:
        raise ImportError(f"cannot load {spec.module_path}")
    module = importlib.util.module_from_spec(module_spec)
    module_spec.loader.exec_module(module)
    handler: Handler = getattr(module, spec.handler_name)
    return handler
