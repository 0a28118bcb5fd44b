"""Fuzzing: schemathesis generates requests for every operation in /openapi.json against a
real server on loopback; a bounded number of examples each. No answer may be a 5xx, and
every error answer is JSON with an "error" key."""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest
import schemathesis
from hypothesis import HealthCheck, settings

from service.app import create_app
from service.config import Settings
from tests.servers import Service, spawn, stop
from tests.slow.conftest import wait_live

pytestmark = pytest.mark.slow

EXAMPLES = int(os.environ.get("NNSERVE_FUZZ_EXAMPLES", "25"))


@pytest.fixture(scope="module")
def fuzzed_service(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Service]:
    """One server for the whole module; gradient steps capped so no example runs for long."""
    log = tmp_path_factory.mktemp("fuzz") / "service.log"
    service = spawn(log, NNSERVE_MAX_GRADIENT_STEPS="20", NNSERVE_LOG_LEVEL="warning")
    try:
        wait_live(service)
        yield service
    finally:
        stop(service)


# The schema the server publishes at /openapi.json, built the same way without a server (the
# app factory loads nothing); the requests themselves go to the real server on loopback.
schema = schemathesis.openapi.from_dict(create_app(Settings()).openapi())


@schema.parametrize()
@settings(
    max_examples=EXAMPLES,
    deadline=None,
    derandomize=True,
    suppress_health_check=list(HealthCheck),
)
def test_no_server_errors_and_every_error_has_an_error_key(
    case: schemathesis.Case, fuzzed_service: Service
) -> None:
    response = case.call(base_url=fuzzed_service.url, timeout=30)
    assert response.status_code < 500, f"{case.method} {case.path}: {response.text[:300]}"
    if response.status_code >= 400:
        body = response.json()
        assert isinstance(body, dict) and "error" in body, response.text[:300]
