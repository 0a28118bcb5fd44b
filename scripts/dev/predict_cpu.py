"""CPU time of POST /predict's image work per upload (decode, find the digits, 28x28 each).

    python -m scripts.dev.predict_cpu [--n 200]

Times service.images.number.read_number (time.process_time, one thread) on n drawings as the
page sends them (280x280 opaque PNG, black strokes on white, MNIST test digits drawn large)
and on 5 phone photos of a number (4000x3000 JPEG, 12 megapixels). The HTTP, multipart and
model costs come on top; benchmarks/ measures the whole request.
"""

from __future__ import annotations

import argparse
import io
import os
import time
from pathlib import Path

import numpy as np
from PIL import Image

from service.images.number import read_number
from training.data import load_mnist

LIMIT = 25_000_000


def canvas_png(digit: np.ndarray) -> bytes:
    """A 280x280 drawing-pad export: RGBA, opaque white, black strokes."""
    ink = Image.fromarray(digit).resize((220, 220), Image.Resampling.BICUBIC)
    gray = Image.new("L", (280, 280), 255)
    gray.paste(Image.eval(ink, lambda v: 255 - v), (30, 30))
    out = io.BytesIO()
    gray.convert("RGBA").save(out, format="PNG")
    return out.getvalue()


def phone_jpeg(digits: np.ndarray, rng: np.random.Generator) -> bytes:
    """A 4000x3000 photo of a 4-digit number on shaded paper."""
    ink = np.zeros((3000, 4000), dtype=np.float32)
    for k, digit in enumerate(digits):
        tile = Image.fromarray(digit).resize((700, 700), Image.Resampling.BICUBIC)
        ink[1100:1800, 450 + 800 * k : 1150 + 800 * k] = np.asarray(tile) / 255.0
    paper = 220.0 - 40.0 * np.linspace(0, 1, 4000)[None, :] + rng.normal(0, 4, ink.shape)
    gray = np.clip(paper * (1 - ink) + 30 * ink, 0, 255).astype(np.uint8)
    out = io.BytesIO()
    Image.fromarray(gray).convert("RGB").save(out, format="JPEG", quality=90)
    return out.getvalue()


def cpu_ms(uploads: list[bytes]) -> float:
    """Median CPU milliseconds of read_number per upload."""
    times = []
    for data in uploads:
        start = time.process_time()
        read_number(data, LIMIT, 12)
        times.append(time.process_time() - start)
    return 1000.0 * float(np.median(times))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=200)
    parser.add_argument(
        "--data-dir",
        type=Path,
        default=Path(os.environ.get("NNSERVE_MNIST_DIR", "../shared/mnist")),
    )
    args = parser.parse_args()
    images, _ = load_mnist(args.data_dir, train=False)
    rng = np.random.default_rng(0)
    canvases = [canvas_png(images[i]) for i in range(args.n)]
    phones = [phone_jpeg(images[4 * i : 4 * i + 4], rng) for i in range(5)]
    print(f"280x280 canvas PNG: {cpu_ms(canvases):.2f} ms CPU per upload (median of {args.n})")
    print(f"4000x3000 phone JPEG: {cpu_ms(phones):.1f} ms CPU per upload (median of 5)")


if __name__ == "__main__":
    main()
