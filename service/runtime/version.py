"""One served model version: its card, its onnxruntime sessions, whether it is ready.

Loading never stops at a bad model: a missing or unreadable card, a file whose sha256 does
not match the card, or a graph onnxruntime refuses leaves that version not ready, with the
reason in its metadata and the log, while every other version serves. The one failure that
does stop the start is a strict `cuda` provider setting on a machine without CUDA.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import Any

import anyio.to_thread
import numpy as np

from service.cards import ModelCard, read_card, verify_files
from service.config import Settings
from service.errors import ModelNotReady
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
