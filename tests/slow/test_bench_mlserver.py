"""The benchmark's MLServer contender runs outside the checkout: MLServer writes .metrics/
into its working directory (and exits when its metrics_dir setting points elsewhere)."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest

from benchmarks import contenders, servers
from benchmarks.mlserver.env import VENV
from benchmarks.servers import Threads
from tests.servers import ROOT

pytestmark = pytest.mark.slow


@pytest.mark.skipif(not (VENV / "bin" / "mlserver").exists(), reason="MLServer's venv not built")
def test_mlserver_writes_its_metrics_outside_the_checkout() -> None:
    before = (ROOT / ".metrics").exists()
    model = ROOT / "models" / "mnist-mlp" / "1" / "model.onnx"
    server = contenders.mlserver(model, Threads(intra_op=1, inter_op=1), workers=1)
    try:
        assert httpx.get(server.url + "/v2/models/mnist-mlp/ready").status_code == 200
        workdir = Path(f"/proc/{server.process.pid}/cwd").resolve()
    finally:
        servers.stop(server)
    assert workdir != ROOT and workdir.name.startswith("nnserve-mlserver-")
    assert (workdir / ".metrics").is_dir()  # it did write them, there
    assert (ROOT / ".metrics").exists() == before
