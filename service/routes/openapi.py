"""OpenAPI bodies and examples of the routes whose bodies are parsed raw, not by pydantic
(V2, v1, POST /predict)."""

from __future__ import annotations

from typing import Any

_JSON = "application/json"
Responses = dict[int | str, dict[str, Any]]
UPLOAD_FIELD = "file"
"""The multipart field POST /predict reads the image from."""


def _response(example: Any, description: str = "") -> dict[str, Any]:
    return {"description": description, "content": {_JSON: {"example": example}}}


def _error(message: str, described: bool = False) -> dict[str, Any]:
    """An error example; `described` also makes the message the response's description."""
    return _response({"error": message}, message if described else "")


SERVER_METADATA: Responses = {
    "200": _response({"name": "nnserve", "version": "0.1.0", "extensions": ["binary_tensor_data"]})
}

MODEL_METADATA: Responses = {
    "200": _response(
        {
            "name": "logistic-regression",
            "versions": ["1"],
            "platform": "onnxruntime_onnx",
            "inputs": [{"name": "input", "datatype": "FP32", "shape": [-1, 2]}],
            "outputs": [
                {"name": "logit", "datatype": "FP32", "shape": [-1, 1]},
                {"name": "probability", "datatype": "FP32", "shape": [-1, 1]},
            ],
            "ready": True,
            "provider": "CPUExecutionProvider",
        }
    ),
    "404": _error("model 'nope' not found"),
}

MODEL_READY: Responses = {
    "200": _response({"name": "logistic-regression", "ready": True}),
    "404": _error("model 'nope' not found"),
    "503": _error("model mnist-mlp version 1 is not ready: ValueError: ..."),
}

INFER_REQUEST = {
    "id": "42",
    "inputs": [
        {"name": "input", "datatype": "FP32", "shape": [2, 2], "data": [[0.5, 1.0], [2, 3]]}
    ],
    "outputs": [{"name": "probability"}],
}

INFER_BODY: dict[str, Any] = {
    "requestBody": {
        "required": True,
        "description": "A V2 inference request. `data` may be flat or nested. With the binary "
        "tensor data extension, a tensor sets parameters.binary_data_size instead of data and "
        "its bytes follow the JSON, whose length the Inference-Header-Content-Length header "
        "gives; outputs[].parameters.binary_data (or parameters.binary_data_output) asks for "
        "binary outputs. Any Content-Type is accepted.",
        "content": {_JSON: {"schema": {"type": "object"}, "example": INFER_REQUEST}},
    }
}

INFER: Responses = {
    "200": _response(
        {
            "model_name": "logistic-regression",
            "model_version": "1",
            "id": "42",
            "outputs": [
                {"name": "probability", "datatype": "FP32", "shape": [2, 1], "data": [0.3, 0.9]}
            ],
        }
    ),
    "400": _error("input 'input' has shape [2, 3], the model expects [-1, 2] (-1: any size)"),
    "404": _error("model 'nope' not found"),
    "413": _error("request body is larger than the limit of 5242880 bytes"),
    "503": _error("model mnist-mlp version 1 is not ready: ValueError: ..."),
}

V1_MODELS: Responses = {
    "200": _response(
        {
            "models": [
                {
                    "name": "linear-regression",
                    "version": 1,
                    "task": "regression",
                    "ready": True,
                    "provider": "CPUExecutionProvider",
                    "metrics": {"mse": 10.6},
                }
            ]
        }
    )
}

V1_CARD: Responses = {
    "200": _response({"name": "linear-regression", "version": 1, "task": "regression"})
}

V1_PREDICT_BODY: dict[str, Any] = {
    "requestBody": {
        "required": True,
        "description": "Rows of raw features (`[[x1, x2], ...]`; a one-feature model also takes "
        "bare numbers `[60, 70]`).",
        "content": {
            _JSON: {
                "schema": {"type": "object", "properties": {"instances": {"type": "array"}}},
                "example": {"instances": [[60.0], [72.5]]},
            }
        },
    }
}

V1_PREDICT: Responses = {
    "200": _response(
        {"predictions": [{"class": 1, "label": "1", "probabilities": [0.12, 0.88]}]},
        "Classifiers: class, label and probabilities per instance; regressors: one value each.",
    ),
    "404": _error("model 'nope' not found", described=True),
    "422": _error(
        "instances must be rows of 2 numbers, got an array of shape [1, 3]", described=True
    ),
}

LIVE: Responses = {"200": _response({"live": True})}

READY: Responses = {
    "200": _response({"ready": True}),
    "503": _error("not ready: mnist-mlp version 1 (ValueError: ...)", described=True),
}

PREDICT_BODY: dict[str, Any] = {
    "requestBody": {
        "required": True,
        "description": "PNG, JPEG, BMP, GIF (first frame) or WebP; any size and colour mode. "
        "Either multipart field `file`, or the raw bytes with an image/* content type.",
        "content": {
            "multipart/form-data": {
                "schema": {
                    "type": "object",
                    "properties": {UPLOAD_FIELD: {"type": "string", "format": "binary"}},
                    "required": [UPLOAD_FIELD],
                }
            },
            "image/*": {"schema": {"type": "string", "format": "binary"}},
        },
    }
}

PREDICT: Responses = {
    "200": _response(
        {
            "model": "mnist-mlp",
            "version": 1,
            "digit": 7,
            "probabilities": [0.0, 0.0, 0.001, 0.0, 0.0, 0.0, 0.0, 0.998, 0.0, 0.001],
            "provider": "CPUExecutionProvider",
        },
        "The digit, the probability of each class, and with ?debug=true the 28x28 `image` the "
        "model saw (rows of 0-255 integers).",
    ),
    "404": _error("model 'nope' not found", described=True),
    "413": _error("image is 20000x20000 = 400000000 pixels; the limit is 25000000", described=True),
    "415": _error("not an image in a supported format (PNG, JPEG, BMP, GIF, WebP)", described=True),
    "422": _error("the image is blank: no ink (no digit) was found on it", described=True),
    "503": _error("model mnist-mlp version 1 is not ready: ...", described=True),
}
