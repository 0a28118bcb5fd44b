"""The digit gate's rule (service.images.gate): one piece sure to be no digit refuses."""

from __future__ import annotations

import numpy as np
import pytest

from service.errors import Unprocessable
from service.images.gate import REFUSE_UNDER, refuse_non_digits


def test_digits_pass() -> None:
    refuse_non_digits(np.array([0.99, REFUSE_UNDER, 0.5], np.float32))  # no error


def test_one_piece_unlike_any_digit_refuses_and_says_how_many() -> None:
    p_digit = np.array([0.99, REFUSE_UNDER * 0.99, 0.97], np.float32)
    with pytest.raises(Unprocessable, match="do not look like digits") as refused:
        refuse_non_digits(p_digit)
    assert refused.value.status_code == 422
    assert "1 of its 3 pieces are unlike any digit" in str(refused.value)
