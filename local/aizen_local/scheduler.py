"""Run the scheduled functions (the rollup and compaction dispatchers) on the schedules template.yaml gives them."""

import logging
import re
import threading
import uuid
from datetime import UTC, datetime
from typing import Any

from aizen_local.invoker import LambdaPool

log = logging.getLogger("aizen.local")

_RATE = re.compile(r"^rate\((\d+) (minute|minutes|hour|hours|day|days)\)$")
_UNIT_SECONDS = {"minute": 60, "hour": 3600, "day": 86400}


def rate_seconds(expression: str) -> int:
    """Seconds between runs of an EventBridge `rate(...)` expression."""
    match = _RATE.fullmatch(expression.strip())
    if not match:
        raise ValueError(f"the local stack runs rate(...) schedules; got {expression!r}")
    return int(match.group(1)) * _UNIT_SECONDS[match.group(2).rstrip("s")]


def scheduled_event(logical_id: str) -> dict[str, Any]:
    """The EventBridge 'Scheduled Event' a schedule sends."""
    return {
        "version": "0",
        "id": str(uuid.uuid4()),
        "detail-type": "Scheduled Event",
        "source": "aws.events",
        "account": "123456789012",
        "time": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "region": "us-east-1",
        "resources": [f"arn:aws:events:us-east-1:123456789012:rule/{logical_id}"],
        "detail": {},
    }


class Schedule(threading.Thread):
    """Invokes one function every `period` seconds, first right away, until stopped."""

    def __init__(self, pool: LambdaPool, logical_id: str, period: int, timeout_seconds: int) -> None:
        super().__init__(name=f"schedule-{logical_id}", daemon=True)
        self._pool, self._logical_id, self._period, self._timeout = pool, logical_id, period, timeout_seconds
        self._stopped = threading.Event()

    def run(self) -> None:
        while not self._stopped.is_set():
            try:
                result = self._pool.invoke(self._logical_id, scheduled_event(self._logical_id), self._timeout)
                log.info("%s ran: %s", self._logical_id, result)
            except Exception:
                log.exception("%s failed", self._logical_id)
            self._stopped.wait(self._period)

    def stop(self) -> None:
        self._stopped.set()
