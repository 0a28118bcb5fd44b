"""One onnxruntime session with its tensor metadata: providers, warm-up, checks, run.

onnxruntime silently falls back to the CPU when a requested provider cannot start, so the
provider a session really runs on is read back from `session.get_providers()`, never assumed.
It also does not always reject a wrongly shaped input (a broadcastable shape can run and
return nonsense), so every feed is checked against the graph's declared inputs first.

Each check lives here once: `check` (inputs), `select_outputs` (output names); `run` does
both, `run_unchecked` neither (the batcher checked each request before it queued). Values
are not scanned here: NaN and Inf are refused once, where a tensor is decoded
(service.protocol.tensors). Every run is timed, in `run_unchecked`, for the metrics.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import numpy as np
import onnxruntime as ort

from service.errors import BadRequest
from service.protocol.tensors import ORT_TYPES, datatype_of

log = logging.getLogger(__name__)

CPU = "CPUExecutionProvider"
CUDA = "CUDAExecutionProvider"
ProviderChoice = Literal["auto", "cpu", "cuda"]
RunObserver = Callable[[float], None]
"""Called with the seconds each session.run took."""


class ProviderUnavailable(RuntimeError):
    """The strict `cuda` setting was asked for on a machine where CUDA cannot run."""


@dataclass(frozen=True)
class TensorInfo:
    """A graph input or output: name, V2 datatype, numpy dtype, shape (-1 = dynamic axis)."""

    name: str
    datatype: str
    dtype: np.dtype[Any]
    shape: tuple[int, ...]

    def metadata(self) -> dict[str, Any]:
        """The V2 `$metadata_tensor` object."""
        return {"name": self.name, "datatype": self.datatype, "shape": list(self.shape)}


def requested_providers(choice: ProviderChoice) -> list[str]:
    """Providers to ask onnxruntime for; raises ProviderUnavailable for a strict cuda request."""
    available = ort.get_available_providers()
    if choice == "cpu":
        return [CPU]
    if CUDA in available:
        return [CUDA, CPU]
    if choice == "cuda":
        raise ProviderUnavailable(
            "NNSERVE_PROVIDERS=cuda but onnxruntime offers no CUDAExecutionProvider "
            f"(available: {', '.join(available)}); install onnxruntime-gpu on a machine with "
            "a CUDA GPU, or set NNSERVE_PROVIDERS=auto or cpu"
        )
    return [CPU]


def session_options(intra_op_threads: int, inter_op_threads: int) -> ort.SessionOptions:
    options = ort.SessionOptions()
    options.intra_op_num_threads = intra_op_threads
    options.inter_op_num_threads = inter_op_threads
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    options.log_severity_level = 3  # errors only: onnxruntime's warnings are not JSON log lines
    return options


def _tensor_info(node: Any) -> TensorInfo:
    """Read an onnxruntime NodeArg; symbolic or unknown dimensions become -1."""
    datatype, dtype = ORT_TYPES.get(node.type, (node.type, np.dtype(np.object_)))
    shape = tuple(dim if isinstance(dim, int) and dim >= 0 else -1 for dim in node.shape)
    return TensorInfo(node.name, datatype, dtype, shape)


class Runtime:
    """An InferenceSession plus what the service needs to check and describe its tensors."""

    def __init__(
        self,
        session: ort.InferenceSession,
        path: Path,
        max_batch_size: int,
        on_run: RunObserver | None = None,
    ) -> None:
        self.session = session
        self.path = path
        self.max_batch_size = max_batch_size
        self.inputs = [_tensor_info(node) for node in session.get_inputs()]
        self.outputs = [_tensor_info(node) for node in session.get_outputs()]
        self.provider: str = session.get_providers()[0]
        self._inputs_by_name = {info.name: info for info in self.inputs}
        self._output_names = [info.name for info in self.outputs]
        self.on_run = on_run

    @classmethod
    def load(
        cls,
        path: Path,
        providers: ProviderChoice = "auto",
        intra_op_threads: int = 1,
        inter_op_threads: int = 1,
        max_batch_size: int = 1024,
        on_run: RunObserver | None = None,
    ) -> Runtime:
        """Open `path` on the chosen providers; strict cuda raises ProviderUnavailable."""
        wanted = requested_providers(providers)
        options = session_options(intra_op_threads, inter_op_threads)
        session = ort.InferenceSession(str(path), sess_options=options, providers=wanted)
        runtime = cls(session, path, max_batch_size, on_run)
        if providers == "cuda" and runtime.provider != CUDA:
            raise ProviderUnavailable(
                f"NNSERVE_PROVIDERS=cuda but {path} runs on {runtime.provider}: onnxruntime "
                "could not start CUDA (no GPU, or a driver/CUDA library mismatch)"
            )
        log.info("loaded %s on %s", path, runtime.provider)
        return runtime

    def output_names(self) -> list[str]:
        return list(self._output_names)

    def check(self, feeds: dict[str, np.ndarray]) -> None:
        """Raise BadRequest unless `feeds` names every input once with its dtype and shape."""
        unknown = sorted(set(feeds) - set(self._inputs_by_name))
        if unknown:
            raise BadRequest(f"unexpected input {unknown[0]!r}; the model takes {self._names()}")
        for info in self.inputs:
            if info.name not in feeds:
                raise BadRequest(f"missing input {info.name!r}; the model takes {self._names()}")
            _check_tensor(info, feeds[info.name], self.max_batch_size)

    def select_outputs(self, outputs: list[str] | None) -> list[str]:
        """The outputs to fetch: those named (BadRequest for one the graph lacks), else all."""
        if outputs is None:
            return list(self._output_names)
        for name in outputs:
            if name not in self._output_names:
                raise BadRequest(f"unknown output {name!r}; the model has {self._output_names}")
        return list(outputs)

    def run(
        self, feeds: dict[str, np.ndarray], outputs: list[str] | None = None
    ) -> dict[str, np.ndarray]:
        """Blocking: check the feeds and outputs, run the session, return the named outputs."""
        self.check(feeds)
        names = self.select_outputs(outputs)
        return dict(zip(names, self.run_unchecked(names, feeds), strict=True))

    def run_unchecked(self, names: list[str], feeds: dict[str, np.ndarray]) -> list[np.ndarray]:
        """Blocking: one timed session.run of feeds and names already checked."""
        start = time.perf_counter()
        values: list[np.ndarray] = self.session.run(names, feeds)
        if self.on_run is not None:
            self.on_run(time.perf_counter() - start)
        return values

    def warm_up(self) -> dict[str, np.ndarray]:
        """One untimed run on a batch of zeros, so the first real request pays no lazy
        initialisation; returns what the graph answered."""
        feeds = {
            info.name: np.zeros([1 if dim < 0 else dim for dim in info.shape], dtype=info.dtype)
            for info in self.inputs
        }
        return dict(zip(self._output_names, self.session.run(None, feeds), strict=True))

    def _names(self) -> list[str]:
        return [info.name for info in self.inputs]


def _check_tensor(info: TensorInfo, array: np.ndarray, max_batch_size: int) -> None:
    """Datatype, rank, fixed dimensions and batch size bounds of one input."""
    if array.dtype != info.dtype:
        raise BadRequest(
            f"input {info.name!r} has datatype {datatype_of(array.dtype)}, "
            f"the model expects {info.datatype}"
        )
    if array.ndim != len(info.shape) or any(
        want >= 0 and got != want for got, want in zip(array.shape, info.shape, strict=True)
    ):
        raise BadRequest(
            f"input {info.name!r} has shape {list(array.shape)}, "
            f"the model expects {list(info.shape)} (-1: any size)"
        )
    if info.shape and info.shape[0] < 0:
        if array.shape[0] == 0:
            raise BadRequest(f"input {info.name!r} has an empty batch")
        if array.shape[0] > max_batch_size:
            raise BadRequest(
                f"input {info.name!r} has a batch of {array.shape[0]}, "
                f"more than the limit of {max_batch_size}"
            )
