"""The site job queues (SQS, FIFO): one message per site and scheduled run (docs/rollups.md, "The job";
docs/operations.md, "How compaction resumes").

The rollup and the compaction each have a queue of their own (template.yaml, RollupQueue and
CompactionQueue). The site's id is the message group, so a queue never hands one site to two
workers at once, and a site whose message keeps failing holds up only its own group. The
deduplication id is the site and the run, so a schedule delivered twice sends each site once.
"""

import json
from collections.abc import Sequence

import boto3

from aizen.errors import ServiceUnavailable

BATCH_SIZE = 10  # SendMessageBatch's limit
_ROUNDS = 3  # sends of the entries SQS refused, before giving up


def send_sites(queue_url: str, site_ids: Sequence[str], run_id: str) -> int:
    """Send one message per site to the queue; returns how many were sent. Raises
    ServiceUnavailable when SQS kept refusing some (the sites already sent stay sent)."""
    client = boto3.client("sqs")  # a few times an hour: no connection worth keeping between runs
    sent = 0
    for start in range(0, len(site_ids), BATCH_SIZE):
        pending = {
            str(index): {
                "Id": str(index),
                "MessageBody": json.dumps({"site_id": site_id}),
                "MessageGroupId": site_id,
                "MessageDeduplicationId": f"{site_id}#{run_id}",
            }
            for index, site_id in enumerate(site_ids[start : start + BATCH_SIZE])
        }
        for _ in range(_ROUNDS):
            answer = client.send_message_batch(QueueUrl=queue_url, Entries=list(pending.values()))
            for done in answer.get("Successful", []):
                pending.pop(done["Id"], None)
                sent += 1
            if not pending:
                break
        if pending:
            raise ServiceUnavailable(f"SQS refused the messages of {len(pending)} site(s) after {_ROUNDS} sends")
    return sent


def site_ids_of(event: dict[str, object]) -> list[str]:
    """The site ids of an SQS event's records (what `send_sites` wrote)."""
    records = event.get("Records", [])
    assert isinstance(records, list)
    return [str(json.loads(record["body"])["site_id"]) for record in records]
