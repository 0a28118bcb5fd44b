"""MNIST loader on the real files (good, corrupt, truncated, missing) and the generated data."""

from __future__ import annotations

import gzip
import shutil
from pathlib import Path

import numpy as np
import pytest

from training import data
from training.data import MnistError, load_mnist, read_idx

TEST_IMAGES = "t10k-images-idx3-ubyte"
TEST_LABELS = "t10k-labels-idx1-ubyte"


def copy_test_split(mnist_dir: Path, target: Path, gunzip: bool = False) -> Path:
    """The two t10k files in a writable directory, gzip or raw."""
    target.mkdir(exist_ok=True)
    for name in (TEST_IMAGES, TEST_LABELS):
        source = mnist_dir / f"{name}.gz"
        if gunzip:
            (target / name).write_bytes(gzip.decompress(source.read_bytes()))
        else:
            shutil.copyfile(source, target / f"{name}.gz")
    return target


def test_load_test_split(mnist_dir: Path) -> None:
    images, labels = load_mnist(mnist_dir, train=False)
    assert images.shape == (10_000, 28, 28) and images.dtype == np.uint8
    assert labels.shape == (10_000,) and labels.dtype == np.uint8
    assert set(np.unique(labels)) == set(range(10))
    assert images.max() == 255 and images.min() == 0


def test_raw_files_read_like_gzip(mnist_dir: Path, tmp_path: Path) -> None:
    raw_dir = copy_test_split(mnist_dir, tmp_path / "raw", gunzip=True)
    images, labels = load_mnist(raw_dir, train=False)
    gz_labels = read_idx(mnist_dir / f"{TEST_LABELS}.gz")
    np.testing.assert_array_equal(labels, gz_labels)
    assert images.shape == (10_000, 28, 28)


def test_missing_file_is_named(mnist_dir: Path, tmp_path: Path) -> None:
    folder = copy_test_split(mnist_dir, tmp_path / "m")
    (folder / f"{TEST_LABELS}.gz").unlink()
    with pytest.raises(MnistError, match=f"{TEST_LABELS}.*missing"):
        load_mnist(folder, train=False)


def test_corrupt_gzip_is_named(mnist_dir: Path, tmp_path: Path) -> None:
    folder = copy_test_split(mnist_dir, tmp_path / "c")
    path = folder / f"{TEST_IMAGES}.gz"
    blob = bytearray(path.read_bytes())
    blob[len(blob) // 2] ^= 0xFF
    path.write_bytes(bytes(blob))
    with pytest.raises(MnistError, match=TEST_IMAGES):
        load_mnist(folder, train=False)


def test_truncated_gzip_is_named(mnist_dir: Path, tmp_path: Path) -> None:
    folder = copy_test_split(mnist_dir, tmp_path / "t")
    path = folder / f"{TEST_IMAGES}.gz"
    path.write_bytes(path.read_bytes()[:50_000])
    with pytest.raises(MnistError, match=rf"{TEST_IMAGES}\.gz is corrupt or truncated"):
        load_mnist(folder, train=False)


def test_truncated_raw_file_fails_its_header(mnist_dir: Path, tmp_path: Path) -> None:
    folder = copy_test_split(mnist_dir, tmp_path / "r", gunzip=True)
    path = folder / TEST_LABELS
    path.write_bytes(path.read_bytes()[:-10])
    with pytest.raises(MnistError, match=rf"{TEST_LABELS} has 9998 bytes.*says 10008"):
        read_idx(path)


def test_changed_pixel_fails_the_checksum(mnist_dir: Path, tmp_path: Path) -> None:
    """A structurally valid file with one pixel changed passes read_idx but not load_mnist."""
    folder = copy_test_split(mnist_dir, tmp_path / "p", gunzip=True)
    path = folder / TEST_IMAGES
    blob = bytearray(path.read_bytes())
    blob[-1] ^= 0x01
    path.write_bytes(bytes(blob))
    assert read_idx(path).shape == (10_000, 28, 28)
    with pytest.raises(MnistError, match=f"{TEST_IMAGES} does not match the known sha256"):
        load_mnist(folder, train=False)


def test_bad_magic(tmp_path: Path) -> None:
    path = tmp_path / "bogus"
    path.write_bytes(b"PK\x03\x04 not an idx file")
    with pytest.raises(MnistError, match="bogus is not an unsigned-byte IDX file"):
        read_idx(path)


def test_default_dir_follows_the_environment(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("NNSERVE_MNIST_DIR", str(tmp_path))
    assert data.default_data_dir() == tmp_path
    monkeypatch.delenv("NNSERVE_MNIST_DIR")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    assert data.default_data_dir() == tmp_path / "cache" / "nnserve" / "mnist"


def test_generated_datasets_are_fixed() -> None:
    for make in (data.gaussian_blobs, data.noisy_cubic):
        first, second = make(), make()
        assert first.sha256() == second.sha256()
    blobs = data.gaussian_blobs()
    assert blobs.x_train.shape == (700, 2) and blobs.x_test.shape == (300, 2)
    assert set(np.unique(blobs.y_train)) == {0.0, 1.0}


def test_height_weight_least_squares() -> None:
    split = data.height_weight()
    slope, intercept = np.polyfit(split.x_train[:, 0].astype(np.float64), split.y_train, 1)
    # The figures agree with float64 least squares to ~4e-8 (they look float32-made).
    assert slope == pytest.approx(0.7514124562779751, rel=1e-6)
    assert intercept == pytest.approx(124.29802113285037, rel=1e-6)
