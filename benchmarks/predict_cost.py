"""What one POST /predict costs, in this process: `read_number` alone and the whole app (the
ASGI app driven without a socket by benchmarks.asgi_driver: middleware, the upload, read_number,
the model run, JSON), with the /predict fast path and through the route, for four uploads:

    canvas  the benchmark's 280x280 RGBA canvas PNG of one MNIST test digit (a raw body)
    canvas-form  the same PNG as a browser's form sends it (multipart field `file`)
    phone   a 12-megapixel phone JPEG (4000x3000) of one digit on shaded, grainy paper
    number  a 5-digit number (5 MNIST test digits side by side) photographed, 1000x260 JPEG
    noise   a 280x280 PNG of black and white noise: hundreds of specks, refused with a 422
            (small uploads are read on the event loop, so their worst case must stay cheap)

CPU is the process's (every thread: the worker thread, onnxruntime's, numpy's), per request;
wall is the median request. Runs anywhere (a drawn stroke without MNIST).

    python -m benchmarks.predict_cost [--repeats 200]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import gzip
import io
import os
import statistics
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
from PIL import Image

from benchmarks import asgi_driver, payloads
from benchmarks.payloads import Payload
from service.app import create_app
from service.config import Settings
from service.errors import Unprocessable
from service.images.number import read_number

ROOT = Path(__file__).resolve().parents[1]
PATH = "/predict?model=mnist-mlp"


def mnist_digits(n: int) -> list[np.ndarray]:
    """The first n MNIST test digits (uint8 [28, 28], white on black), else drawn ones."""
    path = Path(os.environ.get("NNSERVE_MNIST_DIR", ROOT.parent / "shared" / "mnist"))
    images = path / "t10k-images-idx3-ubyte.gz"
    if not images.exists():
        return [payloads.digit_28x28() for _ in range(n)]
    with gzip.open(images, "rb") as f:
        raw = f.read(16 + 784 * n)
    return list(np.frombuffer(raw[16:], dtype=np.uint8).reshape(n, 28, 28))


def photographed(ink: np.ndarray, size: tuple[int, int], seed: int = 0) -> Payload:
    """Dark ink (0..255 white-on-black, any size) on shaded, grainy paper, as a JPEG."""
    width, height = size
    rng = np.random.default_rng(seed)
    big = Image.fromarray(ink).resize((width * 3 // 5, height * 3 // 5), Image.Resampling.BICUBIC)
    layer = np.zeros((height, width), np.float32)
    top, left = height // 5, width // 5
    layer[top : top + big.height, left : left + big.width] = np.asarray(big) / 255.0
    x = np.linspace(0, 1, width, dtype=np.float32)[None, :]
    y = np.linspace(0, 1, height, dtype=np.float32)[:, None]
    sheet = 235 - 50 * x * y  # light falling off towards a corner
    grain = rng.normal(0, 4, size=(height, width)).astype(np.float32)
    gray = np.clip(sheet * (1 - layer) + 40 * layer + grain, 0, 255).astype(np.uint8)
    out = io.BytesIO()
    Image.fromarray(gray).convert("RGB").save(out, format="JPEG", quality=90)
    return Payload(out.getvalue(), "image/jpeg")


def uploads() -> dict[str, Payload]:
    five = np.concatenate(mnist_digits(5), axis=1)  # [28, 140]
    canvas = payloads.canvas_png(payloads.digit_28x28())
    return {
        "canvas": canvas,
        "canvas-form": form(canvas),
        "phone": photographed(payloads.digit_28x28(), (4000, 3000)),
        "number": photographed(five, (1000, 260)),
        "noise": noise_png(),
    }


EXPECTED = {"noise": 422}
"""The status of each upload's answer; 200 when not named."""


def noise_png() -> Payload:
    """Black and white noise in 2x2 px cells: the most pieces /predict sees in 280x280."""
    cells = np.random.default_rng(1).random((140, 140)) < 0.5
    image = Image.fromarray(np.where(cells, 0, 255).astype(np.uint8))
    out = io.BytesIO()
    image.resize((280, 280), Image.Resampling.NEAREST).save(out, format="PNG")
    return Payload(out.getvalue(), "image/png")


def read_or_refuse(image: bytes) -> object:
    """read_number, a refusal (422) counted as the answer it is."""
    try:
        return read_number(image, 50_000_000, 12)
    except Unprocessable as refusal:
        return refusal


def cost(work: Callable[[], object], repeats: int) -> tuple[float, float]:
    """(CPU ms per call, median wall ms) of `work()` after a few warm-up calls."""
    for _ in range(3):
        work()
    walls = []
    cpu = time.process_time()
    for _ in range(repeats):
        start = time.perf_counter()
        work()
        walls.append(time.perf_counter() - start)
    return (time.process_time() - cpu) / repeats * 1e3, statistics.median(walls) * 1e3


def form(payload: Payload, boundary: str = "nnserve-benchmark") -> Payload:
    """The upload as a browser's form sends it: multipart field `file`, the one part."""
    head = (
        f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="digit"\r\n'
        f"Content-Type: {payload.content_type}\r\n\r\n"
    )
    body = head.encode() + payload.body + f"\r\n--{boundary}--\r\n".encode()
    return Payload(body, f"multipart/form-data; boundary={boundary}")


async def whole_app(
    cells: dict[str, Payload], repeats: int, fast_path: bool = True
) -> dict[str, tuple[float, float]]:
    """(CPU ms per request, median wall ms) of the whole app per upload, driven in process."""
    app = create_app(Settings(models_dir=ROOT / "models", predict_fast_path=fast_path))
    out = {}
    async with app.router.lifespan_context(app):
        for name, payload in cells.items():
            scope = asgi_driver.request_scope(PATH, payload)
            status = await asgi_driver.one_request(app, scope, payload.body)
            assert status == EXPECTED.get(name, 200), (name, status)
            walls = []
            cpu = time.process_time()
            for _ in range(repeats):
                start = time.perf_counter()
                await asgi_driver.one_request(app, scope, payload.body)
                walls.append(time.perf_counter() - start)
            per = (time.process_time() - cpu) / repeats * 1e3
            out[name] = (per, statistics.median(walls) * 1e3)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.predict_cost")
    parser.add_argument("--repeats", type=int, default=200)
    args = parser.parse_args()
    cells = uploads()
    images = {name: p.body for name, p in cells.items()} | {"canvas-form": cells["canvas"].body}
    fewer = {"phone": max(10, args.repeats // 10)}  # a 12 MP JPEG: ~10x dearer
    repeats = {name: fewer.get(name, args.repeats) for name in cells}
    print(f"load1 {os.getloadavg()[0]:.2f}")
    print("| upload | bytes | read_number CPU ms | whole request CPU ms | wall ms "
          "| the same through the route (NNSERVE_PREDICT_FAST_PATH=false) CPU ms |")  # fmt: skip
    print("|---|--:|--:|--:|--:|--:|")
    for name, p in cells.items():
        with open(os.devnull, "w") as devnull, contextlib.redirect_stderr(devnull):
            fast, wall = asyncio.run(whole_app({name: p}, repeats[name]))[name]
            routed, _ = asyncio.run(whole_app({name: p}, repeats[name], fast_path=False))[name]
        image = images[name]
        cpu, _ = cost(lambda image=image: read_or_refuse(image), repeats[name])
        row = (len(p.body), *(f"{v:.2f}" for v in (cpu, fast, wall, routed)))
        print(f"| {name} | " + " | ".join(map(str, row)) + " |")
    print(f"load1 {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
