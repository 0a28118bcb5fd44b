"""The paper under the ink: a smooth surface (shading, gradients, vignetting, soft shadows)
fitted to the background of an ink map, so that uneven lighting is not mistaken for ink.

Pure numpy on a lattice of samples; the ink is excluded by refitting without the samples that
lie well above the surface (ink is brighter than paper in an ink map).
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np
import numpy.typing as npt

FloatImage = npt.NDArray[np.float32]
Floats = npt.NDArray[np.float64]

SURFACE_DEGREE = 3
"""Degree of the polynomial surface that models the paper's shading."""

FIT_POINTS = 64
"""The shading is fitted on at most FIT_POINTS x FIT_POINTS samples (it is smooth)."""

FIT_ROUNDS = 4
"""Fits of the shading: each drops the samples that lie well above it (the ink)."""

MAD_TO_SIGMA = 1.4826
"""Median absolute deviation -> standard deviation, for Gaussian noise (1 / Phi^-1(3/4))."""

INK_SIGMAS = 2.5
"""A sample more than this many spreads above the surface is ink, not paper."""

SPREAD_FLOOR = 1.0
"""Added to the spread (in 0..255 levels) so that perfectly flat paper still has a margin."""


def paper_shading(ink: FloatImage) -> FloatImage:
    """Smooth estimate of the paper under the ink (gradients, vignetting, soft shadows).

    A cubic surface in (x, y) fitted by least squares to a lattice of at most FIT_POINTS^2
    samples; samples brighter than the fit (the ink) are dropped and the fit repeated, so the
    surface follows the paper only. Same shape as `ink`.
    """
    height, width = ink.shape
    rows, cols = lattice(height, width)
    sampled = ink.take(rows, axis=0).take(cols, axis=1).ravel()  # [n]: 2x faster than ink[mesh]
    lowest = sampled.min()
    # Flat paper (a canvas): at least half the samples at the lowest level, nothing to fit.
    if np.count_nonzero(sampled == lowest) * 2 >= sampled.size:
        return np.full(ink.shape, lowest, dtype=np.float32)
    samples = sampled.astype(np.float64)
    paper = samples <= np.median(samples)  # ink is bright and a minority: start below it
    basis = lattice_basis(height, width)  # [n, k]
    for _ in range(FIT_ROUNDS):
        coef = least_squares(basis[paper], samples[paper])  # [k]
        residual = samples - basis @ coef  # [n]; ink is far above the paper
        spread = MAD_TO_SIGMA * np.median(np.abs(residual[paper])) + SPREAD_FLOOR
        paper = residual < INK_SIGMAS * spread
    y = np.arange(height) / max(height - 1, 1)
    x = np.arange(width) / max(width - 1, 1)
    # A cubic can swing in a corner with no paper samples: keep it within the paper's range.
    low, high = samples[paper].min(), samples[paper].max()
    return np.clip(evaluate_surface(coef, y, x), np.float32(low), np.float32(high))  # [H, W]


@lru_cache(maxsize=64)
def lattice(height: int, width: int) -> tuple[npt.NDArray[np.intp], npt.NDArray[np.intp]]:
    """Row and column indices of at most FIT_POINTS^2 samples, evenly spread: [r], [c]."""
    rows = np.linspace(0, height - 1, min(height, FIT_POINTS)).round().astype(np.intp)
    cols = np.linspace(0, width - 1, min(width, FIT_POINTS)).round().astype(np.intp)
    rows.flags.writeable = cols.flags.writeable = False  # shared by every call: cached
    return rows, cols


@lru_cache(maxsize=64)
def lattice_basis(height: int, width: int) -> Floats:
    """The monomials at the sample lattice of a height x width image: [n, k] (cached)."""
    rows = np.linspace(0, height - 1, min(height, FIT_POINTS)).round()
    cols = np.linspace(0, width - 1, min(width, FIT_POINTS)).round()
    basis = surface_basis(rows / max(height - 1, 1), cols / max(width - 1, 1))
    basis.flags.writeable = False
    return basis


def least_squares(a: Floats, b: Floats) -> Floats:
    """argmin_c |a c - b|^2 by the normal equations (k is tiny; a small ridge keeps it regular)."""
    gram = a.T @ a + 1e-9 * np.eye(a.shape[1])  # [k, k]
    return np.asarray(np.linalg.solve(gram, a.T @ b), dtype=np.float64)  # [k]


def surface_terms() -> list[tuple[int, int]]:
    """Exponents (i, j) of the monomials x^i y^j with i + j <= SURFACE_DEGREE."""
    degree = SURFACE_DEGREE
    return [(i, j) for i in range(degree + 1) for j in range(degree + 1 - i)]


def surface_basis(y: Floats, x: Floats) -> Floats:
    """The monomials at every point of the grid y x x: [len(y) * len(x), n_terms]."""
    yy, xx = (grid.ravel() for grid in np.meshgrid(y, x, indexing="ij"))
    return np.stack([xx**i * yy**j for i, j in surface_terms()], axis=1)


def evaluate_surface(coef: Floats, y: Floats, x: Floats) -> FloatImage:
    """sum c_ij x^i y^j on the grid y x x, as Y @ C @ X.T (separable: no [H*W, k] matrix),
    float32."""
    powers = np.arange(SURFACE_DEGREE + 1)
    c = np.zeros((SURFACE_DEGREE + 1, SURFACE_DEGREE + 1))  # [j, i]
    for (i, j), value in zip(surface_terms(), coef, strict=True):
        c[j, i] = value
    rows = ((y[:, None] ** powers) @ c).astype(np.float32)  # [H, d+1]
    cols = (x[:, None] ** powers).astype(np.float32)  # [W, d+1]
    # A sum of d+1 outer products: a [H, d+1] @ [d+1, W] matmul is slower here than this.
    surface = np.zeros((y.size, x.size), dtype=np.float32)
    for k in powers:
        surface += np.outer(rows[:, k], cols[:, k])
    return surface
