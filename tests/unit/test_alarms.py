"""CloudWatch alarms of template.yaml (docs/operations.md) and the metrics the code emits."""

import json
import re
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from aizen import compaction
from aizen.rollup import job
from aizen.settings import Settings
from aizen_local.apigw import LocalLambdaContext
from aizen_local.functions import load_handler
from aizen_local.template import PROJECT_ROOT, HttpRoute, load_template
from tests.support import STATS_PATHS, emf_records, fail_dynamodb, invoke, moto_dynamodb

TEMPLATE = load_template()
ALARMS: dict[str, dict[str, Any]] = {
    logical_id: resource["Properties"]
    for logical_id, resource in TEMPLATE.resources.items()
    if resource["Type"] == "AWS::CloudWatch::Alarm"
}
FUNCTIONS = [spec.logical_id for spec in TEMPLATE.functions()]
# The stats routes, from the template's HttpApi events: each has a latency alarm.
STATS_ROUTES = [route for route in TEMPLATE.routes() if route.path.startswith("/api/v1/stats/")]
ALARM_TOPIC = {"Ref": "AlarmTopic"}
ADD_METRIC = re.compile(r"add_metric\(\s*name=(.+?),\s*unit=", re.DOTALL)
STRING_LITERAL = re.compile(r'"(\w+)"')


def _metric_stats(alarm: dict[str, Any]) -> list[dict[str, Any]]:
    """Every metric an alarm reads, single-metric or metric math, as {Namespace, MetricName, Dimensions}."""
    if "MetricName" in alarm:
        return [{name: alarm.get(name) for name in ("Namespace", "MetricName", "Dimensions")}]
    return [query["MetricStat"]["Metric"] for query in alarm.get("Metrics", []) if "MetricStat" in query]


def _alarms_reading(namespace: str, metric_name: str, dimension: str, value: Any) -> list[str]:
    return [
        logical_id
        for logical_id, alarm in ALARMS.items()
        if any(
            metric["Namespace"] == namespace
            and metric["MetricName"] == metric_name
            and {"Name": dimension, "Value": value} in (metric.get("Dimensions") or [])
            for metric in _metric_stats(alarm)
        )
    ]


def _only(logical_ids: list[str], what: str) -> dict[str, Any]:
    assert len(logical_ids) == 1, f"expected exactly one alarm on {what}, found {logical_ids}"
    return ALARMS[logical_ids[0]]


@pytest.fixture
def dynamodb() -> Iterator[None]:
    with moto_dynamodb():
        yield


def _emitted_metrics() -> set[str]:
    """Names passed to `add_metric(name=...)` anywhere in the layer and the functions."""
    names: set[str] = set()
    for root in ("layers/aizen/aizen", "functions"):
        for path in sorted((PROJECT_ROOT / root).rglob("*.py")):
            for expression in ADD_METRIC.findall(path.read_text()):
                names.update(STRING_LITERAL.findall(expression))
    return names


# Every alarm notifies ---------------------------------------------------------------------------


def test_the_template_has_alarms() -> None:
    assert len(ALARMS) >= 4 + len(FUNCTIONS)


@pytest.mark.parametrize("logical_id", sorted(ALARMS))
def test_every_alarm_notifies_the_alarm_topic(logical_id: str) -> None:
    alarm = ALARMS[logical_id]

    assert ALARM_TOPIC in alarm["AlarmActions"]
    assert alarm.get("ActionsEnabled", True) is True
    assert "docs/operations.md" in alarm["AlarmDescription"]


def test_the_topic_exists_and_the_email_subscription_is_conditional() -> None:
    resources = TEMPLATE.resources
    subscriptions = [resource for resource in resources.values() if resource["Type"] == "AWS::SNS::Subscription"]

    assert resources["AlarmTopic"]["Type"] == "AWS::SNS::Topic"
    assert "Condition" not in resources["AlarmTopic"]
    assert len(subscriptions) == 1
    subscription = subscriptions[0]
    assert subscription["Condition"] == "HasAlarmEmail"
    assert subscription["Properties"]["TopicArn"] == ALARM_TOPIC
    assert subscription["Properties"]["Protocol"] == "email"
    assert subscription["Properties"]["Endpoint"] == {"Ref": "AlarmEmail"}
    assert TEMPLATE.raw["Parameters"]["AlarmEmail"]["Default"] == ""
    assert TEMPLATE.raw["Conditions"]["HasAlarmEmail"] == {"Fn::Not": [{"Fn::Equals": [{"Ref": "AlarmEmail"}, ""]}]}


# (1) the HTTP API's 5xx rate ------------------------------------------------------------------


def test_5xx_rate_alarm_divides_5xx_by_count_of_the_http_api() -> None:
    api = {"Ref": "AizenHttpApi"}
    alarm = _only(_alarms_reading("AWS/ApiGateway", "5xx", "ApiId", api), "the API's 5xx")
    queries = {query["Id"]: query for query in alarm["Metrics"]}
    errors = next(i for i, q in queries.items() if q.get("MetricStat", {}).get("Metric", {}).get("MetricName") == "5xx")
    count = next(
        i for i, q in queries.items() if q.get("MetricStat", {}).get("Metric", {}).get("MetricName") == "Count"
    )
    returned = [query for query in alarm["Metrics"] if query.get("ReturnData", True)]

    assert queries[count]["MetricStat"]["Metric"]["Dimensions"] == [{"Name": "ApiId", "Value": api}]
    assert all(queries[i]["MetricStat"]["Stat"] == "Sum" for i in (errors, count))
    assert all(queries[i]["MetricStat"]["Period"] == 300 for i in (errors, count))
    assert len(returned) == 1
    expression = returned[0]["Expression"]["Fn::Sub"]
    assert f"{errors} / {count}" in expression
    assert "${Api5xxMinRequests}" in expression  # too few requests are not judged
    assert alarm["ComparisonOperator"] == "GreaterThanThreshold"
    assert alarm["Threshold"] == {"Ref": "Api5xxRatePercent"}
    assert TEMPLATE.raw["Parameters"]["Api5xxRatePercent"]["Default"] == 1


# (2) DynamoDB throttling -----------------------------------------------------------------------


@pytest.mark.parametrize("table", ["MainTable", "EventsTable", "SaltsTable"])
@pytest.mark.parametrize("metric", ["ReadThrottleEvents", "WriteThrottleEvents"])
def test_throttling_of_each_table_is_alarmed(table: str, metric: str) -> None:
    alarm = _only(_alarms_reading("AWS/DynamoDB", metric, "TableName", {"Ref": table}), f"{table} {metric}")

    assert alarm["ComparisonOperator"] == "GreaterThanThreshold"
    assert alarm["Threshold"] == 0


# (3) Lambda errors ------------------------------------------------------------------------------


@pytest.mark.parametrize("function", FUNCTIONS)
def test_errors_of_every_function_are_alarmed(function: str) -> None:
    alarm = _only(_alarms_reading("AWS/Lambda", "Errors", "FunctionName", {"Ref": function}), f"{function} Errors")

    assert alarm["Statistic"] == "Sum"
    assert alarm["ComparisonOperator"] == "GreaterThanThreshold"
    assert alarm["Threshold"] == 0


# (4) the rollup has not succeeded for two schedule periods ------------------------------------


def test_rollup_staleness_alarm_reads_the_emf_metrics_of_the_rollup_functions() -> None:
    environment = TEMPLATE.raw["Globals"]["Function"]["Environment"]["Variables"]
    namespace = environment["POWERTOOLS_METRICS_NAMESPACE"]
    service = environment["POWERTOOLS_SERVICE_NAME"]
    alarm = _only(_alarms_reading(namespace, "RollupSucceeded", "service", service), "RollupSucceeded")
    assert _alarms_reading(namespace, "RollupSitesDispatched", "service", service) == ["RollupStaleAlarm"]
    stats = {query["Id"]: query["MetricStat"] for query in alarm["Metrics"] if "MetricStat" in query}
    (returned,) = [query for query in alarm["Metrics"] if query.get("ReturnData", True)]

    assert (namespace, service) == ("Aizen", "aizen")
    assert stats["succeeded"]["Metric"]["MetricName"] == "RollupSucceeded"
    assert stats["dispatched"]["Metric"]["MetricName"] == "RollupSitesDispatched"
    assert all(stat["Stat"] == "Sum" for stat in stats.values())
    assert all(stat["Period"] == {"Ref": "RollupStalenessSeconds"} for stat in stats.values())
    # Sites rolled up; 1 when the dispatcher ran and found no site; a dispatcher that did not run
    # (no RollupSitesDispatched) counts as one that found sites, so only the sites rolled up count.
    assert returned["Expression"] == "IF(FILL(dispatched, 1) > 0, FILL(succeeded, 0), 1)"
    assert alarm["ComparisonOperator"] == "LessThanThreshold"
    assert alarm["Threshold"] == 1
    assert alarm["TreatMissingData"] == "breaching"  # no run at all is no success either
    assert alarm["EvaluationPeriods"] == 1


def test_rollup_staleness_default_is_two_schedule_periods() -> None:
    parameters = TEMPLATE.raw["Parameters"]
    schedule = re.fullmatch(r"rate\((\d+) (minute|hour|day)s?\)", parameters["RollupSchedule"]["Default"])
    assert schedule is not None
    period = int(schedule[1]) * {"minute": 60, "hour": 3600, "day": 86400}[schedule[2]]

    assert parameters["RollupStalenessSeconds"]["Default"] == 2 * period == 7200
    assert parameters["RollupStalenessSeconds"]["MaxValue"] <= 86400  # CloudWatch's limit for Period


# (5) Lambda throttles ---------------------------------------------------------------------------

CLOUDWATCH_METRICS_PER_ALARM = 10  # "Alarms based on metric math expressions can have up to 10 metrics"


def test_throttles_of_every_function_are_summed_in_one_alarm_per_kind() -> None:
    throttle_alarms = [
        logical_id
        for logical_id, alarm in ALARMS.items()
        if any(
            metric["Namespace"] == "AWS/Lambda" and metric["MetricName"] == "Throttles"
            for metric in _metric_stats(alarm)
        )
    ]
    watched: dict[str, list[str]] = {}
    for logical_id in throttle_alarms:
        alarm = ALARMS[logical_id]
        stats = {query["Id"]: query["MetricStat"] for query in alarm["Metrics"] if "MetricStat" in query}
        for stat in stats.values():
            (dimension,) = stat["Metric"]["Dimensions"]
            assert dimension["Name"] == "FunctionName"
            watched.setdefault(logical_id, []).append(dimension["Value"]["Ref"])
            assert stat["Metric"]["MetricName"] == "Throttles"
            assert stat["Stat"] == "Sum"
            assert stat["Period"] == 300
        returned = [query for query in alarm["Metrics"] if query.get("ReturnData", True)]
        assert len(stats) <= CLOUDWATCH_METRICS_PER_ALARM
        assert len(returned) == 1
        assert sorted(returned[0]["Expression"].split(" + ")) == sorted(f"FILL({metric_id}, 0)" for metric_id in stats)
        assert alarm["ComparisonOperator"] == "GreaterThanThreshold"
        assert alarm["Threshold"] == 0
        assert alarm["TreatMissingData"] == "notBreaching"
        assert alarm["AlarmActions"] == alarm["OKActions"] == [ALARM_TOPIC]

    # Every function in exactly one alarm: the HTTP functions in two (CloudWatch's 10 metrics an
    # alarm: the goal management functions have their own), the jobs in a third
    assert sorted(function for functions in watched.values() for function in functions) == sorted(FUNCTIONS)
    http = {spec.logical_id for spec in TEMPLATE.functions() if spec.routes}
    goals = {function for function in http if function.startswith("Goal")}
    assert sorted(watched["LambdaThrottlesAlarm"]) == sorted(http - goals)
    assert sorted(watched["GoalFunctionsThrottlesAlarm"]) == sorted(goals)
    assert sorted(watched["JobThrottlesAlarm"]) == sorted(set(FUNCTIONS) - http)


# (6) latency of the stats routes ----------------------------------------------------------------


def _emf_metric_sets(output: str) -> list[dict[str, Any]]:
    """Each EMF record's namespace, its dimension sets as {name: value}, and its metrics' units."""
    sets = []
    for line in output.splitlines():
        if line.startswith("{") and '"CloudWatchMetrics"' in line:
            record = json.loads(line)
            for definition in record["_aws"]["CloudWatchMetrics"]:
                sets.append(
                    {
                        "namespace": definition["Namespace"],
                        "dimension_sets": [
                            {name: record[name] for name in names} for names in definition["Dimensions"]
                        ],
                        "units": {metric["Name"]: metric.get("Unit") for metric in definition["Metrics"]},
                    }
                )
    return sets


def _latency_alarms() -> dict[str, dict[str, Any]]:
    return {
        logical_id: alarm
        for logical_id, alarm in ALARMS.items()
        if any(metric["MetricName"] == "Latency" for metric in _metric_stats(alarm))
    }


def test_there_are_stats_routes() -> None:
    assert len(STATS_ROUTES) >= 4


@pytest.mark.parametrize("route", STATS_ROUTES, ids=lambda route: route.route_key)
def test_latency_of_every_stats_route_is_alarmed_on_exactly_the_dimensions_lambda_entry_emits(
    route: HttpRoute, dynamodb: None, capsys: pytest.CaptureFixture[str]
) -> None:
    # When: the route's handler answers a request (a 401 is enough: every answer records Latency)
    invoke(route.function, route.path, method=route.method)

    # Then: one alarm reads Latency with the one dimension set of the EMF record, values included
    (emitted,) = [
        metric_set for metric_set in _emf_metric_sets(capsys.readouterr().out) if "Latency" in metric_set["units"]
    ]
    (dimensions,) = emitted["dimension_sets"]  # Powertools puts every dimension in one set
    assert dimensions["route"] == route.route_key
    matching = [
        logical_id
        for logical_id, alarm in _latency_alarms().items()
        if {dimension["Name"]: dimension["Value"] for dimension in alarm["Dimensions"]} == dimensions
    ]
    alarm = _only(matching, f"Latency of {route.route_key}")
    assert alarm["Namespace"] == emitted["namespace"]
    assert alarm["Unit"] == emitted["units"]["Latency"] == "Milliseconds"
    assert alarm["ExtendedStatistic"] == "p99"
    assert alarm["Period"] == 300
    assert alarm["EvaluationPeriods"] == 1
    assert alarm["ComparisonOperator"] == "GreaterThanThreshold"
    assert alarm["Threshold"] == {"Ref": "StatsLatencyP99Milliseconds"}
    assert alarm["TreatMissingData"] == "notBreaching"
    assert alarm["OKActions"] == [ALARM_TOPIC]


def test_latency_alarms_watch_only_routes_the_template_serves() -> None:
    watched = [
        dimension["Value"]
        for alarm in _latency_alarms().values()
        for dimension in alarm["Dimensions"]
        if dimension["Name"] == "route"
    ]

    assert sorted(watched) == sorted(route.route_key for route in STATS_ROUTES)


def test_the_latency_threshold_defaults_to_3_seconds() -> None:
    assert TEMPLATE.raw["Parameters"]["StatsLatencyP99Milliseconds"]["Default"] == 3000


# Refused events (ingestion's limits) -------------------------------------------------------------


def test_every_refused_event_is_alarmed_on_exactly_the_dimensions_ingestion_emits() -> None:
    # The EMF records carry route and service (tests/integration/test_ingest_limits.py::
    # test_refusals_are_emitted_on_the_route_the_alarm_reads); an alarm with other dimensions reads nothing
    [ingest_route] = [route.route_key for route in TEMPLATE.routes() if route.route_key.startswith("POST /api/event")]
    dimensions = [{"Name": "route", "Value": ingest_route}, {"Name": "service", "Value": "aizen"}]
    alarm = _only(
        [
            logical_id
            for logical_id, alarm in ALARMS.items()
            if any(metric["MetricName"] == "EventsRefusedByAddress" for metric in _metric_stats(alarm))
        ],
        "EventsRefusedByAddress",
    )

    read = {metric["MetricName"]: metric for metric in _metric_stats(alarm)}
    assert set(read) == {"EventsRefusedByAddress", "EventsRefusedBySite"}
    assert all(metric["Namespace"] == "Aizen" and metric["Dimensions"] == dimensions for metric in read.values())
    [expression] = [query for query in alarm["Metrics"] if query.get("ReturnData")]
    assert expression["Expression"] == "FILL(byAddress, 0) + FILL(bySite, 0)"
    assert (alarm["ComparisonOperator"], alarm["Threshold"]) == ("GreaterThanThreshold", 0)
    assert alarm["TreatMissingData"] == "notBreaching"
    assert {"EventsRefusedByAddress", "EventsRefusedBySite"} <= _emitted_metrics()


# Metrics the functions emit --------------------------------------------------------------------


def _without_latency(values: dict[str, Any]) -> dict[str, Any]:
    return {name: value for name, value in values.items() if name != "Latency"}


def test_a_refused_request_emits_requests_and_client_errors(dynamodb: None, capsys: pytest.CaptureFixture[str]) -> None:
    response = invoke("StatsAggregateFunction", STATS_PATHS["StatsAggregateFunction"])

    assert response.status == 401
    (record,) = emf_records(capsys.readouterr().out)
    assert (record["namespace"], record["dimensions"], record["service"]) == ("Aizen", [["route", "service"]], "aizen")
    assert record["route"] == "GET /api/v1/stats/aggregate"
    assert _without_latency(record["values"]) == {"Requests": [1.0], "ClientErrors": [1.0]}
    assert record["values"]["Latency"][0] > 0


def test_a_rate_limited_request_emits_rate_limited(
    aizen_env: Callable[..., Settings], dynamodb: None, capsys: pytest.CaptureFixture[str]
) -> None:
    aizen_env(IP_LIMIT_PER_MINUTE="1")

    statuses = [invoke("StatsAggregateFunction", STATS_PATHS["StatsAggregateFunction"]).status for _ in range(2)]

    assert statuses == [401, 429]
    records = emf_records(capsys.readouterr().out)
    assert _without_latency(records[1]["values"]) == {"Requests": [1.0], "ClientErrors": [1.0], "RateLimited": [1.0]}


def test_a_throttled_request_emits_server_errors(
    aizen_env: Callable[..., Settings], dynamodb: None, capsys: pytest.CaptureFixture[str]
) -> None:
    aizen_env(DYNAMODB_MAX_ATTEMPTS="1")
    fail_dynamodb()

    response = invoke("StatsAggregateFunction", STATS_PATHS["StatsAggregateFunction"])

    assert response.status == 503
    (record,) = emf_records(capsys.readouterr().out)
    assert _without_latency(record["values"]) == {"Requests": [1.0], "ServerErrors": [1.0]}


def test_the_rollup_worker_emits_its_counts_and_rollup_succeeded_for_a_site_rolled_up(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    report = job.RollupReport(sites=1, days_rolled_up=5, items_written=40, days_left=2, days_set_aside=["s/d"])
    monkeypatch.setattr(job, "run_site", lambda site_id, budget: report)
    event = json.loads((PROJECT_ROOT / "events" / "RollupFunction.json").read_text())

    load_handler("RollupFunction")(event, LocalLambdaContext(function_name="RollupFunction"))

    (record,) = emf_records(capsys.readouterr().out)
    assert (record["namespace"], record["dimensions"], record["service"]) == ("Aizen", [["service"]], "aizen")
    assert record["values"] == {
        "RollupSites": [1.0],
        "RollupDays": [5.0],
        "RollupItems": [40.0],
        "RollupDaysLeft": [2.0],
        "RollupDaysSetAside": [1.0],
        "RollupSucceeded": [1.0],
    }


def test_a_failed_site_emits_no_rollup_succeeded(monkeypatch: pytest.MonkeyPatch) -> None:
    def failing(site_id: str, budget: float) -> job.RollupReport:
        raise RuntimeError("lost the connection")

    monkeypatch.setattr(job, "run_site", failing)
    event = json.loads((PROJECT_ROOT / "events" / "RollupFunction.json").read_text())

    with pytest.raises(RuntimeError):  # the queue hands the site out again, then to the dead-letter queue
        load_handler("RollupFunction")(event, LocalLambdaContext(function_name="RollupFunction"))


@pytest.mark.parametrize("sites", [0, 3])
def test_the_dispatcher_emits_the_sites_it_dispatched_even_none(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], sites: int
) -> None:
    monkeypatch.setattr(job, "dispatch", lambda run_id: sites)

    load_handler("RollupDispatchFunction")({}, LocalLambdaContext(function_name="RollupDispatchFunction"))

    (record,) = emf_records(capsys.readouterr().out)
    assert record["values"] == {"RollupSitesDispatched": [float(sites)]}


def test_a_site_in_the_dead_letter_queue_is_alarmed() -> None:
    alarm = _only(
        _alarms_reading(
            "AWS/SQS", "ApproximateNumberOfMessagesVisible", "QueueName",
            {"Fn::GetAtt": ["RollupDeadLetterQueue", "QueueName"]},
        ),
        "the rollup's dead-letter queue",
    )  # fmt: skip
    queue = TEMPLATE.resources["RollupQueue"]["Properties"]

    assert queue["RedrivePolicy"]["deadLetterTargetArn"] == {"Fn::GetAtt": ["RollupDeadLetterQueue", "Arn"]}
    assert alarm["ComparisonOperator"] == "GreaterThanThreshold"
    assert alarm["Threshold"] == 0


def test_a_day_set_aside_is_alarmed() -> None:
    alarm = _only(_alarms_reading("Aizen", "RollupDaysSetAside", "service", "aizen"), "RollupDaysSetAside")

    assert alarm["ComparisonOperator"] == "GreaterThanThreshold"
    assert alarm["Threshold"] == 0


def test_a_site_in_the_compactions_dead_letter_queue_is_alarmed() -> None:
    alarm = _only(
        _alarms_reading(
            "AWS/SQS", "ApproximateNumberOfMessagesVisible", "QueueName",
            {"Fn::GetAtt": ["CompactionDeadLetterQueue", "QueueName"]},
        ),
        "the compaction's dead-letter queue",
    )  # fmt: skip

    assert (alarm["ComparisonOperator"], alarm["Threshold"]) == ("GreaterThanThreshold", 0)


def test_an_hour_set_aside_is_alarmed() -> None:
    alarm = _only(_alarms_reading("Aizen", "CompactionHoursSetAside", "service", "aizen"), "CompactionHoursSetAside")

    assert (alarm["ComparisonOperator"], alarm["Threshold"]) == ("GreaterThanThreshold", 0)


def test_the_compaction_worker_emits_its_counts_and_the_sites_lag(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    report = compaction.CompactionReport(
        sites=1, hours_compacted=3, hours_recompacted=1, events_packed=40, lag_seconds=7, hours_set_aside=["s/h"]
    )
    monkeypatch.setattr(compaction, "run_site", lambda site_id, budget: report)
    event = json.loads((PROJECT_ROOT / "events" / "CompactionFunction.json").read_text())

    load_handler("CompactionFunction")(event, LocalLambdaContext(function_name="CompactionFunction"))

    (record,) = emf_records(capsys.readouterr().out)
    assert record["values"] == {
        "CompactionHours": [3.0],
        "CompactionRecompactedHours": [1.0],
        "CompactionEvents": [40.0],
        "CompactionHoursSetAside": [1.0],
        "CompactionLagSeconds": [7.0],
    }


def test_the_compaction_dispatcher_emits_the_sites_it_dispatched(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(compaction, "dispatch", lambda run_id: 3)

    load_handler("CompactionDispatchFunction")({}, LocalLambdaContext(function_name="CompactionDispatchFunction"))

    (record,) = emf_records(capsys.readouterr().out)
    assert record["values"] == {"CompactionSitesDispatched": [3.0]}


# Metrics and the operations guide ---------------------------------------------------------------


def test_the_code_emits_the_documented_metric_names() -> None:
    assert _emitted_metrics() >= {
        "Requests",
        "ClientErrors",
        "ServerErrors",
        "RateLimited",
        "EventsRefusedByAddress",
        "EventsRefusedBySite",
        "RollupSites",
        "RollupDays",
        "RollupItems",
        "RollupDaysLeft",
        "RollupDaysSetAside",
        "RollupSucceeded",
        "RollupSitesDispatched",
    }


@pytest.mark.parametrize("metric", sorted(_emitted_metrics()))
def test_every_emitted_metric_is_in_the_operations_guide(metric: str) -> None:
    guide = Path(PROJECT_ROOT / "docs/operations.md").read_text()

    assert f"`{metric}`" in guide


@pytest.mark.parametrize("logical_id", sorted(ALARMS))
def test_every_alarm_is_in_the_operations_guide(logical_id: str) -> None:
    guide = Path(PROJECT_ROOT / "docs/operations.md").read_text()

    assert f"`{logical_id}`" in guide
