"""Cold start: each function's init (imports + module-level set-up) against `import boto3`.

Lambda imports a function's module once per execution environment; that time is
the init phase of a cold start. This benchmark lays out every function as Lambda
does (the function's code as /var/task, the layer as /opt/python, bytecode
compiled with unchecked hashes like `sam build`), but for this machine's
architecture, and times in fresh interpreters:

- `import boto3` alone (the floor every Python Lambda with the SDK pays),
- the libraries a stats function imports before any Aizen code (boto3, Powertools'
  Logger and Metrics), and with `--steps` what each other library would add, and
- `import app` for each function, with the environment template.yaml gives it
  and the variables Lambda itself sets (`LAMBDA_TASK_ROOT`, `AWS_EXECUTION_ENV`…):
  libraries behave differently outside Lambda (the X-Ray SDK, for one, creates an
  X-Ray client for centralised sampling, ~100 ms, unless `LAMBDA_TASK_ROOT` is set),
- and, after a stats function's init, the store's DynamoDB connection that its first
  request creates (not init, but the largest piece of a cold request's own start-up), and
  after ingestion's init, its first user agent (ua-parser is set up then, not at init).

It prints the median of several runs of each, and the init's ratio to boto3.

    .venv/bin/python bench/bench_coldstart.py [--runs 7]
"""

import argparse
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

from aizen_local.template import PROJECT_ROOT, FunctionSpec, Template, load_template

BOTO3 = "import boto3 (floor)"
# The libraries one at a time (each step includes the ones above it). The first step is the
# "libraries" line: what a stats function imports before any Aizen code. The others are what
# the stats functions no longer import (docs/performance.md): pydantic (the key-management and
# ingestion functions still use it for JSON bodies), Powertools' resolver, and the Tracer.
LIBRARIES = "libraries (boto3+Logger+Metrics)"
_STEPS = [
    (LIBRARIES, "from aws_lambda_powertools import Logger, Metrics\nLogger(); Metrics()\n"),
    ("+ import pydantic", "import pydantic\n"),
    ("+ the first pydantic model", "class Probe(pydantic.BaseModel):\n    value: int\n"),
    (
        "+ Powertools resolver",
        "from aws_lambda_powertools.event_handler import APIGatewayHttpResolver\nAPIGatewayHttpResolver()\n",
    ),
    ("+ Powertools Tracer (not at init)", "from aws_lambda_powertools import Tracer\nTracer()\n"),
]


def floors(steps: bool) -> dict[str, str]:
    """`import boto3` and the libraries line; with `steps`, what each further library adds."""
    statements = {BOTO3: "import boto3\n"}
    for name, statement in _STEPS:
        statements[name] = statements[next(reversed(statements))] + statement
    if steps:
        return statements
    return {BOTO3: statements[BOTO3], LIBRARIES: statements[LIBRARIES]}


# -I ignores PYTHONPATH, so the probe puts the paths on sys.path itself; only `statement` is timed.
_PROBE = """
import sys, time
sys.path[:0] = {paths!r}
{untimed}
started = time.perf_counter()
{statement}
print(time.perf_counter() - started)
"""
# What a cold request does after init, before its first DynamoDB call: create the store's connection.
FIRST_CONNECTION = "first request's DynamoDB connection"
_CONNECTION_PROBE = ("import app", "from aizen.store import dynamo\ndynamo.main_table()")
# What ingestion's first event does after init: set up ua-parser and parse a desktop browser's agent
# (its rules are compiled as agents reach them: docs/performance.md).
FIRST_USER_AGENT = "ingestion's first user agent"
_USER_AGENT_PROBE = (
    "import app",
    "from aizen.ingest import enrich\nenrich.parse_user_agent('Mozilla/5.0 (Windows NT 10.0; Win64; x64) "
    "AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36')",
)


def build_layout(root: Path) -> Path:
    """The layer for this machine, built by the layer's own Makefile (bytecode included)."""
    machine = "aarch64" if platform.machine() in ("aarch64", "arm64") else "x86_64"
    subprocess.run(
        [
            "make",
            "-s",
            "-C",
            str(PROJECT_ROOT / "layers" / "aizen"),
            "build-AizenLayer",
            f"ARTIFACTS_DIR={root}",
            f"PLATFORM=manylinux2014_{machine}",
            f"PIP={sys.executable} -m pip",
        ],
        check=True,
        env={**os.environ, "PATH": f"{Path(sys.executable).parent}:{os.environ['PATH']}"},
    )
    return root / "python"


def build_function(spec: FunctionSpec, tasks: Path) -> Path:
    """The function's code as Lambda's /var/task, with bytecode like `sam build`."""
    task = tasks / spec.logical_id
    shutil.copytree(spec.code_uri, task)
    subprocess.run(
        [sys.executable, "-m", "compileall", "-q", "--invalidation-mode", "unchecked-hash", str(task)],
        check=True,
    )
    return task


def lambda_environment(template: Template, task: Path, extra: dict[str, str] | None = None) -> dict[str, str]:
    """The environment of the function in `task`: the template's variables and Lambda's own."""
    return {
        "PATH": os.environ["PATH"],
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_ACCESS_KEY_ID": "bench",
        "AWS_SECRET_ACCESS_KEY": "bench",
        **template.function_environment(
            {"MainTable": "bench-main", "EventsTable": "bench-events", "SaltsTable": "bench-salts"}
        ),
        # What Lambda's runtime sets in every execution environment (active tracing on).
        "AWS_REGION": "us-east-1",
        "AWS_EXECUTION_ENV": "AWS_Lambda_python3.13",
        "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": "512",
        "AWS_LAMBDA_FUNCTION_VERSION": "$LATEST",
        "AWS_LAMBDA_FUNCTION_NAME": task.name,
        "AWS_XRAY_DAEMON_ADDRESS": "169.254.79.129:2000",
        "AWS_XRAY_CONTEXT_MISSING": "LOG_ERROR",
        "LAMBDA_TASK_ROOT": str(task),
        "TZ": ":UTC",
        "_HANDLER": "app.lambda_handler",
        "_X_AMZN_TRACE_ID": "Root=1-00000000-000000000000000000000000;Sampled=1",
        **(extra or {}),
    }


def time_statement(statement: str, paths: list[Path], environment: dict[str, str], untimed: str = "") -> float:
    """Seconds `statement` takes in a fresh interpreter, after `untimed`."""
    probe = _PROBE.format(paths=[str(path) for path in paths], untimed=untimed, statement=statement)
    result = subprocess.run(
        [sys.executable, "-I", "-c", probe],
        capture_output=True,
        text=True,
        check=True,
        env=environment,
        cwd=paths[0],
    )
    return float(result.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--steps", action="store_true", help="also time the libraries one step at a time")
    args = parser.parse_args()

    template = load_template()
    with tempfile.TemporaryDirectory() as scratch:
        layer = build_layout(Path(scratch) / "layer")
        tasks = Path(scratch) / "task"

        probes: dict[str, tuple[str, str, Path]] = {}
        for number, (name, statement) in enumerate(floors(args.steps).items()):
            task = tasks / f"floor-{number}"
            task.mkdir(parents=True)
            probes[name] = ("", statement, task)
        for spec in template.functions():
            probes[spec.logical_id] = ("", "import app", build_function(spec, tasks))
        probes[FIRST_CONNECTION] = (*_CONNECTION_PROBE, tasks / "StatsAggregateFunction")
        probes[FIRST_USER_AGENT] = (*_USER_AGENT_PROBE, tasks / "IngestEventFunction")

        # Round-robin, so a change in the machine's load touches every probe alike.
        samples: dict[str, list[float]] = {name: [] for name in probes}
        for _ in range(args.runs):
            for name, (untimed, statement, task) in probes.items():
                environment = lambda_environment(template, task)
                samples[name].append(time_statement(statement, [task, layer], environment, untimed))
        floor = statistics.median(samples[BOTO3])
        for name, times in samples.items():
            median = statistics.median(times)
            ratio = "" if name in (FIRST_CONNECTION, FIRST_USER_AGENT) else f"   {median / floor:.2f}x"
            print(f"{name:40} {median * 1000:7.1f} ms{ratio}")


if __name__ == "__main__":
    main()
