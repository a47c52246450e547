"""The local stack serves the OpenAPI description and its rendered reference page."""

import json
from pathlib import Path

import httpx

from tests.e2e.conftest import RunningStack

DOCUMENT = Path(__file__).resolve().parents[2] / "docs" / "openapi.json"


def test_openapi_json_is_served(stack: RunningStack, http: httpx.Client) -> None:
    response = http.get("/openapi.json")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/json")
    assert response.json() == json.loads(DOCUMENT.read_text())


def test_docs_page_is_served(stack: RunningStack, http: httpx.Client) -> None:
    response = http.get("/docs")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    page = response.text
    assert "<script" not in page
    for operation in ("GET /api/v1/stats/breakdown", "POST /api/sites/{siteId}/api-keys", "POST /api/event"):
        assert operation in page
    assert 'href="/openapi.json"' in page
