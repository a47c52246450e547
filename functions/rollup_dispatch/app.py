"""Scheduled (EventBridge) dispatch of the rollup: one message per site to the rollup queue."""

from typing import Any

from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext

from aizen import clock
from aizen.observability import logger, metrics, traced_when_sampled
from aizen.rollup import job


@logger.inject_lambda_context(log_event=False)
@traced_when_sampled
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, object]:
    # The schedule's time names the run: a scheduled event delivered twice sends each site once.
    sites = job.dispatch(str(event.get("time") or int(clock.now())))
    metrics.add_metric(name="RollupSitesDispatched", unit=MetricUnit.Count, value=sites)
    return {"sites_dispatched": sites}
