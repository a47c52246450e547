"""Logger, tracer and metrics: one instance of each, shared by every function.

The logger never receives the raw event: handlers log only what they choose, so
the Authorization header, cookies, client IPs and user agents never reach logs.

The Tracer (and with it the X-Ray SDK, which patches botocore) is created by the
first *sampled* invocation of an execution environment, not at import: Lambda's
active tracing records every invocation's segment without the SDK, and an
unsampled invocation has nothing for the SDK to do. Under load, when Lambda
scales out, X-Ray samples 1 request a second plus 5 %, so most new environments
start unsampled and never pay the SDK's import (see docs/performance.md).
"""

import functools
import os
from collections.abc import Callable
from typing import Any, cast

from aws_lambda_powertools import Logger, Metrics, Tracer
from aws_lambda_powertools.utilities.typing import LambdaContext

logger = Logger()
metrics = Metrics()
PATCHED_MODULES = ("botocore",)


@functools.cache
def tracer() -> Tracer:
    """The process's Tracer, created (X-Ray SDK imported, botocore patched) on first use.

    Only botocore is patched (DynamoDB subsegments): the SDK's default patches every library
    it supports that is importable, which in Lambda imports sqlite3 for nothing (~3 ms).
    """
    return Tracer(patch_modules=PATCHED_MODULES)


def invocation_is_sampled() -> bool:
    """Whether X-Ray samples the current invocation (Lambda sets `_X_AMZN_TRACE_ID` per invocation)."""
    return "Sampled=1" in os.environ.get("_X_AMZN_TRACE_ID", "")


def traced_when_sampled[Handler: Callable[[Any, LambdaContext], Any]](handler: Handler) -> Handler:
    """`handler` run inside the Tracer's handler segment when the invocation is sampled."""

    @functools.cache
    def traced_handler() -> Callable[[Any, LambdaContext], Any]:
        return tracer().capture_lambda_handler(handler, capture_response=False)

    @functools.wraps(handler)
    def run(event: Any, context: LambdaContext) -> Any:
        if invocation_is_sampled():
            return traced_handler()(event, context)
        return handler(event, context)

    return cast(Handler, run)
