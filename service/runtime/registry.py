"""The model repository, loaded: one ModelVersion (service.runtime.version) per
models/<name>/<version>/ directory, found by name and version number.
"""

from __future__ import annotations

import logging
import re
from pathlib import Path

from service.config import Settings
from service.errors import ModelNotFound
from service.runtime.version import InferenceObserver, ModelVersion

log = logging.getLogger(__name__)


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

    def not_ready_reason(self) -> str:
        """Why the server is not ready ("" when it is): each such version and its reason, as
        the ready probe says it on either port."""
        return ", ".join(f"{mv.name} version {mv.version} ({mv.reason})" for mv in self.not_ready())


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
