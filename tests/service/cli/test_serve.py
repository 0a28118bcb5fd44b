"""`nnserve` serving for real on loopback: flags over variables, every worker, which models."""

from __future__ import annotations

import shutil
from pathlib import Path

import httpx

from service.config import packaged_models_dir
from tests.servers import MODELS_DIR, free_port
from tests.service.cli.invoke import SAMPLE_PHOTO, Serve


def predict_photo(url: str) -> httpx.Response:
    files = {"file": (SAMPLE_PHOTO.name, SAMPLE_PHOTO.read_bytes(), "image/jpeg")}
    return httpx.post(f"{url}/predict", files=files, timeout=30)


def served_models(url: str) -> list[str]:
    return sorted(m["name"] for m in httpx.get(f"{url}/v1/models", timeout=10).json()["models"])


def test_flags_win_over_variables_in_every_worker(serve: Serve) -> None:
    env_port, limit = free_port(), 2000
    assert SAMPLE_PHOTO.stat().st_size > limit
    service = serve(
        "--workers", "2", "--max-upload-bytes", str(limit),
        NNSERVE_PORT=str(env_port), NNSERVE_MAX_UPLOAD_BYTES="10000000",
        NNSERVE_MODELS_DIR=str(MODELS_DIR),
    )  # fmt: skip
    assert not service.url.endswith(f":{env_port}")
    # Each worker builds its own Settings: a worker that missed the flag would answer 200.
    statuses = {predict_photo(service.url).status_code for _ in range(12)}
    assert statuses == {413}
    try:
        httpx.get(f"http://127.0.0.1:{env_port}/v2/health/live", timeout=2)
        raise AssertionError("something listens on the port the environment named")
    except httpx.ConnectError:
        pass


def test_from_another_folder_it_serves_the_packaged_models(serve: Serve, tmp_path: Path) -> None:
    service = serve(cwd=tmp_path)
    answer = predict_photo(service.url)
    assert answer.status_code == 200, answer.text
    assert answer.json()["digit"] == 7
    assert served_models(service.url) == sorted(p.name for p in MODELS_DIR.iterdir() if p.is_dir())
    assert f"{packaged_models_dir()} (packaged with nnserve)" in service.log.read_text()


def test_a_models_folder_where_it_starts_wins_over_the_packaged_ones(
    serve: Serve, tmp_path: Path
) -> None:
    shutil.copytree(MODELS_DIR / "mnist-softmax", tmp_path / "models" / "mnist-softmax")
    service = serve("--default-model", "mnist-softmax", cwd=tmp_path)
    assert served_models(service.url) == ["mnist-softmax"]
    assert predict_photo(service.url).json()["model"] == "mnist-softmax"
    assert f"serving the model repository {tmp_path / 'models'}" in service.log.read_text()
    assert "packaged" not in service.log.read_text()


def test_models_dir_flag(serve: Serve, tmp_path: Path) -> None:
    shutil.copytree(MODELS_DIR / "linear-regression", tmp_path / "repo" / "linear-regression")
    service = serve("--models-dir", str(tmp_path / "repo"), cwd=tmp_path)
    assert served_models(service.url) == ["linear-regression"]
