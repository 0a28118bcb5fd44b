"""`nnserve models`: the model repository as the server would load it, one line per version.

Each version goes through the server's own load (card schema, sha256 and size of every file,
onnxruntime opening and warming each graph), so "ready" here means the server would serve it.
The exit status is 1 when any version is broken or the repository is empty, so a model
repository's CI can run `nnserve models --models-dir DIR` as its check.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence

from service.cards import ModelCard
from service.config import Settings
from service.runtime.registry import Registry
from service.runtime.version import ModelVersion

HEADLINE_METRICS = (
    "test_accuracy",
    "test_mse",
    "minimum_value",
    "lower_minimum_value",
    "test_loss",
)
"""The metric shown per model, first found wins; a card with none of them shows its first."""

COLUMNS = ("model", "version", "task", "ready", "metric", "problem")


def headline(card: ModelCard) -> str:
    """The card's headline metric as `name value`, or "-" when the card has no metrics."""
    name = next((m for m in HEADLINE_METRICS if m in card.metrics), next(iter(card.metrics), None))
    return "-" if name is None else f"{name} {card.metrics[name]:.6g}"


def row(mv: ModelVersion) -> tuple[str, ...]:
    card = mv.card if mv.has_card else None
    return (
        mv.name,
        str(mv.version),
        card.task if card else "-",
        "ready" if mv.ready else "BROKEN",
        headline(card) if card else "-",
        mv.reason or "",
    )


def table(rows: Sequence[tuple[str, ...]]) -> str:
    """Columns padded to their widest cell; the last column (the problem) is never padded."""
    lines = [COLUMNS, *rows]
    widths = [max(len(line[i]) for line in lines) for i in range(len(COLUMNS) - 1)]
    return "\n".join(
        "  ".join(
            [*(cell.ljust(w) for cell, w in zip(line, widths, strict=False)), line[-1]]
        ).rstrip()
        for line in lines
    )


def report(settings: Settings) -> tuple[str, int]:
    """The table and the exit status: 0 when every version is ready, 1 otherwise."""
    # The table states every problem; the load's own error log would say each one twice.
    logging.getLogger("service").setLevel(logging.CRITICAL)
    versions = Registry.load(settings).versions()
    if not versions:
        return f"no models found in {settings.models_dir}", 1
    broken = [mv for mv in versions if not mv.ready]
    summary = f"{len(versions) - len(broken)} of {len(versions)} ready in {settings.models_dir}"
    return f"{table([row(mv) for mv in versions])}\n{summary}", 1 if broken else 0
