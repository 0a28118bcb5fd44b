"""Changes to a model repository on disk, as an operator makes them: each appears at once."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

from service.cards import read_card, write_card


def add_version(repo: Path, name: str, source: int, version: int, *, broken: bool = False) -> Path:
    """models/<name>/<version>/ as a copy of <source>, its card renumbered; broken: its
    model.onnx no longer matches the card's sha256. Staged beside the repository and renamed
    in, so a scan never sees half a folder."""
    staging = repo.parent / f".staging-{name}-{version}"
    shutil.copytree(repo / name / str(source), staging)
    card = read_card(staging)
    write_card(staging, card.model_copy(update={"version": version}))
    if broken:  # one byte flipped: the size still matches, the sha256 no longer does
        model = staging / card.files["model"].path
        data = bytearray(model.read_bytes())
        data[-1] ^= 0xFF
        model.write_bytes(bytes(data))
    target = repo / name / str(version)
    os.rename(staging, target)
    return target


def remove(repo: Path, *parts: str) -> None:
    """Take models/<parts...>/ out of the repository in one rename, then delete it."""
    gone = repo.parent / f".removed-{'-'.join(parts)}"
    os.rename(repo.joinpath(*parts), gone)
    shutil.rmtree(gone)
