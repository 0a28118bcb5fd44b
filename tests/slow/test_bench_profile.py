"""benchmarks.profile.sampled, which profile.py and grpc_profile.py share: real py-spy on a
real busy process (needs the right to ptrace it, as the benchmarks do)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from benchmarks.profile import sampled, summarize

pytestmark = pytest.mark.slow

BUSY = "def spin():\n    while True:\n        sum(range(1000))\nspin()\n"


def test_the_samples_name_the_busy_function(tmp_path: Path) -> None:
    busy = subprocess.Popen([sys.executable, "-c", BUSY])
    raw = tmp_path / "samples.txt"
    try:
        with sampled(busy.pid, 1, raw):
            pass
    finally:
        busy.kill()
        busy.wait()
    summary = summarize(raw, 5)
    assert int(summary.split()[0]) > 50  # 250 a second for a second
    assert "inclusive  spin" in summary


def test_a_failed_sampler_is_an_error_not_an_empty_profile(tmp_path: Path) -> None:
    gone = subprocess.Popen([sys.executable, "-c", "pass"])
    gone.wait()
    with pytest.raises(RuntimeError, match="py-spy failed"), sampled(gone.pid, 1, tmp_path / "r"):
        pass
