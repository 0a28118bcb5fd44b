"""scripts/gradient-step.sh against a real uvicorn: the loss goes down to the least-squares line."""

from __future__ import annotations

import json
import os
import re
import subprocess
from pathlib import Path

SCRIPT = Path(__file__).resolve().parents[2] / "scripts" / "gradient-step.sh"


def run(base_url: str, script: Path = SCRIPT) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["bash", str(script)],
        env={**os.environ, "BASE_URL": base_url},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_walks_linear_regression_to_the_least_squares_line(live_server: str) -> None:
    done = run(live_server)
    assert done.returncode == 0, done.stderr
    calls = re.findall(r"call \d+ \(steps [\d-]+\): loss ([\d.e+-]+) -> ([\d.e+-]+)", done.stdout)
    firsts = [float(first) for first, _ in calls]
    assert len(calls) >= 2 and firsts == sorted(firsts, reverse=True), done.stdout
    last = json.loads(next(line for line in done.stdout.splitlines() if line.startswith("{")))
    assert last["converged"] is True and last["diverged"] is False
    line = re.search(r"height = ([\d.]+) \* weight \+ ([\d.]+)", done.stdout)
    assert line is not None, done.stdout
    assert abs(float(line[1]) - 0.7514124562779751) <= 1e-4 * 0.7514124562779751
    assert abs(float(line[2]) - 124.29802113285037) <= 1e-4 * 124.29802113285037


def test_exits_non_zero_with_the_error_body_on_an_http_error(
    live_server: str, tmp_path: Path
) -> None:
    broken = tmp_path / "gradient-step.sh"
    broken.write_text(SCRIPT.read_text().replace('MODEL="linear-regression"', 'MODEL="nope"'))
    done = run(live_server, broken)
    assert done.returncode == 22
    assert '{"error":"model \'nope\' not found"}' in done.stderr
