"""find_digits on drawn stroke masks: separate digits, a digit's detached pieces, clutter left
out, touching digits split at their neck, and shapes that are not a number refused."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image, ImageDraw

from service.errors import Unprocessable
from service.images.boxes import Box
from service.images.segment import NOT_DIGITS, attach_fragments, find_digits, group, same_digit

PEN = 10


def canvas(width: int = 500, height: int = 200) -> tuple[Image.Image, ImageDraw.ImageDraw]:
    image = Image.new("L", (width, height), 0)
    return image, ImageDraw.Draw(image)


def strokes(image: Image.Image) -> np.ndarray:
    return np.asarray(image) > 127


def zero(draw: ImageDraw.ImageDraw, left: int, top: int = 40, width: int = 70) -> None:
    draw.ellipse([left, top, left + width, top + 120], outline=255, width=PEN)


def one(draw: ImageDraw.ImageDraw, x: int, top: int = 40) -> None:
    draw.line([(x, top), (x, top + 120)], fill=255, width=PEN)


def five(draw: ImageDraw.ImageDraw, left: int, gap: int = 12) -> None:
    """A 5 whose top bar (its cap) is drawn apart from the body, as many people write it."""
    draw.line([(left + 15, 40), (left + 80, 40)], fill=255, width=PEN)  # the cap
    draw.line([(left + 10, 40 + gap), (left + 10, 95)], fill=255, width=PEN)
    draw.arc([left, 80, left + 80, 160], start=-150, end=150, fill=255, width=PEN)


def lefts(boxes: list[Box]) -> list[int]:
    return [b.left for b in boxes]


def test_separate_digits_come_left_to_right_with_their_boxes() -> None:
    image, draw = canvas()
    one(draw, 300)
    zero(draw, 100)
    digits = find_digits(strokes(image))
    assert [(b.left, b.top, b.right, b.bottom) for b in (d.box for d in digits)] == [
        (100, 40, 171, 161),
        (296, 40, 306, 161),
    ]
    # Each mask holds the digit's own strokes and nothing else.
    assert all(d.mask.shape == (d.box.height, d.box.width) and d.mask.any() for d in digits)


def test_a_five_with_its_cap_apart_is_one_digit() -> None:
    image, draw = canvas()
    five(draw, 60)
    zero(draw, 250)
    digits = find_digits(strokes(image))
    assert len(digits) == 2
    assert digits[0].box.top <= 40 - PEN // 2 + 1 and digits[0].pieces == 2


def test_specks_lines_and_paper_edges_are_left_out() -> None:
    image, draw = canvas(600, 260)
    zero(draw, 150)
    one(draw, 330)
    draw.rectangle([0, 0, 14, 259], fill=255)  # the table past the paper's left edge
    draw.line([(90, 185), (520, 185)], fill=255, width=4)  # an underline
    draw.ellipse([480, 20, 486, 26], fill=255)  # a speck of dust
    digits = find_digits(strokes(image))
    assert lefts([d.box for d in digits]) == [150, 326]


def test_touching_digits_are_split_at_their_neck() -> None:
    image, draw = canvas()
    zero(draw, 100, width=85)
    zero(draw, 210, width=85)
    draw.line([(180, 100), (215, 100)], fill=255, width=PEN)  # the pen ran on: one shape
    mask = strokes(image)
    digits = find_digits(mask)
    assert len(digits) == 2
    first, second = (d.box for d in digits)
    assert first.right <= second.left + 1 and first.width > 60 and second.width > 60


def test_a_face_is_not_a_number() -> None:
    image, draw = canvas(300, 300)
    draw.ellipse([30, 30, 270, 270], outline=255, width=PEN)
    draw.ellipse([90, 100, 115, 125], fill=255)
    draw.ellipse([185, 100, 210, 125], fill=255)
    draw.arc([90, 130, 210, 220], start=20, end=160, fill=255, width=PEN)
    with pytest.raises(Unprocessable, match="do not look like digits"):
        find_digits(strokes(image))


def test_shapes_not_on_one_line_are_not_a_number() -> None:
    image, draw = canvas(500, 500)
    zero(draw, 50, top=20)
    zero(draw, 200, top=190)
    zero(draw, 350, top=360)
    with pytest.raises(Unprocessable) as error:
        find_digits(strokes(image))
    assert error.value.args[0] == NOT_DIGITS


def test_a_broken_stroke_within_a_digits_box_but_in_no_loop_is_part_of_it() -> None:
    # A 6 written with a thin pen, its loop broken off the stem: the loop lies within the
    # stem's box but in no hole of it, unlike a face's eyes. One digit, not a drawing.
    image, draw = canvas(300, 200)
    draw.line([(150, 20), (80, 20), (80, 180), (150, 180)], fill=255, width=PEN)  # a [ shape
    draw.ellipse([95, 100, 140, 160], outline=255, width=PEN)  # the loop, apart from it
    (digit,) = find_digits(strokes(image))
    assert digit.box == Box(15, 76, 186, 151)


def four(draw: ImageDraw.ImageDraw, left: int, top: int = 40) -> None:
    draw.line([(left + 40, top), (left, top + 80), (left + 70, top + 80)], fill=255, width=PEN)
    draw.line([(left + 50, top + 30), (left + 50, top + 120)], fill=255, width=PEN)


def test_a_flat_digit_beside_another_is_not_its_fragment() -> None:
    # A short, wide 0 written just after a 4 (issue 15's number #238, "22940"): shorter than a
    # digit's fragment may be, near enough to be one, but joined the two would be wider than
    # any digit, so it is a digit of its own.
    image, draw = canvas()
    four(draw, 100)
    draw.ellipse([180, 90, 290, 160], outline=255, width=PEN)  # 0.56 of the 4's height, 9 px on
    digits = find_digits(strokes(image))
    assert [(d.box.left, d.box.right) for d in digits] == [(96, 171), (180, 291)]


def test_a_two_with_its_wide_tail_apart_is_one_digit() -> None:
    # The counterpart (photo-like #842): a detached tail as flat and wide as a flat digit, but
    # sticking out below the 2's body rather than lying within its rows, is still its tail.
    image, draw = canvas()
    draw.arc([110, 20, 190, 90], start=180, end=80, fill=255, width=PEN)
    draw.line([(175, 85), (140, 115)], fill=255, width=PEN)
    draw.line([(40, 175), (125, 125)], fill=255, width=PEN)  # the tail, drawn apart
    (digit,) = find_digits(strokes(image))
    assert digit.box == Box(20, 37, 180, 191)


def group_against_every_group(kept: list[int], boxes: list[Box]) -> list[list[int]]:
    """The oracle: each piece tried against every group so far, as grouping was first written."""
    tallest = max(boxes[i].height for i in kept)
    groups: list[tuple[Box, list[int]]] = []
    for i in sorted(kept, key=lambda k: boxes[k].left):
        for g, (box, members) in enumerate(groups):
            if same_digit(box, boxes[i], tallest):
                groups[g] = (box.union(boxes[i]), [*members, i])
                break
        else:
            groups.append((boxes[i], [i]))
    return attach_fragments(groups)


@pytest.mark.parametrize("seed", range(40))
def test_grouping_only_the_groups_that_reach_a_piece_is_grouping_against_all(seed: int) -> None:
    """A group ending left of a piece cannot join it (joining needs shared columns), so
    skipping closed groups, which keeps noise's hundreds of specks cheap, changes nothing."""
    rng = np.random.default_rng(seed)
    n = int(rng.integers(2, 300))
    tops, lefts_ = rng.integers(0, 200, n), rng.integers(0, 1000, n)
    heights, widths = rng.integers(2, 120, n), rng.integers(2, 90, n)
    shapes = zip(tops, lefts_, heights, widths, strict=True)
    boxes = [Box(t, c, t + h, c + w) for t, c, h, w in shapes]
    kept = list(range(n))
    assert group(kept, boxes) == group_against_every_group(kept, boxes)


def test_noise_of_thousands_of_specks_is_not_a_number() -> None:
    """Black and white noise in 2x2 px cells: hundreds of pieces past the dust, refused."""
    cells = np.random.default_rng(1).random((140, 140)) < 0.5
    mask = np.repeat(np.repeat(cells, 2, axis=0), 2, axis=1)
    with pytest.raises(Unprocessable, match="do not look like digits"):
        find_digits(mask)
