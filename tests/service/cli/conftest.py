"""The `serve` fixture: a real `nnserve` on loopback, started with flags, stopped afterwards."""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.servers import ROOT, Service, free_port, stop, wait_for
from tests.service.cli.invoke import NNSERVE, Serve, clean_env


@pytest.fixture
def serve(tmp_path: Path) -> Iterator[Serve]:
    """serve(*flags, cwd=..., **env): `nnserve --host 127.0.0.1 *flags` until it is ready.

    The port comes from the flags when given, else a free one is added.
    """
    started: list[Service] = []

    def start(*flags: str, cwd: Path = ROOT, **env: str) -> Service:
        port = flags[flags.index("--port") + 1] if "--port" in flags else str(free_port())
        extra = [] if "--port" in flags else ["--port", port]
        log = tmp_path / f"server-{len(started)}.log"
        with log.open("wb") as out:
            process = subprocess.Popen(
                [*NNSERVE, "--host", "127.0.0.1", *extra, *flags],
                cwd=cwd,
                env=clean_env(**env),
                stdout=out,
                stderr=subprocess.STDOUT,
            )
        started.append(Service(f"http://127.0.0.1:{port}", process, log))
        wait_for(started[-1])
        return started[-1]

    yield start
    for service in started:
        stop(service)
