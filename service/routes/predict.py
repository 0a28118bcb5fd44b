"""POST /predict: a photo or drawing of a handwritten number (or one digit) in, the number out.

The image comes as multipart/form-data field `file` (an HTML form, `curl -F file=@digit.png`)
or as the raw body with an image/* (or application/octet-stream) content type. Decoding,
finding the digits and the MNIST-style preprocessing (service.images.number) run in a worker
thread; all the digits then go to the model in one batch. The model is any classifier whose
card says preprocessing kind "mnist".

The answer: `number` (the digits left to right) and `digits` (per digit: `digit`,
`probabilities`, `box` [x, y, width, height] in the upload's pixels), beside `digit` and
`probabilities` of the leftmost digit (a single digit's answer, as before numbers were read).
With `?debug=true` each digit adds `image`, the 28x28 image the model saw (rows of 0-255
integers, white ink on black), and so does the answer (the leftmost digit's).
"""

from __future__ import annotations

from typing import Annotated, Any

import anyio.to_thread
import numpy as np
from fastapi import APIRouter, Query, Request
from fastapi.responses import Response
from fastapi.routing import APIRoute
from starlette.datastructures import UploadFile

from service.asgi.responses import json_response
from service.asgi.upload import MULTIPART, RAW_TYPES, UploadRoute
from service.cards import ModelCard
from service.config import Settings
from service.errors import Unprocessable, UnsupportedMediaType
from service.images.decode import stored_pixels
from service.images.digits import to_tensor
from service.images.number import FoundDigit, read_number
from service.protocol.v1 import predictions
from service.routes import openapi
from service.routes.deps import RegistryDep, SettingsDep
from service.routes.openapi import UPLOAD_FIELD as FIELD
from service.runtime.gate import check_digits
from service.runtime.registry import Registry
from service.runtime.version import ModelVersion

router = APIRouter(tags=["predict"])

MODEL_HELP = "An MNIST classifier: mnist-mlp (the default, NNSERVE_DEFAULT_MODEL) or mnist-softmax."
MAX_FORM_FIELDS = 16
"""Form fields parsed before giving up: the form needs one, a browser may add a few."""

INLINE_PIXELS = 300_000
"""An upload of at most this many pixels (a drawing: the page's canvas is 280x280) is read on
the event loop, in a few milliseconds at most: the hand-off to a worker thread and back cost
~0.4 ms of CPU, a tenth of a canvas request (benchmarks/results/predict.md). A larger one (a
12 MP photo: 30 ms) is read in a worker thread."""


@router.post("/predict", openapi_extra=openapi.PREDICT_BODY, responses=openapi.PREDICT)
async def predict(
    request: Request,
    registry: RegistryDep,
    settings: SettingsDep,
    model: Annotated[str | None, Query(description=MODEL_HELP, examples=["mnist-softmax"])] = None,
    debug: Annotated[bool, Query(description="Add each 28x28 image the model saw.")] = False,
) -> Response:
    """Read the handwritten number (or digit) in an uploaded image."""
    mv = image_model(registry, model or settings.default_model)
    data = await upload_bytes(request)
    return json_response(await read_upload(registry, mv, data, settings, debug))


async def read_upload(
    registry: Registry, mv: ModelVersion, data: bytes, settings: Settings, debug: bool = False
) -> dict[str, Any]:
    """The answer to an upload's bytes (the route and its fast path, asgi/upload.py, both)."""
    found = await read_digits(data, settings)
    await check_digits(registry, found)  # 422 for text and drawings
    norm = mv.card.preprocessing
    batch = np.concatenate([to_tensor(d.image, norm.mean[0], norm.std[0]) for d in found])
    outputs = await mv.infer({mv.card.inputs[0].name: batch})  # [n, 784]: one run
    return answer(mv, outputs, found, debug)


async def read_digits(data: bytes, settings: Settings) -> list[FoundDigit]:
    """The upload's digits: a small image read right here, on the event loop, any other in a
    worker thread (the loop is never held long)."""
    limits = (settings.max_image_pixels, settings.max_digits)
    if 0 < stored_pixels(data) <= INLINE_PIXELS:
        return read_number(data, *limits)
    return await anyio.to_thread.run_sync(read_number, data, *limits)


def fast_path() -> UploadRoute:
    """This route and its two steps, for the fast path that answers plain uploads."""
    (route,) = (r for r in router.routes if isinstance(r, APIRoute) and r.endpoint is predict)
    return UploadRoute(route, FIELD, image_model, read_upload)


def answer(
    mv: ModelVersion, outputs: dict[str, Any], found: list[FoundDigit], debug: bool = False
) -> dict[str, Any]:
    """The response body: the number, each digit with its box, the leftmost digit's fields."""
    digits = [
        {"digit": p["class"], "probabilities": p["probabilities"], "box": list(d.box)}
        | ({"image": d.image} if debug else {})
        for p, d in zip(predictions(mv.card, outputs), found, strict=True)
    ]
    body = {
        "model": mv.name,
        "version": mv.version,
        "digit": digits[0]["digit"],
        "probabilities": digits[0]["probabilities"],
        "provider": mv.provider,
        "number": "".join(str(d["digit"]) for d in digits),
        "digits": digits,
    }
    return body | ({"image": found[0].image} if debug else {})


def image_model(registry: Registry, name: str) -> ModelVersion:
    """The ready model `name`: 404 unknown, 422 when it does not read images, 503 not ready."""
    mv = registry.get(name)
    card = mv.loaded_card
    if card is not None and not reads_images(card):
        readers = ", ".join(sorted(image_readers(registry)))
        raise Unprocessable(
            f"model {name} does not read images (POST /predict serves {readers}); "
            f"send its features to /v1/models/{name}/predict"
        )
    mv.require_runtime()
    return mv


def reads_images(card: ModelCard) -> bool:
    """The rule of POST /predict: a classifier whose inputs are MNIST-preprocessed digits."""
    return card.task == "classification" and card.preprocessing.kind == "mnist" and not card.role


def image_readers(registry: Registry) -> set[str]:
    """Names of the models that /predict can serve."""
    return {
        mv.name
        for mv in registry.versions()
        if (card := mv.loaded_card) is not None and reads_images(card)
    }


async def upload_bytes(request: Request) -> bytes:
    """The image's bytes, from multipart field `file` or from a raw image/* body."""
    media_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if media_type == MULTIPART:
        return await form_file(request)
    if media_type.startswith(RAW_TYPES):
        return await request.body()
    raise UnsupportedMediaType(
        f"send the image as multipart/form-data field '{FIELD}' or as the raw body with an "
        f"image/* content type, not {media_type or 'a body without a content type'}"
    )


async def form_file(request: Request) -> bytes:
    """The bytes of the multipart field `file` (422 when it is missing or not a file)."""
    async with request.form(max_files=1, max_fields=MAX_FORM_FIELDS) as form:
        upload = form.get(FIELD)
        if not isinstance(upload, UploadFile):
            missing = "is missing" if upload is None else "is not a file"
            raise Unprocessable(f"multipart field '{FIELD}' with the image {missing}")
        return await upload.read()
