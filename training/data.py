"""Datasets: MNIST from its four IDX files, and the small generated ones.

MNIST is read from a directory (``--data-dir``, else ``NNSERVE_MNIST_DIR``, else
``~/.cache/nnserve/mnist``), gzip-compressed or raw, and checked against the sha256 of the
*decompressed* bytes: one of the usual mirrors re-compresses a file, so digests of the .gz
files differ between mirrors while the content does not. Downloading lives in
`training.download`.

The generated datasets are fixed by their seed, so every run and every test sees the same
numbers and the same held-out split.
"""

from __future__ import annotations

import gzip
import hashlib
import os
import zlib
from dataclasses import dataclass
from pathlib import Path

import numpy as np

MNIST_MEAN = 0.1307
MNIST_STD = 0.3081

# sha256 of each decompressed file (../shared/mnist/SHA256SUMS).
MNIST_SHA256 = {
    "train-images-idx3-ubyte": "ba891046e6505d7aadcbbe25680a0738ad16aec93bde7f9b65e87a2fc25776db",
    "train-labels-idx1-ubyte": "65a50cbbf4e906d70832878ad85ccda5333a97f0f4c3dd2ef09a8a9eef7101c5",
    "t10k-images-idx3-ubyte": "0fa7898d509279e482958e8ce81c8e77db3f2f8254e26661ceb7762c4d494ce7",
    "t10k-labels-idx1-ubyte": "ff7bcfd416de33731a308c3f266cc351222c34898ecbeaf847f06e48f7ec33f2",
}
IDX_UBYTE = 0x08
GZIP_MAGIC = b"\x1f\x8b"


class MnistError(Exception):
    """An MNIST file is missing, corrupt or truncated; the message names the file."""


def default_data_dir() -> Path:
    """NNSERVE_MNIST_DIR, else the user's cache directory."""
    if env := os.environ.get("NNSERVE_MNIST_DIR"):
        return Path(env)
    cache = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    return cache / "nnserve" / "mnist"


def mnist_files(train: bool) -> tuple[str, str]:
    """Base names (no .gz) of the images and labels files of one split."""
    prefix = "train" if train else "t10k"
    return f"{prefix}-images-idx3-ubyte", f"{prefix}-labels-idx1-ubyte"


def find_file(data_dir: Path, name: str) -> Path:
    """`name.gz` or `name` in data_dir; MnistError naming both when neither exists."""
    for candidate in (data_dir / f"{name}.gz", data_dir / name):
        if candidate.is_file():
            return candidate
    raise MnistError(f"MNIST file {name}(.gz) is missing in {data_dir}")


def read_bytes(path: Path) -> bytes:
    """The file's content, gunzipped when it starts with the gzip magic."""
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise MnistError(f"cannot read MNIST file {path}: {exc}") from exc
    if not raw.startswith(GZIP_MAGIC):
        return raw
    try:
        return gzip.decompress(raw)
    except (OSError, EOFError, zlib.error) as exc:
        raise MnistError(f"MNIST file {path} is corrupt or truncated gzip: {exc}") from exc


def parse_idx(raw: bytes, source: str) -> np.ndarray:
    """IDX bytes -> uint8 array: magic 0,0,type,ndims; ndims big-endian uint32 sizes; data."""
    if len(raw) < 4 or raw[0:2] != b"\x00\x00" or raw[2] != IDX_UBYTE or raw[3] == 0:
        raise MnistError(f"{source} is not an unsigned-byte IDX file (bad magic {raw[:4]!r})")
    ndims = raw[3]
    header = 4 + 4 * ndims
    if len(raw) < header:
        raise MnistError(f"{source} is truncated inside its IDX header")
    dims = tuple(int(d) for d in np.frombuffer(raw, dtype=">u4", count=ndims, offset=4))
    expected = header + int(np.prod(dims))
    if len(raw) != expected:
        raise MnistError(
            f"{source} has {len(raw)} bytes, its IDX header {dims} says {expected} (truncated?)"
        )
    return np.frombuffer(raw, dtype=np.uint8, offset=header).reshape(dims)


def read_idx(path: Path) -> np.ndarray:
    """Read one IDX file (gzip or raw), checking its magic, dimensions and length."""
    return parse_idx(read_bytes(path), str(path))


def read_verified(path: Path, name: str) -> np.ndarray:
    """Read an IDX file whose decompressed bytes must match the known sha256 of `name`."""
    raw = read_bytes(path)
    digest = hashlib.sha256(raw).hexdigest()
    if digest != MNIST_SHA256[name]:
        raise MnistError(f"MNIST file {path} does not match the known sha256 of {name}")
    return parse_idx(raw, str(path))


def load_mnist(data_dir: Path, train: bool) -> tuple[np.ndarray, np.ndarray]:
    """Images uint8 [N, 28, 28] and labels uint8 [N] of one split, checksums verified."""
    images_name, labels_name = mnist_files(train)
    images = read_verified(find_file(data_dir, images_name), images_name)
    labels = read_verified(find_file(data_dir, labels_name), labels_name)
    return images, labels


def mnist_checksums(train: bool) -> dict[str, str]:
    """The decompressed sha256 of a split's two files, for the card."""
    return {name: MNIST_SHA256[name] for name in mnist_files(train)}


# --- generated datasets -------------------------------------------------------------------


@dataclass(frozen=True)
class Split:
    """A small generated dataset with a fixed held-out part (float32 [N, F] and [N])."""

    x_train: np.ndarray
    y_train: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray

    def sha256(self) -> str:
        """Digest of all four arrays' bytes, recorded in the card as the data checksum."""
        digest = hashlib.sha256()
        for array in (self.x_train, self.y_train, self.x_test, self.y_test):
            digest.update(np.ascontiguousarray(array).tobytes())
        return digest.hexdigest()


# The weight (kg) -> height (cm) data; least squares: slope 0.75141..., intercept 124.298...
HEIGHT_WEIGHT_KG = (48.0, 57.0, 50.0, 54.0, 64.0, 61.0, 43.0, 59.0)
HEIGHT_WEIGHT_CM = (165.0, 165.0, 157.0, 170.0, 175.0, 165.0, 155.0, 170.0)
BLOBS_SEED = 20_241_125
CUBIC_SEED = 31_415


def height_weight() -> Split:
    """Eight people; too few to hold any out, so the test part is the training part."""
    x = np.array(HEIGHT_WEIGHT_KG, dtype=np.float32).reshape(-1, 1)  # [8, 1]
    y = np.array(HEIGHT_WEIGHT_CM, dtype=np.float32)  # [8]
    return Split(x, y, x, y)


def gaussian_blobs(n: int = 1000, test_fraction: float = 0.3) -> Split:
    """Two overlapping 2-D Gaussian blobs (class 0 around (-1,-0.5), class 1 around (1,0.5))."""
    rng = np.random.default_rng(BLOBS_SEED)
    labels = rng.integers(0, 2, size=n)  # [n]
    centres = np.array([[-1.0, -0.5], [1.0, 0.5]])[labels]  # [n, 2]
    x = (centres + rng.normal(scale=1.0, size=(n, 2))).astype(np.float32)  # [n, 2]
    return _split(x, labels.astype(np.float32), test_fraction, rng)


def cubic_coefficients() -> tuple[float, float, float, float]:
    """The true curve y = c0 + c1 x + c2 x^2 + c3 x^3 behind the noisy cubic."""
    return 1.0, -2.0, 0.5, 0.8


def noisy_cubic(n: int = 300, noise: float = 0.5, test_fraction: float = 0.3) -> Split:
    """x uniform in [-3, 3], y on the cubic above plus Gaussian noise."""
    rng = np.random.default_rng(CUBIC_SEED)
    x = rng.uniform(-3.0, 3.0, size=n)  # [n]
    c0, c1, c2, c3 = cubic_coefficients()
    y = c0 + c1 * x + c2 * x**2 + c3 * x**3 + rng.normal(scale=noise, size=n)  # [n]
    return _split(x.reshape(-1, 1).astype(np.float32), y.astype(np.float32), test_fraction, rng)


def _split(x: np.ndarray, y: np.ndarray, test_fraction: float, rng: np.random.Generator) -> Split:
    order = rng.permutation(len(x))
    n_test = round(len(x) * test_fraction)
    test, train = order[:n_test], order[n_test:]
    return Split(x[train], y[train], x[test], y[test])
