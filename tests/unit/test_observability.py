"""Tracing: the X-Ray SDK is loaded by the first sampled invocation, never at import."""

from typing import Any

import pytest

from aizen.observability import invocation_is_sampled, traced_when_sampled, tracer

UNSAMPLED = "Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=0"
SAMPLED = "Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=1"


def echo(event: Any, context: Any) -> dict[str, Any]:
    return {"echo": event}


@pytest.fixture
def fresh_tracer() -> Any:
    tracer.cache_clear()
    yield tracer
    tracer.cache_clear()


@pytest.mark.parametrize(("trace_id", "sampled"), [(SAMPLED, True), (UNSAMPLED, False), (None, False)])
def test_sampling_is_read_from_the_invocation_trace_id(
    monkeypatch: pytest.MonkeyPatch, trace_id: str | None, sampled: bool
) -> None:
    if trace_id is None:
        monkeypatch.delenv("_X_AMZN_TRACE_ID", raising=False)
    else:
        monkeypatch.setenv("_X_AMZN_TRACE_ID", trace_id)

    assert invocation_is_sampled() is sampled


def test_an_unsampled_invocation_creates_no_tracer(monkeypatch: pytest.MonkeyPatch, fresh_tracer: Any) -> None:
    # Given a handler wrapped for tracing and an unsampled invocation
    handler = traced_when_sampled(echo)
    monkeypatch.setenv("_X_AMZN_TRACE_ID", UNSAMPLED)

    # When it runs
    result = handler({"n": 1}, None)

    # Then it answered without creating the Tracer
    assert result == {"echo": {"n": 1}}
    assert fresh_tracer.cache_info().currsize == 0


def test_a_sampled_invocation_runs_inside_the_tracer(monkeypatch: pytest.MonkeyPatch, fresh_tracer: Any) -> None:
    calls: list[str] = []

    def capture(method: Any, capture_response: bool) -> Any:
        def captured(event: Any, context: Any) -> Any:
            calls.append(f"captured, response recorded: {capture_response}")
            return method(event, context)

        return captured

    # Given a handler wrapped for tracing and a sampled invocation
    handler = traced_when_sampled(echo)
    monkeypatch.setenv("_X_AMZN_TRACE_ID", SAMPLED)
    monkeypatch.setattr(fresh_tracer(), "capture_lambda_handler", capture)

    # When it runs twice
    first = handler({"n": 1}, None)
    second = handler({"n": 2}, None)

    # Then both ran through the Tracer's handler capture, which never records responses (tokens)
    assert (first, second) == ({"echo": {"n": 1}}, {"echo": {"n": 2}})
    assert calls == ["captured, response recorded: False"] * 2


def test_the_tracer_patches_botocore_only(monkeypatch: pytest.MonkeyPatch, fresh_tracer: Any) -> None:
    import aws_xray_sdk.core
    from aws_lambda_powertools import Tracer

    # Given tracing on in Lambda, with the X-Ray SDK's patch functions recording what they are asked to patch
    patched: list[Any] = []
    monkeypatch.setenv("POWERTOOLS_TRACE_DISABLED", "false")
    monkeypatch.setenv("LAMBDA_TASK_ROOT", "/var/task")
    monkeypatch.setattr(Tracer, "_config", dict(Tracer._default_config))
    monkeypatch.setattr(aws_xray_sdk.core, "patch", patched.append)
    monkeypatch.setattr(aws_xray_sdk.core, "patch_all", lambda: patched.append("everything"))
    for name in ("patch", "patch_all"):  # the Tracer sets them on the shared recorder
        monkeypatch.setattr(aws_xray_sdk.core.xray_recorder, name, None, raising=False)

    # When the first sampled invocation creates the Tracer
    fresh_tracer()

    # Then botocore alone is patched (DynamoDB subsegments), not every library the SDK knows
    assert patched == [("botocore",)]
