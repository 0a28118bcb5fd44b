"""Request bodies every contender is sent: one real MNIST test digit, in each wire format.

The digit is the first image of the MNIST test set when NNSERVE_MNIST_DIR (or
../shared/mnist) holds it, else a drawn stroke, so the benchmark runs anywhere.
"""

from __future__ import annotations

import gzip
import io
import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import orjson
from PIL import Image

MEAN, STD = 0.1307, 0.3081
ROOT = Path(__file__).resolve().parents[1]
# float32 values written in their shortest form (-0.42421296), as a JavaScript client would
NUMPY = orjson.OPT_SERIALIZE_NUMPY


@dataclass(frozen=True)
class Payload:
    """One body and the headers it needs."""

    body: bytes
    content_type: str
    header: tuple[str, str] | None = None


def digit_28x28() -> np.ndarray:
    """uint8 [28, 28], white ink on black, the way MNIST stores it."""
    path = Path(os.environ.get("NNSERVE_MNIST_DIR", ROOT.parent / "shared" / "mnist"))
    images = path / "t10k-images-idx3-ubyte.gz"
    if images.exists():
        with gzip.open(images, "rb") as f:
            raw = f.read(16 + 784)
        return np.frombuffer(raw[16:], dtype=np.uint8).reshape(28, 28).copy()
    digit = np.zeros((28, 28), np.uint8)  # a "1": a vertical stroke
    digit[4:24, 13:16] = 255
    return digit


def normalized(digit: np.ndarray, n: int = 1) -> np.ndarray:
    """float32 [n, 784]: the digit n times, MNIST-normalized as the model expects."""
    x = (digit.astype(np.float32) / 255.0 - MEAN) / STD  # [28, 28]
    return np.tile(x.reshape(1, 784), (n, 1))  # [n, 784]


def naive_json(x: np.ndarray) -> Payload:
    """Contender (a): {"pixels": [784 floats]}."""
    return Payload(orjson.dumps({"pixels": x[0]}, option=NUMPY), "application/json")


def v2_json(x: np.ndarray) -> Payload:
    """Contender (b): an Open Inference Protocol request with the data inline. It carries an
    id, as KServe 0.21 needs one (it answers 500 when the response id is None); every V2
    contender gets this same body."""
    request = {
        "id": "bench-1",
        "inputs": [
            {"name": "input", "shape": list(x.shape), "datatype": "FP32", "data": x.ravel()}
        ],
        "outputs": [{"name": "probabilities"}],
    }
    return Payload(orjson.dumps(request, option=NUMPY), "application/json")


def v2_binary(x: np.ndarray) -> Payload:
    """Contender (c): the binary tensor data extension, as tritonclient sends it."""
    raw = np.ascontiguousarray(x, dtype=np.float32).tobytes()
    header = orjson.dumps(
        {
            "inputs": [
                {
                    "name": "input",
                    "shape": list(x.shape),
                    "datatype": "FP32",
                    "parameters": {"binary_data_size": len(raw)},
                }
            ],
            "outputs": [{"name": "probabilities", "parameters": {"binary_data": True}}],
        }
    )
    length = ("Inference-Header-Content-Length", str(len(header)))
    return Payload(header + raw, "application/octet-stream", length)


def canvas_png(digit: np.ndarray) -> Payload:
    """Contender (d): a 280x280 RGBA PNG, black ink on a transparent background, the way an
    HTML canvas exports a drawing."""
    big = Image.fromarray(digit).resize((280, 280), Image.Resampling.BILINEAR)
    rgba = Image.new("RGBA", (280, 280), (0, 0, 0, 0))
    rgba.putalpha(big)  # ink where the digit is, transparent elsewhere; colour stays black
    buffer = io.BytesIO()
    rgba.save(buffer, format="PNG")
    return Payload(buffer.getvalue(), "image/png")
