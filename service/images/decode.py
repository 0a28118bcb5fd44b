"""Uploaded image bytes -> grayscale pixels: pure functions, no I/O.

    bytes --open_image--> header checked (format, size: decompression bombs never decoded)
          --load_frame--> first frame decoded, EXIF orientation applied, large photos reduced
          --to_gray-----> float64 [H, W], 0 black .. 255 white, transparency composited

service.images.digits turns the grayscale pixels into the MNIST-style 28x28 digit.
Every failure is a domain error: 413 for too many pixels, 415 for bytes that are not an image
in a supported format, 422 for an empty upload or a corrupt or truncated image.
"""

from __future__ import annotations

import io
import struct

import numpy as np
import numpy.typing as npt
from PIL import Image, ImageOps, UnidentifiedImageError

from service.errors import PayloadTooLarge, Unprocessable, UnsupportedMediaType

FloatImage = npt.NDArray[np.float64]

SUPPORTED_FORMATS = ("PNG", "JPEG", "BMP", "GIF", "WEBP")
"""Pillow plugins tried on an upload; anything else is 415 (fewer parsers, less attack surface)."""

WORKING_PIXELS = 200 * 200
"""Pixels a larger upload is reduced to (aspect kept) before the pixel maths: the digits end
20x20, a square digit keeps about 150 px and each digit of a 5-digit number about 60, strokes
stay several pixels wide, and a 12-megapixel photo then costs what a small drawing does (JPEGs
are even decoded reduced)."""

CORRUPT = "the image is corrupt or truncated and cannot be decoded"

# Pillow raises these for malformed files, depending on the plugin and where the bytes end.
_DECODE_ERRORS = (
    OSError,
    ValueError,
    SyntaxError,
    EOFError,
    IndexError,
    KeyError,
    TypeError,
    struct.error,
)


def decode(data: bytes, max_pixels: int) -> FloatImage:
    """Grayscale pixels of an uploaded image, 0 (black) .. 255 (white), float64 [H, W]."""
    return to_gray(load_frame(open_image(data, max_pixels)))


def open_image(data: bytes, max_pixels: int) -> Image.Image:
    """Identify the image and check its size from the header, before any pixel is decoded."""
    if not data:
        raise Unprocessable("the upload is empty: send the image's bytes")
    try:
        image = Image.open(io.BytesIO(data), formats=SUPPORTED_FORMATS)
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        # Pillow's own bomb check runs inside open(); its warning is an error under pytest.
        # Its limit can be lower than max_pixels, so its own message says which one fired.
        raise PayloadTooLarge(f"the image has too many pixels: {exc}") from exc
    except UnidentifiedImageError as exc:
        raise UnsupportedMediaType(
            "not an image in a supported format (PNG, JPEG, BMP, GIF, WebP)"
        ) from exc
    except (*_DECODE_ERRORS, Warning) as exc:  # Warning: see load_frame
        raise Unprocessable(CORRUPT) from exc
    width, height = image.size
    if width * height > max_pixels:
        raise PayloadTooLarge(
            f"the image has too many pixels: {width}x{height} = {width * height}; "
            f"the limit is {max_pixels}"
        )
    return image


def load_frame(image: Image.Image) -> Image.Image:
    """Decode the first frame upright (EXIF orientation) and no larger than WORKING_PIXELS."""
    try:
        if image.format == "JPEG":
            # Let libjpeg decode at 1/2, 1/4 or 1/8 scale when the photo is large: much faster.
            image.draft(image.mode, working_size(image.size))
        image.load()
        upright = ImageOps.exif_transpose(image)
        return reduce_to_working_size(with_plain_mode(upright))
    except (*_DECODE_ERRORS, Warning) as exc:
        # Pillow warns about corrupt metadata (EXIF) and reads on; where warnings are errors
        # (the test suite) the warning arrives here instead, and the file is corrupt indeed.
        raise Unprocessable(CORRUPT) from exc


def with_plain_mode(image: Image.Image) -> Image.Image:
    """The image as L, RGBA (when it has any transparency) or I;16 (16-bit grayscale)."""
    if image.has_transparency_data and not opaque(image):
        return image.convert("RGBA")
    if image.mode.startswith("I;16") or image.mode == "L":
        return image
    return image.convert("L")


def opaque(image: Image.Image) -> bool:
    """Whether an RGBA image has no transparent pixel (a canvas filled white before drawing):
    then Pillow's own luma conversion in C does what compositing would."""
    return image.mode == "RGBA" and image.getchannel("A").getextrema()[0] == 255


def working_size(size: tuple[int, int]) -> tuple[int, int]:
    """(width, height) scaled (never enlarged) to at most WORKING_PIXELS, aspect kept."""
    width, height = size
    scale = min(1.0, (WORKING_PIXELS / (width * height)) ** 0.5)
    return max(1, round(width * scale)), max(1, round(height * scale))


def reduce_to_working_size(image: Image.Image) -> Image.Image:
    """Shrink (never enlarge) to at most WORKING_PIXELS, area-averaging (Pillow, in C)."""
    size = working_size(image.size)
    if size == image.size:
        return image
    # reducing_gap: a fast integer reduce first, then the exact BOX filter over the rest.
    return image.resize(size, Image.Resampling.BOX, reducing_gap=2.0)


def to_gray(image: Image.Image) -> FloatImage:
    """Luminance 0..255 as float64 [H, W]; transparent pixels become the paper behind them."""
    if image.mode == "RGBA":
        return composite_on_paper(np.asarray(image, dtype=np.float64))
    pixels = np.asarray(image, dtype=np.float64)  # [H, W]
    if image.mode.startswith("I;16"):
        return pixels / 257.0  # 16-bit grayscale: 65535 -> 255
    return pixels


def composite_on_paper(rgba: FloatImage) -> FloatImage:
    """Composite RGBA [H, W, 4] onto white paper, as a canvas export is meant to be seen.

    Light strokes on a transparent background would vanish on white, so when the opaque
    pixels are light on average the paper is black instead (white ink on black, like MNIST).
    """
    # ITU-R 601-2 luma, the weights Pillow's convert("L") uses.
    luma = rgba[..., :3] @ np.array([0.299, 0.587, 0.114])  # [H, W]
    alpha = rgba[..., 3] / 255.0  # [H, W]
    opacity = alpha.sum()
    paper = 255.0
    if opacity > 0 and (luma * alpha).sum() / opacity > 127.5 and alpha.min() < 1.0:
        paper = 0.0
    gray: FloatImage = luma * alpha + paper * (1.0 - alpha)  # [H, W]
    return gray
