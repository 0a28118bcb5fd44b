"""scripts/*.sh: the curl examples run as a user runs them, against a real uvicorn on loopback."""

from __future__ import annotations

import json
import os
import re
import subprocess
from pathlib import Path
from typing import Any

import pytest

SCRIPTS = Path(__file__).resolve().parents[2] / "scripts"
ALL_SCRIPTS = sorted(SCRIPTS.glob("*.sh"))
SAMPLES = sorted(path for path in (SCRIPTS / "samples").glob("digit-*") if path.is_file())


def run(script: str | Path, base_url: str, *args: str) -> subprocess.CompletedProcess[str]:
    """Run one script the way the README shows it, with BASE_URL pointing at the server."""
    return subprocess.run(
        ["bash", str(SCRIPTS / script), *args],
        env={**os.environ, "BASE_URL": base_url},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def bodies(stdout: str) -> list[Any]:
    """The JSON bodies a script printed, one per response line, in order."""
    return [json.loads(line) for line in stdout.splitlines() if line.startswith(("{", "["))]


def test_there_are_scripts() -> None:
    names = {path.name for path in ALL_SCRIPTS}
    assert {"health.sh", "predict.sh", "v2-infer.sh"} <= names


@pytest.mark.parametrize("script", ALL_SCRIPTS, ids=lambda path: path.name)
def test_every_script_succeeds_against_a_live_server(script: Path, live_server: str) -> None:
    done = run(script, live_server)
    assert done.returncode == 0, f"{script.name} failed:\n{done.stdout}\n{done.stderr}"
    assert bodies(done.stdout), f"{script.name} printed no JSON body"


def test_health_reports_server_and_model(live_server: str) -> None:
    server, live, ready, model, model_ready = bodies(run("health.sh", live_server).stdout)
    assert server["name"] == "nnserve"
    assert live == {"live": True}
    assert ready == {"ready": True}
    assert model["name"] == "mnist-mlp"
    assert model_ready["ready"] is True


def test_v2_infer_answers_both_requests(live_server: str) -> None:
    logistic, linear = bodies(run("v2-infer.sh", live_server).stdout)
    assert logistic["id"] == "points-1"
    (probability,) = logistic["outputs"]  # the request asked for this output only
    assert probability["name"] == "probability"
    assert probability["shape"] == [2, 1]
    assert all(0.0 <= p <= 1.0 for p in probability["data"])
    (prediction,) = linear["outputs"]
    # least squares on the height/weight data: height = 0.75141 * kg + 124.298
    expected = [0.7514124562779751 * kg + 124.29802113285037 for kg in (48, 57, 64)]
    assert prediction["data"] == pytest.approx(expected, abs=1e-2)


def test_predict_names_a_digit(live_server: str) -> None:
    (answer,) = bodies(run("predict.sh", live_server).stdout)
    assert answer["model"] == "mnist-mlp"
    assert answer["digit"] in range(10)
    assert sum(answer["probabilities"]) == pytest.approx(1.0, abs=1e-4)


@pytest.mark.parametrize("sample", SAMPLES, ids=lambda path: path.name)
def test_predict_reads_each_sample_right(live_server: str, sample: Path) -> None:
    label = re.match(r"digit-(\d)", sample.name)
    assert label, f"sample {sample.name} should be named digit-<label>-..."
    (answer,) = bodies(run("predict.sh", live_server, str(sample)).stdout)
    assert answer["digit"] == int(label[1])


def test_predict_takes_the_model_as_second_argument(live_server: str) -> None:
    (answer,) = bodies(run("predict.sh", live_server, str(SAMPLES[0]), "mnist-softmax").stdout)
    assert answer["model"] == "mnist-softmax"


def test_script_exits_non_zero_on_an_http_error(live_server: str) -> None:
    done = run("health.sh", live_server, "no-such-model")
    assert done.returncode == 22, "curl --fail-with-body exits 22 on HTTP errors"
    assert "error" in bodies(done.stdout)[-1]  # the service's message is shown, not swallowed


def test_predict_rejects_a_file_that_is_not_an_image(live_server: str, tmp_path: Path) -> None:
    text = tmp_path / "notes.png"
    text.write_text("not a picture")
    done = run("predict.sh", live_server, str(text))
    assert done.returncode != 0
    assert "error" in bodies(done.stdout)[-1]


def test_predict_without_an_image_says_so(live_server: str, tmp_path: Path) -> None:
    done = run("predict.sh", live_server, str(tmp_path / "missing.png"))
    assert done.returncode == 2
    assert "no image" in done.stderr
