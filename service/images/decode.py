"""Uploaded image bytes -> grayscale pixels: pure functions, no I/O.

    bytes --open_image--> header checked (format, size: decompression bombs never decoded)
          --load_frame--> first frame decoded (a large JPEG by libjpeg at 1/2..1/8 scale), EXIF
                          orientation applied, reduced to the working size, transparency
                          composited onto paper: all in Pillow's C, in 8 bits
          --to_gray-----> float32 [H, W], 0 black .. 255 white

service.images.digits turns the grayscale pixels into the MNIST-style 28x28 digit.
Every failure is a domain error: 413 for too many pixels, 415 for bytes that are not an image
in a supported format, 422 for an empty upload or a corrupt or truncated image.
"""

from __future__ import annotations

import io
import struct
from functools import lru_cache

import numpy as np
import numpy.typing as npt
import pyspng
from PIL import Image, ImageChops, ImageOps, UnidentifiedImageError

from service.errors import PayloadTooLarge, Unprocessable, UnsupportedMediaType

FloatImage = npt.NDArray[np.float32]
RGBAPixels = npt.NDArray[np.uint8]
"""[H, W, 4]: an RGBA image's bytes."""

SUPPORTED_FORMATS = ("PNG", "JPEG", "BMP", "GIF", "WEBP")
"""Pillow plugins tried on an upload; anything else is 415 (fewer parsers, less attack surface)."""

WORKING_SIDE = 112
"""A larger upload is reduced (aspect kept) until its shorter side is this long before the
pixel maths: the digits end 20x20, so a digit filling most of the image keeps 60-100 px (3-5
times finer), each digit of a number about as many, strokes stay several pixels wide, and a
12-megapixel photo costs what a small drawing does (JPEGs are even decoded reduced)."""

WORKING_PIXELS = WORKING_SIDE * 6 * WORKING_SIDE
"""...and at most this many pixels remain whatever the aspect (a 6:1 strip keeps its short
side): the time and memory of everything after decoding are bounded by it."""

EXIF_ORIENTATION = 0x0112

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"

POLARITY_SAMPLES = 1 << 14
"""Pixels of a transparent canvas sampled to tell light strokes from dark ones."""

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
    """Grayscale pixels of an uploaded image, 0 (black) .. 255 (white), float32 [H, W]."""
    return to_gray(load_frame(open_image(data, max_pixels)))


def stored_pixels(data: bytes) -> int:
    """Width x height as the image's header gives them, no pixel decoded; 0 when the bytes are
    no image Pillow opens (decoding them says why)."""
    if data[:8] == PNG_SIGNATURE and data[12:16] == b"IHDR" and len(data) >= 24:
        width, height = struct.unpack(">II", data[16:24])  # a PNG's first chunk: read as is
        return int(width * height)
    try:
        with Image.open(io.BytesIO(data), formats=SUPPORTED_FORMATS) as image:
            width, height = image.size
    except (*_DECODE_ERRORS, UnidentifiedImageError, Image.DecompressionBombError, Warning):
        return 0
    return width * height


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
    """Decode the first frame upright (EXIF orientation), no larger than the working size,
    as L (8-bit gray) or I;16 (16-bit gray)."""
    try:
        if image.format == "JPEG":
            # libjpeg decodes at 1/2, 1/4 or 1/8 scale when the photo is large, and only the
            # luma (Y, the same ITU-R 601 weights as convert("L")) when asked for L: much faster.
            image.draft("L", working_size(image.size))
        elif (rgba := png_rgba(image)) is not None:
            pen = pen_canvas(rgba)
            return pen if pen is not None else composite_on_paper(Image.fromarray(rgba))
        image.load()
        if image.getexif().get(EXIF_ORIENTATION, 1) != 1:
            image = ImageOps.exif_transpose(image)
        return plain_gray(image)
    except (*_DECODE_ERRORS, Warning) as exc:
        # Pillow warns about corrupt metadata (EXIF) and reads on; where warnings are errors
        # (the test suite) the warning arrives here instead, and the file is corrupt indeed.
        raise Unprocessable(CORRUPT) from exc


def png_rgba(image: Image.Image) -> RGBAPixels | None:
    """The [H, W, 4] pixels of an 8-bit RGBA PNG without EXIF (a canvas export), decoded by
    libspng (pyspng) in 0.65 ms against Pillow's 1.2 for a 280x280 canvas (Pillow unfilters
    byte by byte; either is mostly zlib's inflate); None for any other image, which Pillow
    decodes."""
    source = getattr(image, "fp", None)  # the BytesIO open_image gave Pillow
    data = source.getvalue() if isinstance(source, io.BytesIO) else b""
    if image.format != "PNG" or image.mode != "RGBA" or not data or b"eXIf" in data:
        return None
    try:
        pixels: RGBAPixels = pyspng.load(data)  # [H, W, 4], checksums checked
    except RuntimeError as exc:  # pyspng's one error: truncated, corrupt
        raise Unprocessable(CORRUPT) from exc
    if pixels.dtype != np.uint8 or pixels.shape != (image.height, image.width, 4):
        return None  # 16 bits per channel: Pillow's way
    # No eXIf chunk, so no EXIF: said here, or Pillow's getexif() would decode it all again.
    image.info["exif"] = b""
    return pixels


def pen_canvas(rgba: RGBAPixels) -> Image.Image | None:
    """composite_on_paper's picture of a canvas drawn in one colour (an HTML canvas's pen: every
    pixel the same colour, only its opacity varies), made from the opacity alone: 0.1 ms less
    than Pillow's luma of every pixel; None when the colour varies (composite_on_paper's)."""
    height, width, _ = rgba.shape
    words = np.ascontiguousarray(rgba).reshape(height, width * 4).view("<u4")  # RGBA bytes
    colour = words & np.uint32(0xFFFFFF)  # R | G << 8 | B << 16, the opacity masked off
    first = int(colour[0, 0])
    if int(colour.min()) != first or int(colour.max()) != first:
        return None
    ink = pen_luma(first)
    alpha = Image.fromarray(rgba).getchannel("A")
    paper = 0 if ink > 127 and band_range(alpha)[0] < 255 else 255  # as composite_on_paper
    opacity = reduce_to_working_size(alpha)
    if (paper, ink) == (255, 0):  # black on white: 255 - opacity, in C (point() makes its
        return ImageChops.invert(opacity)  # table anew in Python each call, 256 round()s)
    return opacity.point(opacity_levels(paper, ink))


@lru_cache(maxsize=64)
def pen_luma(colour: int) -> int:
    """Pillow's own luma (convert("L"): ITU-R 601-2 in fixed point) of R | G << 8 | B << 16."""
    rgb = (colour & 0xFF, colour >> 8 & 0xFF, colour >> 16)
    luma = Image.new("RGB", (1, 1), rgb).convert("L").getpixel((0, 0))
    assert isinstance(luma, int)
    return luma


def plain_gray(image: Image.Image) -> Image.Image:
    """The image at the working size as L or I;16 (16-bit grayscale); any transparency
    composited onto paper."""
    if image.has_transparency_data:
        return composite_on_paper(image if image.mode == "RGBA" else image.convert("RGBA"))
    if not (image.mode.startswith("I;16") or image.mode == "L"):
        image = image.convert("L")
    return reduce_to_working_size(image)


def working_size(size: tuple[int, int]) -> tuple[int, int]:
    """(width, height) scaled (never enlarged) to a shorter side of WORKING_SIDE and at most
    WORKING_PIXELS, aspect kept."""
    width, height = size
    scale = min(1.0, WORKING_SIDE / min(width, height), (WORKING_PIXELS / (width * height)) ** 0.5)
    return max(1, round(width * scale)), max(1, round(height * scale))


def reduce_to_working_size(image: Image.Image) -> Image.Image:
    """Shrink (never enlarge) to at most WORKING_PIXELS, area-averaging (Pillow, in C)."""
    size = working_size(image.size)
    if size == image.size:
        return image
    # reducing_gap: a fast integer reduce first, then the exact BOX filter over the rest.
    return image.resize(size, Image.Resampling.BOX, reducing_gap=2.0)


def to_gray(image: Image.Image) -> FloatImage:
    """Luminance 0..255 as float32 [H, W] of an L or I;16 image."""
    pixels = np.asarray(image, dtype=np.float32)  # [H, W]
    if image.mode.startswith("I;16"):
        return pixels / np.float32(257.0)  # 16-bit grayscale: 65535 -> 255
    return pixels


def composite_on_paper(rgba: Image.Image) -> Image.Image:
    """Composite an RGBA image onto white paper, as a canvas export is meant to be seen (L),
    at the working size.

    Light strokes on a transparent background would vanish on white, so when the opaque
    pixels are light on average the paper is black instead (white ink on black, like MNIST).
    """
    alpha = rgba.getchannel("A")
    luma = rgba.convert("L")  # ITU-R 601-2 luma of the colour (alpha ignored), in C
    ink, highest = band_range(luma)
    if ink == highest:
        # One colour, as a canvas pen draws: the opacity alone makes the picture, and the
        # composite is affine in it, so the opacity is reduced first (12 times fewer pixels).
        # Only a light pen needs to know whether anything is transparent (its paper is black).
        paper = 0 if ink > 127 and band_range(alpha)[0] < 255 else 255
        return reduce_to_working_size(alpha).point(opacity_levels(paper, ink))
    transparent = band_range(alpha)[0] < 255
    step = max(1, round((rgba.width * rgba.height / POLARITY_SAMPLES) ** 0.5))
    weights = np.asarray(alpha)[::step, ::step].ravel().astype(np.float32)  # a lattice
    opacity = float(weights.sum())
    lightness = float(np.asarray(luma, dtype=np.float32)[::step, ::step].ravel() @ weights)
    paper = 0 if transparent and opacity > 0 and lightness / opacity > 127.5 else 255
    sheet = Image.new("L", rgba.size, paper)
    sheet.paste(luma, mask=alpha)  # luma * alpha + paper * (1 - alpha), rounded, in C
    return reduce_to_working_size(sheet)


def band_range(band: Image.Image) -> tuple[int, int]:
    """(min, max) of a one-band 8-bit image, in C."""
    low, high = band.getextrema()
    assert isinstance(low, (int, float)) and isinstance(high, (int, float))
    return int(low), int(high)


@lru_cache(maxsize=64)
def opacity_levels(paper: int, ink: int) -> tuple[int, ...]:
    """Lookup table: opacity 0..255 -> the gray of `ink` at that opacity over `paper`."""
    return tuple(round(paper + (ink - paper) * a / 255) for a in range(256))
