"""What a benchmarked call costs in DynamoDB, counted on the store's own client: requests,
items and response bytes read, and the CPU time spent inside the calls (moto runs in the
benchmark's process, so its work would otherwise count as ours)."""

import io
import time
from typing import Any

import boto3
from botocore.awsrequest import AWSResponse, HTTPHeaders
from moto.core.models import botocore_stubber
from urllib3 import HTTPResponse

from aizen.store import dynamo


class Meter:
    def __init__(self) -> None:
        self.requests = self.items = self.bytes = 0
        self.store_cpu = 0.0
        self._started = 0.0
        events = dynamo.client().meta.events
        events.register("before-call.dynamodb", self._before)
        events.register("after-call.dynamodb", self._after)

    def _before(self, **_: Any) -> None:
        self.requests += 1
        self._started = time.process_time()

    def _after(self, http_response: Any, parsed: Any, **_: Any) -> None:
        self.store_cpu += time.process_time() - self._started
        self.bytes += len(http_response.content or b"")
        self.items += len(parsed.get("Items", [])) + sum(len(items) for items in parsed.get("Responses", {}).values())

    def reset(self) -> None:
        self.requests = self.items = self.bytes = 0
        self.store_cpu = 0.0


class Replayer:
    """Records DynamoDB's HTTP answers (moto's) once, then answers the same requests with them at
    botocore's `before-send`, so a benchmark times everything the SDK does on our side (signing,
    sending, parsing) without moto. Requests are keyed by operation and body; every client of
    boto3's default session is covered (`install` before the store creates its clients)."""

    def __init__(self) -> None:
        self.mode = "pass"  # "pass": moto answers; "record": moto answers and is recorded; "replay"
        self.answers: dict[tuple[str, bytes], tuple[int, dict[str, str], bytes]] = {}
        self.requests = self.bytes = 0

    def install(self) -> None:
        if boto3.DEFAULT_SESSION is None:
            boto3.setup_default_session()
        session = boto3.DEFAULT_SESSION
        assert session is not None
        events = session._session.get_component("event_emitter")
        events.unregister("before-send", botocore_stubber)
        events.register_first("before-send.dynamodb", self._before_send)
        dynamo.reset_connections()

    def reset_counts(self) -> None:
        self.requests = self.bytes = 0

    def _before_send(self, request: Any, **kwargs: Any) -> Any:
        key = (str(request.headers.get("X-Amz-Target", b"")), bytes(request.body or b""))
        if self.mode == "pass":
            return botocore_stubber(request=request, **kwargs)
        if self.mode == "record":
            answer: Any = botocore_stubber(request=request, **kwargs)
            self.answers[key] = (answer.status_code, dict(answer.headers), answer.content)
        elif key not in self.answers:
            raise KeyError(f"no recorded answer for {key[0]}: {key[1][:200]!r}")
        status, headers, body = self.answers[key]
        self.requests += 1
        self.bytes += len(body)
        raw = HTTPResponse(body=io.BytesIO(body), status=status, headers=headers, preload_content=False)
        answer_headers = HTTPHeaders()
        for name, value in headers.items():
            answer_headers[name] = value
        return AWSResponse(request.url, status, answer_headers, raw)
