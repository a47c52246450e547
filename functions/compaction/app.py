"""The compaction worker: packs the finished hours of the site of each message of the compaction
queue (one per invocation) into event blocks."""

from typing import Any

from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext

from aizen import compaction, site_jobs
from aizen.observability import logger, metrics, traced_when_sampled
from aizen.store import site_queues


@logger.inject_lambda_context(log_event=False)
@traced_when_sampled
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, object]:
    reports = []
    for site_id in site_queues.site_ids_of(event):
        budget = context.get_remaining_time_in_millis() / 1000 * site_jobs.WORKER_BUDGET_SHARE
        report = compaction.run_site(site_id, budget)  # raises when the site fails: the queue retries it
        reports.append(report)
        metrics.add_metric(name="CompactionHours", unit=MetricUnit.Count, value=report.hours_compacted)
        metrics.add_metric(name="CompactionRecompactedHours", unit=MetricUnit.Count, value=report.hours_recompacted)
        metrics.add_metric(name="CompactionEvents", unit=MetricUnit.Count, value=report.events_packed)
        metrics.add_metric(name="CompactionHoursSetAside", unit=MetricUnit.Count, value=len(report.hours_set_aside))
        metrics.add_metric(name="CompactionLagSeconds", unit=MetricUnit.Seconds, value=report.lag_seconds)
    return {"sites": [report.as_dict() for report in reports]}
