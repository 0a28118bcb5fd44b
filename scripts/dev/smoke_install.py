"""Install nnserve the way a newcomer would, in a fresh temporary venv, and read a digit from it.

    python3 scripts/dev/smoke_install.py --python python3.12          # `make install` (README)
    python3 scripts/dev/smoke_install.py --python python3.11 --wheel  # built wheel, other folder

`make` mode runs the README's set-up (`make install PYTHON=... VENV=<tmp>`: the base install,
no torch) and starts `nnserve` in the checkout. `--wheel` builds the wheel (`pip wheel
--no-deps`), installs it with its pinned dependencies and starts `nnserve` from an empty
folder with no NNSERVE_MODELS_DIR, so it must serve the models packaged inside the wheel.
Either way the sample photo goes to POST /predict on loopback and must read 7, and
`import torch` must fail in that venv. Standard library only: it runs under any Python.
Every step has a time limit; the temporary folder is removed afterwards.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SAMPLE = ROOT / "scripts" / "samples" / "digit-7-photo.jpg"
EXPECTED_DIGIT = 7
READY_TIMEOUT = 180.0
"""Seconds nnserve may take to load and warm every model (about 3 s here)."""


def step(what: str, command: list[str], timeout: float) -> None:
    print(f"smoke: {what}: {' '.join(command)}", file=sys.stderr, flush=True)
    subprocess.run(command, check=True, timeout=timeout)


def install_with_make(python: str, venv: Path, timeout: float) -> Path:
    """The README's `make install`, into a venv of its own; returns the folder to serve from."""
    step(
        "make install",
        ["make", "-C", str(ROOT), "install", f"PYTHON={python}", f"VENV={venv}"],
        timeout,
    )
    return ROOT


def install_wheel(python: str, venv: Path, work: Path, timeout: float) -> Path:
    """Build the wheel, install it with the pinned dependencies; returns an unrelated folder."""
    dist = work / "dist"
    step(
        "build the wheel",
        [python, "-m", "pip", "wheel", "-q", "--no-deps", "-w", str(dist), str(ROOT)],
        timeout,
    )
    wheel = next(dist.glob("nnserve-*.whl"))
    step("fresh venv", [python, "-m", "venv", str(venv)], timeout)
    step(
        "install the wheel",
        [
            str(venv / "bin" / "python"),
            "-m",
            "pip",
            "install",
            "-q",
            "-c",
            str(ROOT / "constraints.txt"),
            str(wheel),
        ],
        timeout,
    )
    elsewhere = work / "elsewhere"
    elsewhere.mkdir()
    return elsewhere


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def multipart(path: Path) -> tuple[bytes, str]:
    boundary = uuid.uuid4().hex
    body = (
        (
            f'--{boundary}\r\nContent-Disposition: form-data; name="file"; '
            f'filename="{path.name}"\r\nContent-Type: image/jpeg\r\n\r\n'
        ).encode()
        + path.read_bytes()
        + f"\r\n--{boundary}--\r\n".encode()
    )
    return body, f"multipart/form-data; boundary={boundary}"


def wait_ready(url: str, server: subprocess.Popen[bytes], timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise RuntimeError(f"nnserve exited with status {server.returncode}")
        try:
            with urllib.request.urlopen(f"{url}/v2/health/ready", timeout=2) as answer:
                if answer.status == 200:
                    return
        except OSError:
            time.sleep(0.3)
    raise TimeoutError(f"{url} not ready after {timeout:.0f} s")


def predict(url: str) -> dict[str, object]:
    body, content_type = multipart(SAMPLE)
    request = urllib.request.Request(
        f"{url}/predict", data=body, headers={"content-type": content_type}
    )
    with urllib.request.urlopen(request, timeout=30) as answer:
        return dict(json.loads(answer.read()))


def serve_and_predict(venv: Path, cwd: Path, log: Path, timeout: float) -> dict[str, object]:
    """Start `nnserve` from cwd with no NNSERVE_* in its environment, POST the sample photo."""
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("NNSERVE_")}
    command = [str(venv / "bin" / "nnserve"), "--host", "127.0.0.1", "--port", str(port)]
    print(f"smoke: serve from {cwd}: {' '.join(command)}", file=sys.stderr, flush=True)
    with log.open("wb") as out:
        server = subprocess.Popen(command, cwd=cwd, env=env, stdout=out, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    try:
        wait_ready(url, server, min(timeout, READY_TIMEOUT))
        return predict(url)
    finally:
        server.send_signal(signal.SIGTERM)
        try:
            server.wait(timeout=40)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()


def check(venv: Path, cwd: Path, work: Path, timeout: float) -> None:
    has_torch = (
        subprocess.run(
            [str(venv / "bin" / "python"), "-c", "import torch"],
            capture_output=True,
            timeout=timeout,
        ).returncode
        == 0
    )
    if has_torch:
        raise SystemExit("smoke: FAIL: the base install pulled in torch")
    log = work / "nnserve.log"
    try:
        answer = serve_and_predict(venv, cwd, log, timeout)
    finally:
        served = [
            line
            for line in log.read_text(errors="replace").splitlines()
            if "model repository" in line
        ]
        print("\n".join(served) or log.read_text(errors="replace")[-3000:], file=sys.stderr)
    if answer.get("digit") != EXPECTED_DIGIT:
        raise SystemExit(f"smoke: FAIL: /predict answered {answer}, not {EXPECTED_DIGIT}")
    print(
        f"smoke: OK: /predict read {answer['digit']} with {answer['model']} (torch not installed)",
        flush=True,
    )


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--python", default=sys.executable, help="interpreter to install with")
    parser.add_argument("--wheel", action="store_true", help="install the built wheel instead")
    parser.add_argument("--timeout", type=float, default=600, help="seconds per step")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="nnserve-smoke-") as tmp:
        work = Path(tmp)
        venv = work / "venv"
        if args.wheel:
            cwd = install_wheel(args.python, venv, work, args.timeout)
        else:
            cwd = install_with_make(args.python, venv, args.timeout)
        check(venv, cwd, work, args.timeout)


if __name__ == "__main__":
    main()
