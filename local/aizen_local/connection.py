"""Which DynamoDB and which tables a command talks to.

In order: a CloudFormation stack's outputs (`--stack`: `<table logical id>Name`, e.g.
MainTableName), the tables' environment variables (AIZEN_MAIN_TABLE, AIZEN_EVENTS_TABLE,
AIZEN_SALTS_TABLE: every table of template.yaml, as its Globals name them), else the running
local stack (found through the state file `aizen serve` writes). The endpoint follows boto3's
standard variables (AWS_ENDPOINT_URL_DYNAMODB), else the local stack's store.
"""

import json
import os
import socket
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

import boto3

from aizen.settings import get_settings
from aizen.store.dynamo import reset_connections
from aizen_local.template import PROJECT_ROOT, load_template

STATE_FILE = Path(os.environ.get("AIZEN_LOCAL_STATE") or PROJECT_ROOT / ".aizen" / "local-stack.json")
LOCAL_TABLES = {"MainTable": "aizen-local-main", "EventsTable": "aizen-local-events", "SaltsTable": "aizen-local-salts"}
_LOCAL_AWS_DEFAULTS = {
    "AWS_DEFAULT_REGION": "us-east-1",
    "AWS_ACCESS_KEY_ID": "local",
    "AWS_SECRET_ACCESS_KEY": "local",
}


class ConnectionProblem(Exception):
    """No DynamoDB tables could be found for a command."""


@dataclass(frozen=True)
class LocalStackState:
    api_url: str
    dynamodb_endpoint: str
    tables: dict[str, str] = field(default_factory=dict)  # table logical id → name

    def write(self, path: Path = STATE_FILE) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(asdict(self), indent=2))

    @classmethod
    def read(cls, path: Path = STATE_FILE) -> "LocalStackState | None":
        """The state of the running stack; None when there is none, or it was written by a version
        of `aizen serve` that knew other tables (restart it)."""
        if not path.exists():
            return None
        try:
            state = cls(**json.loads(path.read_text()))
        except TypeError:
            return None
        return state if set(state.tables) == set(load_template().tables()) else None


def use_local_aws_defaults() -> None:
    """Region and dummy credentials for a local store, unless the environment has its own."""
    for name, value in _LOCAL_AWS_DEFAULTS.items():
        os.environ.setdefault(name, value)


def apply(endpoint: str | None, tables: Mapping[str, str]) -> None:
    """Point this process's settings and boto3 at these tables (logical id → name, every table)."""
    if endpoint:
        os.environ["AWS_ENDPOINT_URL_DYNAMODB"] = endpoint
        use_local_aws_defaults()
    for logical_id, variable in load_template().table_variables().items():
        os.environ[variable] = tables[logical_id]
    get_settings.cache_clear()
    reset_connections()


def _reachable(endpoint: str) -> bool:
    parts = urlsplit(endpoint)
    try:
        with socket.create_connection((parts.hostname or "127.0.0.1", parts.port or 80), timeout=1):
            return True
    except OSError:
        return False


def _stack_tables(stack: str) -> dict[str, str]:
    outputs = boto3.client("cloudformation").describe_stacks(StackName=stack)["Stacks"][0].get("Outputs", [])
    values = {output["OutputKey"]: output["OutputValue"] for output in outputs}
    try:
        return {logical_id: values[f"{logical_id}Name"] for logical_id in load_template().tables()}
    except KeyError as missing:
        raise ConnectionProblem(f"stack {stack} has no output {missing} (deployed from an older template?)") from None


def connect(stack: str | None = None) -> None:
    """Configure this process for the tables a command should use (see module doc)."""
    endpoint = os.environ.get("AWS_ENDPOINT_URL_DYNAMODB")
    if stack:
        apply(endpoint, _stack_tables(stack))
        return
    variables = load_template().table_variables()
    if all(os.environ.get(variable) for variable in variables.values()):
        apply(endpoint, load_template().table_names(os.environ))
        return
    state = LocalStackState.read()
    if state is None or not _reachable(state.dynamodb_endpoint):
        raise ConnectionProblem(
            "No tables to use: start the local stack (`make dev` or `aizen serve`), "
            f"set {', '.join(sorted(variables.values()))}, or pass --stack NAME"
        )
    apply(endpoint or state.dynamodb_endpoint, state.tables)
