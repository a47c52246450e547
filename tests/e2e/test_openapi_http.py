"""The local stack serves its OpenAPI description, and Swagger UI over it at `/docs`, without the network."""

import json
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.e2e.browser import Browser, require_chromium
from tests.e2e.conftest import RunningStack, make_tenant

pytestmark = pytest.mark.e2e

DOCUMENT = Path(__file__).resolve().parents[2] / "docs" / "openapi.json"


def test_openapi_json_is_docs_openapi_json_with_the_stack_as_its_server(
    stack: RunningStack, http: httpx.Client
) -> None:
    response = http.get("/openapi.json")

    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/json")
    served = response.json()
    assert served.pop("servers") == [{"url": stack.url, "description": "this local stack"}]
    expected = json.loads(DOCUMENT.read_text())
    del expected["servers"]
    assert served == expected


def test_docs_page_and_its_assets_are_served_by_the_stack(http: httpx.Client) -> None:
    page = http.get("/docs")

    assert page.status_code == 200
    assert page.headers["content-type"].startswith("text/html")
    assets = ["/docs/swagger-ui.css", "/docs/swagger-ui-bundle.js", "/docs/favicon-32x32.png"]
    for asset in assets:
        assert f'href="{asset}"' in page.text or f'src="{asset}"' in page.text
        assert http.get(asset).status_code == 200
    assert "http" not in page.text  # every asset from the stack itself
    assert http.get("/docs/../../pyproject.toml").status_code == 404
    assert http.get("/docs/swagger-editor-bundle.js").status_code == 404  # only the files the page uses


@pytest.fixture
def browser(tmp_path: Path) -> Iterator[Browser]:
    opened = Browser(require_chromium(), tmp_path / "profile")
    yield opened
    opened.close()


# Waits in the page for what `find` returns, then returns it.
_UNTIL = """
const until = async (find) => {
  for (let attempt = 0; attempt < 300; attempt++) {
    const found = find();
    if (found) return found;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error("timed out waiting for " + find);
};
"""


def test_every_operation_is_listed_in_a_real_browser(stack: RunningStack, browser: Browser) -> None:
    # Given every operation of docs/openapi.json, as Swagger UI names its block
    document = json.loads(DOCUMENT.read_text())
    expected = {
        f"operations-{operation['tags'][0]}-{operation['operationId']}": f"{method.upper()} {path}"
        for path, methods in document["paths"].items()
        for method, operation in methods.items()
    }

    # When the page has run its scripts in a headless Chromium
    browser.open(f"{stack.url}/docs")
    listed = browser.evaluate(
        _UNTIL
        + f"const expectedCount = {len(expected)};"
        + """
(async () => {
  await until(() => document.querySelectorAll(".opblock").length >= expectedCount);
  const listed = {};
  for (const block of document.querySelectorAll(".opblock")) {
    const method = block.querySelector(".opblock-summary-method").textContent;
    const path = block.querySelector(".opblock-summary-path").getAttribute("data-path");
    listed[block.id] = method + " " + path;
  }
  return {listed, resources: performance.getEntriesByType("resource").map((entry) => entry.name)};
})()
"""
    )

    # Then each is listed, and everything the page loaded came from the stack
    assert listed["listed"] == expected
    assert listed["resources"]
    assert all(url.startswith(stack.url + "/") for url in listed["resources"]), listed["resources"]


def test_try_it_out_calls_the_stack_with_an_api_key(stack: RunningStack, browser: Browser) -> None:
    # Given a key, entered in Swagger UI's Authorize dialog
    tenant = make_tenant(stack)
    browser.open(f"{stack.url}/docs#/stats/getRealtime")
    answer = browser.evaluate(
        _UNTIL
        + f"const token = {json.dumps(tenant.token)};"
        + """
(async () => {
  const operation = await until(() => document.querySelector("#operations-stats-getRealtime"));
  (await until(() => document.querySelector(".auth-wrapper .authorize"))).click();
  const field = await until(() => document.querySelector(".auth-container input[type=text], .auth-container input"));
  Object.getOwnPropertyDescriptor(HTMLInputElement.prototype, "value").set.call(field, token);
  field.dispatchEvent(new Event("input", { bubbles: true }));
  (await until(() => document.querySelector(".auth-btn-wrapper .modal-btn.authorize"))).click();
  (await until(() => document.querySelector(".btn-done"))).click();

  // When "Try it out", then "Execute", with the example's parameters
  (await until(() => operation.querySelector(".try-out__btn"))).click();
  (await until(() => operation.querySelector(".execute"))).click();
  const status = await until(() => operation.querySelector(".live-responses-table tr.response .response-col_status"));
  return {
    status: status.textContent.trim(),
    url: operation.querySelector(".request-url pre").textContent,
    body: operation.querySelector(".live-responses-table tr.response .response-col_description pre").textContent,
  };
})()
"""
    )

    # Then the stack answered the page's own request: authorised, with the example's window
    assert answer["status"].startswith("200"), answer
    assert answer["url"] == f"{stack.url}/api/v1/stats/realtime?minutes=10"
    assert json.loads(answer["body"]) == {"current_visitors": 0, "window_minutes": 10}


@pytest.mark.parametrize(
    ("environment", "outcome"),
    [
        ({"CI": "true"}, pytest.fail.Exception),
        ({"AIZEN_REQUIRE_BUILD": "1"}, pytest.fail.Exception),
        ({}, pytest.skip.Exception),
    ],
)
def test_a_missing_browser_fails_where_the_full_suite_must_run(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, environment: dict[str, str], outcome: type[BaseException]
) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))
    for name in ("CI", "AIZEN_REQUIRE_BUILD"):
        monkeypatch.delenv(name, raising=False)
    for name, value in environment.items():
        monkeypatch.setenv(name, value)

    with pytest.raises(outcome):
        require_chromium()
