"""Slow-suite fixtures: a real `python -m service` whose process the test can signal."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.servers import ROOT, Service, spawn, stop, wait_for

__all__ = ["ROOT", "ServiceFactory", "wait_live"]


def wait_live(service: Service, timeout: float = 90.0) -> None:
    """Until GET /v2/health/live answers 200 (ready or not: fault tests start broken models)."""
    wait_for(service, "/v2/health/live", timeout)


ServiceFactory = Callable[..., Service]


@pytest.fixture
def service(tmp_path: Path) -> Iterator[ServiceFactory]:
    """start(**NNSERVE_env) -> Service on a free loopback port; stopped after the test."""
    started: list[Service] = []

    def start(**env: str) -> Service:
        started.append(spawn(tmp_path / f"service-{len(started)}.log", **env))
        wait_live(started[-1])
        return started[-1]

    yield start
    for svc in started:
        stop(svc)
