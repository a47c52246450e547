"""Scheduled (EventBridge) compaction of finished hours into packed event blocks."""

from typing import Any

from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext

from aizen import compaction
from aizen.observability import logger, metrics, traced_when_sampled


@logger.inject_lambda_context(log_event=False)
@traced_when_sampled
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, object]:
    report = compaction.run()
    metrics.add_metric(name="CompactionHours", unit=MetricUnit.Count, value=report.hours_compacted)
    metrics.add_metric(name="CompactionRecompactedHours", unit=MetricUnit.Count, value=report.hours_recompacted)
    metrics.add_metric(name="CompactionEvents", unit=MetricUnit.Count, value=report.events_packed)
    metrics.add_metric(name="CompactionFailedSites", unit=MetricUnit.Count, value=len(report.failed_sites))
    metrics.add_metric(name="CompactionLagSeconds", unit=MetricUnit.Seconds, value=report.lag_seconds)
    return report.as_dict()
