"""digit-gate's data: 28x28 pieces in MNIST's form, digits (1) and not digits (0), cut the way
POST /predict cuts them.

Every picture (a number written with MNIST training digits, a typed number, a typed word, a
scribble or a shape) is drawn as ink on paper, encoded as PNG and read by the service's own
`service.images.number.read_number`, so the gate learns on the very pieces it will judge, cut
errors included. MNIST's own training digits join as they are (a 28x28 upload skips the cut).

Letters that are digits' twins in print (l, I, i, o, O) are left out of the words: a bar is a 1
and a ring a 0 to MNIST, and the gate must never learn to refuse those.
"""

from __future__ import annotations

import io
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import matplotlib
import numpy as np
import numpy.typing as npt
from PIL import Image, ImageDraw, ImageFilter, ImageFont
from tqdm import tqdm

from service.errors import Unprocessable
from service.images.number import read_number

Ink = npt.NDArray[np.float32]  # white ink on black, 0..1
Pieces = npt.NDArray[np.uint8]  # [n, 28, 28]

LOWER = "abcdefghjkmnpqrstuvwxyz"
UPPER = "ABCDEFGHJKLMNPQRSTUVWXYZ"
HANZI = (
    "的一是在不了有和人这中大为上个国我以要他时来用们生到作地于出就分对成会可主发年动"
    "同工也能下过子说产种面而方后多定行学法所民得经十三之进着等部度家电力里如水化高自"
    "二理起小物现实加量都两体制机当使点从业本去把性好应开它合还因由其些然前外天政四日"
    "那社义事平形相全表间样与关各重新线内数正心反你明看原又么利比或但质气第向道命此变"
    "条只没结解问意建月公无系军很情者最立代想已通并提直题党程展五果料象员革位入常文总"
    "次品式活设及管特件长求老头基资边流路级少图山统接知较将组见计别她手角期根论运农指"
)
"""What the words are made of: Latin letters but the twins of digits, and common hanzi."""

DIGIT_MARK = 1.0
NOT_DIGIT_MARK = 0.0
READ_AT_MOST = 64  # pieces per picture: a long word is still read whole
MAX_PIXELS = 25_000_000


@dataclass(frozen=True)
class GateSet:
    """Pieces [n, 28, 28] uint8 and their marks [n] (1.0 a digit, 0.0 not a digit)."""

    images: Pieces
    marks: npt.NDArray[np.float32]


def font_files() -> list[Path]:
    """matplotlib's own DejaVu, STIX and Computer Modern text faces (on every machine that can
    train), and WenQuanYi's hanzi where the system has it."""
    folder = Path(matplotlib.get_data_path()) / "fonts" / "ttf"
    names = [*folder.glob("DejaVuS*[!y].ttf"), *folder.glob("STIXGeneral*.ttf")]
    names += [folder / f"cm{face}10.ttf" for face in ("r", "ss", "ti", "tt", "b")]
    return sorted(names) + sorted(Path("/usr/share/fonts").glob("**/wqy-*.tt[cf]"))


def cut(ink: Ink, rng: np.random.Generator) -> list[npt.NDArray[np.uint8]]:
    """The pieces /predict would read in `ink` drawn dark on light, unevenly lit paper, as PNG
    or JPEG (none when /predict refuses the picture)."""
    rows, cols = np.mgrid[0 : ink.shape[0], 0 : ink.shape[1]] / max(ink.shape)
    light = rng.uniform(-40, 40, size=2)  # brightness falls across the sheet
    paper = rng.uniform(200, 252) + light[0] * (rows - 0.5) + light[1] * (cols - 0.5)
    pen, grain = rng.uniform(0, 90), rng.normal(0, rng.uniform(0.5, 4), size=ink.shape)
    gray = np.clip(paper * (1 - ink) + pen * ink + grain, 0, 255).astype(np.uint8)
    out = io.BytesIO()
    if rng.uniform() < 0.5:
        Image.fromarray(gray, "L").save(out, "PNG", compress_level=1)
    else:
        Image.fromarray(gray, "L").save(out, "JPEG", quality=int(rng.integers(50, 96)))
    try:
        return [found.image for found in read_number(out.getvalue(), MAX_PIXELS, READ_AT_MOST)]
    except Unprocessable:
        return []


def framed(image: Image.Image, rng: np.random.Generator) -> Ink:
    """A white-on-black drawing tilted a little, with a margin, as ink 0..1."""
    image = image.rotate(float(rng.uniform(-8, 8)), Image.Resampling.BICUBIC, expand=True)
    margin = int(rng.integers(10, 40))
    padded = np.pad(np.asarray(image, dtype=np.float32) / 255.0, margin)
    return np.clip(padded, 0.0, 1.0)


def typed(text: str, font: Path, rng: np.random.Generator, other_faces: bool = False) -> Ink:
    """`text` typed in `font` at 30-110 px with a pen of 0-4 px around the glyphs; with
    `other_faces`, made narrower or wider and slanted (`faces`), so a few faces stand for many."""
    face = ImageFont.truetype(str(font), int(rng.integers(30, 111)))
    stroke = int(rng.choice([0, 0, 1, 2, 3, 4]))
    left, top, right, bottom = face.getbbox(text, stroke_width=stroke)
    image = Image.new("L", (right - left + 4, bottom - top + 4), 0)
    ImageDraw.Draw(image).text((2 - left, 2 - top), text, fill=255, font=face, stroke_width=stroke,
                               stroke_fill=255)  # fmt: skip
    return framed(faces(image, rng) if other_faces else image, rng)


def faces(image: Image.Image, rng: np.random.Generator) -> Image.Image:
    """The typed glyphs 0.7-1.35 times as wide (condensed to extended faces) and, one time in
    three, slanted by up to 0.25 of their height (an oblique face)."""
    width = max(2, round(image.width * rng.uniform(0.7, 1.35)))
    image = image.resize((width, image.height), Image.Resampling.BICUBIC)
    if rng.uniform() < 1 / 3:
        slant = float(rng.uniform(-0.25, 0.25))
        wider = image.width + int(abs(slant) * image.height) + 1
        shift = -slant * image.height if slant > 0 else 0.0
        image = image.transform((wider, image.height), Image.Transform.AFFINE,
                                (1, slant, shift, 0, 1, 0), Image.Resampling.BICUBIC)  # fmt: skip
    return image


def handwritten(digits: Pieces, rng: np.random.Generator) -> Ink:
    """MNIST digits side by side at 40-160 px, thin, MNIST's or thick pen, tight to wide gaps."""
    height, pen = int(rng.integers(40, 161)), rng.choice(["thin", "mnist", "thick"])
    gap = int(height * rng.uniform(-0.02, 0.8))
    tiles = []
    for digit in digits:
        rows, cols = np.flatnonzero(digit.any(axis=1)), np.flatnonzero(digit.any(axis=0))
        ink = Image.fromarray(digit[rows[0] : rows[-1] + 1, cols[0] : cols[-1] + 1])
        scale = height / 20.0  # MNIST digits are about 20 px tall
        tile = ink.resize((max(2, round(ink.width * scale)), max(2, round(ink.height * scale))),
                          Image.Resampling.BICUBIC)  # fmt: skip
        if pen == "thin":
            tile = tile.point(lambda v: max(0, 2 * v - 255))
        elif pen == "thick":
            tile = tile.filter(ImageFilter.MaxFilter(2 * round(height * 0.025) + 1))
        tiles.append(np.asarray(tile, dtype=np.float32) / 255.0)
    lefts = np.cumsum([0] + [max(1, t.shape[1] + gap) for t in tiles[:-1]])
    tall = max(t.shape[0] for t in tiles)
    width = max(x + t.shape[1] for x, t in zip(lefts, tiles, strict=True))
    line = np.zeros((tall, width), np.float32)
    for x, tile in zip(lefts, tiles, strict=True):
        region = line[(tall - tile.shape[0]) // 2 :][: tile.shape[0], x : x + tile.shape[1]]
        np.maximum(region, tile, out=region)
    return framed(Image.fromarray(np.round(line * 255).astype(np.uint8)), rng)


def scribble(rng: np.random.Generator) -> Ink:
    """A shape no digit is: a polygon, a star, a grid, a zigzag, a spiral or a random scrawl."""
    side = int(rng.integers(60, 240))
    image = Image.new("L", (side, side), 0)
    draw, width = ImageDraw.Draw(image), max(2, int(side * rng.uniform(0.03, 0.12)))
    kind = rng.integers(6)
    if kind == 0:  # a polygon of 3-6 corners
        corners = int(rng.integers(3, 7))
        angles = np.sort(rng.uniform(0, 2 * np.pi, corners))
        draw.polygon(_around(side, angles, 0.45), outline=255, width=width)
    elif kind == 1:  # a star
        angles = np.linspace(0, 4 * np.pi, 6)[:-1] * 1.0 + rng.uniform(0, 1)
        draw.line([*_around(side, angles, 0.45), _around(side, angles, 0.45)[0]], 255, width)
    elif kind == 2:  # a grid or a cross-hatch
        for k in range(int(rng.integers(2, 5))):
            at = int(side * (k + 1) / 5)
            draw.line([(at, 0), (at, side)], 255, width)
            draw.line([(0, at), (side, at)], 255, width)
    elif kind == 3:  # a zigzag or a wave
        xs = np.linspace(0.05, 0.95, int(rng.integers(5, 10))) * side
        ys = side * (0.5 + 0.3 * np.resize([1, -1], len(xs)))
        draw.line(list(zip(xs, ys, strict=True)), 255, width, joint="curve")
    elif kind == 4:  # a spiral
        t = np.linspace(0, rng.uniform(3, 6) * np.pi, 80)
        r = side * 0.45 * t / t[-1]
        points = zip(side / 2 + r * np.cos(t), side / 2 + r * np.sin(t), strict=True)
        draw.line(list(points), 255, width, joint="curve")
    else:  # a scrawl through 6-12 random points
        points = rng.uniform(0.05, 0.95, (int(rng.integers(6, 13)), 2)) * side
        draw.line([tuple(p) for p in points], 255, width, joint="curve")
    return framed(image, rng)


def _around(side: int, angles: npt.NDArray[np.float64], radius: float) -> list[tuple[float, float]]:
    return [(side / 2 + side * radius * np.cos(a), side / 2 + side * radius * np.sin(a))
            for a in angles]  # fmt: skip


def word(rng: np.random.Generator) -> str:
    """1-7 letters, lower case mostly; one in six 1-3 hanzi."""
    if rng.uniform() < 1 / 6:
        return "".join(rng.choice(list(HANZI), int(rng.integers(1, 4))))
    letters = LOWER if rng.uniform() < 0.7 else LOWER + UPPER
    return "".join(rng.choice(list(letters), int(rng.integers(1, 8))))


def pictures(
    images: Pieces, n: int, rng: np.random.Generator, other_faces: bool
) -> Iterator[tuple[Ink, float]]:
    """`n` pictures and their mark: 40% handwritten numbers (typed ones when `images` is
    empty), 10% typed numbers, 40% words, 10% scribbles; typed in `other_faces` or not."""
    fonts = font_files()
    hanzi_fonts = [f for f in fonts if f.name.startswith("wqy")]
    for _ in range(n):
        kind = rng.uniform()
        if kind < 0.4 and len(images):
            digits = images[rng.integers(len(images), size=int(rng.integers(1, 6)))]
            yield handwritten(digits, rng), DIGIT_MARK
        elif kind < 0.5:
            number = "".join(map(str, rng.integers(10, size=int(rng.integers(1, 6)))))
            yield typed(number, fonts[rng.integers(len(fonts))], rng, other_faces), DIGIT_MARK
        elif kind < 0.9:
            text = word(rng)
            typefaces = hanzi_fonts if text[0] in HANZI and hanzi_fonts else fonts
            font = typefaces[rng.integers(len(typefaces))]
            yield typed(text, font, rng, other_faces), NOT_DIGIT_MARK
        else:
            yield scribble(rng), NOT_DIGIT_MARK


def cut_set(images: Pieces, n: int, seed: int, other_faces: bool = False) -> GateSet:
    """The cut pieces of `n` seeded pictures (numbers written with `images`), each piece marked
    as its picture is; `other_faces` for training (the held-out pictures are typed as is)."""
    rng = np.random.default_rng(seed)
    pieces: list[npt.NDArray[np.uint8]] = []
    marks: list[float] = []
    drawn = pictures(images, n, rng, other_faces)
    for ink, mark in tqdm(drawn, "digit-gate: cutting pictures", n, unit="picture", mininterval=1):
        found = cut(ink, rng)
        pieces += found
        marks += [mark] * len(found)
    return GateSet(np.stack(pieces), np.array(marks, dtype=np.float32))
