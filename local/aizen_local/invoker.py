"""Run handlers the way Lambda does: each execution environment serves one request at a time.

A pool of worker processes plays the execution environments: module-level state
(settings, connections, caches) belongs to one process, which serves one request at
a time, exactly as on Lambda; concurrency comes from processes.
"""

import multiprocessing
import os
import sys
from concurrent.futures import Future, ProcessPoolExecutor
from typing import Any

from aizen_local.apigw import LocalLambdaContext


def _invoke(logical_id: str, event: dict[str, Any], timeout_seconds: int) -> dict[str, Any]:
    from aizen_local.functions import load_handler  # in the worker: handlers load lazily, once

    context = LocalLambdaContext(function_name=logical_id, timeout_seconds=timeout_seconds)
    return load_handler(logical_id)(event, context)


def _stdout_to_stderr() -> None:
    """A worker's stdout is the stack's stderr: the handlers' logs (stdout in Lambda, for CloudWatch)
    join the stack's own log on the terminal, and `aizen serve`'s stdout keeps only its one JSON line."""
    sys.stdout.flush()
    os.dup2(sys.stderr.fileno(), sys.stdout.fileno())


def _warm() -> int:
    import aizen.http  # noqa: F401 - pay the import cost before the first request

    return os.getpid()


class LambdaPool:
    def __init__(self, environment: dict[str, str], workers: int) -> None:
        """Workers inherit this process's environment, updated first: spawned workers import
        the caller's main module (and so the layer's observability objects) before any
        initializer could run, so the environment must already be right."""
        os.environ.update(environment)
        self._executor = ProcessPoolExecutor(
            max_workers=workers, mp_context=multiprocessing.get_context("spawn"), initializer=_stdout_to_stderr
        )
        self._workers = workers

    def warm_up(self) -> None:
        for future in [self._executor.submit(_warm) for _ in range(self._workers)]:
            future.result()

    def submit(self, logical_id: str, event: dict[str, Any], timeout_seconds: int = 30) -> "Future[dict[str, Any]]":
        return self._executor.submit(_invoke, logical_id, event, timeout_seconds)

    def invoke(self, logical_id: str, event: dict[str, Any], timeout_seconds: int = 30) -> dict[str, Any]:
        return self.submit(logical_id, event, timeout_seconds).result(timeout=timeout_seconds + 30)

    def shutdown(self) -> None:
        self._executor.shutdown(wait=False, cancel_futures=True)
