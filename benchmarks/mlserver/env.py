"""MLServer's own virtual environment, built on demand under benchmarks/.venvs/ (git
ignores it): its pins conflict with nnserve's, so it never shares nnserve's .venv.

MLServer 1.7.1 with `parallel_workers >= 1` needs uvloop 0.21 (newer uvloop breaks its
worker pool), so that is pinned here and the benchmark runs MLServer with
`parallel_workers` = the worker count every other contender gets."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
VENV = ROOT / "benchmarks" / ".venvs" / "mlserver"
PINS = ("mlserver==1.7.1", "uvloop==0.21.0", "onnxruntime==1.32.0")
"""onnxruntime: the same version as nnserve's constraints.txt, so the model runs alike."""


def mlserver_binary() -> Path:
    """The venv's `mlserver` command, building the venv first when it is missing or stale."""
    stamp = VENV / "pins.txt"
    if not stamp.exists() or stamp.read_text() != "\n".join(PINS):
        print(f"building MLServer's venv in {VENV} (once; a minute or two)", flush=True)
        subprocess.run([sys.executable, "-m", "venv", "--clear", str(VENV)], check=True)
        pip = [str(VENV / "bin" / "python"), "-m", "pip", "install", "-q"]
        subprocess.run([*pip, "--upgrade", "pip"], check=True)
        subprocess.run([*pip, *PINS], check=True)
        stamp.write_text("\n".join(PINS))
    return VENV / "bin" / "mlserver"


def write_settings(
    directory: Path,
    model: Path,
    ports: tuple[int, int, int],
    workers: int,
    threads: tuple[int, int],
) -> None:
    """settings.json (server) and mnist-mlp/model-settings.json (model) in `directory`."""
    http, grpc, metrics = ports
    server = {
        "host": "127.0.0.1", "http_port": http, "grpc_port": grpc, "metrics_port": metrics,
        "parallel_workers": workers, "debug": False,
    }  # fmt: skip
    (directory / "settings.json").write_text(json.dumps(server))
    folder = directory / "mnist-mlp"
    folder.mkdir(exist_ok=True)
    model_settings = {
        "name": "mnist-mlp",
        "implementation": "benchmarks.mlserver.runtime.OnnxModel",
        "parameters": {
            "uri": str(model), "extra": {"intra_op": threads[0], "inter_op": threads[1]},
        },
    }  # fmt: skip
    (folder / "model-settings.json").write_text(json.dumps(model_settings))
