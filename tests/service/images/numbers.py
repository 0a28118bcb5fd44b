"""Uploads of handwritten numbers made from MNIST test digits: what POST /predict reads.

Each upload is 2 to 5 distinct MNIST test digits written side by side: each digit cropped to
its ink, scaled to a common height (40-160 px, each a little larger or smaller), drawn with a
thin, MNIST-like or thick pen, tilted a little, set on a wobbling baseline with gaps from tight
(nearly touching) to wide; the whole number then tilted a little and shown as one of

    photo   dark, often coloured ink on shaded, grainy paper (uneven light), JPEG or PNG
    scan    black or blue ink on flat, near-white paper with little grain, grayscale
    canvas  black strokes on a transparent background, PNG, as an HTML canvas exports them

Seeded: the same seed gives the same bytes. Pillow and numpy only.
"""

from __future__ import annotations

import io
from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
from PIL import Image, ImageFilter

from tests.service.images.photolike import paper

STYLES = ("photo", "photo", "scan", "canvas")
PENS = ("thin", "mnist", "mnist", "thick")
GAPS = {"tight": (-0.02, 0.06), "normal": (0.06, 0.35), "wide": (0.35, 0.9)}
"""Gap between neighbouring digits' ink, in digit heights (negative: their boxes overlap)."""

Ink = npt.NDArray[np.float32]


@dataclass(frozen=True)
class NumberUpload:
    """One generated upload: bytes, content type, the number written and how it was made."""

    data: bytes
    content_type: str
    label: str
    style: str
    pen: str
    gap: str


def cropped(digit: npt.NDArray[np.uint8]) -> npt.NDArray[np.uint8]:
    """The 28x28 digit cut to its ink's bounding box."""
    rows = np.flatnonzero(digit.max(axis=1) > 0)
    cols = np.flatnonzero(digit.max(axis=0) > 0)
    return digit[rows[0] : rows[-1] + 1, cols[0] : cols[-1] + 1]


def written(digit: npt.NDArray[np.uint8], height: int, pen: str, rng: np.random.Generator) -> Ink:
    """One digit scaled to about `height` px, with the pen's width, tilted: ink 0..1 [h, w]."""
    ink = cropped(digit)
    scale = height * rng.uniform(0.9, 1.1) / 20.0  # MNIST digits are about 20 px tall
    size = (max(2, round(ink.shape[1] * scale)), max(2, round(ink.shape[0] * scale)))
    image = Image.fromarray(ink).resize(size, Image.Resampling.BICUBIC)
    if pen == "thin":  # the stroke's edge moved in: where the ink was 3/4, not 1/2
        image = image.point(lambda v: max(0, 2 * v - 255))
    elif pen == "thick":  # about 5% of the height wider
        image = image.filter(ImageFilter.MaxFilter(2 * round(height * 0.025) + 1))
    image = image.rotate(float(rng.uniform(-5, 5)), Image.Resampling.BICUBIC, expand=True)
    return np.asarray(image, dtype=np.float32) / 255.0


def layout(digits: list[Ink], height: int, gap: str, rng: np.random.Generator) -> Ink:
    """The digits side by side on a wobbling baseline, with margins: ink 0..1 [H, W]."""
    low, high = GAPS[gap]
    margin = int(height * rng.uniform(0.3, 1.0))
    lefts, x = [], margin
    for d in digits:
        lefts.append(x)
        x += d.shape[1] + int(height * rng.uniform(low, high))
    tallest = max(d.shape[0] for d in digits)
    wobble = int(0.08 * height)
    canvas = np.zeros((tallest + 2 * (margin + wobble), x + margin), dtype=np.float32)
    for d, left in zip(digits, lefts, strict=True):
        top = margin + wobble + (tallest - d.shape[0]) // 2 + int(rng.integers(-wobble, wobble + 1))
        region = canvas[top : top + d.shape[0], left : left + d.shape[1]]
        np.maximum(region, d, out=region)
    tilted = Image.fromarray(canvas).rotate(float(rng.uniform(-4, 4)), Image.Resampling.BILINEAR)
    return np.clip(np.asarray(tilted, dtype=np.float32), 0.0, 1.0)


def photo(ink: Ink, rng: np.random.Generator) -> Image.Image:
    """Dark, often coloured ink on shaded, grainy, slightly tinted paper (RGB)."""
    sheet = paper(ink.shape, rng).astype(np.float32)[..., None] * rng.uniform(0.9, 1.0, 3)
    pen = rng.uniform(0, 80, size=3).astype(np.float32)
    grain = rng.standard_normal(size=ink.shape, dtype=np.float32)[..., None] * rng.uniform(1, 8)
    rgb = sheet * (1 - ink[..., None]) + pen * ink[..., None] + grain
    return Image.fromarray(np.clip(rgb, 0, 255).astype(np.uint8), "RGB")


def scan(ink: Ink, rng: np.random.Generator) -> Image.Image:
    """Black or blue ink on flat near-white paper, grayscale (L)."""
    sheet, pen = rng.uniform(225, 252), rng.uniform(0, 90)
    gray = sheet * (1 - ink) + pen * ink + rng.normal(0, 2, size=ink.shape)
    return Image.fromarray(np.clip(gray, 0, 255).astype(np.uint8), "L")


def canvas(ink: Ink, rng: np.random.Generator) -> Image.Image:
    """Black strokes on a fully transparent background (RGBA), as canvas.toBlob() gives."""
    rgba = np.zeros((*ink.shape, 4), dtype=np.uint8)
    rgba[..., 3] = np.round(ink * 255).astype(np.uint8)
    return Image.fromarray(rgba, "RGBA")


def encode(image: Image.Image, style: str, rng: np.random.Generator) -> tuple[bytes, str]:
    """PNG for canvases and some photos and scans; JPEG (quality 50-95) otherwise."""
    out = io.BytesIO()
    if style == "canvas" or rng.uniform() < 0.25:
        image.save(out, format="PNG", compress_level=1)
        return out.getvalue(), "image/png"
    image.save(out, format="JPEG", quality=int(rng.integers(50, 96)))
    return out.getvalue(), "image/jpeg"


def number_upload(
    digits: npt.NDArray[np.uint8], labels: npt.NDArray[np.integer], rng: np.random.Generator
) -> NumberUpload:
    """One upload of the number written with the MNIST digits [n, 28, 28]."""
    style, pen = str(rng.choice(STYLES)), str(rng.choice(PENS))
    gap = str(rng.choice(list(GAPS), p=[0.2, 0.6, 0.2]))
    height = int(rng.integers(40, 161))
    ink = layout([written(d, height, pen, rng) for d in digits], height, gap, rng)
    draw = {"photo": photo, "scan": scan, "canvas": canvas}[style]
    data, content_type = encode(draw(ink, rng), style, rng)
    return NumberUpload(data, content_type, "".join(map(str, labels)), style, pen, gap)


def number_uploads(
    images: npt.NDArray[np.uint8], labels: npt.NDArray[np.integer], n: int, seed: int = 0
) -> Iterator[NumberUpload]:
    """`n` numbers of 2 to 5 digits; no MNIST test digit is used twice."""
    rng = np.random.default_rng(seed)
    order = rng.permutation(len(images))
    start = 0
    for _ in range(n):
        length = int(rng.integers(2, 6))
        chosen = order[start : start + length]
        start += length
        yield number_upload(images[chosen], labels[chosen], rng)
