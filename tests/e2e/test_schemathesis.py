"""Schemathesis against the local stack over HTTP: docs/openapi.json holds against the running API.

A fixed seed (derandomize) and a bounded number of examples per operation; a
valid key, a valid session and the stack's own Origin on every request. Checks:
no 5xx, bodies match their schemas, every status and content type is documented.

Each operation runs schemathesis's three phases: its documented examples, the coverage
phase (every parameter's boundaries and enum values, missing and wrong-typed values,
undocumented methods: ~1,100 deterministic cases, most of them on the three stats queries
with many parameters), then EXAMPLES_PER_OPERATION generated cases. The stack has one Lambda
worker: the cases are sent one at a time, and each more worker would import every handler again.
"""

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import (
    content_type_conformance,
    not_a_server_error,
    response_schema_conformance,
    status_code_conformance,
)

from tests.e2e.conftest import RunningStack, Tenant, make_tenant, start_stack

DOCUMENT = Path(__file__).resolve().parents[2] / "docs" / "openapi.json"
EXAMPLES_PER_OPERATION = 10  # the fuzzing phase's; the coverage phase is not bounded by it
CHECKS = [not_a_server_error, response_schema_conformance, status_code_conformance, content_type_conformance]

schema = schemathesis.openapi.from_path(DOCUMENT)


@pytest.fixture(scope="module")
def fuzzed_stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[RunningStack, Tenant]]:
    running = start_stack(
        tmp_path_factory.mktemp("schemathesis"),
        "--no-demo",
        "--workers",
        "1",
        environment={"AIZEN_IP_LIMIT_PER_MINUTE": "100000", "AIZEN_KEY_LIMIT_PER_HOUR": "100000"},
    )
    try:
        owner = make_tenant(running)
        # Some data, so the stats answers have rows to check against their schemas: a second site of
        # the same owner with a known domain, and a key for it.
        domain = "fuzzed.example.com"
        site = running.cli_json("sites", "create", "--domain", domain, "--timezone", "UTC", "--owner", owner.user_id)
        key = running.cli_json("keys", "create", "--site", site["id"], "--name", "schemathesis")
        tenant = Tenant(owner.user_id, site["id"], owner.cookie, key["token"], key["key"]["id"])
        for path in ("/", "/pricing", "/docs"):
            response = httpx.post(
                f"{running.url}/api/event",
                json={"name": "pageview", "url": f"https://{domain}{path}", "domain": domain},
                timeout=60,
                headers={"User-Agent": "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0"},
            )
            assert response.status_code == 202, response.text
        yield running, tenant
    finally:
        running.stop()


@schema.parametrize()
@settings(
    max_examples=EXAMPLES_PER_OPERATION,
    derandomize=True,
    database=None,
    deadline=None,
    suppress_health_check=list(HealthCheck),
)
def test_api_matches_its_description(case: Any, fuzzed_stack: tuple[RunningStack, Tenant]) -> None:
    running, tenant = fuzzed_stack
    if "siteId" in (case.path_parameters or {}):
        case.path_parameters["siteId"] = tenant.site_id
    headers = {
        "Authorization": f"Bearer {tenant.token}",
        "Cookie": tenant.cookie,
        "Origin": running.url.rstrip("/"),
    }
    case.call_and_validate(base_url=running.url, headers=headers, checks=CHECKS)
