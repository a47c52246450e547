"""Wall time of the README's requests, and of raw-event queries, on the local stack with its demo site.

    .venv/bin/python bench/bench_local_stack.py [--runs 3] [--warmup 8]
    .venv/bin/python bench/bench_local_stack.py --million [--events 1000000] [--runs 3]

Starts `aizen serve --port 0` as `make dev` does (the demo site: 400 days of traffic, the
last 90 as raw events, compacted into hour blocks by the first scheduled compaction), waits
for the first scheduled rollup and compaction to finish, then sends
each request `--runs` times with curl and prints, per request, the HTTP status, the median
of curl's `time_total` and the median CPU time the whole stack (the serving process, its
embedded store and its function workers) spent on it. Each request first runs `--warmup` times
untimed: each of the stack's four function workers loads a function's handler on its first
request for it, as a new Lambda environment does, and that cold start is not measured here.
The requests: every line `aizen serve` prints (the README's "What make dev prints"; the
POST and DELETE as pairs, the DELETE revoking the key the POST made) and three that
read raw events. The stack's rate limits are raised so that the bench's own requests
are never refused (every request still goes through them). Stops the stack.

`--million`: the 1 M-event local site, as a newcomer would build it. Writes `--events`
lines of `aizen traffic` (30 days ending now) to a file, starts `aizen serve --no-demo`,
creates an owner, a site and a key with the `aizen` commands, imports the file with
`aizen import`, packs it into hour blocks with `aizen compact` (run again until no finished
hour is left: each run has the scheduled job's time budget), and then times filtered
30-day aggregate and breakdown queries. Prints the import rate (events/s), the compaction
time, the queries' wall times and the CPU time of the stack and of the commands, with the
machine's load average (a shared machine inflates wall times).
"""

import argparse
import json
import os
import re
import resource
import signal
import statistics
import subprocess
import sys
import tempfile
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
# The filtered 30-day queries of the 1 M-event site (--million).
MILLION_READS = (
    "/api/v1/stats/aggregate?period=30d&country=US&metrics=visitors,pageviews,bounce_rate,visit_duration",
    "/api/v1/stats/breakdown?period=30d&property=page&country=US",
)
# The traffic generator's yield: `aizen traffic --days 30 --visitors 200` prints 17,399 lines.
LINES_PER_WEEKDAY_VISITOR = 17_399 / 200
# Each scheduled function runs once at start; measuring starts after these have run (a stack
# without the demo site has no site for the dispatchers to send to RollupFunction or CompactionFunction).
DEMO_FIRST_RUNS = ("RollupFunction", "CompactionFunction")
EMPTY_FIRST_RUNS = ("RollupDispatchFunction", "CompactionDispatchFunction")
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
        if created[0] != 201:
            raise SystemExit(f"POST answered {created[0]}: {created[3][:500]}")
        key_id = json.loads(created[3])["key"]["id"]
        pairs.append((created, curl(stack, [word.replace("<key id>", key_id) for word in delete_arguments])))
    report(post, [created for created, _ in pairs[warmup:]])
    report(delete, [revoked for _, revoked in pairs[warmup:]])


def drain(lines: Iterable[str], first: list[str], ran: set[str]) -> None:
    """Read the stack's output so that it never blocks on a full pipe; note the first line and the
    functions that have run."""
    for line in lines:
        if not first:
            first.append(line)
        ran.update(re.findall(r"aizen serve: (\w+) (?:ran|failed)", line))


def start_stack(
    arguments: list[str], environment: dict[str, str], first_runs: tuple[str, ...]
) -> tuple["subprocess.Popen[str]", dict[str, Any]]:
    """`aizen serve --port 0 ARGUMENTS`, once the functions `first_runs` have run (the scheduled
    jobs' runs at start); returns the process and its JSON summary (its first line on stdout)."""
    stack = subprocess.Popen(
        [str(AIZEN), "serve", "--port", "0", *arguments],
        cwd=ROOT,
        env=environment,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert stack.stdout is not None
    assert stack.stderr is not None
    started = time.monotonic()
    stdout: list[str] = []
    ran: set[str] = set()
    for stream, first in ((stack.stdout, stdout), (stack.stderr, [])):
        threading.Thread(target=drain, args=(stream, first, ran), daemon=True).start()
    deadline = time.monotonic() + 900
    while not (stdout and ran.issuperset(first_runs)):
        if stack.poll() is not None or time.monotonic() > deadline:
            stack.kill()
            raise SystemExit("the stack did not start and run its first rollup and compaction (within 15 minutes)")
        time.sleep(1)
    print(f"stack up, first rollup and compaction done, in {time.monotonic() - started:.0f} s", flush=True)
    return stack, json.loads(stdout[0])


def stop_stack(stack: "subprocess.Popen[str]") -> None:
    stack.send_signal(signal.SIGINT)
    stack.wait(timeout=60)


def load() -> str:
    return "load average " + " ".join(f"{value:.1f}" for value in os.getloadavg())


def aizen(environment: dict[str, str], *arguments: str) -> Any:
    """Run an `aizen` command; its JSON result."""
    done = subprocess.run([str(AIZEN), *arguments], cwd=ROOT, env=environment, capture_output=True, text=True)
    if done.returncode:
        raise SystemExit(f"aizen {' '.join(arguments)} failed: {done.stderr[-2000:]}")
    return json.loads(done.stdout)


def children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def write_traffic(path: Path, events: int) -> int:
    """`events` lines of `aizen traffic` over 30 days ending now (the generator sized to yield a
    little more, the newest lines cut); returns the number written."""
    visitors = events / LINES_PER_WEEKDAY_VISITOR * 1.03
    command = [str(AIZEN), "traffic", "--domain", "million.example", "--days", "30", "--visitors", f"{visitors:.0f}"]
    written = 0
    with path.open("w") as out, subprocess.Popen(command, cwd=ROOT, stdout=subprocess.PIPE, text=True) as traffic:
        assert traffic.stdout is not None
        for line in traffic.stdout:
            if written == events:
                traffic.kill()
                break
            out.write(line)
            written += 1
    return written


def million(options: argparse.Namespace, environment: dict[str, str]) -> None:
    """The 1 M-event local site: generate, import, compact, query (module docstring)."""
    with tempfile.TemporaryDirectory(prefix="aizen-million-") as scratch:
        environment = {**environment, "AIZEN_LOCAL_STATE": str(Path(scratch) / "local-stack.json")}
        path = Path(scratch) / "traffic.ndjson"
        started = time.monotonic()
        lines = write_traffic(path, options.events)
        print(f"{lines} lines of `aizen traffic` (30 days) in {time.monotonic() - started:.0f} s", flush=True)
        stack, _ = start_stack(["--no-demo"], environment, EMPTY_FIRST_RUNS)
        try:
            owner = aizen(environment, "users", "create", "--email", "million@example.com")
            site = aizen(environment, "sites", "create", "--domain", "million.example", "--timezone", "UTC",
                         "--owner", owner["id"])  # fmt: skip
            token = aizen(environment, "keys", "create", "--site", site["id"], "--name", "bench")["token"]

            stack_before, commands_before, started = cpu_seconds(stack.pid), children_cpu(), time.monotonic()
            summary = aizen(environment, "import", "--site", site["id"], str(path))
            wall, imported = time.monotonic() - started, summary["imported"]
            print(
                f"aizen import: {imported} events in {wall:.0f} s = {imported / wall:,.0f} events/s "
                f"(stack CPU {cpu_seconds(stack.pid) - stack_before:.0f} s, aizen import CPU "
                f"{children_cpu() - commands_before:.0f} s; {load()})",
                flush=True,
            )
            stack_before, commands_before, started = cpu_seconds(stack.pid), children_cpu(), time.monotonic()
            runs, packed, hours, again = 0, 0, 0, 0
            while True:  # each run has the scheduled job's time budget: run it until nothing is left
                compacted = aizen(environment, "compact", "--site", site["id"])
                runs, packed = runs + 1, packed + compacted["events_packed"]
                hours, again = hours + compacted["hours_compacted"], again + compacted["hours_recompacted"]
                if compacted["lag_seconds"] == 0 or runs == 20:
                    break
            print(
                f"aizen compact ({runs} runs): {packed} events, {hours} hours (+{again} again) in "
                f"{time.monotonic() - started:.0f} s (stack CPU {cpu_seconds(stack.pid) - stack_before:.0f} s, "
                f"aizen compact CPU {children_cpu() - commands_before:.0f} s; {load()})",
                flush=True,
            )
            api_url = json.loads(Path(environment["AIZEN_LOCAL_STATE"]).read_text())["api_url"]
            bearer = ["-H", f"Authorization: Bearer {token}"]
            print(f"{'request':<100} status  wall s  stack CPU s  (median of {options.runs}, after 4 untimed)")
            for path_and_query in MILLION_READS:
                results = [curl(stack.pid, [api_url + path_and_query, *bearer]) for _ in range(4 + options.runs)]
                if any(status != 200 for status, _, _, _ in results[4:]):
                    print(results[-1][3][:500])
                report(f"GET {path_and_query}", results[4:])
            print(load(), flush=True)
        finally:
            stop_stack(stack)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument(
        "--warmup", type=int, default=8, help="untimed runs of each GET first, so that every worker has loaded it"
    )
    parser.add_argument("--million", action="store_true", help="the 1 M-event site: import, compact, filtered queries")
    parser.add_argument("--events", type=int, default=1_000_000, help="with --million: lines to import")
    options = parser.parse_args()
    limits = {"AIZEN_IP_LIMIT_PER_MINUTE": "1000000", "AIZEN_KEY_LIMIT_PER_HOUR": "1000000"}  # checked, never hit
    environment = {**os.environ, **limits}
    if options.million:
        million(options, environment)
        return 0
    stack, summary = start_stack([], environment, DEMO_FIRST_RUNS)
    try:
        print(f"demo site: {summary['demo_events']} events imported; {load()}", flush=True)
        measure(stack.pid, summary, options.runs, options.warmup)
        print(load(), flush=True)
    finally:
        stop_stack(stack)
    return 0


if __name__ == "__main__":
    sys.exit(main())
