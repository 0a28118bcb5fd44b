"""POST /predict: a photo or drawing of one handwritten digit in, the digit out.

The image comes as multipart/form-data field `file` (an HTML form, `curl -F file=@digit.png`)
or as the raw body with an image/* (or application/octet-stream) content type. Decoding and
the MNIST-style preprocessing (service.images.digits) run in a worker thread; the model is any
classifier whose card says preprocessing kind "mnist". With `?debug=true` the answer adds
`image`: the 28x28 digit the model saw, rows of 0-255 integers, white ink on black.
"""

from __future__ import annotations

from typing import Annotated, Any

import anyio.to_thread
from fastapi import APIRouter, Query, Request
from fastapi.responses import Response
from starlette.datastructures import UploadFile

from service.asgi.responses import json_response
from service.cards import ModelCard
from service.errors import Unprocessable, UnsupportedMediaType
from service.images.digits import read_digit, to_tensor
from service.protocol.v1 import predictions
from service.routes import openapi
from service.routes.deps import RegistryDep, SettingsDep
from service.routes.openapi import UPLOAD_FIELD as FIELD
from service.runtime.registry import ModelVersion, Registry

router = APIRouter(tags=["predict"])

MODEL_HELP = "An MNIST classifier: mnist-mlp (the default, NNSERVE_DEFAULT_MODEL) or mnist-softmax."
RAW_TYPES = ("image/", "application/octet-stream")
MAX_FORM_FIELDS = 16
"""Form fields parsed before giving up: the form needs one, a browser may add a few."""


@router.post("/predict", openapi_extra=openapi.PREDICT_BODY, responses=openapi.PREDICT)
async def predict(
    request: Request,
    registry: RegistryDep,
    settings: SettingsDep,
    model: Annotated[str | None, Query(description=MODEL_HELP, examples=["mnist-softmax"])] = None,
    debug: Annotated[bool, Query(description="Add the 28x28 image the model saw.")] = False,
) -> Response:
    """Recognize the handwritten digit in an uploaded image."""
    mv = image_model(registry, model or settings.default_model)
    data = await upload_bytes(request)
    digit = await anyio.to_thread.run_sync(read_digit, data, settings.max_image_pixels)
    norm = mv.card.preprocessing
    outputs = await mv.infer({mv.card.inputs[0].name: to_tensor(digit, norm.mean[0], norm.std[0])})
    return json_response(answer(mv, outputs, digit if debug else None))


def answer(mv: ModelVersion, outputs: dict[str, Any], image: Any = None) -> dict[str, Any]:
    """The response body: the digit, the class probabilities, and the image when asked."""
    best = predictions(mv.card, outputs)[0]
    body = {
        "model": mv.name,
        "version": mv.version,
        "digit": best["class"],
        "probabilities": best["probabilities"],
        "provider": mv.provider,
    }
    return body if image is None else {**body, "image": image}


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
    return card.task == "classification" and card.preprocessing.kind == "mnist"


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
    if media_type == "multipart/form-data":
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
