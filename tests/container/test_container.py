"""Container smoke test: build the image, bring it up with compose, wait until healthy, run the
curl scripts against it, check it holds no torch and runs as non-root, tear it down.

Docker is used where its engine answers, else podman + podman-compose (this project's CI machine
has no Docker engine: ../shared/tools/container-env.sh installs podman and a python:3.11-slim
stand-in). Podman runs no HEALTHCHECK by itself without systemd, so the test runs it with
`podman healthcheck run`, which also records the status, as Docker's own scheduler would.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import grpc
import pytest
from grpc_health.v1 import health_pb2, health_pb2_grpc

pytestmark = pytest.mark.container

ROOT = Path(__file__).resolve().parents[2]
IMAGE = "nnserve:smoke"
PROJECT = "nnserve-smoke"
HEALTHY_WITHIN_S = 120.0


@dataclass(frozen=True)
class Engine:
    """The container CLI and its compose front end."""

    cli: str
    compose: list[str]

    @property
    def is_podman(self) -> bool:
        return self.cli == "podman"


@dataclass(frozen=True)
class Running:
    engine: Engine
    name: str
    url: str
    grpc: str
    """host:port of its gRPC server."""


def ok(*cmd: str) -> bool:
    try:
        return subprocess.run(cmd, capture_output=True, timeout=60, check=False).returncode == 0
    except (OSError, subprocess.TimeoutExpired):
        return False


def find_engine() -> Engine | None:
    """Docker when its engine answers (a docker CLI alone is not enough), else podman."""
    if shutil.which("docker") and ok("docker", "info") and ok("docker", "compose", "version"):
        return Engine("docker", ["docker", "compose"])
    if shutil.which("podman") and shutil.which("podman-compose"):
        return Engine("podman", ["podman-compose"])
    return None


def sh(*cmd: str, timeout: float = 120) -> str:
    """Run a command in the repository; fail the test with its output when it fails."""
    done = subprocess.run(
        cmd, cwd=ROOT, capture_output=True, text=True, timeout=timeout, check=False
    )
    assert done.returncode == 0, f"{' '.join(cmd)} -> {done.returncode}\n{done.stdout}{done.stderr}"
    return done.stdout


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def build(engine: Engine) -> None:
    # podman keeps HEALTHCHECK only in the docker image format; --pull=never: local base only
    extra = ["--pull=never", "--format", "docker"] if engine.is_podman else []
    sh(engine.cli, "build", *extra, "-t", IMAGE, ".", timeout=1200)


def override(engine: Engine, name: str, port: int, grpc_port: int) -> str:
    """Compose overrides for the test: the image just built, a known container name, and
    loopback only. Podman here shares the host's network (containers.conf), so the service
    itself binds 127.0.0.1:port (and grpc_port); Docker publishes the container's 8000 on
    127.0.0.1:port (and 8001 on grpc_port)."""
    lines = ["services:", "  nnserve:", f"    image: {IMAGE}", f"    container_name: {name}"]
    if engine.is_podman:
        lines += [
            "    network_mode: host",
            "    environment:",
            "      NNSERVE_HOST: 127.0.0.1",
            f'      NNSERVE_PORT: "{port}"',
            f'      NNSERVE_GRPC_PORT: "{grpc_port}"',
        ]
    return "\n".join(lines) + "\n"


def healthy(engine: Engine, name: str) -> bool:
    if engine.is_podman:
        return ok("podman", "healthcheck", "run", name)
    status = subprocess.run(
        ["docker", "inspect", "--format", "{{.State.Health.Status}}", name],
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    return status.stdout.strip() == "healthy"


def wait_healthy(engine: Engine, name: str) -> None:
    deadline = time.monotonic() + HEALTHY_WITHIN_S
    while time.monotonic() < deadline:
        if healthy(engine, name):
            return
        time.sleep(2)
    logs = subprocess.run([engine.cli, "logs", name], capture_output=True, text=True, timeout=30)
    pytest.fail(f"{name} not healthy after {HEALTHY_WITHIN_S}s:\n{logs.stdout}{logs.stderr}")


@pytest.fixture(scope="module")
def engine() -> Engine:
    found = find_engine()
    if found is None:
        reason = (
            "no container engine: neither a Docker engine nor podman + podman-compose "
            "(run ../shared/tools/container-env.sh to install podman here)"
        )
        if os.environ.get("CI") == "true":
            pytest.fail(reason)
        pytest.skip(reason)
    return found


@pytest.fixture(scope="module")
def running(engine: Engine, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Running]:
    """Build, compose up, wait healthy; always compose down afterwards."""
    port, grpc_port = free_port(), free_port()
    name = f"{PROJECT}-{port}"
    extra = tmp_path_factory.mktemp("compose") / "override.yml"
    extra.write_text(override(engine, name, port, grpc_port))
    env = {
        **os.environ,
        "NNSERVE_PUBLISH_PORT": f"127.0.0.1:{port}",
        "NNSERVE_GRPC_PUBLISH_PORT": f"127.0.0.1:{grpc_port}",
    }
    compose = [*engine.compose, "-p", PROJECT, "-f", "docker-compose.yml", "-f", str(extra)]
    build(engine)
    try:
        subprocess.run(
            [*compose, "up", "-d", "--no-build", "nnserve"],
            cwd=ROOT, env=env, capture_output=True, text=True, timeout=300, check=True,
        )  # fmt: skip
        wait_healthy(engine, name)
        yield Running(engine, name, f"http://127.0.0.1:{port}", f"127.0.0.1:{grpc_port}")
    finally:
        subprocess.run(
            [*compose, "down", "--timeout", "20"],
            cwd=ROOT, env=env, capture_output=True, timeout=300, check=False,
        )  # fmt: skip


@pytest.mark.timeout(1800)
def test_container_becomes_healthy(running: Running) -> None:
    # wait_healthy passed; the engine's recorded health agrees
    if running.engine.is_podman:
        status = sh("podman", "inspect", "--format", "{{.State.Health.Status}}", running.name)
        assert status.strip() == "healthy"


@pytest.mark.parametrize("script", sorted((ROOT / "scripts").glob("*.sh")), ids=lambda p: p.name)
def test_curl_scripts_pass_against_the_container(running: Running, script: Path) -> None:
    done = subprocess.run(
        ["bash", str(script)],
        env={**os.environ, "BASE_URL": running.url},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, f"{script.name}:\n{done.stdout}\n{done.stderr}"


def test_image_holds_no_torch_and_no_training_code(running: Running) -> None:
    probe = "import importlib.util as u; print(u.find_spec('torch'), u.find_spec('training'))"
    assert sh(running.engine.cli, "exec", running.name, "python", "-c", probe).split() == [
        "None",
        "None",
    ]


def test_runs_as_non_root_on_a_read_only_root(running: Running) -> None:
    cli, name = running.engine.cli, running.name
    assert sh(cli, "exec", name, "id", "-u").strip() == "10001"
    # compose sets read_only, as the Kubernetes Deployment does; /tmp stays writable
    denied = subprocess.run([cli, "exec", name, "touch", "/app/x"], capture_output=True, timeout=60)
    assert denied.returncode != 0
    sh(cli, "exec", name, "touch", "/tmp/x")


def test_container_serves_grpc_health(running: Running) -> None:
    """The gRPC port answers standard health checks, as the Kubernetes gRPC probe asks them."""
    with grpc.insecure_channel(running.grpc) as channel:
        stub = health_pb2_grpc.HealthStub(channel)
        for service in ("", "inference.GRPCInferenceService"):
            reply = stub.Check(health_pb2.HealthCheckRequest(service=service), timeout=30)
            assert reply.status == health_pb2.HealthCheckResponse.SERVING
