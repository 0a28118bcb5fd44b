"""service.images.decode: every supported format and colour mode, EXIF, transparency, and
each way an upload can be bad (empty, not an image, corrupt, truncated, too many pixels)."""

from __future__ import annotations

import io

import numpy as np
import pytest
from PIL import Image

from service.errors import NNServeError, PayloadTooLarge, Unprocessable, UnsupportedMediaType
from service.images.decode import (
    CORRUPT,
    WORKING_PIXELS,
    WORKING_SIDE,
    composite_on_paper,
    decode,
    pen_canvas,
    plain_gray,
    png_rgba,
    reduce_to_working_size,
    stored_pixels,
    working_size,
)
from tests.service.images.synthetic import encode, png_header_only

LIMIT = 25_000_000
NOT_AN_IMAGE = "not an image in a supported format (PNG, JPEG, BMP, GIF, WebP)"


def bar_image(mode: str = "L", size: tuple[int, int] = (40, 30)) -> Image.Image:
    """White image with a black vertical bar on its left half (lossless formats keep it)."""
    pixels = np.full((size[1], size[0]), 255, dtype=np.uint8)
    pixels[:, : size[0] // 2] = 0
    return Image.fromarray(pixels).convert(mode)


def assert_bar(gray: np.ndarray, tolerance: float = 0.0) -> None:
    half = gray.shape[1] // 2
    assert gray.dtype == np.float32
    assert np.abs(gray[:, : half - 1]).max() <= tolerance, "left half should be black"
    assert np.abs(gray[:, half + 1 :] - 255).max() <= tolerance, "right half should be white"


@pytest.mark.parametrize("fmt", ["PNG", "BMP", "GIF"])
@pytest.mark.parametrize("mode", ["1", "L", "P", "RGB"])
def test_lossless_formats_and_modes_decode_exactly(fmt: str, mode: str) -> None:
    gray = decode(encode(bar_image(mode), fmt), LIMIT)
    assert gray.shape == (30, 40)
    assert_bar(gray)


@pytest.mark.parametrize(("fmt", "mode"), [("JPEG", "L"), ("JPEG", "RGB"), ("JPEG", "CMYK")])
def test_jpeg_decodes_within_compression_noise(fmt: str, mode: str) -> None:
    gray = decode(encode(bar_image(mode), fmt, quality=95), LIMIT)
    assert gray.shape == (30, 40)
    assert_bar(gray[:, 2:-2], tolerance=30)


@pytest.mark.parametrize("lossless", [True, False])
def test_webp_decodes(lossless: bool) -> None:
    gray = decode(encode(bar_image("RGB"), "WEBP", lossless=lossless, quality=95), LIMIT)
    assert gray.shape == (30, 40)
    assert_bar(gray[:, 2:-2], tolerance=0 if lossless else 40)


def test_sixteen_bit_grayscale_png_is_scaled_to_eight_bits() -> None:
    pixels = np.array([[0, 32896, 65535]], dtype=np.uint16)
    gray = decode(encode(Image.fromarray(pixels), "PNG"), LIMIT)
    np.testing.assert_allclose(gray, [[0.0, 128.0, 255.0]])


def test_gif_first_frame_is_the_one_read() -> None:
    frames = [bar_image("P"), Image.new("P", (40, 30), 0)]
    data = encode(frames[0], "GIF", save_all=True, append_images=frames[1:])
    assert Image.open(io.BytesIO(data)).n_frames == 2
    assert_bar(decode(data, LIMIT))


@pytest.mark.parametrize(("orientation", "stored_turn"), [(3, 180), (6, 90), (8, 270)])
def test_exif_orientation_is_honoured(orientation: int, stored_turn: int) -> None:
    upright = bar_image("L", (40, 30))
    exif = Image.Exif()
    exif[0x0112] = orientation  # the camera stored the pixels turned and says so in EXIF
    stored = upright.rotate(stored_turn, expand=True)
    gray = decode(encode(stored, "JPEG", quality=95, exif=exif.tobytes()), LIMIT)
    assert gray.shape == (30, 40)
    assert_bar(gray[:, 2:-2], tolerance=30)


def test_transparent_canvas_is_composited_onto_white() -> None:
    rgba = np.zeros((30, 40, 4), dtype=np.uint8)  # transparent black: a blank canvas
    rgba[:, :20, 3] = 255  # an opaque black stroke on the left
    gray = decode(encode(Image.fromarray(rgba, "RGBA"), "PNG"), LIMIT)
    assert_bar(gray)


@pytest.mark.parametrize("colour", [(0, 0, 0), (255, 255, 255), (20, 40, 200), (128, 127, 129)])
@pytest.mark.parametrize("least_opacity", [0, 40, 255])
def test_a_one_pen_canvas_is_composited_exactly_as_pillow_composites_it(
    colour: tuple[int, int, int], least_opacity: int
) -> None:
    """pen_canvas, the canvas's short way, gives composite_on_paper's very pixels: dark and
    light pens, with and without transparent paper, at a size that is reduced."""
    rng = np.random.default_rng(sum(colour) + least_opacity)
    rgba = np.zeros((300, 260, 4), dtype=np.uint8)
    rgba[..., :3] = colour
    strokes = rng.integers(0, 256, size=(300, 260)) * (rng.random((300, 260)) < 0.3)
    rgba[..., 3] = np.maximum(strokes, least_opacity)
    pen = pen_canvas(rgba)
    assert pen is not None and pen.size == working_size((260, 300))
    expected = composite_on_paper(Image.fromarray(rgba, "RGBA"))
    assert np.array_equal(np.asarray(pen), np.asarray(expected))


def test_a_canvas_of_two_colours_is_left_to_the_whole_composite() -> None:
    rgba = np.zeros((40, 30, 4), dtype=np.uint8)
    rgba[..., 3] = 255
    rgba[39, 29, 2] = 1  # one pixel's blue differs: not one pen
    assert pen_canvas(rgba) is None


def test_half_transparent_ink_is_blended_with_the_paper() -> None:
    rgba = np.zeros((2, 2, 4), dtype=np.uint8)
    rgba[0, 0, 3] = 255
    rgba[0, 1, 3] = 128
    gray = decode(encode(Image.fromarray(rgba, "RGBA"), "PNG"), LIMIT)
    np.testing.assert_allclose(gray, [[0.0, 255 * 127 / 255], [255.0, 255.0]])


def test_light_strokes_on_transparency_get_black_paper() -> None:
    rgba = np.zeros((30, 40, 4), dtype=np.uint8)
    rgba[:, 20:] = 255  # opaque white on the right, transparent elsewhere
    gray = decode(encode(Image.fromarray(rgba, "RGBA"), "PNG"), LIMIT)
    assert_bar(gray)


@pytest.mark.parametrize(("fmt", "mode"), [("PNG", "LA"), ("WEBP", "RGBA"), ("GIF", "P")])
def test_transparency_in_other_modes_and_formats(fmt: str, mode: str) -> None:
    image = Image.new("RGBA", (40, 30), (255, 255, 255, 0))
    image.paste((0, 0, 0, 255), (0, 0, 20, 30))
    if mode == "P":
        image = image.convert("P", palette=Image.Palette.ADAPTIVE, colors=2)
        image.info["transparency"] = image.getpixel((39, 0))
    gray = decode(encode(image.convert(mode) if mode != "P" else image, fmt, lossless=True), LIMIT)
    assert_bar(gray)


@pytest.mark.parametrize("colour", [0, 255, 90])
def test_a_one_colour_canvas_reduced_first_matches_the_full_composite(colour: int) -> None:
    # A pen of one colour: the opacity is reduced to the working size before the lookup
    # table; the full-size composite (each pixel over its paper, then reduced) must agree.
    rng = np.random.default_rng(3)
    rgba = np.zeros((560, 700, 4), dtype=np.uint8)
    rgba[..., :3] = colour
    opacity = np.zeros((560, 700), np.float32)
    opacity[100:460, 300:360] = 255  # a stroke, with soft random edges beside it
    opacity[100:460, 290:300] = rng.uniform(0, 255, (360, 10))
    rgba[..., 3] = opacity.astype(np.uint8)
    gray = decode(encode(Image.fromarray(rgba, "RGBA"), "PNG"), LIMIT)
    assert gray.shape == working_size((700, 560))[::-1]
    paper = 0.0 if colour > 127 else 255.0
    full = paper + (colour - paper) * rgba[..., 3].astype(np.float64) / 255
    expected = reduce_to_working_size(Image.fromarray(np.round(full).astype(np.uint8)))
    # Rounded in another order (the reduce's steps, then the table's): two levels at most.
    assert np.abs(gray - np.asarray(expected, np.float32)).max() <= 2.0


def test_large_uploads_are_reduced_to_the_working_size() -> None:
    gray = decode(encode(bar_image("L", (2000, 1000)), "PNG"), LIMIT)
    assert gray.shape == (WORKING_SIDE, 2 * WORKING_SIDE) == working_size((2000, 1000))[::-1]
    assert gray.size <= WORKING_PIXELS
    assert_bar(gray, tolerance=0)


def test_long_strips_are_bounded_by_the_working_pixels() -> None:
    # A 20:1 strip keeps less than its short side: time and memory stay bounded whatever
    # the shape of the upload.
    width, height = working_size((20_000, 1_000))
    assert width * height <= WORKING_PIXELS and height < WORKING_SIDE
    assert working_size((50, 40)) == (50, 40)  # never enlarged


def test_large_jpeg_is_decoded_reduced() -> None:
    gray = decode(encode(bar_image("RGB", (3000, 1500)), "JPEG", quality=90), LIMIT)
    height, width = gray.shape  # libjpeg's 1/8 decode, then the exact reduction: +-1 px
    assert abs(width - 2 * WORKING_SIDE) <= 1 and abs(height - WORKING_SIDE) <= 1
    assert_bar(gray[:, 4:-4], tolerance=30)


def expect(error: type[NNServeError], message: str, data: bytes, limit: int = LIMIT) -> None:
    with pytest.raises(error) as caught:
        decode(data, limit)
    assert caught.value.message == message


def test_more_pixels_than_the_limit_is_413_from_the_header_alone() -> None:
    # The pixel data is garbage: a 413 (not a 422) shows the size was checked before decoding.
    message = "the image has too many pixels: 6000x5000 = 30000000; the limit is 25000000"
    expect(PayloadTooLarge, message, png_header_only(6000, 5000))


def test_pixel_limit_is_the_setting() -> None:
    data = encode(bar_image("L", (101, 100)), "PNG")
    expect(
        PayloadTooLarge,
        "the image has too many pixels: 101x100 = 10100; the limit is 10000",
        data,
        10_000,
    )
    assert decode(data, 10_100).shape == (100, 101)


def test_pillow_bomb_check_is_413_too() -> None:
    # Far beyond Pillow's own limit (2 x Image.MAX_IMAGE_PIXELS): Pillow refuses in open().
    expect(
        PayloadTooLarge,
        "the image has too many pixels: Image size (10000000000 pixels) exceeds limit of "
        "178956970 pixels, could be decompression bomb DOS attack.",
        png_header_only(100_000, 100_000),
        limit=10**12,
    )


def test_empty_upload_is_422() -> None:
    expect(Unprocessable, "the upload is empty: send the image's bytes", b"")


@pytest.mark.parametrize(
    "data",
    [b"hello, this is text", b"%PDF-1.7\n", b"\x00" * 100, encode(bar_image(), "TIFF")],
    ids=["text", "pdf", "zeros", "tiff"],
)
def test_not_an_image_in_a_supported_format_is_415(data: bytes) -> None:
    expect(
        UnsupportedMediaType, "not an image in a supported format (PNG, JPEG, BMP, GIF, WebP)", data
    )


@pytest.mark.parametrize("fmt", ["PNG", "JPEG", "GIF", "BMP", "WEBP"])
def test_truncated_image_is_422(fmt: str) -> None:
    noise = np.random.default_rng(0).integers(0, 256, size=(64, 64), dtype=np.uint8)
    data = encode(Image.fromarray(noise).convert("RGB"), fmt)
    expect(
        Unprocessable,
        CORRUPT,
        data[: len(data) * 2 // 3],
    )


def test_corrupt_pixel_data_is_422() -> None:
    expect(
        Unprocessable,
        CORRUPT,
        png_header_only(64, 64),
    )


def test_zero_sized_image_is_415() -> None:
    # Pillow refuses to identify an image with no pixels at all.
    expect(UnsupportedMediaType, NOT_AN_IMAGE, png_header_only(0, 10))


def test_corrupt_exif_is_a_domain_error_or_ignored() -> None:
    # An EXIF block that claims 5 entries and holds none: Pillow warns and reads on. Under
    # this suite's warnings-as-errors the warning reaches decode(), which answers 422.
    exif = b"Exif\x00\x00MM\x00*\x00\x00\x00\x08\x00\x05"
    data = encode(bar_image("RGB"), "JPEG", quality=95, exif=exif)
    try:
        gray = decode(data, LIMIT)
    except Unprocessable as exc:
        assert exc.message == CORRUPT
    else:
        assert gray.shape == (30, 40)


@pytest.mark.parametrize("fmt", ["PNG", "JPEG", "GIF", "WEBP", "BMP"])
def test_stored_pixels_come_from_the_header(fmt: str) -> None:
    assert stored_pixels(encode(bar_image("L", (40, 30)), fmt)) == 1200
    assert stored_pixels(png_header_only(6000, 5000)) == 30_000_000  # never decoded


@pytest.mark.parametrize("data", [b"", b"plain text", png_header_only(64, 64)[:20]])
def test_stored_pixels_of_no_image_is_zero(data: bytes) -> None:
    assert stored_pixels(data) == 0


def many_coloured_rgba(size: tuple[int, int] = (280, 200)) -> Image.Image:
    """An RGBA image of random colours and opacities, soft strokes, fully transparent parts."""
    rng = np.random.default_rng(5)
    pixels = rng.integers(0, 256, size=(size[1], size[0], 4), dtype=np.uint8)
    pixels[: size[1] // 2, :, 3] = 0
    return Image.fromarray(pixels, "RGBA")


@pytest.mark.parametrize("colour", [None, 0, 200])
def test_an_rgba_png_decoded_by_libspng_is_pillows_image(colour: int | None) -> None:
    image = many_coloured_rgba()
    if colour is not None:  # one pen colour: the opacity-only composite
        image = Image.merge("RGBA", (*Image.new("RGB", image.size, (colour,) * 3).split(),
                                     image.getchannel("A")))  # fmt: skip
    data = encode(image, "PNG")
    opened = Image.open(io.BytesIO(data))
    assert (spng := png_rgba(opened)) is not None
    assert spng.tobytes() == image.tobytes()
    expected = plain_gray(Image.open(io.BytesIO(data)).convert("RGBA"))
    np.testing.assert_array_equal(decode(data, LIMIT), np.asarray(expected, np.float32))


def test_an_rgba_png_with_exif_is_pillows_to_decode_and_turn() -> None:
    exif = Image.Exif()
    exif[0x0112] = 6  # stored a quarter turn from upright
    data = encode(many_coloured_rgba((40, 30)), "PNG", exif=exif.tobytes())
    assert png_rgba(Image.open(io.BytesIO(data))) is None
    assert decode(data, LIMIT).shape == (40, 30)


def test_other_pngs_are_pillows_to_decode() -> None:
    for image in (bar_image("RGB"), bar_image("L"), bar_image("LA"), bar_image("I;16")):
        assert png_rgba(Image.open(io.BytesIO(encode(image, "PNG")))) is None


@pytest.mark.parametrize("cut", [0.5, 0.9, 0.99])
def test_a_truncated_rgba_png_is_422(cut: float) -> None:
    data = encode(many_coloured_rgba(), "PNG")
    expect(Unprocessable, CORRUPT, data[: int(len(data) * cut)])


def test_a_corrupt_rgba_png_is_422() -> None:
    data = bytearray(encode(many_coloured_rgba(), "PNG"))
    data[len(data) // 2 : len(data) // 2 + 64] = bytes(64)
    expect(Unprocessable, CORRUPT, bytes(data))
