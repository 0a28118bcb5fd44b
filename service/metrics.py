"""The service's metrics, one set per app, kept as plain counts and rendered by GET /metrics.

A request costs a few dict and list increments (measured interleaved, load1 9.8: 1.0 us,
2.1 in multiprocess mode, against 10.8 and 17.1 for prometheus_client's labelled counter and
histogram; a run's observation 1.9 against 9.1); the
Prometheus text exposition is written only when /metrics is scraped, and errors by status
are summed from the request counts then. With several uvicorn workers, set
PROMETHEUS_MULTIPROC_DIR to an empty directory before start (`multiprocess_directory` does):
each worker then writes its counts to `nnserve-<pid>.json` there, from a thread, at most
FLUSH_SECONDS after they change, and a scrape waits that long and adds up every worker's
file (models loaded: the most any worker has, ready: the fewest).
"""

from __future__ import annotations

import asyncio
import atexit
import bisect
import os
import shutil
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import orjson

MULTIPROC_ENV = "PROMETHEUS_MULTIPROC_DIR"
CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"
FLUSH_SECONDS = 0.02
"""Longest a worker's new counts wait before they reach its file (multiprocess mode)."""
PREFIX = "nnserve-"
SHARED_MEMORY = "/dev/shm"
"""Linux's RAM file system, where the count files go when it is there."""

# Latency buckets from 0.5 ms to 10 s: an MLP answers in well under a millisecond, a
# large image upload in tens of milliseconds.
LATENCY_BUCKETS = (0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 10.0)

Series = dict[tuple[str, ...], list[float]]
"""labels -> [observations per bucket (not cumulative) ..., +Inf's, sum of the values]."""


def observe(series: Series, labels: tuple[str, ...], seconds: float) -> None:
    """One observation: its bucket (the first bound >= it: Prometheus' `le`) and the sum."""
    counts = series.get(labels)
    if counts is None:
        counts = series[labels] = [0.0] * (len(LATENCY_BUCKETS) + 2)
    counts[bisect.bisect_left(LATENCY_BUCKETS, seconds)] += 1
    counts[-1] += seconds


class Metrics:
    """The service's counts; `endpoint` is a route template, never a raw path."""

    def __init__(self) -> None:
        self.requests: dict[tuple[str, str, int], int] = {}
        """(endpoint, model, status) -> requests answered."""
        self.latency: Series = {}
        """(endpoint, model): time from request start to the end of the response."""
        self.inference: Series = {}
        """(model, version): time inside onnxruntime's session.run."""
        self.models = (0, 0)
        """Versions (loaded, ready)."""
        self._runs = threading.Lock()  # runs are timed in worker threads, some at once
        directory = os.environ.get(MULTIPROC_ENV)
        self.directory = Path(directory) if directory else None
        self.multiprocess = self.directory is not None
        """Whether other workers' counts are summed here; a shared directory alone (the probe
        process's, see share) makes no process wait for or read anyone else's."""
        self._dirty = False
        self._wake = threading.Event()
        if self.directory is not None:
            self._start_flushing()

    def observe_request(self, endpoint: str, model: str, status: int, seconds: float) -> None:
        key = (endpoint, model, status)
        self.requests[key] = self.requests.get(key, 0) + 1
        observe(self.latency, (endpoint, model), seconds)
        if self.directory is not None and not self._dirty:
            self._changed()

    def observe_inference(self, model: str, version: int, seconds: float) -> None:
        with self._runs:
            observe(self.inference, (model, str(version)), seconds)
        if self.directory is not None and not self._dirty:
            self._changed()

    def set_models(self, loaded: int, ready: int) -> None:
        self.models = (loaded, ready)
        if self.directory is not None:
            self._changed()

    def share(self, directory: Path) -> None:
        """Write this process's counts to `directory` as a worker of multiprocess mode does
        (the probe process of asgi/probes.py reads them there); nothing if it already does."""
        if self.directory is None:
            self.directory = directory
            self._start_flushing()

    def _start_flushing(self) -> None:
        threading.Thread(target=self._flush_forever, name="metrics", daemon=True).start()
        atexit.register(self.flush)

    def _changed(self) -> None:
        self._dirty = True
        self._wake.set()

    def _flush_forever(self) -> None:
        while True:
            self._wake.wait()
            time.sleep(FLUSH_SECONDS)  # one write for whatever changes meanwhile
            self._wake.clear()
            self._dirty = False  # before the copy: a count after it marks the next flush
            self.flush()

    def snapshot(self) -> dict[str, Any]:
        """The counts as plain lists (what a worker's file holds)."""
        with self._runs:
            inference = [[*labels, *counts] for labels, counts in list(self.inference.items())]
        return {
            "requests": [[*key, count] for key, count in list(self.requests.items())],
            "latency": [[*labels, *counts] for labels, counts in list(self.latency.items())],
            "inference": inference,
            "models": list(self.models),
        }

    def flush(self) -> None:
        """Write this worker's counts to its file, whole (written aside, then renamed)."""
        if self.directory is None:
            return
        path = os.path.join(self.directory, f"{PREFIX}{os.getpid()}.json")
        aside = path[: -len(".json")] + ".tmp"
        try:  # os calls, not pathlib's buffered file: 50 flushes a second under load
            fd = os.open(aside, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
            try:
                os.write(fd, orjson.dumps(self.snapshot()))
            finally:
                os.close(fd)
            os.replace(aside, path)
        except FileNotFoundError:  # the directory went with its server (asgi/probes.py)
            return

    async def settle(self) -> None:
        """In multiprocess mode, wait until every count made before now is in its file."""
        if self.multiprocess:
            await asyncio.sleep(2 * FLUSH_SECONDS)

    def render(self) -> bytes:
        """The Prometheus text exposition of this process, or of every worker in multiprocess."""
        return exposition([self.snapshot(), *self._others()])

    def _others(self) -> list[dict[str, Any]]:
        """The other workers' files (multiprocess mode); one being replaced is read whole."""
        if not self.multiprocess or self.directory is None:
            return []
        return worker_snapshots(self.directory, skip=f"{PREFIX}{os.getpid()}.json")


def worker_snapshots(directory: Path, skip: str = "") -> list[dict[str, Any]]:
    """Every worker's file in `directory` but `skip`; one being replaced is read whole."""
    found = []
    for path in directory.glob(f"{PREFIX}*.json"):
        if path.name != skip:
            try:
                found.append(orjson.loads(path.read_bytes()))
            except (OSError, orjson.JSONDecodeError):  # a worker's file just went away
                continue
    return found


HELP = {
    "nnserve_requests_total": "HTTP requests by endpoint, model and status code.",
    "nnserve_request_duration_seconds": (
        "Time from request start to the end of the response, by endpoint and model."
    ),
    "nnserve_inference_duration_seconds": (
        "Time inside onnxruntime's session.run, by model and version."
    ),
    "nnserve_errors_total": "Responses with a status code of 400 or more, by status code.",
    "nnserve_models_loaded": "Model versions found in the repository.",
    "nnserve_models_ready": "Model versions loaded, verified, warmed up and serving.",
}


def exposition(parts: list[dict[str, Any]]) -> bytes:
    """Prometheus text format (0.0.4) of one or more workers' snapshots, added up."""
    requests: dict[tuple[str, ...], float] = {}
    errors: dict[tuple[str, ...], float] = {}
    latency: Series = {}
    inference: Series = {}
    for part in parts:
        for endpoint, model, status, count in part["requests"]:
            _add(requests, (endpoint, model, str(status)), count)
            if int(status) >= 400:
                _add(errors, (str(status),), count)
        _merge(latency, part["latency"])
        _merge(inference, part["inference"])
    loaded = max(part["models"][0] for part in parts)
    ready = min(part["models"][1] for part in parts)
    lines = _family("nnserve_requests_total", "counter", ("endpoint", "model", "status"), requests)
    lines += _histogram("nnserve_request_duration_seconds", ("endpoint", "model"), latency)
    lines += _histogram("nnserve_inference_duration_seconds", ("model", "version"), inference)
    lines += _family("nnserve_errors_total", "counter", ("status",), errors)
    lines += _family("nnserve_models_loaded", "gauge", (), {(): loaded})
    lines += _family("nnserve_models_ready", "gauge", (), {(): ready})
    return ("\n".join(lines) + "\n").encode()


def _add(totals: dict[tuple[str, ...], float], key: tuple[str, ...], count: float) -> None:
    totals[key] = totals.get(key, 0.0) + count


def _merge(into: Series, rows: list[list[Any]]) -> None:
    width = len(LATENCY_BUCKETS) + 2
    for row in rows:
        labels, counts = tuple(row[:-width]), row[-width:]
        have = into.setdefault(labels, [0.0] * width)
        for i, value in enumerate(counts):
            have[i] += value


def _family(
    name: str, kind: str, names: tuple[str, ...], values: dict[tuple[str, ...], float]
) -> list[str]:
    lines = [f"# HELP {name} {HELP[name]}", f"# TYPE {name} {kind}"]
    for labels, value in sorted(values.items()):
        lines.append(f"{name}{_labels(names, labels)} {float(value)!r}")
    return lines


def _histogram(name: str, names: tuple[str, ...], series: Series) -> list[str]:
    lines = [f"# HELP {name} {HELP[name]}", f"# TYPE {name} histogram"]
    bounds = [repr(bound) for bound in LATENCY_BUCKETS] + ["+Inf"]
    for labels, counts in sorted(series.items()):
        running = 0.0
        for bound, count in zip(bounds, counts, strict=False):  # the sum is left: below
            running += count
            lines.append(f"{name}_bucket{_labels((*names, 'le'), (*labels, bound))} {running!r}")
        lines.append(f"{name}_count{_labels(names, labels)} {running!r}")
        lines.append(f"{name}_sum{_labels(names, labels)} {float(counts[-1])!r}")
    return lines


def _labels(names: tuple[str, ...], values: tuple[str, ...]) -> str:
    if not names:
        return ""
    pairs = (f'{n}="{_escape(v)}"' for n, v in zip(names, values, strict=True))
    return "{" + ",".join(pairs) + "}"


def _escape(value: str) -> str:
    return value.replace("\\", r"\\").replace("\n", r"\n").replace('"', r"\"")


def counts_directory() -> Path:
    """A new directory for the workers' count files, in RAM (/dev/shm) where there is one: a
    flush there cost 36 us of CPU against 150 in this machine's ext4 /tmp (its O_TRUNC and
    journal), and under load a worker flushes 50 times a second."""
    ram = SHARED_MEMORY if os.access(SHARED_MEMORY, os.W_OK | os.X_OK) else None
    return Path(tempfile.mkdtemp(prefix="nnserve-metrics-", dir=ram))


@contextmanager
def multiprocess_directory(workers: int) -> Iterator[None]:
    """With several workers, point PROMETHEUS_MULTIPROC_DIR at an empty directory before any
    worker starts (workers inherit the environment), and remove it after. A directory the
    operator set is kept, but emptied of the files of earlier runs, which would otherwise be
    counted again."""
    given = os.environ.get(MULTIPROC_ENV)
    if workers <= 1 and not given:
        yield
        return
    if given:
        os.makedirs(given, exist_ok=True)
        for stale in os.scandir(given):
            if stale.name.endswith(".db") or stale.name.startswith(PREFIX):
                os.unlink(stale.path)
        yield
        return
    directory = str(counts_directory())
    os.environ[MULTIPROC_ENV] = directory
    try:
        yield
    finally:
        del os.environ[MULTIPROC_ENV]
        shutil.rmtree(directory, ignore_errors=True)
