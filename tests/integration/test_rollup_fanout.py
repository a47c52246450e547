"""The rollup fanned out (issue 15, item 3): one site's failure or size never stops another's.

A killed invocation (Lambda's timeout, or running out of memory) is not an exception the
code can catch: here it is `InvocationKilled`, a BaseException raised where the heavy site's
day is counted. The queue is moto's SQS, created from template.yaml (FIFO, maxReceiveCount,
dead-letter queue), and `_lambda_poller` does what Lambda's event source mapping does.
"""

import json
from collections.abc import Callable
from datetime import date
from types import SimpleNamespace
from typing import Any

import boto3
import pytest

from aizen import admin
from aizen.models import Site
from aizen.rollup import compute, job
from aizen.settings import Settings
from aizen.store import rollups
from aizen_local.queues import ensure_queues, poll_once
from aizen_local.template import PROJECT_ROOT, load_template
from tests.support import FrozenClock, InvocationKilled, invoke_job

DAY = 86_400


@pytest.fixture
def queues(aizen_env: Callable[..., Settings]) -> dict[str, str]:
    urls = ensure_queues(load_template(), None)
    aizen_env(ROLLUP_QUEUE_URL=urls["RollupQueue"])
    return urls


def _sites(count: int) -> list[str]:
    user = admin.create_user("owner@example.com", user_id="user_1")
    return [
        admin.create_site(f"site{n}.example", "Europe/Berlin", user.id, site_id=f"site_{n}").id
        for n in range(1, count + 1)
    ]


def _heavy(site_id: str, monkeypatch: pytest.MonkeyPatch, days: set[str] | None = None) -> dict[str, int]:
    """Counting the site's days (or only `days`) kills the invocation; returns the kills so far."""
    real = compute.compute_day
    kills = {"count": 0}

    def compute_day(site: Site, day: date) -> compute.DayRollup:
        if site.id == site_id and (days is None or day.isoformat() in days):
            kills["count"] += 1
            raise InvocationKilled
        return real(site, day)

    monkeypatch.setattr(job, "compute_day", compute_day)
    return kills


def _schedule() -> dict[str, Any]:
    event: dict[str, Any] = json.loads((PROJECT_ROOT / "events" / "RollupDispatchFunction.json").read_text())
    return event


def _lambda_poller(queue_url: str) -> int:
    """Lambda's event source mapping: every message to RollupFunction, one per invocation; a
    failed one is visible again at once (as once its visibility timeout has run out). Returns
    the invocations."""
    invocations = 0
    while poll_once(queue_url, "RollupFunction", 1, invoke_job, VisibilityTimeout=0):
        invocations += 1
        assert invocations < 50, "the queue never drains"
    return invocations


def _visible(queue_url: str) -> list[str]:
    sqs = boto3.client("sqs")
    bodies: list[str] = []
    while True:
        answer = sqs.receive_message(QueueUrl=queue_url, MaxNumberOfMessages=10, VisibilityTimeout=30)
        if not answer.get("Messages"):
            return bodies
        bodies += [json.loads(message["Body"])["site_id"] for message in answer["Messages"]]


def _rolled_up(site_id: str) -> set[str]:
    return set(rollups.rolled_up_days(site_id, "2000-01-01", "2100-01-01"))


def test_in_one_process_a_killed_site_stops_every_site_after_it(
    clock: FrozenClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given: three sites with finished days; the second one's rollup gets the invocation killed
    light_before, heavy, light_after = _sites(3)
    clock.advance(3 * DAY)
    _heavy(heavy, monkeypatch)

    # When: every site in one invocation, as the rollup used to run
    with pytest.raises(InvocationKilled):
        job.run()

    # Then: the site after the heavy one is never rolled up (the stall the fan-out removes)
    assert _rolled_up(light_before)
    assert _rolled_up(light_after) == set()


def test_a_site_that_kills_its_invocation_never_stops_the_others(
    clock: FrozenClock, monkeypatch: pytest.MonkeyPatch, queues: dict[str, str]
) -> None:
    # Given: three sites with three finished days each; counting the second site kills its invocation
    light_before, heavy, light_after = _sites(3)
    clock.advance(3 * DAY)
    kills = _heavy(heavy, monkeypatch)

    # When: the schedule runs the dispatcher, and Lambda works the queue off
    dispatched = invoke_job("RollupDispatchFunction", _schedule())
    _lambda_poller(queues["RollupQueue"])

    # Then: the other sites are rolled up; the heavy site was tried 3 times (maxReceiveCount),
    # then its message went to the dead-letter queue (RollupDeadLetterAlarm)
    assert dispatched == {"sites_dispatched": 3}
    assert len(_rolled_up(light_before)) == len(_rolled_up(light_after)) == 3
    assert _rolled_up(heavy) == set()
    assert kills["count"] == 3
    assert _visible(queues["RollupQueue"]) == []
    assert _visible(queues["RollupDeadLetterQueue"]) == [heavy]


def test_a_day_too_large_for_a_run_is_set_aside_and_the_sites_other_days_go_on(
    clock: FrozenClock, monkeypatch: pytest.MonkeyPatch, queues: dict[str, str]
) -> None:
    # Given: one of the site's days kills every invocation that counts it; three runs tried it
    (site_id,) = _sites(1)
    clock.advance(4 * DAY)
    first_day = date.fromtimestamp(clock.now() - 4 * DAY).isoformat()
    kills = _heavy(site_id, monkeypatch, days={first_day})
    invoke_job("RollupDispatchFunction", _schedule())
    _lambda_poller(queues["RollupQueue"])
    assert (kills["count"], _rolled_up(site_id)) == (3, set())

    # When: the next scheduled run
    clock.advance(3600)
    next_run = {**_schedule(), "time": "2026-04-02T21:00:00Z"}
    invoke_job("RollupDispatchFunction", next_run)
    _lambda_poller(queues["RollupQueue"])

    # Then: the day is set aside (not tried a fourth time) and the site's other days are rolled up
    assert kills["count"] == 3
    assert len(_rolled_up(site_id)) == 3
    assert first_day not in _rolled_up(site_id)
    assert rollups.day_attempts(site_id) == {first_day: 3}
    assert job.run([site_id]).days_set_aside == [f"{site_id}/{first_day}"]

    # And: `aizen rollup --retry-set-aside` (more memory on an operator's machine) rolls it up
    monkeypatch.setattr(job, "compute_day", compute.compute_day)
    assert job.run([site_id], retry_set_aside=True).days_rolled_up == 1
    assert first_day in _rolled_up(site_id)
    assert rollups.day_attempts(site_id) == {}


def test_a_failure_that_says_nothing_of_the_days_size_is_not_counted_against_it(
    clock: FrozenClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given: the store refuses the day's write (an exception: throttling, a lost connection)
    (site_id,) = _sites(1)
    clock.advance(2 * DAY)

    def refused(*args: object, **kwargs: object) -> int:
        raise RuntimeError("lost the connection")

    monkeypatch.setattr(rollups, "put_day", refused)

    # When
    with pytest.raises(RuntimeError):
        job.run_site(site_id, budget_seconds=600)

    # Then: no attempt is left counted against the day
    assert all(tries == 0 for tries in rollups.day_attempts(site_id).values())


def test_a_site_stops_at_its_budget_and_the_next_run_continues_from_the_first_day_left(
    clock: FrozenClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given: five finished days, and each day's count takes 100 s of a 250 s budget
    (site_id,) = _sites(1)
    clock.advance(5 * DAY)
    moments = iter(range(0, 10_000, 100))
    monkeypatch.setattr(job, "time", SimpleNamespace(monotonic=lambda: float(next(moments))))

    # When
    first = job.run_site(site_id, budget_seconds=250)
    second = job.run_site(site_id, budget_seconds=250)
    third = job.run_site(site_id, budget_seconds=250)

    # Then: each run saved the days it finished; the next began at the first day left
    assert (first.days_rolled_up, first.days_left) == (2, 3)
    assert (second.days_rolled_up, second.days_left) == (2, 1)
    assert (third.days_rolled_up, third.days_left) == (1, 0)
    assert len(_rolled_up(site_id)) == 5


def test_the_worker_budget_stops_before_the_lambda_timeout(
    clock: FrozenClock, monkeypatch: pytest.MonkeyPatch, queues: dict[str, str]
) -> None:
    # Given: a message for a site
    budgets: list[float] = []

    def run_site(site_id: str, budget: float) -> job.RollupReport:
        budgets.append(budget)
        return job.RollupReport(sites=1)

    monkeypatch.setattr(job, "run_site", run_site)
    event = json.loads((PROJECT_ROOT / "events" / "RollupFunction.json").read_text())

    # When: the worker runs with 900 s (the template's Timeout) before Lambda would end it
    invoke_job("RollupFunction", event, timeout_seconds=900)

    # Then: it starts no new day in the last third of its time (600 s of 900 s)
    (budget,) = budgets
    assert 599 < budget <= 600
    assert load_template().resources["RollupFunction"]["Properties"]["Timeout"] == 900


def test_a_schedule_delivered_twice_sends_each_site_once(clock: FrozenClock, queues: dict[str, str]) -> None:
    _sites(2)

    invoke_job("RollupDispatchFunction", _schedule())
    invoke_job("RollupDispatchFunction", _schedule())

    assert sorted(_visible(queues["RollupQueue"])) == ["site_1", "site_2"]


def test_the_queue_tries_a_site_as_often_as_a_day_may_be_attempted() -> None:
    queue = load_template().resources["RollupQueue"]["Properties"]
    worker = load_template().resources["RollupFunction"]["Properties"]

    assert queue["RedrivePolicy"]["maxReceiveCount"] == job.MAX_DAY_ATTEMPTS
    assert queue["FifoQueue"] is True
    assert queue["VisibilityTimeout"] >= 6 * worker["Timeout"]  # AWS's advice for a Lambda event source


def test_the_workers_running_at_once_are_bounded_by_a_parameter() -> None:
    template = load_template()
    mapping = template.resources["RollupFunctionQueueMapping"]["Properties"]

    assert mapping["BatchSize"] == 1
    assert mapping["ScalingConfig"]["MaximumConcurrency"] == {"Ref": "RollupMaxConcurrency"}
    assert template.raw["Parameters"]["RollupMaxConcurrency"]["Default"] == 10
