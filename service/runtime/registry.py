"""The model repository, loaded: one ModelVersion per models/<name>/<version>/ directory.

Loading never stops at a bad model: a missing or unreadable card, a file whose sha256 does
not match the card, or a graph onnxruntime refuses leaves that version not ready, with the
reason in its metadata and the log, while every other version serves. The one failure that
does stop the start is a strict `cuda` provider setting on a machine without CUDA.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import Any

import anyio.to_thread
import numpy as np

from service.cards import ModelCard, read_card, verify_files
from service.config import Settings
from service.errors import ModelNotFound, ModelNotReady
from service.runtime.batching import Batcher, dynamic_batcher
from service.runtime.session import ProviderUnavailable, RunObserver, Runtime

log = logging.getLogger(__name__)

InferenceObserver = Callable[["ModelVersion", float], None]
"""Called with a version and the seconds one run of its model.onnx took (the app's metrics)."""


class ModelVersion:
    """One served model version: its card, its sessions, and whether it is ready."""

    def __init__(self, name: str, version: int, path: Path) -> None:
        self.name = name
        self.version = version
        self.path = path
        self.ready = False
        self.reason: str | None = "not loaded yet"
        self.runtime: Runtime | None = None
        self.step_runtime: Runtime | None = None
        self.batcher: Batcher | None = None
        """Gathers concurrent infer calls into shared runs (None: off; service.runtime.batching)."""
        self._card: ModelCard | None = None
        self.in_flight = 0
        """infer calls running on it: a version model control removed closes once it is 0."""
        self.holds_readiness = True
        """Whether its failure keeps the server unready; model control clears it for a version
        that failed after start while another version of the model serves."""

    @property
    def card(self) -> ModelCard:
        """The version's card; raises ModelNotReady when card.json could not be read."""
        if self._card is None:
            raise ModelNotReady(f"model {self.name} version {self.version} has no readable card")
        return self._card

    @property
    def has_card(self) -> bool:
        return self._card is not None

    @property
    def loaded_card(self) -> ModelCard | None:
        """The card when card.json could be read, else None (a version that failed early)."""
        return self._card

    def tensors(self) -> dict[str, list[dict[str, Any]]]:
        """V2 `inputs` and `outputs` metadata: the graph's once loaded, else what the card
        declares, else none (a version whose card could not be read)."""
        if self.runtime is not None:
            inputs = [info.metadata() for info in self.runtime.inputs]
            outputs = [info.metadata() for info in self.runtime.outputs]
        elif self._card is not None:
            inputs = [spec.model_dump() for spec in self._card.inputs]
            outputs = [spec.model_dump() for spec in self._card.outputs]
        else:
            inputs, outputs = [], []
        return {"inputs": inputs, "outputs": outputs}

    @property
    def provider(self) -> str | None:
        """The execution provider model.onnx really runs on (None until loaded)."""
        return self.runtime.provider if self.runtime else None

    def load(self, settings: Settings, on_inference: InferenceObserver | None = None) -> None:
        """Read and verify the card, open and warm the sessions; record why when that fails.
        `on_inference` is called with the seconds each run of model.onnx takes (metrics)."""
        try:
            self._load(settings, on_inference)
        except ProviderUnavailable:
            raise
        except Exception as exc:  # any failure of one model must leave the others serving
            self.ready, self.reason = False, f"{type(exc).__name__}: {exc}"
            self.runtime = self.step_runtime = None
            log.error("model %s version %s is not ready: %s", self.name, self.version, self.reason)
            return
        self.ready, self.reason = True, None
        log.info("model %s version %s ready on %s", self.name, self.version, self.provider)

    def _load(self, settings: Settings, on_inference: InferenceObserver | None) -> None:
        self._card = card = read_card(self.path)
        if (card.name, card.version) != (self.name, self.version):
            raise ValueError(f"card says {card.name} version {card.version}, not its directory")
        problems = verify_files(self.path, card)
        if problems:
            raise ValueError("; ".join(problems))
        if "model" not in card.files:
            raise ValueError("card names no model file")
        on_run = None if on_inference is None else partial(on_inference, self)
        self.runtime = _open(self.path / card.files["model"].path, settings, on_run)
        if "step" in card.files:
            self.step_runtime = _open(self.path / card.files["step"].path, settings)
        self.batcher = dynamic_batcher(self.runtime, settings, self.name)

    async def infer(
        self,
        feeds: dict[str, np.ndarray],
        outputs: list[str] | None = None,
        timeout_us: int | None = None,
    ) -> dict[str, np.ndarray]:
        """Run model.onnx, through the dynamic batcher when there is one (its bounded queue
        and `timeout_us`, the longest the request may wait there). Readiness is checked where
        the version is looked up (Registry.get_ready)."""
        batcher, runtime = self.batcher, self.runtime
        if runtime is None:  # unloaded since it was looked up
            raise self._not_ready()
        self.in_flight += 1
        try:
            if batcher is not None:
                return await batcher.infer(feeds, outputs, timeout_us)
            return await anyio.to_thread.run_sync(runtime.run, feeds, outputs)
        finally:
            self.in_flight -= 1

    def close(self) -> None:
        """Out of service for good (unloaded by model control): its sessions are let go."""
        self.ready, self.reason = False, "unloaded"
        self.runtime = self.step_runtime = self.batcher = None

    def require_runtime(self) -> Runtime:
        """The model.onnx runtime; raises ModelNotReady with the reason when there is none."""
        if not self.ready or self.runtime is None:
            raise self._not_ready()
        return self.runtime

    def _not_ready(self) -> ModelNotReady:
        return ModelNotReady(
            f"model {self.name} version {self.version} is not ready: {self.reason}"
        )


def _open(path: Path, settings: Settings, on_run: RunObserver | None = None) -> Runtime:
    runtime = Runtime.load(
        path,
        providers=settings.providers,
        intra_op_threads=settings.intra_op_num_threads,
        inter_op_threads=settings.inter_op_num_threads,
        max_batch_size=settings.max_batch_size,
        on_run=on_run,
    )
    runtime.warm_up()
    return runtime


class Registry:
    """Every model version found under the repository, by name and version number."""

    def __init__(self, versions: list[ModelVersion]) -> None:
        self._versions = {(mv.name, mv.version): mv for mv in versions}
        self._numbers: dict[str, list[int]] = {}
        """name -> its version numbers, highest first (looked up on every request)."""
        self._index()

    def _index(self) -> None:
        numbers: dict[str, list[int]] = {}
        for name, number in sorted(self._versions, reverse=True):
            numbers.setdefault(name, []).append(number)
        self._numbers = numbers

    @classmethod
    def load(cls, settings: Settings, on_inference: InferenceObserver | None = None) -> Registry:
        """Discover, verify, open and warm every version; blocking (call it at start-up)."""
        versions = discover(settings.models_dir)
        if not versions:
            log.warning("no models found in %s", settings.models_dir)
        for mv in versions:
            mv.load(settings, on_inference)
        return cls(versions)

    def get(self, name: str, version: int | None = None) -> ModelVersion:
        """A version; when None, the highest that is ready, else the highest (whose reason
        then answers). Raises ModelNotFound."""
        if version is None:
            candidates = self._numbers.get(name)
            if not candidates:
                raise ModelNotFound(f"model {name!r} not found")
            ready = (v for v in candidates if self._versions[(name, v)].ready)
            version = next(ready, candidates[0])
        found = self._versions.get((name, version))
        if found is None:
            raise ModelNotFound(f"model {name!r} version {version} not found")
        return found

    def get_ready(self, name: str, version: int | None = None) -> ModelVersion:
        """Like get, and raises ModelNotReady (with the reason) when it cannot serve."""
        found = self.get(name, version)
        found.require_runtime()
        return found

    def put(self, mv: ModelVersion) -> None:
        """Serve `mv` (model control), replacing the version of the same number if any."""
        self._versions[(mv.name, mv.version)] = mv
        self._index()

    def remove(self, name: str, version: int) -> ModelVersion | None:
        """Stop finding a version (model control); requests already holding it finish."""
        removed = self._versions.pop((name, version), None)
        self._index()
        return removed

    def versions(self) -> list[ModelVersion]:
        """Every version, sorted by name then version."""
        return [self._versions[key] for key in sorted(self._versions)]

    def __contains__(self, name: object) -> bool:
        return name in self._numbers

    def not_ready(self) -> list[ModelVersion]:
        """The versions that keep the server unready (see ModelVersion.holds_readiness)."""
        return [mv for mv in self.versions() if not mv.ready and mv.holds_readiness]


def version_number(text: str) -> int | None:
    """A version directory or URL segment -> its positive number, else None.

    ASCII digits only and at most nine of them: str.isdigit() also accepts "²", and int()
    refuses strings of thousands of digits.
    """
    if not re.fullmatch(r"[0-9]{1,9}", text) or int(text) < 1:
        return None
    return int(text)


def parse_version(name: str, version: str | None) -> int | None:
    """A version named in a request (None: the latest) -> its number; ModelNotFound when the
    text is not a positive integer, since it then names no version."""
    if version is None:
        return None
    number = version_number(version)
    if number is None:
        raise ModelNotFound(f"model {name!r} version {version} not found")
    return number


def discover(models_dir: Path) -> list[ModelVersion]:
    """models/<name>/<version>/ directories whose version is a positive integer."""
    if not models_dir.is_dir():
        return []
    found: list[ModelVersion] = []
    for model_dir in sorted(p for p in models_dir.iterdir() if p.is_dir()):
        for version_dir in sorted(p for p in model_dir.iterdir() if p.is_dir()):
            number = version_number(version_dir.name)
            if number is not None:
                found.append(ModelVersion(model_dir.name, number, version_dir))
    return found
