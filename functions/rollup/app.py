"""The rollup worker: rolls up the site of each message of the rollup queue (one per invocation)."""

from typing import Any

from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext

from aizen import site_jobs
from aizen.observability import logger, metrics, traced_when_sampled
from aizen.rollup import job
from aizen.store import site_queues


@logger.inject_lambda_context(log_event=False)
@traced_when_sampled
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, object]:
    reports = []
    for site_id in site_queues.site_ids_of(event):
        budget = context.get_remaining_time_in_millis() / 1000 * site_jobs.WORKER_BUDGET_SHARE
        report = job.run_site(site_id, budget)  # raises when the site fails: the queue retries it
        reports.append(report)
        metrics.add_metric(name="RollupSites", unit=MetricUnit.Count, value=report.sites)
        metrics.add_metric(name="RollupDays", unit=MetricUnit.Count, value=report.days_rolled_up)
        metrics.add_metric(name="RollupItems", unit=MetricUnit.Count, value=report.items_written)
        metrics.add_metric(name="RollupDaysLeft", unit=MetricUnit.Count, value=report.days_left)
        metrics.add_metric(name="RollupDaysSetAside", unit=MetricUnit.Count, value=len(report.days_set_aside))
        metrics.add_metric(name="RollupSucceeded", unit=MetricUnit.Count, value=1)
    return {"sites": [report.as_dict() for report in reports]}
