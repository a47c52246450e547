"""The scheduled rollup job walks every site."""

import json

from aizen.rollup import job
from aizen_local.apigw import LocalLambdaContext
from aizen_local.functions import load_handler
from aizen_local.template import PROJECT_ROOT
from tests.support import FrozenClock, make_owner


def _make_sites(count: int) -> list[str]:
    owners = [make_owner(user_id=f"user_{n}", site_id=f"site_{n}", domain=f"site{n}.example") for n in range(count)]
    return [owner.site.id for owner in owners]


def test_run_reports_every_site_created(clock: FrozenClock) -> None:
    # Given three sites
    _make_sites(3)

    # When the rollup runs
    report = job.run()

    # Then it visited all of them and rolled up nothing yet
    assert report.sites == 3
    assert report.days_rolled_up == 0
    assert report.failed_sites == []


def test_run_with_no_sites() -> None:
    assert job.run().as_dict() == {"sites": 0, "days_rolled_up": 0, "failed_sites": []}


def test_run_limited_to_given_sites(clock: FrozenClock) -> None:
    site_ids = _make_sites(3)

    assert job.run(site_ids[:2]).sites == 2


def test_the_scheduled_function_runs_the_job_on_its_sample_event(clock: FrozenClock) -> None:
    # Given two sites and the EventBridge event of the schedule
    _make_sites(2)
    event = json.loads((PROJECT_ROOT / "events" / "RollupFunction.json").read_text())

    # When the scheduled function is invoked
    result = load_handler("RollupFunction")(event, LocalLambdaContext(function_name="RollupFunction"))

    # Then it returns the job's report
    assert result == {"sites": 2, "days_rolled_up": 0, "failed_sites": []}
