"""Run inside one function's Lambda layout by bench_init_needs.py: init, then one request.

    python -I init_probe.py TASK LAYER EVENT_FILE

Imports boto3 first (the floor, untimed by the hooks below), then `app` with every module's
execution timed (its own time, modules it imports excluded), then answers the request in
EVENT_FILE. sys.monitoring records which source files had a function run during init and
during the request. Prints one JSON document.
"""

import importlib
import importlib.machinery
import json
import sys
import time
from types import CodeType, ModuleType
from typing import Any

task, layer, event_file = sys.argv[1:4]
sys.path[:0] = [task, layer]

started = time.perf_counter()
import boto3  # noqa: E402, F401 - the floor

boto3_seconds = time.perf_counter() - started

executed: list[tuple[str, float]] = []  # (module, seconds of its own body)
_nested: list[float] = []


class _TimedLoader:
    def __init__(self, loader: Any) -> None:
        self._loader = loader

    def create_module(self, spec: importlib.machinery.ModuleSpec) -> ModuleType | None:
        return self._loader.create_module(spec)  # type: ignore[no-any-return]

    def exec_module(self, module: ModuleType) -> None:
        began = time.perf_counter()
        _nested.append(0.0)
        try:
            self._loader.exec_module(module)
        finally:
            inner = _nested.pop()
            total = time.perf_counter() - began
            if _nested:
                _nested[-1] += total
            executed.append((module.__name__, total - inner))

    def __getattr__(self, name: str) -> Any:
        return getattr(self._loader, name)


class _TimedFinder:
    @staticmethod
    def find_spec(name: str, path: Any = None, target: Any = None) -> importlib.machinery.ModuleSpec | None:
        spec = importlib.machinery.PathFinder.find_spec(name, path, target)
        if spec is not None and spec.loader is not None:
            spec.loader = _TimedLoader(spec.loader)  # type: ignore[assignment]
        return spec


called_files: set[str] = set()
_TOOL = sys.monitoring.PROFILER_ID


def _on_start(code: CodeType, offset: int) -> Any:
    if code.co_name != "<module>":
        called_files.add(code.co_filename)
    return sys.monitoring.DISABLE


def _watch_calls() -> None:
    sys.monitoring.use_tool_id(_TOOL, "init-probe")
    sys.monitoring.register_callback(_TOOL, sys.monitoring.events.PY_START, _on_start)
    sys.monitoring.set_events(_TOOL, sys.monitoring.events.PY_START)
    sys.monitoring.restart_events()  # code seen by an earlier watch (DISABLE) is reported again


def _stop_watching() -> set[str]:
    sys.monitoring.set_events(_TOOL, 0)
    sys.monitoring.free_tool_id(_TOOL)
    files = set(called_files)
    called_files.clear()
    return files


def _module_names(files: set[str]) -> list[str]:
    by_file = {getattr(module, "__file__", None): name for name, module in list(sys.modules.items())}
    return sorted(by_file[file] for file in files if file in by_file)


class _Context:
    function_name = "init-probe"
    memory_limit_in_mb = 512
    invoked_function_arn = "arn:aws:lambda:us-east-1:123456789012:function:init-probe"
    aws_request_id = "init-probe"


sys.meta_path.insert(0, _TimedFinder())
_watch_calls()
started = time.perf_counter()
app = importlib.import_module("app")  # the function under test: /var/task's app.py, on sys.path

init_seconds = time.perf_counter() - started
called_at_init = _stop_watching()
executed_at_init = len(executed)

with open(event_file) as source:
    event = json.load(source)
_watch_calls()
answer = app.lambda_handler(event, _Context())
called_by_request = _stop_watching()

print(
    json.dumps(
        {
            "boto3": boto3_seconds,
            "init": init_seconds,
            "status": answer["statusCode"],
            "executed_at_init": executed[:executed_at_init],
            "called_at_init": _module_names(called_at_init),
            "called_by_request": _module_names(called_by_request),
        }
    )
)
