"""The served digit gate: POST /predict's check that the pieces it cut are digits at all.

The gate is whichever ready model's card has role "digit-gate" (models/digit-gate, trained by
training.gate); without one, /predict reads every upload as before. It runs once on all the
pieces, the same 28x28 images the classifier reads, and service.images.gate's rule decides
from their P(digit) and their boxes.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from service.images.digits import to_tensor
from service.images.gate import refuse_non_digits
from service.images.number import FoundDigit
from service.runtime.registry import Registry
from service.runtime.version import ModelVersion

ROLE = "digit-gate"


def digit_gate(registry: Registry) -> ModelVersion | None:
    """The newest ready version whose card's role is "digit-gate"; None when none serves."""
    gates = [
        mv
        for mv in registry.versions()
        if mv.ready and (card := mv.loaded_card) is not None and card.role == ROLE
    ]
    return gates[-1] if gates else None


async def check_digits(registry: Registry, found: Sequence[FoundDigit]) -> None:
    """422 when the gate says the pieces are not digits (nothing happens without a gate)."""
    gate = digit_gate(registry)
    if gate is None or not found:
        return
    card = gate.card
    norm = card.preprocessing
    batch = np.concatenate([to_tensor(piece.image, norm.mean[0], norm.std[0]) for piece in found])
    probability = card.outputs[-1].name  # (logit, probability): P(digit) per piece
    outputs = await gate.infer({card.inputs[0].name: batch}, [probability])  # [n, 784]: one run
    boxes = np.array([piece.box for piece in found], dtype=np.int64)
    refuse_non_digits(outputs[probability][:, 0], boxes)
