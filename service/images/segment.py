"""Where the digits of a handwritten number are: pure functions on a stroke mask, no I/O.

    strokes [H, W] bool --pieces----> connected strokes (8-neighbours), with their boxes
            --drop_clutter-> paper edges along the border and long thin lines left out
            --group--------> pieces stacked over one another joined: a 5's detached cap, a
                             broken 4; then pieces too small beside the digits (specks, dots,
                             dashes) left out
            --split_wide---> a group far wider than tall cut at its narrowest column where
                             that neck is about one stroke thick (touching digits)
            --check_line---> the groups must look like digits written on one line, else 422

Each digit comes back as a Digit: its box and the mask of its own strokes inside the box, so
that a neighbour's stroke reaching into the box is not read as part of it.
"""

from __future__ import annotations

import statistics

import numpy as np
import numpy.typing as npt
from scipy import ndimage

from service.errors import Unprocessable
from service.images.boxes import Box, Digit, Mask
from service.images.necks import split_wide

NOT_DIGITS = (
    "no handwritten digits were found: the shapes on the image do not look like digits "
    "written side by side on one line (is it text or a drawing?)"
)

EIGHT_NEIGHBOURS = np.ones((3, 3), dtype=bool)
FOUR_NEIGHBOURS = ndimage.generate_binary_structure(2, 1)
"""ndimage.label's default, given once: made anew on every call it costs a third of a label."""

COLUMN_OVERLAP = 0.4
"""Two pieces are one digit when this fraction of the narrower one's columns lie over the
other's (a 5's cap over its body); ...or when the smaller is short beside its digit:"""

NARROW = 0.9
"""two pieces that are both of a digit's full height are joined only when together they are
no wider than this many heights (a broken 4, not a 1 leaning over its neighbour)."""

PIECE_HEIGHT = 0.6
"""A piece shorter than this fraction of the tallest piece is part of a digit, not one."""

SMALL = 0.4
"""A group shorter than this fraction of the tallest group is a speck, a dot or a dash."""

LINE_LENGTH = 1.5
"""A piece longer than this many tallest digit heights..."""

LINE_THINNESS = 0.25
"""...and thinner than this fraction of its length is a ruled line or an underline."""

EDGE_SPAN = 0.9
"""A piece along the image's border spanning this fraction of its side is the paper's edge."""

NEAR = 0.25
"""Pieces further apart than this fraction of the tallest piece, vertically, are not joined."""

PIECE_SIZE = 0.08
"""Pieces smaller than this fraction of the tallest piece are not counted as a digit's parts."""

FRAGMENT = 0.65
"""A group shorter than this fraction of the tallest group may be a piece of a digit..."""

FLAT = 0.5
"""...unless, within the rows of the digit beside it, it is at least this fraction of the
tallest tall and FRAGMENT of it wide: a digit written flat."""

ATTACH = 0.12
"""...and is one when it lies within this many tallest heights of the digit."""

SPECK = 0.04
"""Pieces smaller than this fraction of the tallest piece are dust, left out at once."""

MAX_SHAPES = 400
"""More shapes than this (past dust) is noise or a page of text, not a number."""

MAX_PIECES = 4
"""A digit is at most this many pieces (a 5 with its cap is two, a faint 8 may be four)."""

MAX_HOLES = 2
"""...and has at most this many holes (an 8); a house or a face has more."""

HOLE_SIZE = 0.1
"""Holes narrower than about this many heights are pinholes in a thick stroke."""

ONE_DIGIT = 1.2
"""Shapes off one line are read as one digit only when together no wider than this many
heights."""

LINE_SPREAD = 0.6
"""Digits of one number: each centre within this many median heights of the median line."""


def find_digits(strokes: Mask) -> list[Digit]:
    """The digits of the stroke mask, left to right (422 when none look like digits)."""
    labels, _ = ndimage.label(strokes, structure=EIGHT_NEIGHBOURS)
    boxes = [
        Box(s[0].start, s[1].start, s[0].stop, s[1].stop) for s in ndimage.find_objects(labels)
    ]
    kept = drop_clutter(boxes, strokes.shape)
    if not kept or len(kept) > MAX_SHAPES:  # grouping is quadratic: noise never reaches it
        raise Unprocessable(NOT_DIGITS)
    tallest = max(boxes[i].height for i in kept)
    wholes = [digit_of(labels, members, boxes, tallest) for members in group(kept, boxes)]
    digits = [part for whole in drop_small(wholes) for part in split_wide(whole)]
    if not on_one_line(digits):
        # Pieces stacked apart (an 8's two loops drawn apart) may still be one digit.
        digits = [digit_of(labels, kept, boxes, tallest)]
        if not on_one_line(digits) or digits[0].box.width > ONE_DIGIT * digits[0].box.height:
            raise Unprocessable(NOT_DIGITS)
    return sorted(digits, key=lambda d: d.box.left + d.box.right)


def drop_clutter(boxes: list[Box], shape: tuple[int, ...]) -> list[int]:
    """Indices of the pieces that may be digits: paper edges and long thin lines left out."""
    height, width = shape
    edges = {
        i
        for i, b in enumerate(boxes)
        if ((b.left == 0 or b.right == width) and b.height >= EDGE_SPAN * height)
        or ((b.top == 0 or b.bottom == height) and b.width >= EDGE_SPAN * width)
    }
    rest = [i for i in range(len(boxes)) if i not in edges]
    if not rest:
        return []
    tallest = max(boxes[i].height for i in rest)
    # Dust far smaller than a digit's stroke pieces is left out before grouping.
    dust = SPECK * tallest
    return [
        i
        for i in rest
        if not is_line(boxes[i], tallest) and max(boxes[i].height, boxes[i].width) >= dust
    ]


def is_line(box: Box, tallest: int) -> bool:
    """A ruled line, an underline or a strike-through: long and thin, longer than a digit."""
    length, thickness = max(box.width, box.height), min(box.width, box.height)
    return length > LINE_LENGTH * tallest and thickness < LINE_THINNESS * length


def group(kept: list[int], boxes: list[Box]) -> list[list[int]]:
    """Pieces joined into digits by column overlap, scanning left to right."""
    tallest = max(boxes[i].height for i in kept)
    groups: list[tuple[Box, list[int]]] = []
    reaching: list[int] = []  # the groups whose columns reach the scan: only they can join
    for i in sorted(kept, key=lambda k: boxes[k].left):
        # Joining needs shared columns, and every later piece starts further right: a group
        # that ends before this piece begins is closed (noise's hundreds of specks stay cheap).
        reaching = [g for g in reaching if groups[g][0].right > boxes[i].left]
        for g in reaching:
            box, members = groups[g]
            if same_digit(box, boxes[i], tallest):
                groups[g] = (box.union(boxes[i]), [*members, i])
                break
        else:
            reaching.append(len(groups))
            groups.append((boxes[i], [i]))
    return attach_fragments(groups)


def attach_fragments(groups: list[tuple[Box, list[int]]]) -> list[list[int]]:
    """Groups much shorter than the tallest (a 2's detached tail, a 5's cap beside its body)
    joined to the digit right beside them; a digit's own detached pieces lie that close."""
    tallest = max(box.height for box, _ in groups)
    whole = [g for g in groups if g[0].height >= FRAGMENT * tallest]
    for box, members in groups:
        if box.height >= FRAGMENT * tallest:
            continue
        near = [w for w in whole if box.distance(w[0]) <= ATTACH * tallest]
        target = min(near, key=lambda w: box.distance(w[0])) if near else None
        if target is None or flat_digit(box, target[0], tallest):
            whole.append((box, members))
            continue
        target[1].extend(members)
        whole[whole.index(target)] = (target[0].union(box), target[1])
    return [members for _, members in whole]


def flat_digit(box: Box, beside: Box, tallest: int) -> bool:
    """Whether a short group is a digit written flat (a flat 0 after a 4), not a fragment of
    the digit beside it: a cap or a tail sticks out above or below its digit; a flat digit is
    as wide as a digit, over half as tall, and stays within the rows of the one beside it."""
    within = beside.top <= box.top and box.bottom <= beside.bottom
    return within and box.height >= FLAT * tallest and box.width >= FRAGMENT * tallest


def same_digit(a: Box, b: Box, tallest: int) -> bool:
    """Whether piece b belongs to the digit whose box so far is a: over or under it, near."""
    if max(a.top, b.top) - min(a.bottom, b.bottom) > NEAR * tallest:
        return False  # a speck far above or below the digit is not part of it
    overlap = a.column_overlap(b)
    if min(a.height, b.height) < PIECE_HEIGHT * tallest:
        return overlap >= COLUMN_OVERLAP
    joined = a.union(b)  # two tall pieces: a broken 4, or two neighbours leaning together
    return overlap >= COLUMN_OVERLAP and joined.width <= NARROW * joined.height


def drop_small(digits: list[Digit]) -> list[Digit]:
    """The digits without the specks, dots and dashes that stand apart from them."""
    tallest = max(d.box.height for d in digits)
    return [d for d in digits if d.box.height >= SMALL * tallest]


def digit_of(
    labels: npt.NDArray[np.int32], members: list[int], boxes: list[Box], tallest: int
) -> Digit:
    """The digit made of the pieces `members` (indices into boxes; labels are index + 1)."""
    box = boxes[members[0]]
    for i in members[1:]:
        box = box.union(boxes[i])
    window = labels[box.top : box.bottom, box.left : box.right]
    # Specks joined to a digit do not make it a drawing: count the pieces of some size.
    parts = [i for i in members if max(boxes[i].height, boxes[i].width) >= PIECE_SIZE * tallest]
    pieces = len(parts)
    # A piece inside another's loop (eyes in a face, windows in a house) is never a digit's;
    # a broken thin stroke lying within another piece's box, but in no loop of it, is.
    # Past MAX_PIECES the shape is no digit anyway: the pairs are not looked at (noise has
    # hundreds of pieces, and their pairs made an upload of noise cost 50-200 ms).
    if pieces <= MAX_PIECES and any(
        in_loop(labels, i, j, boxes) for i in parts for j in parts if i != j
    ):
        pieces = MAX_PIECES + 1
    own = np.zeros(len(boxes) + 1, dtype=bool)  # label -> whether it is one of the members
    own[[i + 1 for i in members]] = True
    return Digit(box, own[window], pieces)


def in_loop(labels: npt.NDArray[np.int32], inner: int, outer: int, boxes: list[Box]) -> bool:
    """Whether piece `inner` lies (mostly) in a hole of piece `outer` (labels are index + 1)."""
    if not boxes[inner].inside(boxes[outer]):
        return False
    b = boxes[outer]
    window = labels[b.top : b.bottom, b.left : b.right]
    ring = window == outer + 1
    holes_ = ndimage.binary_fill_holes(ring) & ~ring
    piece = window == inner + 1
    return bool((piece & holes_).sum() * 2 > piece.sum())


def on_one_line(digits: list[Digit]) -> bool:
    """Whether the shapes look like the digits of one number: each made of few pieces with
    at most two holes (an 8), all on one line."""
    if any(d.pieces > MAX_PIECES or holes(d.mask) > MAX_HOLES for d in digits):
        return False
    # statistics.median: the same middle value (or mean of the two) as np.median, for a few
    # digits at a hundredth of its cost
    line = statistics.median((d.box.top + d.box.bottom) / 2 for d in digits)
    spread = LINE_SPREAD * statistics.median(float(d.box.height) for d in digits)
    return all(abs((d.box.top + d.box.bottom) / 2 - line) <= spread for d in digits)


def holes(mask: Mask) -> int:
    """Enclosed background regions of the shape (0 has one, 8 two), pinholes not counted."""
    padded = np.ones((mask.shape[0] + 2, mask.shape[1] + 2), dtype=bool)  # np.pad costs more
    np.invert(mask, out=padded[1:-1, 1:-1])  # the outside becomes one region
    labels, _ = ndimage.label(padded, structure=FOUR_NEIGHBOURS)
    areas = np.bincount(labels.ravel())[2:]  # [0] is the shape, [1] the outside
    return int(np.sum(areas >= (HOLE_SIZE * mask.shape[0]) ** 2))
