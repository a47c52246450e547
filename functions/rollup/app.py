"""Scheduled (EventBridge) rollup of finished site-local days."""

from typing import Any

from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext

from aizen.observability import logger, metrics, traced_when_sampled
from aizen.rollup import job


@logger.inject_lambda_context(log_event=False)
@traced_when_sampled
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, object]:
    report = job.run()
    metrics.add_metric(name="RollupSites", unit=MetricUnit.Count, value=report.sites)
    metrics.add_metric(name="RollupDays", unit=MetricUnit.Count, value=report.days_rolled_up)
    metrics.add_metric(name="RollupItems", unit=MetricUnit.Count, value=report.items_written)
    metrics.add_metric(name="RollupFailedSites", unit=MetricUnit.Count, value=len(report.failed_sites))
    if not report.failed_sites:
        metrics.add_metric(name="RollupSucceeded", unit=MetricUnit.Count, value=1)
    return report.as_dict()
