"""The model card: the contract between training (which writes it) and the service (which reads it).

A model repository is laid out like Triton's::

    models/<name>/<version>/card.json    this schema
    models/<name>/<version>/model.onnx   inference graph          (files["model"])
    models/<name>/<version>/step.onnx    one gradient-descent step (files["step"], optional)
    models/<name>/<version>/curve.png    training curve            (files["curve"], optional)

Every file the card names carries its sha256; the service verifies them before loading and
never writes a card. Training imports this module; it imports nothing heavy.
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

CARD_FILE = "card.json"
SCHEMA_VERSION = 1

Datatype = Literal["FP32", "FP64", "INT64", "INT32", "UINT8", "BOOL"]
# "lesson": a calculus lesson (computation graph, derivative, activations): outputs to read, not
# predictions; V2 infer serves it, /predict and v1 predict refuse it.
Task = Literal["classification", "binary-classification", "regression", "function", "lesson"]
# "digit-gate": a binary classifier of 28x28 MNIST-form pieces whose probability says "a digit";
# POST /predict runs it on the pieces it cut and refuses an upload whose pieces are not digits.
Role = Literal["digit-gate"]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class TensorSpec(_Strict):
    """A named tensor with a V2 datatype; -1 marks a dynamic axis (the batch axis)."""

    name: str
    datatype: Datatype = "FP32"
    shape: list[int]


class FileEntry(_Strict):
    """A file of the version directory, with the digest the service checks before loading it."""

    path: str
    sha256: str = Field(pattern=r"^[0-9a-f]{64}$")
    bytes: int = Field(ge=0)


class Preprocessing(_Strict):
    """How raw inputs become the model's input tensor.

    kind="mnist": 28x28 grayscale, white ink on black, pixel/255, then (p - mean[0]) / std[0],
    flattened to 784 values; done by the client or the service's /predict, not by the graph.
    kind="standardize": (x - mean) / std per feature (polynomial features first when `degree`
    is set); `in_graph` says the ONNX graph does it, so callers send raw x.
    kind="none": the graph takes its input as is.
    kind="legendre": t = (x - mean[0]) / std[0] maps the data's range onto [-1, 1] and the
    features are sqrt(2k + 1) P_k(t), k = 1..degree (orthonormal Legendre polynomials, which
    keep gradient descent well conditioned at high degree); in the graph.
    """

    kind: Literal["mnist", "standardize", "none", "legendre"]
    mean: list[float] = []
    std: list[float] = []
    degree: int | None = None
    in_graph: bool = False


class StepSpec(_Strict):
    """The gradient-step graph step.onnx: loss, gradients and updated parameters.

    Inputs: every parameter (names as in model.onnx's initializers), `x` and `y` where the
    model learns from data, `learning_rate` and `l2` (scalars). Outputs: `loss` (before the
    step), then for each parameter its gradient and its updated value under the names below.
    """

    loss: str
    parameters: list[TensorSpec]
    x: TensorSpec | None = None
    y: TensorSpec | None = None
    learning_rate: str = "learning_rate"
    l2: str = "l2"
    loss_output: str = "loss"
    gradient_outputs: dict[str, str]
    updated_outputs: dict[str, str]
    prediction_output: str | None = None
    """An output holding the model's prediction for each row of x at the parameters fed in
    (before the step): lets a client draw a walk's curve or decision boundary."""
    degree: str | None = None
    """An INT64 scalar input choosing the polynomial degree, 1..max_degree (None: no choice)."""
    max_degree: int | None = None


class TrainingInfo(_Strict):
    """How the artifacts were made, so a run can be reproduced and compared."""

    config: dict[str, Any]
    seed: int
    device: str
    epochs: int
    time_s: float
    epoch_time_s: float | None = None
    samples_per_s: float | None = None
    data_sha256: dict[str, str] = {}
    versions: dict[str, str] = {}


class DataSet(_Strict):
    """A model's own small data set: what a gradient-step request that sends no x and y uses.

    x rows and y values as the step graph takes them (raw, like model.onnx's input); the
    validation part, when there is one, gives each step a held-out loss beside its own.
    """

    description: str
    x: list[list[float]]
    y: list[float]
    validation_x: list[list[float]] = []
    validation_y: list[float] = []


class ModelCard(_Strict):
    """Everything the service needs to serve one model version, and a person to trust it."""

    schema_version: int = SCHEMA_VERSION
    name: str = Field(pattern=r"^[a-z0-9][a-z0-9-]*$")
    version: int = Field(ge=1)
    task: Task
    description: str
    formula: str | None = None  # what the graph computes, in the notes' notation
    inputs: list[TensorSpec]
    outputs: list[TensorSpec]
    preprocessing: Preprocessing
    labels: list[str] = []
    parameters: list[TensorSpec] = []
    metrics: dict[str, float] = {}
    files: dict[str, FileEntry]
    step: StepSpec | None = None
    data: DataSet | None = None
    training: TrainingInfo | None = None
    role: Role | None = None
    """What the service uses the model for besides serving it (None: only served)."""

    def to_json(self) -> str:
        return self.model_dump_json(indent=2) + "\n"


def sha256_file(path: Path) -> str:
    """Hex sha256 of a file, read in chunks so large files never sit whole in memory."""
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def file_entry(version_dir: Path, relative: str) -> FileEntry:
    """Describe one file of a version directory for the card."""
    path = version_dir / relative
    return FileEntry(path=relative, sha256=sha256_file(path), bytes=path.stat().st_size)


def read_card(version_dir: Path) -> ModelCard:
    """Parse a version directory's card.json (raises OSError or pydantic.ValidationError)."""
    return ModelCard.model_validate_json((version_dir / CARD_FILE).read_bytes())


def write_card(version_dir: Path, card: ModelCard) -> Path:
    """Write card.json; only training calls this."""
    path = version_dir / CARD_FILE
    path.write_text(card.to_json(), encoding="utf-8")
    return path


def verify_files(version_dir: Path, card: ModelCard) -> list[str]:
    """Problems with the card's files (missing, wrong size or digest); empty when all match."""
    problems: list[str] = []
    for role, entry in sorted(card.files.items()):
        path = version_dir / entry.path
        if not path.is_file():
            problems.append(f"{role} file {entry.path} is missing")
        elif path.stat().st_size != entry.bytes:
            size = path.stat().st_size
            problems.append(f"{role} file {entry.path} has {size} bytes, card says {entry.bytes}")
        elif sha256_file(path) != entry.sha256:
            problems.append(f"{role} file {entry.path} does not match its sha256 in the card")
    return problems
