"""Batched random affine augmentation for MNIST: one affine_grid/grid_sample for the whole batch.

Per-image PIL or torchvision transforms cost a Python call per sample; here the random
rotations, scalings and shifts of a batch are one [B, 2, 3] tensor of affine matrices.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
from torch import Tensor
from torch.nn import functional as F

from training.data import MNIST_MEAN, MNIST_STD

SIDE = 28
# Normalized background: a black pixel after (0 - mean) / std. grid_sample pads with zeros,
# so images are shifted to a zero background before sampling and back afterwards.
BACKGROUND = -MNIST_MEAN / MNIST_STD


@dataclass(frozen=True)
class AffineConfig:
    """Ranges of the random transform, drawn uniformly and independently per image."""

    degrees: float = 10.0
    scale: tuple[float, float] = (0.9, 1.1)
    shift_px: float = 2.0
    shear: float = 0.1
    # Pen width: a change drawn from `pen` (low, high) for a `pen_share` of the images.
    # Positive blends in a 3x3 dilation (up to a pixel each side); negative moves the stroke's
    # edge inwards, as a light pen or a hard threshold does. MNIST's own strokes span neither.
    pen: tuple[float, float] = (0.0, 0.0)
    pen_share: float = 0.5


def random_theta(batch: int, config: AffineConfig, generator: torch.Generator) -> Tensor:
    """[batch, 2, 3] affine matrices mapping output to input coordinates (affine_grid's sense)."""
    u = torch.rand(batch, 5, generator=generator) * 2 - 1  # [B, 5] uniform in [-1, 1]
    angle = u[:, 0] * math.radians(config.degrees)  # [B]
    low, high = config.scale
    scale = low + (u[:, 1] + 1) / 2 * (high - low)  # [B]
    shear = u[:, 2] * config.shear  # [B]
    shift = u[:, 3:5] * config.shift_px * 2 / SIDE  # [B, 2]; grid coordinates span 2 per side
    cos, sin = torch.cos(angle) / scale, torch.sin(angle) / scale  # [B]
    row0 = torch.stack([cos, -sin + shear, shift[:, 0]], dim=1)  # [B, 3]
    row1 = torch.stack([sin, cos, shift[:, 1]], dim=1)  # [B, 3]
    return torch.stack([row0, row1], dim=1)  # [B, 2, 3]


def random_pen(images: Tensor, config: AffineConfig, generator: torch.Generator) -> Tensor:
    """[B, 1, H, W] ink in 0..peak on a 0 background -> strokes thickened or thinned at random."""
    batch = images.shape[0]
    low, high = config.pen
    change = low + torch.rand(batch, 1, 1, 1, generator=generator) * (high - low)  # [B,1,1,1]
    chosen = torch.rand(batch, 1, 1, 1, generator=generator) < config.pen_share  # [B,1,1,1]
    change = (change * chosen).to(images.device).clamp(-1.0, 1.0)
    peak = images.amax(dim=(2, 3), keepdim=True).clamp_min(1e-6)  # [B, 1, 1, 1]
    thick = F.max_pool2d(images, 3, stride=1, padding=1)  # [B, 1, H, W]
    thin = (2 * images - peak).clamp_min(0.0)  # [B, 1, H, W]: half-ink edges drop to 0
    target = torch.where(change > 0, thick, thin)
    return images + change.abs() * (target - images)


def random_affine(x: Tensor, config: AffineConfig, generator: torch.Generator) -> Tensor:
    """Normalized flat images [B, 784] -> randomly transformed images [B, 784]."""
    batch = x.shape[0]
    theta = random_theta(batch, config, generator).to(x.device)  # [B, 2, 3]
    images = x.view(batch, 1, SIDE, SIDE) - BACKGROUND  # [B, 1, 28, 28], background 0
    if config.pen != (0.0, 0.0):
        images = random_pen(images, config, generator)
    grid = F.affine_grid(theta, [batch, 1, SIDE, SIDE], align_corners=False)  # [B, 28, 28, 2]
    moved = F.grid_sample(images, grid, mode="bilinear", padding_mode="zeros", align_corners=False)
    return moved.reshape(batch, SIDE * SIDE) + BACKGROUND  # [B, 784]
