"""docker-compose.yml and Dockerfile: the promises the README makes about them, read from the
files (the container smoke test in tests/container/ runs them for real)."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml
from fastapi.testclient import TestClient

from service.app import create_app
from service.config import Settings
from tests.servers import MODELS_DIR, free_port

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    with (ROOT / "docker-compose.yml").open() as fh:
        doc = yaml.safe_load(fh)
    assert isinstance(doc, dict)
    return doc


@pytest.fixture(scope="module")
def dockerfile() -> str:
    return (ROOT / "Dockerfile").read_text()


def test_cpu_service_publishes_8000_with_healthcheck_and_restart(compose: dict[str, Any]) -> None:
    service = compose["services"]["nnserve"]
    assert service["ports"] == [
        "${NNSERVE_PUBLISH_PORT:-8000}:8000",
        "${NNSERVE_GRPC_PUBLISH_PORT:-8001}:8001",  # gRPC, the image's NNSERVE_GRPC_PORT
    ]
    assert "/v2/health/ready" in " ".join(service["healthcheck"]["test"])
    assert service["restart"] == "unless-stopped"
    assert "profiles" not in service  # `docker compose up` starts it


def test_models_mount_read_only(compose: dict[str, Any]) -> None:
    assert "./models:/app/models:ro" in compose["services"]["nnserve"]["volumes"]


def test_every_setting_passes_through_from_the_environment(compose: dict[str, Any]) -> None:
    from service.config import Settings

    # host, ports and models_dir belong to the image: the container decides them
    expected = {f"NNSERVE_{name.upper()}" for name in Settings.model_fields} - {
        "NNSERVE_HOST",
        "NNSERVE_PORT",
        "NNSERVE_GRPC_PORT",
        "NNSERVE_PROBE_PORT",
        "NNSERVE_MODELS_DIR",
    }
    for name in ("nnserve", "nnserve-gpu"):  # YAML merges are shallow: check each service
        passed = {item.split("=")[0] for item in compose["services"][name]["environment"]}
        assert expected <= passed, f"{name} misses: {sorted(expected - passed)}"


def test_gpu_profile_reserves_an_nvidia_device(compose: dict[str, Any]) -> None:
    gpu = compose["services"]["nnserve-gpu"]
    assert gpu["profiles"] == ["gpu"]
    devices = gpu["deploy"]["resources"]["reservations"]["devices"]
    assert devices == [{"driver": "nvidia", "count": 1, "capabilities": ["gpu"]}]
    assert gpu["build"]["args"]["ONNXRUNTIME_PACKAGE"] == "onnxruntime-gpu"
    assert gpu["build"]["args"]["BASE_IMAGE"].startswith("nvidia/cuda:")


def test_dockerfile_build_args_and_runtime_contract(dockerfile: str) -> None:
    assert "ARG BASE_IMAGE=python:3.11-slim" in dockerfile
    assert "ARG ONNXRUNTIME_PACKAGE=onnxruntime" in dockerfile
    assert re.search(r"^USER 10001:10001$", dockerfile, re.MULTILINE)
    assert re.search(r"^HEALTHCHECK .*\n.*/v2/health/ready", dockerfile, re.MULTILINE)
    assert 'CMD ["python", "-m", "service"]' in dockerfile
    assert "NNSERVE_HOST=0.0.0.0" in dockerfile


def test_gpu_pin_exists_for_the_gpu_variant(repo_root: Path) -> None:
    # The GPU build swaps onnxruntime for onnxruntime-gpu; constraints.txt must pin it too.
    pins = (repo_root / "constraints.txt").read_text().splitlines()
    assert any(line.startswith("onnxruntime-gpu==") for line in pins)


def test_image_exposes_rest_and_grpc(dockerfile: str) -> None:
    assert re.search(r"^EXPOSE 8000 8001 8002$", dockerfile, re.MULTILINE)
    assert "NNSERVE_PROBE_PORT=8002" in dockerfile
    assert "NNSERVE_GRPC_PORT=8001" in dockerfile


def healthcheck(dockerfile: str) -> str:
    """The Python the image's HEALTHCHECK runs."""
    found = re.search(r"^HEALTHCHECK .*\n\s*CMD (\[.*\])$", dockerfile, re.MULTILINE)
    assert found, "no HEALTHCHECK ... CMD [...] in the Dockerfile"
    argv = json.loads(found.group(1))
    assert argv[:2] == ["python", "-c"]
    return str(argv[2])


def test_compose_runs_the_image_s_healthcheck(dockerfile: str, compose: dict[str, Any]) -> None:
    assert compose["services"]["nnserve"]["healthcheck"]["test"][-1] == healthcheck(dockerfile)


def test_the_healthcheck_asks_the_probe_port(dockerfile: str) -> None:
    """Run for real against the app's probe port while the main port is closed: it passes;
    with the probe port off it asks the (closed) main port and fails."""
    probe, closed = free_port(), free_port()
    settings = Settings(models_dir=MODELS_DIR, grpc_port=0, probe_port=probe)

    def check(**env: str) -> int:
        full = {**os.environ, "NNSERVE_PORT": str(closed), **env}
        argv = [sys.executable, "-c", healthcheck(dockerfile)]
        return subprocess.run(argv, env=full, capture_output=True, timeout=30).returncode

    with TestClient(create_app(settings)):
        on_probe_port = check(NNSERVE_PROBE_PORT=str(probe))
        probe_port_off = check(NNSERVE_PROBE_PORT="0")
    assert on_probe_port == 0
    assert probe_port_off != 0
