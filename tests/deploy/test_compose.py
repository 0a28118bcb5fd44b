"""docker-compose.yml and Dockerfile: the promises the README makes about them, read from the
files (the container smoke test in tests/container/ runs them for real)."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
import yaml

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
