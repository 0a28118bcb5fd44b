"""Model control on a real server: tritonclient.http's repository calls, and a polled
repository changed under concurrent inference traffic without failing a request whose model
is still there (bounded: four client threads on loopback for a few seconds)."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from pathlib import Path
from urllib.parse import urlsplit

import httpx
import tritonclient.http as triton
from tritonclient.utils import InferenceServerException

from tests.conftest import ServerFactory
from tests.service.runtime.repository_edits import add_version, remove

BODIES = {
    "tiny-softmax": [1, 4],
    "tiny-linear": [1, 1],
    "tiny-logistic": [1, 2],
}


def body(name: str) -> dict[str, object]:
    shape = BODIES[name]
    return {
        "inputs": [{"name": "input", "datatype": "FP32", "shape": shape, "data": [0.5] * shape[1]}]
    }


def until(check: Callable[[], bool], timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, "the repository change was not picked up in time"
        time.sleep(0.05)


def test_tritonclient_http_repository_api(start_server: ServerFactory, tiny_repo: Path) -> None:
    url = start_server(NNSERVE_MODELS_DIR=str(tiny_repo), NNSERVE_MODEL_CONTROL="explicit")
    client = triton.InferenceServerClient(urlsplit(url).netloc)
    index = client.get_model_repository_index()
    assert {"name": "tiny-linear", "version": "1", "state": "READY", "reason": ""} in index
    client.unload_model("tiny-linear")
    assert not client.is_model_ready("tiny-linear")
    client.load_model("tiny-linear")
    assert client.is_model_ready("tiny-linear")
    try:
        client.load_model("nope")
    except InferenceServerException as exc:
        assert "model 'nope' is not in the repository" in str(exc.message())
    else:
        raise AssertionError("loading an unknown model succeeded")


def test_poll_under_traffic(start_server: ServerFactory, tiny_repo: Path) -> None:
    url = start_server(
        NNSERVE_MODELS_DIR=str(tiny_repo),
        NNSERVE_MODEL_CONTROL="poll",
        NNSERVE_REPOSITORY_POLL_SECONDS="0.2",
    )
    answers: list[tuple[str, int, str]] = []
    stop = threading.Event()

    def traffic(name: str) -> None:
        with httpx.Client(base_url=url, timeout=10) as http:
            while not stop.is_set():
                response = http.post(f"/v2/models/{name}/infer", json=body(name))
                version = response.json().get("model_version", "") if response.is_success else ""
                answers.append((name, response.status_code, version))

    threads = [threading.Thread(target=traffic, args=(n,)) for n in [*BODIES, "tiny-softmax"]]
    for thread in threads:
        thread.start()
    try:
        add_version(tiny_repo, "tiny-softmax", source=2, version=3)
        until(lambda: answers[-50:].count(("tiny-softmax", 200, "3")) > 0)
        add_version(tiny_repo, "tiny-softmax", source=2, version=4, broken=True)
        until(lambda: "sha256" in httpx.get(f"{url}/v2/models/tiny-softmax/versions/4").text)
        assert httpx.get(f"{url}/v2/health/ready").status_code == 200
        remove(tiny_repo, "tiny-logistic")
        until(lambda: httpx.get(f"{url}/v2/models/tiny-logistic").status_code == 404)
        time.sleep(0.5)
    finally:
        stop.set()
        for thread in threads:
            thread.join()
    present = [a for a in answers if a[0] != "tiny-logistic"]
    assert len(present) > 100 and all(status == 200 for _, status, _ in present)
    softmax_versions = [v for name, _, v in present if name == "tiny-softmax"]
    assert softmax_versions[-1] == "3" and "4" not in softmax_versions
    logistic = [status for name, status, _ in answers if name == "tiny-logistic"]
    first_gone = logistic.index(404)
    assert set(logistic[:first_gone]) == {200} and set(logistic[first_gone:]) == {404}
