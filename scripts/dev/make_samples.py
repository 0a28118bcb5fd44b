"""Write the sample digit images in scripts/samples/ from MNIST test digits (seeded).

    digit-3.png          MNIST as it is: white on black, 28x28 enlarged to 280x280
    digit-7-photo.jpg    a photo of paper: dark ink on shaded, grainy paper, JPEG
    digit-0-canvas.png   an HTML canvas export: black strokes on a transparent background
    digit-4-dark.png     light strokes on a dark, noisy screen, off-centre

Usage, from the repository root: python -m scripts.dev.make_samples [--data-dir DIR] [--out DIR]
(DIR defaults to NNSERVE_MNIST_DIR). Each file is well under 50 KB.
"""

from __future__ import annotations

import argparse
import os
from collections.abc import Callable
from pathlib import Path

import numpy as np
from PIL import Image

from training.data import load_mnist

Digit = np.ndarray
# MNIST test-set indices of clear examples of each sample's digit.
SAMPLES: dict[str, tuple[int, str]] = {
    "digit-3.png": (18, "mnist"),
    "digit-7-photo.jpg": (0, "photo"),
    "digit-0-canvas.png": (3, "canvas"),
    "digit-4-dark.png": (4, "dark"),
}


def enlarged(digit: Digit, side: int) -> np.ndarray:
    """The digit smoothly enlarged to side x side, ink 0..1."""
    image = Image.fromarray(digit).resize((side, side), Image.Resampling.BICUBIC)
    return np.clip(np.asarray(image, dtype=np.float64) / 255.0, 0.0, 1.0)


def mnist(digit: Digit, rng: np.random.Generator) -> Image.Image:
    return Image.fromarray(digit).resize((280, 280), Image.Resampling.NEAREST)


def photo(digit: Digit, rng: np.random.Generator) -> Image.Image:
    ink = np.zeros((300, 400))
    ink[40:260, 120:340] = enlarged(digit, 220)
    x = np.linspace(0.0, 1.0, 400)[None, :]  # [1, W]
    paper = 235.0 - 50.0 * x + rng.normal(0, 4, size=ink.shape)  # shaded towards the right
    gray = paper * (1 - ink) + 40.0 * ink
    rgb = np.stack([gray, gray * 0.98, gray * 0.9], axis=-1)  # yellowish paper, dark ink
    return Image.fromarray(np.clip(rgb, 0, 255).astype(np.uint8), "RGB")


def canvas(digit: Digit, rng: np.random.Generator) -> Image.Image:
    rgba = np.zeros((280, 280, 4), dtype=np.uint8)
    rgba[..., 3] = np.round(enlarged(digit, 280) * 255).astype(np.uint8)
    return Image.fromarray(rgba, "RGBA")


def dark(digit: Digit, rng: np.random.Generator) -> Image.Image:
    ink = np.zeros((200, 260))
    ink[15:175, 25:185] = enlarged(digit, 160)
    gray = 30.0 + 200.0 * ink + rng.normal(0, 3, size=ink.shape)
    return Image.fromarray(np.clip(gray, 0, 255).astype(np.uint8), "L")


STYLES: dict[str, Callable[[Digit, np.random.Generator], Image.Image]] = {
    "mnist": mnist,
    "photo": photo,
    "canvas": canvas,
    "dark": dark,
}


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", type=Path, default=Path(os.environ["NNSERVE_MNIST_DIR"]))
    parser.add_argument("--out", type=Path, default=Path(__file__).parents[1] / "samples")
    args = parser.parse_args(argv)
    images, labels = load_mnist(args.data_dir, train=False)
    args.out.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(0)
    for name, (index, style) in SAMPLES.items():
        expected = int(name.split("-")[1].split(".")[0])
        if labels[index] != expected:
            raise SystemExit(f"MNIST test image {index} is a {labels[index]}, not a {expected}")
        path = args.out / name
        STYLES[style](images[index], rng).save(path, quality=85, optimize=True)
        print(f"{path}: {path.stat().st_size} bytes")


if __name__ == "__main__":
    main()
