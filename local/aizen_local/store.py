"""The embedded DynamoDB-compatible store: moto's server, one request at a time.

moto's server does not make a conditional UpdateItem atomic across concurrent
requests, so every request goes through one lock: the local stack then keeps
DynamoDB's per-item atomicity that the rate limits rely on.

Four patches to moto make its answers fast enough for a realistic site
(docs/local-store.md): every table the store creates answers a base-table Query
from the queried partition instead of walking the whole table
(`aizen_local.partition_index`), its responses write AttributeValues in one direct
pass instead of through moto's alias search (`aizen_local.attribute_values`),
new items are sized once instead of once per attribute (`aizen_local.item_sizes`),
and a transaction backs up the items it names instead of whole tables
(`aizen_local.transactions`).
"""

import threading
from collections.abc import Callable, Iterable
from typing import Any

import boto3
from moto.moto_server.werkzeug_app import MotoRequestHandler, create_backend_app
from werkzeug.serving import BaseWSGIServer, make_server

from aizen_local import attribute_values, item_sizes, transactions
from aizen_local.partition_index import index_partitions
from aizen_local.template import Template, create_table_request

WsgiApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]


class QuietRequestHandler(MotoRequestHandler):
    """No access log line per store request."""

    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        return


class SerializedApp:
    """WSGI middleware: the wrapped app handles one request at a time."""

    def __init__(self, app: WsgiApp) -> None:
        self._app = app
        self._lock = threading.Lock()

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        with self._lock:
            return list(self._app(environ, start_response))


class MotoPatchesApp:
    """WSGI middleware: the store's responses write AttributeValues directly, new items are
    sized once, transactions back up only the items they name, and after a CreateTable the
    new table gets the partition-indexed Query."""

    def __init__(self, app: WsgiApp) -> None:
        attribute_values.install()
        item_sizes.install()
        transactions.install()
        self._app = app

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        with attribute_values.embedded_request():
            body = list(self._app(environ, start_response))
        if environ.get("HTTP_X_AMZ_TARGET", "").endswith(".CreateTable"):
            index_partitions()
        return body


class EmbeddedDynamoDB:
    """moto's DynamoDB on a loopback port, in a background thread."""

    def __init__(self, host: str = "127.0.0.1", port: int = 0) -> None:
        app = SerializedApp(MotoPatchesApp(create_backend_app("dynamodb")))
        self._server: BaseWSGIServer = make_server(host, port, app, threaded=True, request_handler=QuietRequestHandler)
        self._thread = threading.Thread(target=self._server.serve_forever, name="embedded-dynamodb", daemon=True)

    @property
    def endpoint(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}"

    def start(self) -> "EmbeddedDynamoDB":
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._thread.join()


def ensure_tables(template: Template, names: dict[str, str], endpoint: str | None) -> list[str]:
    """Create the template's tables that do not exist yet; returns the names created."""
    client = boto3.client("dynamodb", endpoint_url=endpoint)
    existing = set(client.list_tables()["TableNames"])
    created = []
    for logical_id, properties in template.tables().items():
        name = names[logical_id]
        if name in existing:
            continue
        client.create_table(**create_table_request(name, properties))
        client.get_waiter("table_exists").wait(TableName=name)
        ttl = properties.get("TimeToLiveSpecification")
        if ttl:
            client.update_time_to_live(TableName=name, TimeToLiveSpecification=ttl)
        created.append(name)
    return created
