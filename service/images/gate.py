"""The digit gate's rule: whether the pieces cut from an upload are digits at all (pure).

A model whose card has role "digit-gate" (models/digit-gate: training.gate) gives each 28x28
piece P(digit). mnist-mlp reads anything as a digit, so without the gate a photo of "cat" or a
doodle comes back as a number; with it, POST /predict answers 422 instead. The rule is per
piece: one piece the gate is sure is no digit refuses the upload, since a number of digits
has no letter in it, while a word nearly always has one letter unlike any digit.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from service.errors import Unprocessable

REFUSE_UNDER = 0.1
"""A piece whose P(digit) is under this is not a digit (chosen on held-out uploads: see
tests/service/images/test_gate.py for what it refuses and what it lets through)."""

NOT_DIGITS = (
    "the shapes on the image do not look like digits (is it text or a drawing?): "
    "{count} of its {total} pieces are unlike any digit"
)


def refuse_non_digits(p_digit: npt.NDArray[np.float32]) -> None:
    """422 when any piece's P(digit) [n] is under REFUSE_UNDER."""
    unlike = int(np.count_nonzero(p_digit < REFUSE_UNDER))
    if unlike:
        raise Unprocessable(NOT_DIGITS.format(count=unlike, total=len(p_digit)))
