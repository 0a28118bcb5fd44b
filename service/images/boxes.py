"""A digit's place on the image: its box, and which pixels in the box are its strokes."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

Mask = npt.NDArray[np.bool_]


@dataclass(frozen=True)
class Box:
    """A rectangle of the stroke mask: rows [top, bottom), columns [left, right)."""

    top: int
    left: int
    bottom: int
    right: int

    @property
    def height(self) -> int:
        return self.bottom - self.top

    @property
    def width(self) -> int:
        return self.right - self.left

    def union(self, other: Box) -> Box:
        return Box(
            min(self.top, other.top),
            min(self.left, other.left),
            max(self.bottom, other.bottom),
            max(self.right, other.right),
        )

    def inside(self, other: Box) -> bool:
        """Whether this box lies strictly within the other, touching none of its sides."""
        return (
            other.top < self.top
            and other.left < self.left
            and self.bottom < other.bottom
            and self.right < other.right
        )

    def distance(self, other: Box) -> int:
        """Pixels between the two boxes along the wider of the two gaps (0: they touch)."""
        across = max(self.left - other.right, other.left - self.right)
        down = max(self.top - other.bottom, other.top - self.bottom)
        return max(across, down, 0)

    def column_overlap(self, other: Box) -> float:
        """Shared columns as a fraction of the narrower box's width."""
        shared = min(self.right, other.right) - max(self.left, other.left)
        return max(shared, 0) / min(self.width, other.width)


@dataclass(frozen=True)
class Digit:
    """One digit: its box and which pixels inside the box are its strokes."""

    box: Box
    mask: Mask
    pieces: int = 1
