"""The digit gate's rule (service.images.gate): two pieces unlike digits refuse an upload of
several; a single piece only when the gate is sure."""

from __future__ import annotations

import numpy as np
import pytest

from service.errors import Unprocessable
from service.images.gate import (
    CERTAINLY_UNLIKE,
    SURELY_UNLIKE,
    UNLIKE,
    refuse_non_digits,
    refuses,
)


def test_one_odd_piece_in_a_number_is_a_cut_error_not_text() -> None:
    assert not refuses(np.array([0.99, CERTAINLY_UNLIKE, 0.97, 0.98], np.float32))
    assert not refuses(np.array([0.99, UNLIKE, UNLIKE], np.float32))  # not under


def test_two_pieces_unlike_digits_refuse_and_the_message_says_how_many() -> None:
    p_digit = np.array([0.99, UNLIKE * 0.99, 0.97, 0.2], np.float32)
    assert refuses(p_digit)
    with pytest.raises(Unprocessable, match="do not look like digits") as refused:
        refuse_non_digits(p_digit)
    assert refused.value.status_code == 422
    assert "2 of its 4 pieces are unlike any digit" in str(refused.value)


def test_one_piece_certainly_unlike_a_digit_refuses_several() -> None:
    assert refuses(np.array([0.99, CERTAINLY_UNLIKE * 0.99, 0.97], np.float32))


def test_a_single_piece_is_refused_only_when_surely_unlike_a_digit() -> None:
    assert not refuses(np.array([0.3], np.float32))
    assert not refuses(np.array([SURELY_UNLIKE], np.float32))
    assert refuses(np.array([SURELY_UNLIKE * 0.99], np.float32))
    refuse_non_digits(np.array([0.9], np.float32))  # no error
