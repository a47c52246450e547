"""Scheduled (EventBridge) dispatch of the compaction: one message per site to the compaction queue."""

from typing import Any

from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext

from aizen import clock, compaction
from aizen.observability import logger, metrics, traced_when_sampled


@logger.inject_lambda_context(log_event=False)
@traced_when_sampled
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, object]:
    # The schedule's time names the run: a scheduled event delivered twice sends each site once.
    sites = compaction.dispatch(str(event.get("time") or int(clock.now())))
    metrics.add_metric(name="CompactionSitesDispatched", unit=MetricUnit.Count, value=sites)
    return {"sites_dispatched": sites}
