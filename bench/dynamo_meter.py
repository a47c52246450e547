"""What a benchmarked call costs in DynamoDB, counted on the store's own client: requests,
items and response bytes read, and the CPU time spent inside the calls (moto runs in the
benchmark's process, so its work would otherwise count as ours)."""

import time
from typing import Any

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
