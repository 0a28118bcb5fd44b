"""The wheel a user installs: it carries the committed models, and serves them from anywhere."""

from __future__ import annotations

import hashlib
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from tests.servers import MODELS_DIR, ROOT


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    dist = tmp_path_factory.mktemp("dist")
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "-w", str(dist), str(ROOT)],
        check=True,
        timeout=300,
    )
    return next(dist.glob("nnserve-*.whl"))


def test_the_wheel_carries_every_committed_model_file(wheel: Path) -> None:
    committed = {
        p.relative_to(MODELS_DIR).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in MODELS_DIR.rglob("*")
        if p.is_file()
    }
    with zipfile.ZipFile(wheel) as archive:
        packaged = {
            name.removeprefix("service/models/"): hashlib.sha256(archive.read(name)).hexdigest()
            for name in archive.namelist()
            if name.startswith("service/models/")
        }
        names = archive.namelist()
    assert packaged == committed
    assert "service/py.typed" in names and "service/static/index.html" in names
    assert not any("__pycache__" in name or name.startswith("tests/") for name in names)


@pytest.mark.slow
def test_installed_in_a_fresh_venv_it_reads_a_digit_from_another_folder() -> None:
    """Build, install with the pinned dependencies, `nnserve --port N` from an empty folder."""
    done = subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "dev" / "smoke_install.py"), "--wheel"],
        capture_output=True,
        text=True,
        timeout=900,
    )
    assert done.returncode == 0, done.stdout + done.stderr[-4000:]
    assert "smoke: OK: /predict read 7" in done.stdout
    assert "(packaged with nnserve)" in done.stderr
    assert "site-packages/service/models" in done.stderr
