"""Draw docs/img/predict-number.png: a photographed number as POST /predict reads it.

    python -m scripts.dev.number_picture [--data-dir DIR] [--out docs/img/predict-number.png]

Writes scripts/samples/number-photo.jpg (a seeded photo of a number made of MNIST test digits,
tests/service/images/numbers.py), reads it with service.images.number and mnist-mlp, and
draws each digit's box with the digit read above it, and the 28x28 images the model saw below.
"""

from __future__ import annotations

import argparse
import io
import os
from pathlib import Path

import numpy as np
import onnxruntime as ort
from PIL import Image, ImageDraw, ImageFont

from service.images.digits import to_tensor
from service.images.number import read_number
from tests.service.images.numbers import number_uploads
from training.data import MNIST_MEAN, MNIST_STD, load_mnist

SAMPLE = Path("scripts/samples/number-photo.jpg")


def photo(data_dir: Path) -> bytes:
    """The first seeded photo (JPEG) of a 4-digit number."""
    images, labels = load_mnist(data_dir, train=False)
    uploads = number_uploads(images, labels, 200, seed=15)
    return next(
        u
        for u in uploads
        if u.style == "photo" and len(u.label) == 4 and u.content_type == "image/jpeg"
    ).data


def picture(data: bytes, model: Path) -> Image.Image:
    found = read_number(data, 25_000_000, 12)
    session = ort.InferenceSession(str(model), providers=["CPUExecutionProvider"])
    batch = np.concatenate([to_tensor(d.image, MNIST_MEAN, MNIST_STD) for d in found])
    (probabilities,) = session.run(["probabilities"], {"input": batch})
    upload = Image.open(io.BytesIO(data)).convert("RGB")
    seen = [Image.fromarray(d.image).resize((84, 84), Image.Resampling.NEAREST) for d in found]
    page = Image.new("RGB", (upload.width, upload.height + 110), "white")
    page.paste(upload, (0, 0))
    draw = ImageDraw.Draw(page)
    font = ImageFont.load_default(size=28)
    for k, (d, p) in enumerate(zip(found, probabilities, strict=True)):
        x, y, w, h = d.box
        draw.rectangle([x, y, x + w, y + h], outline=(220, 30, 30), width=3)
        draw.text((x, max(0, y - 32)), str(int(p.argmax())), fill=(220, 30, 30), font=font)
        page.paste(seen[k], (10 + 94 * k, upload.height + 13))
    number = "".join(str(int(p.argmax())) for p in probabilities)
    draw.text(
        (20 + 94 * len(found), upload.height + 40), f"number: {number}", fill="black", font=font
    )
    return page


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    default = Path(os.environ.get("NNSERVE_MNIST_DIR", "../shared/mnist"))
    parser.add_argument("--data-dir", type=Path, default=default)
    parser.add_argument("--out", type=Path, default=Path("docs/img/predict-number.png"))
    args = parser.parse_args()
    data = photo(args.data_dir)
    SAMPLE.write_bytes(data)
    image = picture(data, Path("models/mnist-mlp/1/model.onnx"))
    image.quantize(64).save(args.out, optimize=True)  # a few colours: a small PNG
    print(f"wrote {SAMPLE} and {args.out}")


if __name__ == "__main__":
    main()
