"""Downloading MNIST from mirrors: a real http.server on loopback serves the shared files."""

from __future__ import annotations

import functools
import gzip
import http.server
import shutil
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from training.data import MNIST_SHA256, MnistError, load_mnist
from training.download import download_file, ensure_mnist


class QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture(scope="module")
def mirror_root(mnist_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """good/ holds copies of the shared files; corrupt/ valid gzip files whose content has
    one byte changed, so only the checksum of the decompressed bytes can tell."""
    root = tmp_path_factory.mktemp("mirrors")
    for folder in ("good", "corrupt"):
        (root / folder).mkdir()
    for name in MNIST_SHA256:
        shutil.copyfile(mnist_dir / f"{name}.gz", root / "good" / f"{name}.gz")
        content = bytearray(gzip.decompress((mnist_dir / f"{name}.gz").read_bytes()))
        content[-1] ^= 0x01
        (root / "corrupt" / f"{name}.gz").write_bytes(
            gzip.compress(bytes(content), compresslevel=1)
        )
    return root


@pytest.fixture(scope="module")
def server(mirror_root: Path) -> Iterator[str]:
    """Base URL of a threaded http.server on 127.0.0.1 serving mirror_root."""
    handler = functools.partial(QuietHandler, directory=str(mirror_root))
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()
    httpd.server_close()
    thread.join(timeout=10)


def test_download_skips_a_corrupt_mirror(server: str, tmp_path: Path) -> None:
    mirrors = [f"{server}/corrupt/", f"{server}/good/"]
    ensure_mnist(tmp_path, mirrors=mirrors, attempts=2, backoff_s=0.0, timeout_s=10)
    images, labels = load_mnist(tmp_path, train=False)
    assert images.shape == (10_000, 28, 28) and labels.shape == (10_000,)
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(f"{n}.gz" for n in MNIST_SHA256)


def test_only_corrupt_mirrors_fail_clearly(server: str, tmp_path: Path) -> None:
    name = "t10k-labels-idx1-ubyte"
    with pytest.raises(MnistError, match=f"could not download MNIST file {name}.gz.*sha256"):
        download_file(tmp_path, name, [f"{server}/corrupt/"], 2, 0.0, 10)
    assert list(tmp_path.iterdir()) == []  # the bad copy was not kept


def test_missing_on_the_mirror_is_retried_then_reported(server: str, tmp_path: Path) -> None:
    name = "t10k-labels-idx1-ubyte"
    with pytest.raises(MnistError, match=r"attempt 2\): HTTP Error 404"):
        download_file(tmp_path, name, [f"{server}/nowhere/"], 2, 0.0, 10)


def test_valid_files_are_not_downloaded_again(mnist_dir: Path) -> None:
    """No mirror is reachable at this address; valid local files mean none is needed."""
    ensure_mnist(mnist_dir, mirrors=["http://127.0.0.1:9/"], attempts=1, backoff_s=0.0)
