"""The digit gate's rule (service.images.gate): two pieces unlike digits refuse an upload of
several; a single piece only when the gate is sure; one doubtful piece when it stands on a
typed line with a shorter neighbour."""

from __future__ import annotations

import numpy as np
import pytest

from service.errors import Unprocessable
from service.images.gate import (
    CERTAINLY_UNLIKE,
    LEVEL,
    SHORTER,
    SURELY_UNLIKE,
    UNLIKE,
    refuse_non_digits,
    refuses,
    typeset,
)


def row(*heights: int, tops: tuple[int, ...] | None = None) -> np.ndarray:
    """Boxes [n, 4] side by side, 60 px apart, of these heights, top-aligned unless `tops`."""
    tops = tops or (10,) * len(heights)
    pieces = enumerate(zip(tops, heights, strict=True))
    return np.array([(60 * k, top, 40, height) for k, (top, height) in pieces], np.int64)


def test_one_odd_piece_in_a_number_is_a_cut_error_not_text() -> None:
    assert not refuses(np.array([0.99, CERTAINLY_UNLIKE, 0.97, 0.98], np.float32), row(*[100] * 4))
    assert not refuses(np.array([0.99, UNLIKE, UNLIKE], np.float32), row(100, 100, 100))


def test_two_pieces_unlike_digits_refuse_and_the_message_says_how_many() -> None:
    p_digit = np.array([0.99, UNLIKE * 0.99, 0.97, 0.2], np.float32)
    assert refuses(p_digit, row(*[100] * 4))
    with pytest.raises(Unprocessable, match="do not look like digits") as refused:
        refuse_non_digits(p_digit, row(*[100] * 4))
    assert refused.value.status_code == 422
    assert "2 of its 4 pieces are unlike any digit" in str(refused.value)


def test_one_piece_certainly_unlike_a_digit_refuses_several() -> None:
    assert refuses(np.array([0.99, CERTAINLY_UNLIKE * 0.99, 0.97], np.float32), row(90, 90, 90))


def test_a_single_piece_is_refused_only_when_surely_unlike_a_digit() -> None:
    box = row(100)
    assert not refuses(np.array([0.3], np.float32), box)
    assert not refuses(np.array([SURELY_UNLIKE], np.float32), box)
    assert refuses(np.array([SURELY_UNLIKE * 0.99], np.float32), box)
    refuse_non_digits(np.array([0.9], np.float32), box)  # no error


def test_a_doubtful_piece_beside_a_shorter_one_on_a_typed_line_is_text() -> None:
    """ "to": the t doubtful, the o an x-height letter whose bottom is the t's, to the pixel."""
    p_digit = np.array([0.1, 0.99], np.float32)
    on_baseline = row(100, 70, tops=(10, 40))
    assert typeset(p_digit, on_baseline) and refuses(p_digit, on_baseline)
    hanging = row(100, 70)  # "go" in reverse: the tops level (a descender)
    assert refuses(p_digit[::-1].copy(), hanging[::-1].copy())


def test_digits_of_one_number_are_not_a_typed_line() -> None:
    doubtful = np.array([0.1, 0.99], np.float32)
    # Centred on the line as handwriting is: neither edge level.
    assert not refuses(doubtful, row(100, 70, tops=(10, 25)))
    # Level edges but of one height, or not short enough: digits.
    assert not refuses(doubtful, row(100, 100))
    assert not refuses(doubtful, row(100, int(100 * SHORTER) + 2, tops=(10, 28)))
    # Just off level (more than LEVEL of the taller height apart).
    off = int(100 * LEVEL) + 1
    assert not refuses(doubtful, row(100, 70, tops=(10, 40 + off)))
    # Level and shorter, but the gate is sure both are digits ("71" typed).
    assert not refuses(np.array([0.9, 0.99], np.float32), row(100, 70, tops=(10, 40)))
