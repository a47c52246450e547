"""A local HTTP API: every route of template.yaml, served over real HTTP.

Each request becomes the payload-2.0 event API Gateway would send (client IP =
the TCP peer, as `requestContext.http.sourceIp`), is handled by the function the
template routes it to, and the handler's response is written back.
"""

import base64
import functools
import importlib.resources
import json
import logging
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import urlsplit

from aizen_local.apigw import http_event
from aizen_local.invoker import LambdaPool
from aizen_local.template import FunctionSpec, HttpRoute

log = logging.getLogger("aizen.local")

MAX_BODY_BYTES = 10 * 1024 * 1024  # API Gateway HTTP API's payload limit


def _error(code: str, message: str) -> bytes:
    return json.dumps({"error": {"code": code, "message": message}}).encode()


@functools.cache
def _openapi_document() -> dict[str, Any]:
    from aizen_local import openapi

    return openapi.build()


def _openapi_json(base_url: str) -> bytes:
    """docs/openapi.json with this stack as its server, so the reference page's "Try it out" calls it."""
    document = {**_openapi_document(), "servers": [{"url": base_url, "description": "this local stack"}]}
    return json.dumps(document, indent=2).encode()


# Swagger UI's assets come from the pinned swagger-ui-py package (requirements-dev.txt): nothing is
# fetched from the network, and only the files the page uses are served.
_SWAGGER_UI = importlib.resources.files("swagger_ui") / "static"
_SWAGGER_UI_ASSETS = {
    "swagger-ui.css": "text/css; charset=utf-8",
    "swagger-ui-bundle.js": "text/javascript; charset=utf-8",
    "favicon-32x32.png": "image/png",
}
_DOCS_PAGE = b"""<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>Aizen public API</title>
<link rel="stylesheet" href="/docs/swagger-ui.css">
<link rel="icon" type="image/png" href="/docs/favicon-32x32.png">
</head>
<body>
<div id="swagger-ui"></div>
<script src="/docs/swagger-ui-bundle.js"></script>
<script>
window.ui = SwaggerUIBundle({
  url: "/openapi.json",
  dom_id: "#swagger-ui",
  deepLinking: true,
  displayRequestDuration: true,
  persistAuthorization: true,
  validatorUrl: null
});
</script>
</body>
</html>
"""


def _local_page(path: str, base_url: str) -> tuple[str, bytes] | None:
    """Local-only pages (not routes of the template): the OpenAPI description and Swagger UI over it."""
    if path == "/openapi.json":
        return "application/json", _openapi_json(base_url)
    if path == "/docs":
        return "text/html; charset=utf-8", _DOCS_PAGE
    asset = path.removeprefix("/docs/")
    if asset in _SWAGGER_UI_ASSETS:
        return _SWAGGER_UI_ASSETS[asset], (_SWAGGER_UI / asset).read_bytes()
    return None


class LocalHttpApi(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 256

    def __init__(self, address: tuple[str, int], functions: list[FunctionSpec]) -> None:
        """Bind now (port 0 picks a free port); requests are served once `pool` is set."""
        self.routes: list[HttpRoute] = [route for spec in functions for route in spec.routes]
        self.timeouts = {spec.logical_id: int(spec.properties.get("Timeout", 10)) for spec in functions}
        self.pool: LambdaPool | None = None
        super().__init__(address, _RequestHandler)


class _RequestHandler(BaseHTTPRequestHandler):
    server: LocalHttpApi
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: object) -> None:
        log.debug("%s %s", self.address_string(), format % args)

    def _base_url(self) -> str:
        """This stack's URL as the client reached it (so a page it serves is same-origin with the API)."""
        host, port = self.server.server_address[:2]
        return f"http://{self.headers.get('Host') or f'{host!s}:{port}'}"

    def _dispatch(self) -> None:
        # The body is read before anything answers: on a kept-alive connection, a body left
        # unread (by a 404 or 405) would be parsed as the next request (found by schemathesis).
        length = int(self.headers.get("Content-Length") or 0)
        if length > MAX_BODY_BYTES:
            self._send(413, {"Content-Type": "application/json"}, _error("payload_too_large", "Request body too large"))
            self.close_connection = True
            return
        body = self.rfile.read(length) if length else None
        url = urlsplit(self.path)
        page = _local_page(url.path, self._base_url()) if self.command in ("GET", "HEAD") else None
        if page is not None:
            self._send(200, {"Content-Type": page[0]}, page[1])
            return
        path_matches = [(route, route.pattern().match(url.path)) for route in self.server.routes]
        on_path = [(route, match) for route, match in path_matches if match]
        if not on_path:
            self._send(404, {"Content-Type": "application/json"}, _error("not_found", f"No route for {url.path}"))
            return
        chosen = next(((route, match) for route, match in on_path if route.method == self.command), None)
        if chosen is None:
            allowed = ", ".join(sorted({route.method for route, _ in on_path}))
            self._send(
                405,
                {"Content-Type": "application/json", "Allow": allowed},
                _error("method_not_allowed", f"{self.command} is not allowed on {url.path}; allowed: {allowed}"),
            )
            return
        route, match = chosen
        event = http_event(
            route,
            url.path,
            headers=dict(self.headers.items()),
            query=url.query,
            body=body,
            source_ip=self.client_address[0],
            path_parameters=match.groupdict() if match else None,
        )
        assert self.server.pool is not None, "serve_forever() before the pool was set"
        try:
            answer = self.server.pool.invoke(route.function, event, self.server.timeouts[route.function])
        except Exception:
            log.exception("function %s failed", route.function)
            self._send(500, {"Content-Type": "application/json"}, _error("internal_error", "Internal Server Error"))
            return
        self._send_lambda_response(answer)

    def _send_lambda_response(self, answer: dict[str, object]) -> None:
        headers = {str(k): str(v) for k, v in dict(answer.get("headers") or {}).items()}  # type: ignore[call-overload]
        raw = str(answer.get("body") or "")
        body = base64.b64decode(raw) if answer.get("isBase64Encoded") else raw.encode()
        cookies = [str(cookie) for cookie in list(answer.get("cookies") or [])]  # type: ignore[call-overload]
        self._send(int(answer.get("statusCode", 200)), headers, body, cookies)  # type: ignore[call-overload]

    def _send(self, status: int, headers: dict[str, str], body: bytes, cookies: list[str] | None = None) -> None:
        self.send_response(status)
        for name, value in headers.items():
            if name.lower() not in ("content-length", "connection"):
                self.send_header(name, value)
        for cookie in cookies or []:
            self.send_header("Set-Cookie", cookie)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    do_GET = _dispatch  # noqa: N815 - BaseHTTPRequestHandler's naming
    do_POST = _dispatch  # noqa: N815
    do_PUT = _dispatch  # noqa: N815
    do_PATCH = _dispatch  # noqa: N815
    do_DELETE = _dispatch  # noqa: N815
    do_OPTIONS = _dispatch  # noqa: N815
    do_HEAD = _dispatch  # noqa: N815

    def __getattr__(self, name: str) -> Callable[[], None]:
        """Any other method (TRACE, QUERY, ...) is routed too, so it gets the JSON 404/405 API Gateway gives.

        Without this, http.server answered them with its own 501 HTML page (found by schemathesis).
        """
        if name.startswith("do_"):
            return self._dispatch
        raise AttributeError(name)
