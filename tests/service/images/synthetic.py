"""Synthetic images for the image tests: a drawn 7, shaded paper, encoded files, and headers
that lie about their size (decompression bombs without the memory)."""

from __future__ import annotations

import io
import struct
import zlib
from typing import Any

import numpy as np
from PIL import Image, ImageDraw


def seven(size: int = 200, ink: int = 0, paper: int = 255, width: int = 14) -> np.ndarray:
    """A drawn 7: grayscale float64 [size, size]."""
    image = Image.new("L", (size, size), paper)
    s = size / 200
    ImageDraw.Draw(image).line(
        [(60 * s, 50 * s), (140 * s, 50 * s), (90 * s, 160 * s)], fill=ink, width=int(width * s)
    )
    return np.asarray(image, dtype=np.float64)


def gradient_paper(size: int, low: float, high: float) -> np.ndarray:
    """Paper that darkens from `high` (left) to `low` (right): [size, size]."""
    return np.tile(np.linspace(high, low, size), (size, 1))


def seven_png(size: int = 200, paper: int = 255, ink: int = 0) -> bytes:
    """The drawn 7 as a PNG file."""
    return encode(Image.fromarray(seven(size, ink, paper).astype(np.uint8)))


def encode(image: Image.Image, fmt: str = "PNG", **params: Any) -> bytes:
    """The bytes of `image` saved as `fmt` with Pillow's `params`."""
    out = io.BytesIO()
    image.save(out, format=fmt, **params)
    return out.getvalue()


def png_header_only(width: int, height: int) -> bytes:
    """A PNG whose header claims width x height 8-bit grey pixels, then garbage for pixels."""

    def chunk(kind: bytes, body: bytes) -> bytes:
        crc = zlib.crc32(kind + body)
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", crc)

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", b"garbage")
