"""Run the real `nnserve` command (as `python -m service`, the same main) in a subprocess."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

from tests.servers import ROOT, Service

NNSERVE = [sys.executable, "-m", "service"]
"""`python -m service` is `nnserve` under its module name (one main, service.cli.command)."""

SAMPLE_PHOTO = ROOT / "scripts" / "samples" / "digit-7-photo.jpg"


def clean_env(**env: str) -> dict[str, str]:
    """This environment without any NNSERVE_* setting, plus env."""
    base = {k: v for k, v in os.environ.items() if not k.startswith("NNSERVE_")}
    return {**base, **env}


def run_cli(*args: str, cwd: Path = ROOT, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*NNSERVE, *args],
        cwd=cwd,
        env=clean_env(**env),
        capture_output=True,
        text=True,
        timeout=120,
    )


Serve = Callable[..., Service]
"""The `serve` fixture: serve(*flags, cwd=..., **env) -> a ready Service."""
