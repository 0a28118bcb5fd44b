"""What one POST /predict costs, in this process: `read_number` alone and the whole app (the
ASGI app driven without a socket: middleware, upload, read_number in the worker thread, the
model run, JSON), for three uploads:

    canvas  the benchmark's 280x280 RGBA canvas PNG of one MNIST test digit
    phone   a 12-megapixel phone JPEG (4000x3000) of one digit on shaded, grainy paper
    number  a 5-digit number (5 MNIST test digits side by side) photographed, 1000x260 JPEG

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
from typing import Any

import numpy as np
from PIL import Image

from benchmarks import payloads
from benchmarks.payloads import Payload
from service.app import create_app
from service.config import Settings
from service.images.number import read_number

ROOT = Path(__file__).resolve().parents[1]
Message = dict[str, Any]


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
    return {
        "canvas": payloads.canvas_png(payloads.digit_28x28()),
        "phone": photographed(payloads.digit_28x28(), (4000, 3000)),
        "number": photographed(five, (1000, 260)),
    }


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


def scope(payload: Payload) -> Message:
    headers = [
        (b"content-type", payload.content_type.encode()),
        (b"content-length", str(len(payload.body)).encode()),
    ]
    return {
        "type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": "POST",
        "scheme": "http", "path": "/predict", "raw_path": b"/predict", "root_path": "",
        "query_string": b"model=mnist-mlp", "headers": headers, "client": ("127.0.0.1", 1),
        "server": ("127.0.0.1", 2),
    }  # fmt: skip


async def request(app: Any, payload: Payload) -> int:
    """One POST /predict through the ASGI app; its status code."""
    messages = [{"type": "http.request", "body": payload.body, "more_body": False}]
    status = 0

    async def receive() -> Message:
        if messages:
            return messages.pop()
        await asyncio.sleep(3600)
        return {"type": "http.disconnect"}

    async def send(message: Message) -> None:
        nonlocal status
        if message["type"] == "http.response.start":
            status = message["status"]

    await app(scope(payload), receive, send)
    return status


async def whole_app(cells: dict[str, Payload], repeats: int) -> dict[str, tuple[float, float]]:
    app = create_app(Settings(models_dir=ROOT / "models"))
    out = {}
    async with app.router.lifespan_context(app):
        for name, payload in cells.items():
            assert await request(app, payload) == 200, name
            walls = []
            cpu = time.process_time()
            for _ in range(repeats):
                start = time.perf_counter()
                await request(app, payload)
                walls.append(time.perf_counter() - start)
            per = (time.process_time() - cpu) / repeats * 1e3
            out[name] = (per, statistics.median(walls) * 1e3)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.predict_cost")
    parser.add_argument("--repeats", type=int, default=200)
    args = parser.parse_args()
    cells = uploads()
    fewer = {"phone": max(10, args.repeats // 10)}  # a 12 MP JPEG: ~10x dearer
    print(f"load1 {os.getloadavg()[0]:.2f}")
    print("| upload | bytes | read_number CPU ms | wall ms | whole request CPU ms | wall ms |")
    print("|---|--:|--:|--:|--:|--:|")
    repeats = {name: fewer.get(name, args.repeats) for name in cells}
    with open(os.devnull, "w") as devnull, contextlib.redirect_stderr(devnull):
        whole = {n: asyncio.run(whole_app({n: p}, repeats[n]))[n] for n, p in cells.items()}
    for name, p in cells.items():
        cpu, wall = cost(lambda p=p: read_number(p.body, 50_000_000, 12), repeats[name])
        row = (len(p.body), f"{cpu:.2f}", f"{wall:.2f}", *(f"{v:.2f}" for v in whole[name]))
        print(f"| {name} | " + " | ".join(map(str, row)) + " |")
    print(f"load1 {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
