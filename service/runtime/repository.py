"""Model control: Triton's repository API (index, load, unload) and a repository that polls.

    NNSERVE_MODEL_CONTROL=none      the models found at start serve until the process ends;
                                    the repository API answers 403 saying it is off
    NNSERVE_MODEL_CONTROL=explicit  every model found at start is loaded, then the API loads
                                    (re-reads models/<name>/, every version) and unloads
    NNSERVE_MODEL_CONTROL=poll      as explicit, and every NNSERVE_REPOSITORY_POLL_SECONDS
                                    the repository is rescanned: new or changed version
                                    folders load, removed ones unload

A version is verified (sha256 of every file), opened and warmed up off the event loop
before the registry sees it, so no request ever meets a half-loaded model. A version that
fails stays listed, not ready, with its reason; unversioned requests keep going to the
highest version that is ready, and a failure after start does not take the whole server out
of readiness while an older version of the model serves. A removed version leaves the
registry at once (no new request finds it) and is closed once its in-flight requests finish.
Every version present on disk stays loaded: the repository, not a policy, says which serve.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import AsyncIterator, Callable, Iterable
from dataclasses import asdict, dataclass
from typing import Literal

import anyio.to_thread

from service.config import Settings
from service.errors import BadRequest, ModelControlOff, ModelNotFound
from service.runtime.registry import Registry, discover
from service.runtime.version import InferenceObserver, ModelVersion

log = logging.getLogger(__name__)

ControlMode = Literal["none", "explicit", "poll"]
DRAIN_GRACE_SECONDS = 0.5
"""A removed version first waits this long: a request may have looked it up and still be
reading its body before it counts as in flight."""
DRAIN_SECONDS = 30.0
"""Longest a removed version waits for its in-flight requests before it is closed anyway."""
Key = tuple[str, int]


@dataclass(frozen=True)
class IndexEntry:
    """One line of the repository index, as Triton words it."""

    name: str
    version: str
    state: str
    """READY, UNAVAILABLE (failed or not loaded) or UNLOADING."""
    reason: str

    def as_dict(self) -> dict[str, str]:
        return asdict(self)


class ModelControl:
    """Loads and unloads versions in the live registry; one change at a time."""

    def __init__(
        self,
        registry: Registry,
        settings: Settings,
        observer: InferenceObserver | None,
        on_change: Callable[[], None],
    ) -> None:
        self.registry = registry
        self.settings = settings
        self.mode: ControlMode = settings.model_control
        self.observer = observer
        """Handed to each version it loads: the seconds of each run (the app's metrics)."""
        self.on_change = on_change
        """Called after the registry changed (the app updates its gauges)."""
        self._lock = asyncio.Lock()
        self._draining: dict[int, asyncio.Task[None]] = {}
        self._seen: dict[Key, tuple[int, int]] = _signatures(registry.versions())

    def index(self, ready_only: bool = False) -> list[IndexEntry]:
        """Every version loaded or on disk; only those that serve when ready_only."""
        self._require_on()
        entries = {
            (mv.name, mv.version): IndexEntry(
                mv.name, str(mv.version), "READY" if mv.ready else "UNAVAILABLE", mv.reason or ""
            )
            for mv in self.registry.versions()
        }
        for mv in discover(self.settings.models_dir):
            entries.setdefault(
                (mv.name, mv.version),
                IndexEntry(mv.name, str(mv.version), "UNAVAILABLE", "unloaded"),
            )
        listed = [entries[key] for key in sorted(entries)]
        return [e for e in listed if e.state == "READY"] if ready_only else listed

    async def load(self, name: str) -> None:
        """Load every version of models/<name>/ afresh; the ones it replaces drain."""
        self._require_on()
        async with self._lock:
            found = [mv for mv in discover(self.settings.models_dir) if mv.name == name]
            if not found:
                raise ModelNotFound(f"model {name!r} is not in the repository")
            for mv in found:
                await self._load_version(mv)
            gone = [mv for mv in self.registry.versions() if mv.name == name]
            for mv in gone:
                self.registry.remove(mv.name, mv.version)
            serving = any(mv.ready for mv in found)
            for mv in found:
                mv.holds_readiness = mv.ready or not serving
                self.registry.put(mv)
            self._changed(found, gone)
        if not serving:
            reasons = "; ".join(f"version {mv.version}: {mv.reason}" for mv in found)
            raise BadRequest(f"model {name!r} failed to load: {reasons}")

    async def unload(self, name: str) -> None:
        """Take every version of the model out of service; returns once they have drained."""
        self._require_on()
        async with self._lock:
            gone = [mv for mv in self.registry.versions() if mv.name == name]
            if not gone:
                raise ModelNotFound(f"model {name!r} is not loaded")
            for mv in gone:
                self.registry.remove(mv.name, mv.version)
            self._changed([], gone)
        await asyncio.gather(*(self._draining[id(mv)] for mv in gone if id(mv) in self._draining))

    async def poll(self) -> None:
        """One rescan: load what is new or changed, unload what is gone."""
        async with self._lock:
            on_disk = {(mv.name, mv.version): mv for mv in discover(self.settings.models_dir)}
            signatures = _signatures(on_disk.values())
            loaded = {(mv.name, mv.version): mv for mv in self.registry.versions()}
            fresh = [on_disk[k] for k in on_disk if self._seen.get(k) != signatures[k]]
            for mv in fresh:
                await self._load_version(mv)
                self._seen[(mv.name, mv.version)] = signatures[(mv.name, mv.version)]
            gone = [loaded[k] for k in loaded.keys() - on_disk.keys()]
            for mv in gone:
                self.registry.remove(mv.name, mv.version)
                self._seen.pop((mv.name, mv.version), None)
            served = [mv for mv in fresh if self._admit(mv, loaded.get((mv.name, mv.version)))]
            replaced = [loaded[k] for k in ((mv.name, mv.version) for mv in served) if k in loaded]
            if served or gone:
                self._changed(served, [*gone, *replaced])

    @contextlib.asynccontextmanager
    async def running(self) -> AsyncIterator[None]:
        """The lifespan's part: poll in the background in poll mode, stop polling at the end."""
        if self.mode != "poll":
            yield
            return
        poller = asyncio.create_task(self.run_polling())
        try:
            yield
        finally:
            poller.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await poller

    async def run_polling(self) -> None:
        """Poll forever (the lifespan cancels it); a failed scan is logged and retried."""
        while True:
            await asyncio.sleep(self.settings.repository_poll_seconds)
            try:
                await self.poll()
            except Exception:  # a bad scan must not end the polling, nor the server
                log.exception("repository poll failed")

    def _admit(self, mv: ModelVersion, previous: ModelVersion | None) -> bool:
        """Put a freshly loaded version in service, unless it would replace a serving copy of
        itself with a broken one (a version folder rewritten badly keeps the old copy)."""
        if previous is not None and previous.ready and not mv.ready:
            log.error(
                "model %s version %s changed and failed: %s; the loaded copy keeps serving",
                mv.name,
                mv.version,
                mv.reason,
            )
            return False
        others = [v for v in self.registry.versions() if v.name == mv.name and v.ready]
        mv.holds_readiness = mv.ready or not others
        self.registry.put(mv)
        return True

    async def _load_version(self, mv: ModelVersion) -> None:
        await anyio.to_thread.run_sync(mv.load, self.settings, self.observer)

    def _changed(self, added: list[ModelVersion], removed: list[ModelVersion]) -> None:
        for mv in added:
            log.info(
                "model %s version %s %s",
                mv.name,
                mv.version,
                "serving" if mv.ready else f"not ready: {mv.reason}",
            )
        for mv in removed:
            self._draining[id(mv)] = asyncio.create_task(self._drain(mv))
        self.on_change()

    async def _drain(self, mv: ModelVersion) -> None:
        deadline = time.monotonic() + DRAIN_SECONDS
        await asyncio.sleep(DRAIN_GRACE_SECONDS)
        while mv.in_flight and time.monotonic() < deadline:
            await asyncio.sleep(0.01)
        mv.close()
        self._draining.pop(id(mv), None)
        log.info("model %s version %s unloaded", mv.name, mv.version)

    def _require_on(self) -> None:
        if self.mode == "none":
            raise ModelControlOff(
                "model control is off (NNSERVE_MODEL_CONTROL=none): set it to explicit or "
                "poll to load and unload models while the server runs"
            )


def _signatures(versions: Iterable[ModelVersion]) -> dict[Key, tuple[int, int]]:
    """(mtime, size) of each version's card.json: a rewritten card marks a changed version."""
    found: dict[Key, tuple[int, int]] = {}
    for mv in versions:
        try:
            stat = (mv.path / "card.json").stat()
        except OSError:
            found[(mv.name, mv.version)] = (0, 0)
            continue
        found[(mv.name, mv.version)] = (stat.st_mtime_ns, stat.st_size)
    return found
