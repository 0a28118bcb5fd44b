"""Fetch MNIST's four files from the public mirrors, with a progress bar, retries and checksums.

A file counts as downloaded only when its decompressed bytes match the known sha256; a bad
copy from one mirror is discarded and the next mirror is tried, so a corrupt mirror can never
leave a corrupt file in the data directory.
"""

from __future__ import annotations

import logging
import os
import time
import urllib.error
import urllib.request
from collections.abc import Sequence
from pathlib import Path

from tqdm import tqdm

from training.data import MNIST_SHA256, MnistError, find_file, read_verified

log = logging.getLogger(__name__)

# The mirrors torchvision uses; the original yann.lecun.com site refuses most clients.
MIRRORS = (
    "https://ossci-datasets.s3.amazonaws.com/mnist/",
    "https://storage.googleapis.com/cvdf-datasets/mnist/",
)
CHUNK = 1 << 16


def configured_mirrors() -> tuple[str, ...]:
    """NNSERVE_MNIST_MIRRORS (comma-separated base URLs, e.g. an internal mirror), else MIRRORS."""
    env = os.environ.get("NNSERVE_MNIST_MIRRORS", "")
    return tuple(url.strip() for url in env.split(",") if url.strip()) or MIRRORS


def ensure_mnist(
    data_dir: Path,
    mirrors: Sequence[str] | None = None,
    attempts: int = 3,
    backoff_s: float = 1.0,
    timeout_s: float = 30.0,
) -> None:
    """Download every MNIST file not already present and valid in data_dir."""
    for name in MNIST_SHA256:
        try:
            read_verified(find_file(data_dir, name), name)
        except MnistError:
            urls = configured_mirrors() if mirrors is None else mirrors
            download_file(data_dir, name, urls, attempts, backoff_s, timeout_s)


def download_file(
    data_dir: Path,
    name: str,
    mirrors: Sequence[str],
    attempts: int,
    backoff_s: float,
    timeout_s: float,
) -> Path:
    """Fetch `name`.gz, trying each mirror up to `attempts` times, and keep the first good copy."""
    data_dir.mkdir(parents=True, exist_ok=True)
    target = data_dir / f"{name}.gz"
    partial = data_dir / f".{name}.gz.part"
    failures: list[str] = []
    for mirror in mirrors:
        url = mirror.rstrip("/") + f"/{name}.gz"
        for attempt in range(1, attempts + 1):
            try:
                fetch(url, partial, timeout_s)
                read_verified(partial, name)
            except (OSError, MnistError) as exc:  # URLError and HTTPError are OSErrors
                failures.append(f"{url} (attempt {attempt}): {exc}")
                log.warning("MNIST download failed: %s", failures[-1])
                partial.unlink(missing_ok=True)
                if isinstance(exc, MnistError):
                    break  # this mirror serves a bad copy; retrying will not fix it
                if attempt < attempts:
                    time.sleep(backoff_s * attempt)
                continue
            os.replace(partial, target)
            return target
    hint = (
        f" (offline? put the files in {data_dir} or point --data-dir / NNSERVE_MNIST_DIR at them)"
    )
    raise MnistError(f"could not download MNIST file {name}.gz: " + "; ".join(failures) + hint)


def fetch(url: str, dest: Path, timeout_s: float) -> None:
    """Stream url into dest with a byte progress bar."""
    with urllib.request.urlopen(url, timeout=timeout_s) as response, dest.open("wb") as out:
        total = int(response.headers.get("Content-Length") or 0) or None
        with tqdm(
            total=total,
            unit="B",
            unit_scale=True,
            desc=dest.name.removeprefix(".").removesuffix(".part"),
        ) as bar:
            while chunk := response.read(CHUNK):
                out.write(chunk)
                bar.update(len(chunk))
