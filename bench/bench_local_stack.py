"""Wall time of the README's requests, and of raw-event queries, on the local stack with its demo site.

    .venv/bin/python bench/bench_local_stack.py [--runs 3] [--warmup 8]

Starts `aizen serve --port 0` as `make dev` does (the demo site: 400 days of traffic, the
last 90 as ~13 k raw events), waits for the first scheduled rollup to finish, then sends
each request `--runs` times with curl and prints, per request, the HTTP status, the median
of curl's `time_total` and the median CPU time the whole stack (the serving process, its
embedded store and its function workers) spent on it. Each request first runs `--warmup` times
untimed: each of the stack's four function workers loads a function's handler on its first
request for it, as a new Lambda environment does, and that cold start is not measured here.
The requests: every line `aizen serve` prints (the README's "What make dev prints"; the
POST and DELETE as pairs, the DELETE revoking the key the POST made) and three that
read raw events. The stack's rate limits are raised so that the bench's own requests
are never refused (every request still goes through them). Stops the stack.
"""

import argparse
import json
import os
import re
import signal
import statistics
import subprocess
import sys
import threading
import time
from collections.abc import Iterable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
AIZEN = Path(sys.executable).with_name("aizen")
RAW_READS = (
    "/api/v1/stats/aggregate?period=30d&country=US",
    "/api/v1/stats/breakdown?period=7d&property=city&country=US",
    "/api/v1/stats/timeseries?period=7d&interval=hour",
)
WRITE_OUT = "\n%{http_code} %{time_total}"
TICKS = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pid: int) -> float:
    """User + system CPU of a process and its live descendants, from /proc."""
    total = 0.0
    pending = [pid]
    while pending:
        current = pending.pop()
        try:
            fields = Path(f"/proc/{current}/stat").read_text().rsplit(")", 1)[1].split()
            total += (int(fields[11]) + int(fields[12])) / TICKS
            for task in Path(f"/proc/{current}/task").iterdir():
                pending += [int(child) for child in (task / "children").read_text().split()]
        except FileNotFoundError:
            continue
    return total


def curl(stack: int, arguments: list[str]) -> tuple[int, float, float, str]:
    """(status, wall seconds, stack CPU seconds, body) of one request."""
    before = cpu_seconds(stack)
    output = subprocess.run(["curl", "-s", "-w", WRITE_OUT, *arguments], check=True, capture_output=True, text=True)
    cpu = cpu_seconds(stack) - before
    body, _, status_time = output.stdout.rpartition("\n")
    status, wall = status_time.split()
    return int(status), float(wall), cpu, body


def requests(summary: dict[str, Any]) -> list[tuple[str, list[str]]]:
    """(label, curl arguments) of every printed line, then the raw reads (with the demo key)."""
    lines = []
    for line in summary["curl"]:
        words = [word.strip("'") for word in re.findall(r"'[^']*'|\S+", line)]
        arguments = [word for word in words[1:] if word not in ("-i", "-s")]
        url = next(word for word in arguments if word.startswith("http"))
        method = arguments[arguments.index("-X") + 1] if "-X" in arguments else "GET"
        lines.append((f"{method} {url.removeprefix(summary['api_url'])}", arguments))
    bearer = ["-H", f"Authorization: Bearer {summary['api_key']}"]
    lines += [(f"GET {path}", [summary["api_url"] + path, *bearer]) for path in RAW_READS]
    return lines


def report(label: str, results: list[tuple[int, float, float, str]]) -> None:
    statuses = ",".join(str(status) for status in sorted({status for status, _, _, _ in results}))
    wall = statistics.median(wall for _, wall, _, _ in results)
    cpu = statistics.median(cpu for _, _, cpu, _ in results)
    print(f"{label:<100} {statuses:<7} {wall:6.3f}  {cpu:6.3f}", flush=True)


def measure(stack: int, summary: dict[str, Any], runs: int, warmup: int) -> None:
    """Each GET alone, then the POST and the DELETE in pairs, the DELETE revoking the key the POST made."""
    print(f"{'request':<100} status  wall s  stack CPU s  (median of {runs}, after {warmup} untimed)")
    lines = requests(summary)
    for label, arguments in lines:
        if label.startswith("GET"):
            report(label, [curl(stack, arguments) for _ in range(warmup + runs)][warmup:])
    (post, post_arguments), (delete, delete_arguments) = [line for line in lines if not line[0].startswith("GET")]
    pairs = []
    for _ in range(warmup + runs):
        created = curl(stack, post_arguments)
        key_id = json.loads(created[3])["key"]["id"]
        pairs.append((created, curl(stack, [word.replace("<key id>", key_id) for word in delete_arguments])))
    report(post, [created for created, _ in pairs[warmup:]])
    report(delete, [revoked for _, revoked in pairs[warmup:]])


def drain(lines: Iterable[str], first: list[str], rollup_ran: threading.Event) -> None:
    """Read the stack's output so that it never blocks on a full pipe; note the first line and the rollup."""
    for line in lines:
        if not first:
            first.append(line)
        if "RollupFunction ran" in line or "RollupFunction failed" in line:
            rollup_ran.set()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument(
        "--warmup", type=int, default=8, help="untimed runs of each GET first, so that every worker has loaded it"
    )
    options = parser.parse_args()
    limits = {"AIZEN_IP_LIMIT_PER_MINUTE": "1000000", "AIZEN_KEY_LIMIT_PER_HOUR": "1000000"}  # checked, never hit
    stack = subprocess.Popen(
        [str(AIZEN), "serve", "--port", "0"],
        cwd=ROOT,
        env={**os.environ, **limits},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )  # the JSON summary is its first line on stdout
    try:
        assert stack.stdout is not None
        assert stack.stderr is not None
        started = time.monotonic()
        stdout: list[str] = []
        rollup_ran = threading.Event()  # the first scheduled rollup runs at start: measure after it
        for stream, first in ((stack.stdout, stdout), (stack.stderr, [])):
            threading.Thread(target=drain, args=(stream, first, rollup_ran), daemon=True).start()
        deadline = time.monotonic() + 600
        while not (rollup_ran.wait(timeout=1) and stdout):
            if stack.poll() is not None or time.monotonic() > deadline:
                raise SystemExit("the stack did not start and run its first rollup (within 10 minutes)")
        summary = json.loads(stdout[0])
        print(
            f"stack up (demo site: {summary['demo_events']} events imported) in {time.monotonic() - started:.0f} s",
            flush=True,
        )
        measure(stack.pid, summary, options.runs, options.warmup)
    finally:
        stack.send_signal(signal.SIGINT)
        stack.wait(timeout=60)
    return 0


if __name__ == "__main__":
    sys.exit(main())
