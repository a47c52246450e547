"""Read template.yaml: routes, functions, tables, schedules and environment.

The local stack and the tests derive everything from the template itself, so
routes, handlers and table schemas cannot drift from what `sam deploy` ships.
"""

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml

PROJECT_ROOT = Path(__file__).resolve().parents[2]
TEMPLATE_PATH = PROJECT_ROOT / "template.yaml"


class _CloudFormationLoader(yaml.CSafeLoader):
    """SafeLoader that reads short-form intrinsics (!Ref X, !Sub …) as their long form ({"Ref": X},
    {"Fn::Sub": …}); `!Condition C` is {"Condition": C}, as in CloudFormation. libyaml's parser
    (PyYAML's wheels bundle it): every `aizen` command reads the template, and the pure-Python
    parser takes ~0.2 s of CPU over it, a third of a short command's run."""


def _intrinsic(loader: yaml.CSafeLoader, suffix: str, node: yaml.Node) -> dict[str, Any]:
    name = suffix if suffix in ("Ref", "Condition") else f"Fn::{suffix}"
    if isinstance(node, yaml.ScalarNode):
        value: Any = loader.construct_scalar(node)
        if suffix == "GetAtt":
            value = str(value).split(".", 1)
    elif isinstance(node, yaml.SequenceNode):
        value = loader.construct_sequence(node, deep=True)
    else:
        value = loader.construct_mapping(node, deep=True)  # type: ignore[arg-type]
    return {name: value}


_CloudFormationLoader.add_multi_constructor("!", _intrinsic)


@dataclass(frozen=True)
class HttpRoute:
    method: str
    path: str  # API Gateway form: /api/sites/{siteId}/api-keys
    function: str  # logical id

    @property
    def route_key(self) -> str:
        return f"{self.method} {self.path}"

    def pattern(self) -> re.Pattern[str]:
        regex = re.sub(r"\\\{(\w+)\\\}", r"(?P<\1>[^/]+)", re.escape(self.path))
        return re.compile(f"^{regex}$")


@dataclass(frozen=True)
class FunctionSpec:
    logical_id: str
    code_uri: Path
    handler: str
    routes: tuple[HttpRoute, ...]
    schedules: tuple[str, ...]
    properties: dict[str, Any] = field(hash=False, compare=False)

    @property
    def module_path(self) -> Path:
        return self.code_uri / (self.handler.rsplit(".", 1)[0] + ".py")

    @property
    def handler_name(self) -> str:
        return self.handler.rsplit(".", 1)[1]


@dataclass(frozen=True)
class Template:
    raw: dict[str, Any]

    @property
    def resources(self) -> dict[str, Any]:
        resources: dict[str, Any] = self.raw["Resources"]
        return resources

    def parameter_defaults(self) -> dict[str, str]:
        return {name: str(spec.get("Default", "")) for name, spec in self.raw.get("Parameters", {}).items()}

    def tables(self) -> dict[str, dict[str, Any]]:
        """Logical id → the table's CloudFormation properties."""
        return {
            logical_id: resource["Properties"]
            for logical_id, resource in self.resources.items()
            if resource["Type"] == "AWS::DynamoDB::Table"
        }

    def table_variables(self) -> dict[str, str]:
        """Table logical id → the Globals environment variable that gives the functions its name
        (`AIZEN_MAIN_TABLE: !Ref MainTable`): how a table's name travels, for every table."""
        variables = self.raw.get("Globals", {}).get("Function", {}).get("Environment", {}).get("Variables", {})
        tables = self.tables()
        named = {
            value["Ref"]: name
            for name, value in variables.items()
            if isinstance(value, dict) and value.get("Ref") in tables
        }
        missing = sorted(set(tables) - set(named))
        if missing:
            raise KeyError(f"template.yaml: no Globals variable names the table(s) {', '.join(missing)}")
        return named

    def queue_variables(self) -> dict[str, str]:
        """Each function's environment variable that names an SQS queue (`AIZEN_ROLLUP_QUEUE_URL:
        !Ref RollupQueue`) → the queue's logical id: how the dispatchers find their queues."""
        queues = {name for name, resource in self.resources.items() if resource["Type"] == "AWS::SQS::Queue"}
        return {
            name: value["Ref"]
            for resource in self.resources.values()
            if resource["Type"] == "AWS::Serverless::Function"
            for name, value in resource["Properties"].get("Environment", {}).get("Variables", {}).items()
            if isinstance(value, dict) and value.get("Ref") in queues
        }

    def table_names(self, environ: Mapping[str, str]) -> dict[str, str]:
        """Table logical id → the name its variable holds in `environ` (every table's must be set)."""
        return {logical_id: environ[variable] for logical_id, variable in self.table_variables().items()}

    def functions(self) -> list[FunctionSpec]:
        globals_ = self.raw.get("Globals", {}).get("Function", {})
        specs = []
        for logical_id, resource in self.resources.items():
            if resource["Type"] != "AWS::Serverless::Function":
                continue
            properties = {**globals_, **resource["Properties"]}
            routes, schedules = [], []
            for event in properties.get("Events", {}).values():
                if event["Type"] == "HttpApi":
                    routes.append(
                        HttpRoute(event["Properties"]["Method"].upper(), event["Properties"]["Path"], logical_id)
                    )
                elif event["Type"] in ("Schedule", "ScheduleV2"):
                    expression = event["Properties"].get("Schedule") or event["Properties"]["ScheduleExpression"]
                    schedules.append(self.resolve(expression))
            specs.append(
                FunctionSpec(
                    logical_id=logical_id,
                    code_uri=PROJECT_ROOT / properties["CodeUri"],
                    handler=properties["Handler"],
                    routes=tuple(routes),
                    schedules=tuple(schedules),
                    properties=properties,
                )
            )
        return specs

    def routes(self) -> list[HttpRoute]:
        return [route for spec in self.functions() for route in spec.routes]

    def resolve(self, value: Any, refs: Mapping[str, str] | None = None) -> str:
        """Resolve a scalar or a `Ref` against parameter defaults and `refs` overrides."""
        if isinstance(value, dict) and "Ref" in value:
            name = value["Ref"]
            known = {**self.parameter_defaults(), **(refs or {})}
            if name not in known:
                raise KeyError(f"template.yaml: cannot resolve Ref {name} locally")
            return known[name]
        if isinstance(value, dict):
            raise KeyError(f"template.yaml: cannot resolve {value} locally")
        return str(value)

    def function_environment(self, refs: Mapping[str, str]) -> dict[str, str]:
        """Globals' environment variables, with Refs resolved (tables via `refs`)."""
        variables = self.raw.get("Globals", {}).get("Function", {}).get("Environment", {}).get("Variables", {})
        return {name: self.resolve(value, refs) for name, value in variables.items()}


@lru_cache(maxsize=1)
def load_template(path: Path = TEMPLATE_PATH) -> Template:
    with path.open() as stream:
        return Template(yaml.load(stream, Loader=_CloudFormationLoader))  # noqa: S506 - SafeLoader subclass


def create_table_request(name: str, properties: dict[str, Any]) -> dict[str, Any]:
    """CreateTable arguments for a template table, under a concrete table name."""
    request: dict[str, Any] = {
        "TableName": name,
        "KeySchema": properties["KeySchema"],
        "AttributeDefinitions": properties["AttributeDefinitions"],
        "BillingMode": properties.get("BillingMode", "PAY_PER_REQUEST"),
    }
    for index_kind in ("GlobalSecondaryIndexes", "LocalSecondaryIndexes"):
        if index_kind in properties:
            request[index_kind] = properties[index_kind]
    return request
