"""The template's SQS queues and the Lambda event source mappings that read them, on this machine.

The queues are created from template.yaml (FIFO, visibility timeout, dead-letter queue and
maxReceiveCount as declared) in an embedded SQS (moto's server, as the store), and each
`AWS::Lambda::EventSourceMapping` becomes a thread that does what Lambda's poller does:
receive up to BatchSize messages, invoke the function with the SQS event, delete them when
the invocation succeeded; a failed invocation leaves them to come back after the queue's
visibility timeout, and to its dead-letter queue after maxReceiveCount receives.
"""

import logging
import threading
from collections.abc import Callable
from typing import Any

import boto3
from moto.moto_server.werkzeug_app import create_backend_app
from werkzeug.serving import BaseWSGIServer, make_server

from aizen_local.store import QuietRequestHandler
from aizen_local.template import Template

log = logging.getLogger("aizen.local")
Invoke = Callable[[str, dict[str, Any]], dict[str, Any]]
LOCAL_QUEUE_PREFIX = "aizen-local-"


class EmbeddedSqs:
    """moto's SQS on a loopback port, in a background thread."""

    def __init__(self, host: str = "127.0.0.1", port: int = 0) -> None:
        self._server: BaseWSGIServer = make_server(
            host, port, create_backend_app("sqs"), threaded=True, request_handler=QuietRequestHandler
        )
        self._thread = threading.Thread(target=self._server.serve_forever, name="embedded-sqs", daemon=True)

    @property
    def endpoint(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}"

    def start(self) -> "EmbeddedSqs":
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._thread.join()


def _queue_name(logical_id: str, properties: dict[str, Any]) -> str:
    return f"{LOCAL_QUEUE_PREFIX}{logical_id}" + (".fifo" if properties.get("FifoQueue") else "")


def ensure_queues(template: Template, endpoint: str | None) -> dict[str, str]:
    """Create the template's queues (dead-letter queues first); returns logical id -> queue URL."""
    client = boto3.client("sqs", endpoint_url=endpoint)
    queues = {
        logical_id: resource.get("Properties", {})
        for logical_id, resource in template.resources.items()
        if resource["Type"] == "AWS::SQS::Queue"
    }
    urls: dict[str, str] = {}
    arns: dict[str, str] = {}
    for logical_id in sorted(queues, key=lambda name: "RedrivePolicy" in queues[name]):
        properties = queues[logical_id]
        attributes = {
            name: str(properties[name]).lower() if isinstance(properties[name], bool) else str(properties[name])
            for name in ("FifoQueue", "VisibilityTimeout", "MessageRetentionPeriod")
            if name in properties
        }
        if "RedrivePolicy" in properties:
            policy = properties["RedrivePolicy"]
            target = policy["deadLetterTargetArn"]["Fn::GetAtt"][0]
            attributes["RedrivePolicy"] = (
                f'{{"deadLetterTargetArn": "{arns[target]}", "maxReceiveCount": {int(policy["maxReceiveCount"])}}}'
            )
        url = client.create_queue(QueueName=_queue_name(logical_id, properties), Attributes=attributes)["QueueUrl"]
        urls[logical_id] = url
        arns[logical_id] = client.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"][
            "QueueArn"
        ]
    return urls


def sqs_event(messages: list[dict[str, Any]], queue_arn: str) -> dict[str, Any]:
    """The event Lambda's SQS poller gives a function for received messages."""
    return {
        "Records": [
            {
                "messageId": message["MessageId"],
                "receiptHandle": message["ReceiptHandle"],
                "body": message["Body"],
                "attributes": message.get("Attributes", {}),
                "messageAttributes": {},
                "md5OfBody": message["MD5OfBody"],
                "eventSource": "aws:sqs",
                "eventSourceARN": queue_arn,
                "awsRegion": "us-east-1",
            }
            for message in messages
        ]
    }


def event_source_mappings(template: Template) -> list[tuple[str, str, int]]:
    """(queue logical id, function logical id, batch size) of each SQS event source mapping."""
    mappings = []
    for resource in template.resources.values():
        if resource["Type"] != "AWS::Lambda::EventSourceMapping":
            continue
        properties = resource["Properties"]
        queue = properties["EventSourceArn"]["Fn::GetAtt"][0]
        function = properties["FunctionName"]["Ref"].split(".")[0]  # RollupFunction.Alias: the function
        mappings.append((queue, function, int(properties.get("BatchSize", 10))))
    return mappings


def poll_once(
    queue_url: str, function: str, batch_size: int, invoke: Invoke, wait_seconds: int = 0, **receive: Any
) -> bool:
    """One round of the poller: receive, invoke, delete on success. Returns whether a batch came.
    `receive`: more ReceiveMessage arguments (tests pass VisibilityTimeout=0: a failure is back at once)."""
    client = boto3.client("sqs")
    answer = client.receive_message(
        QueueUrl=queue_url,
        MaxNumberOfMessages=batch_size,
        WaitTimeSeconds=wait_seconds,
        AttributeNames=["All"],
        **receive,
    )
    messages = answer.get("Messages", [])
    if not messages:
        return False
    queue_arn = client.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    try:
        result = invoke(function, sqs_event(messages, queue_arn))
    except Exception:
        log.exception("%s failed; its messages come back after the visibility timeout", function)
        return True
    log.info("%s ran: %s", function, result)
    for message in messages:
        client.delete_message(QueueUrl=queue_url, ReceiptHandle=message["ReceiptHandle"])
    return True


class QueuePoller(threading.Thread):
    """Lambda's SQS poller for one event source mapping, until stopped."""

    def __init__(self, queue_url: str, function: str, batch_size: int, invoke: Invoke) -> None:
        super().__init__(name=f"poller-{function}", daemon=True)
        self._queue_url, self._function, self._batch_size, self._invoke = queue_url, function, batch_size, invoke
        self._stopped = threading.Event()

    def run(self) -> None:
        while not self._stopped.is_set():
            try:
                poll_once(self._queue_url, self._function, self._batch_size, self._invoke, wait_seconds=1)
            except Exception:
                log.exception("polling the queue of %s failed", self._function)
                self._stopped.wait(5)

    def stop(self) -> None:
        self._stopped.set()
