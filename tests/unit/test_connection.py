"""How a table's name travels to the functions, the CLI and the local stack (aizen_local.connection)."""

import json
import os
from collections.abc import Callable
from pathlib import Path

import boto3
import pytest
from moto import mock_aws

from aizen.settings import Settings, get_settings
from aizen_local import connection
from aizen_local.template import load_template

TEMPLATE = load_template()


@pytest.mark.parametrize("table", sorted(TEMPLATE.tables()))
def test_every_table_has_a_globals_variable_and_a_stack_output(table: str) -> None:
    variable = TEMPLATE.table_variables()[table]

    assert TEMPLATE.raw["Globals"]["Function"]["Environment"]["Variables"][variable] == {"Ref": table}
    assert TEMPLATE.raw["Outputs"][f"{table}Name"]["Value"] == {"Ref": table}  # what `--stack` reads
    assert table in connection.LOCAL_TABLES  # what `aizen serve` creates


def test_connect_takes_every_table_from_its_variable(aizen_env: Callable[..., Settings]) -> None:
    aizen_env(MAIN_TABLE="cli-main", EVENTS_TABLE="cli-events", SALTS_TABLE="cli-salts")

    connection.connect()

    settings = get_settings()
    assert (settings.main_table, settings.events_table, settings.salts_table) == ("cli-main", "cli-events", "cli-salts")


def test_the_local_state_names_every_table_and_a_state_of_fewer_tables_is_ignored(tmp_path: Path) -> None:
    state = connection.LocalStackState("http://127.0.0.1:3000", "http://127.0.0.1:4000", dict(connection.LOCAL_TABLES))
    state.write(tmp_path / "state.json")

    assert connection.LocalStackState.read(tmp_path / "state.json") == state
    (tmp_path / "old.json").write_text(
        '{"api_url": "u", "dynamodb_endpoint": "e", "main_table": "m", "events_table": "e"}'
    )
    assert connection.LocalStackState.read(tmp_path / "old.json") is None


def test_connect_to_a_stack_takes_every_table_from_its_outputs(aizen_env: Callable[..., Settings]) -> None:
    # connect() sets the table variables in os.environ: set through aizen_env, they are restored after
    aizen_env(**{name: os.environ[f"AIZEN_{name}"] for name in ("MAIN_TABLE", "EVENTS_TABLE", "SALTS_TABLE")})
    outputs = {f"{table}Name": {"Value": f"stack-{table}"} for table in TEMPLATE.tables()}
    body = {"Resources": {"Topic": {"Type": "AWS::SNS::Topic"}}, "Outputs": outputs}
    with mock_aws():
        boto3.client("cloudformation").create_stack(StackName="aizen", TemplateBody=json.dumps(body))

        connection.connect("aizen")

    settings = get_settings()
    assert (settings.main_table, settings.events_table, settings.salts_table) == (
        "stack-MainTable",
        "stack-EventsTable",
        "stack-SaltsTable",
    )
