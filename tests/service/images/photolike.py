"""Photo-like uploads made from MNIST test digits: what people really send to POST /predict.

Each upload is one MNIST digit drawn the way a person or a browser would produce it: scaled up
to 100-600 px, off-centre, rotated a little, then one of

    paper   dark (often coloured) ink on light paper with a shading gradient, a soft shadow and
            grain, saved as JPEG (some with an EXIF orientation to undo) or PNG
    canvas  black strokes on a transparent background, PNG, as an HTML canvas exports them
    screen  light ink on a dark, noisy background (a chalkboard, a dark-mode drawing app)

Seeded: the same seed gives the same bytes. Pillow and numpy only.
"""

from __future__ import annotations

import io
from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
from PIL import Image

STYLES = ("paper", "paper", "paper", "paper", "canvas", "canvas", "screen")
"""Drawn uniformly: paper photos are the common case, then canvas drawings, then dark screens."""

EXIF_ORIENTATION = 0x0112
# Orientation tag -> the rotation (degrees counter-clockwise) that the camera left in the pixels.
ROTATIONS = {3: 180, 6: 90, 8: 270}


@dataclass(frozen=True)
class Upload:
    """One generated upload: the bytes, their content type, the true label and how it was made."""

    data: bytes
    content_type: str
    label: int
    style: str


def ink_layer(digit: npt.NDArray[np.uint8], rng: np.random.Generator) -> Image.Image:
    """The digit scaled up (smooth strokes) and rotated a little: an "F" image, ink 0..1."""
    side = int(rng.integers(100, 601))
    big = Image.fromarray(digit).resize((side, side), Image.Resampling.BICUBIC)
    angle = float(rng.uniform(-12.0, 12.0))
    rotated = big.rotate(angle, resample=Image.Resampling.BICUBIC, expand=True)
    ink = np.clip(np.asarray(rotated, dtype=np.float32) / 255.0, 0.0, 1.0)
    return Image.fromarray(ink)


def place(ink: Image.Image, rng: np.random.Generator) -> npt.NDArray[np.float64]:
    """Put the ink off-centre on a larger, not necessarily square canvas; [H, W] in 0..1."""
    width, height = ink.size
    canvas_w = int(width * rng.uniform(1.0, 1.8))
    canvas_h = int(height * rng.uniform(1.0, 1.8))
    left = int(rng.integers(0, canvas_w - width + 1))
    top = int(rng.integers(0, canvas_h - height + 1))
    canvas = np.zeros((canvas_h, canvas_w))
    canvas[top : top + height, left : left + width] = np.asarray(ink)
    return canvas


def paper(shape: tuple[int, int], rng: np.random.Generator) -> npt.NDArray[np.float64]:
    """Uneven light paper [H, W]: a level, a gradient in a random direction, a soft shadow."""
    height, width = shape
    y, x = np.mgrid[0:height, 0:width] / max(shape)  # [H, W] each, 0..~1
    theta = rng.uniform(0, 2 * np.pi)
    gradient = (np.cos(theta) * x + np.sin(theta) * y) * rng.uniform(0, 70)
    cy, cx = rng.uniform(0, 1, size=2)
    shadow = rng.uniform(0, 40) * np.exp(-((x - cx) ** 2 + (y - cy) ** 2) / 0.1)
    return rng.uniform(170, 250) - gradient - shadow


def paper_photo(digit: npt.NDArray[np.uint8], rng: np.random.Generator) -> Image.Image:
    """Dark, often coloured ink on shaded, grainy, slightly tinted paper (RGB)."""
    ink = place(ink_layer(digit, rng), rng).astype(np.float32)[..., None]  # [H, W, 1]
    tint = rng.uniform(0.9, 1.0, size=3).astype(np.float32)  # [3]
    sheet = paper(ink.shape[:2], rng).astype(np.float32)[..., None] * tint  # [H, W, 3]
    pen = rng.uniform(0, 80, size=3).astype(np.float32)  # black, blue or brown-ish ink
    grain = rng.standard_normal(size=ink.shape, dtype=np.float32) * rng.uniform(1, 8)
    rgb = sheet * (1 - ink) + pen * ink + grain  # grain shared by the channels, like luma noise
    return Image.fromarray(np.clip(rgb, 0, 255).astype(np.uint8), "RGB")


def canvas_drawing(digit: npt.NDArray[np.uint8], rng: np.random.Generator) -> Image.Image:
    """Black strokes on a fully transparent background (RGBA), as canvas.toBlob() gives."""
    alpha = place(ink_layer(digit, rng), rng)
    rgba = np.zeros((*alpha.shape, 4), dtype=np.uint8)
    rgba[..., 3] = np.round(alpha * 255).astype(np.uint8)
    return Image.fromarray(rgba, "RGBA")


def dark_screen(digit: npt.NDArray[np.uint8], rng: np.random.Generator) -> Image.Image:
    """Light strokes on a dark, noisy background (L)."""
    ink = place(ink_layer(digit, rng), rng)
    background = rng.uniform(0, 60)
    gray = background + (rng.uniform(190, 255) - background) * ink
    gray = gray + rng.normal(0, rng.uniform(1, 8), size=gray.shape)
    return Image.fromarray(np.clip(gray, 0, 255).astype(np.uint8), "L")


def encode(image: Image.Image, style: str, rng: np.random.Generator) -> tuple[bytes, str]:
    """PNG for canvases; JPEG (quality 40-90, sometimes EXIF-rotated) or PNG otherwise."""
    out = io.BytesIO()
    if style == "canvas" or rng.uniform() < 0.2:
        image.save(out, format="PNG", compress_level=1)  # fast; the pixels are the same
        return out.getvalue(), "image/png"
    exif = Image.Exif()
    orientation = int(rng.choice([1, 1, 1, 3, 6, 8]))
    if orientation in ROTATIONS:
        # The camera stored the pixels turned; the tag tells a viewer how to undo it.
        image = image.rotate(ROTATIONS[orientation], expand=True)
        exif[EXIF_ORIENTATION] = orientation
    image.save(out, format="JPEG", quality=int(rng.integers(40, 91)), exif=exif.tobytes())
    return out.getvalue(), "image/jpeg"


def photo_like(digit: npt.NDArray[np.uint8], label: int, rng: np.random.Generator) -> Upload:
    """One photo-like upload of a 28x28 MNIST digit."""
    style = str(rng.choice(STYLES))
    draw = {"paper": paper_photo, "canvas": canvas_drawing, "screen": dark_screen}[style]
    data, content_type = encode(draw(digit, rng), style, rng)
    return Upload(data, content_type, label, style)


def photo_like_uploads(
    images: npt.NDArray[np.uint8], labels: npt.NDArray[np.integer], n: int, seed: int = 0
) -> Iterator[Upload]:
    """`n` uploads from distinct, randomly chosen digits of `images` [N, 28, 28]."""
    rng = np.random.default_rng(seed)
    for index in rng.choice(len(images), size=n, replace=False):
        yield photo_like(images[index], int(labels[index]), rng)
