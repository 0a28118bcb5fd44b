"""Image files built in memory for the image tests: encoded Pillow images, and headers that
lie about their size (decompression bombs without the memory)."""

from __future__ import annotations

import io
import struct
import zlib
from typing import Any

from PIL import Image


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
