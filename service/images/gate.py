"""The digit gate's rule: whether the pieces cut from an upload are digits at all (pure).

A model whose card has role "digit-gate" (models/digit-gate: training.gate) gives each 28x28
piece P(digit). mnist-mlp reads anything as a digit, so without the gate a photo of "cat" or a
doodle comes back as a number; with it, POST /predict answers 422 instead.

The rule, chosen on held-out uploads (typed words, 500 numbers of seed 11; the figures are in
tests/service/routes/test_predict_gate.py): an upload of two or more pieces is refused when at
least two of them are more likely not digits (P < 0.5), or when one is certainly none (P <
0.001): one doubtful piece is what a cut error in a real number makes (a broken 0, two digits
joined), while a word has several letters unlike any digit. A single piece is refused only
when the gate is sure (P < 0.02), so a lone digit drawn or photographed (and MNIST's own 28x28
digits) is almost never refused.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from service.errors import Unprocessable

UNLIKE = 0.5
"""A piece whose P(digit) is under this is more likely not a digit."""
SURELY_UNLIKE = 0.02
"""...and under this, surely not: enough to refuse an upload of that one piece..."""
CERTAINLY_UNLIKE = 0.001
"""...and under this, certainly not: enough to refuse an upload of several pieces."""

NOT_DIGITS = (
    "the shapes on the image do not look like digits (is it text or a drawing?): "
    "{count} of its {total} pieces are unlike any digit"
)


def refuses(p_digit: npt.NDArray[np.float32]) -> bool:
    """Whether the pieces' P(digit) [n] say the upload is not a number (the rule above)."""
    if len(p_digit) == 1:
        return bool(p_digit[0] < SURELY_UNLIKE)
    unlike = int(np.count_nonzero(p_digit < UNLIKE))
    return unlike >= 2 or bool(np.any(p_digit < CERTAINLY_UNLIKE))


def refuse_non_digits(p_digit: npt.NDArray[np.float32]) -> None:
    """422 when the gate's P(digit) [n] of the pieces says they are not digits."""
    if refuses(p_digit):
        unlike = int(np.count_nonzero(p_digit < UNLIKE))
        raise Unprocessable(NOT_DIGITS.format(count=unlike, total=len(p_digit)))
