"""Fixtures every suite shares: the repository's paths and a real uvicorn on loopback."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.servers import MODELS_DIR, ROOT, Service, spawn, stop, wait_for

# In-process apps (TestClient(create_app(...))) open no gRPC port unless a test asks for one:
# hundreds of them would otherwise all bind 8001. Servers from tests.servers get a free port.
os.environ.setdefault("NNSERVE_GRPC_PORT", "0")


@pytest.fixture(scope="session")
def repo_root() -> Path:
    return ROOT


@pytest.fixture(scope="session")
def models_dir() -> Path:
    """The committed model repository."""
    return MODELS_DIR


@pytest.fixture(scope="session")
def mnist_dir() -> Path:
    """MNIST's four IDX files: NNSERVE_MNIST_DIR, else ../shared/mnist beside the project."""
    path = Path(os.environ.get("NNSERVE_MNIST_DIR", ROOT.parent / "shared" / "mnist"))
    if not any((path / f"t10k-images-idx3-ubyte{ext}").exists() for ext in (".gz", "")):
        pytest.fail(f"MNIST not found in {path}; set NNSERVE_MNIST_DIR")
    return path


ServerFactory = Callable[..., str]


@pytest.fixture
def start_server(tmp_path: Path) -> Iterator[ServerFactory]:
    """Start `python -m service` on a free loopback port; returns its base URL. Env overrides
    are NNSERVE_ settings, e.g. start_server(NNSERVE_WORKERS="2")."""
    started: list[Service] = []

    def start(**env: str) -> str:
        started.append(spawn(tmp_path / f"server-{len(started)}.log", **env))
        wait_for(started[-1])
        return started[-1].url

    yield start
    for service in started:
        stop(service)


@pytest.fixture(scope="module")
def live_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """One real uvicorn serving the committed models, shared by a test module."""
    service = spawn(tmp_path_factory.mktemp("live") / "server.log")
    try:
        wait_for(service)
        yield service.url
    finally:
        stop(service)
