"""The digit gate's rule: whether the pieces cut from an upload are digits at all (pure).

A model whose card has role "digit-gate" (models/digit-gate: training.gate) gives each 28x28
piece P(digit). mnist-mlp reads anything as a digit, so without the gate a photo of "cat" or a
doodle comes back as a number; with it, POST /predict answers 422 instead.

The rule, chosen on held-out uploads (words typed in faces the gate never saw, numbers of
seeds 11 and 12, photo-like digits; the test's figures: tests/service/routes/test_predict_gate.py):
an upload of two or more pieces is refused when at least two of them are more likely not
digits (P < 0.5), or when one is certainly none (P < 0.002), or when one more likely not a
digit stands on a typed line (`typeset`): one doubtful piece is what a cut error in a real
number makes (a broken 0, two digits joined), while a word has several letters unlike any
digit. A single piece is refused only when the gate is sure (P < 0.005), so a lone digit drawn
or photographed (and MNIST's own 28x28 digits) is almost never refused.

The gate sees each piece scaled to 20x20, so it cannot see what print shows between pieces:
an x-height letter beside an ascender or a descender ("to", "is", "go") is clearly shorter
and level with it at the baseline or at the top, to the pixel. Handwritten digits of one number
are about one height and wobble about their line.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from service.errors import Unprocessable

UNLIKE = 0.5
"""A piece whose P(digit) is under this is more likely not a digit."""
SURELY_UNLIKE = 0.005
"""...and under this, surely not: enough to refuse an upload of that one piece..."""
CERTAINLY_UNLIKE = 0.002
"""...and under this, certainly not: enough to refuse an upload of several pieces."""
SHORTER = 0.8
"""A piece at most this part of a neighbour's height is an x-height letter beside a tall one..."""
LEVEL = 0.02
"""...when its bottom or its top is level with the neighbour's to this part of that height."""

Boxes = npt.NDArray[np.int64]
"""[n, 4]: each piece's [x, y, width, height] in the upload's pixels."""

NOT_DIGITS = (
    "the shapes on the image do not look like digits (is it text or a drawing?): "
    "{count} of its {total} pieces are unlike any digit"
)


def typeset(p_digit: npt.NDArray[np.float32], boxes: Boxes) -> bool:
    """Whether a piece more likely not a digit and a shorter neighbour share a typed line."""
    top, height = boxes[:, 1], boxes[:, 3]
    bottom = top + height
    shorter = height[:, None] <= SHORTER * height[None, :]  # [short, tall]
    level = np.minimum(abs(bottom[:, None] - bottom), abs(top[:, None] - top)) <= LEVEL * height
    doubtful = (p_digit[:, None] < UNLIKE) | (p_digit[None, :] < UNLIKE)
    return bool(np.any(shorter & level & doubtful))


def refuses(p_digit: npt.NDArray[np.float32], boxes: Boxes) -> bool:
    """Whether the pieces' P(digit) [n] and boxes [n, 4] say the upload is not a number."""
    if len(p_digit) == 1:
        return bool(p_digit[0] < SURELY_UNLIKE)
    unlike = int(np.count_nonzero(p_digit < UNLIKE))
    if unlike >= 2 or bool(np.any(p_digit < CERTAINLY_UNLIKE)):
        return True
    return unlike == 1 and typeset(p_digit, boxes)  # a typed line needs a doubtful piece


def refuse_non_digits(p_digit: npt.NDArray[np.float32], boxes: Boxes) -> None:
    """422 when the gate's P(digit) [n] of the pieces and their boxes say they are not digits."""
    if refuses(p_digit, boxes):
        unlike = int(np.count_nonzero(p_digit < UNLIKE))
        raise Unprocessable(NOT_DIGITS.format(count=unlike, total=len(p_digit)))
