"""ModelControl on a real registry of tiny ONNX models: polls and explicit loads, in-process."""

from __future__ import annotations

import asyncio
from pathlib import Path

import numpy as np
import pytest

from service.config import Settings
from service.errors import BadRequest, ModelControlOff, ModelNotFound
from service.runtime.registry import Registry
from service.runtime.repository import ModelControl
from tests.service.runtime.repository_edits import add_version, remove


def control(repo: Path, mode: str = "poll") -> ModelControl:
    settings = Settings(models_dir=repo, model_control=mode, grpc_port=0)
    registry = Registry.load(settings)
    return ModelControl(registry, settings, observer=None, on_change=lambda: None)


def states(ctl: ModelControl) -> dict[tuple[str, str], str]:
    return {(e.name, e.version): e.state for e in ctl.index()}


def test_poll_loads_a_new_version_and_it_answers_unversioned(tiny_repo: Path) -> None:
    ctl = control(tiny_repo)
    add_version(tiny_repo, "tiny-softmax", source=2, version=3)

    async def run() -> None:
        await ctl.poll()
        latest = ctl.registry.get_ready("tiny-softmax")
        assert latest.version == 3
        out = await latest.infer({"input": np.ones((2, 4), np.float32)})
        assert out["probabilities"].shape == (2, 3)
        await ctl.poll()  # nothing changed: nothing reloads
        assert ctl.registry.get("tiny-softmax", 3) is latest

    asyncio.run(run())
    assert states(ctl)[("tiny-softmax", "3")] == "READY"


def test_poll_reports_a_broken_version_while_the_previous_serves(tiny_repo: Path) -> None:
    ctl = control(tiny_repo)
    add_version(tiny_repo, "tiny-softmax", source=2, version=3, broken=True)
    asyncio.run(ctl.poll())
    broken = ctl.registry.get("tiny-softmax", 3)
    assert not broken.ready and "sha256" in (broken.reason or "")
    assert ctl.registry.get_ready("tiny-softmax").version == 2
    assert ctl.registry.not_ready() == []  # one bad upload does not unready the server
    entry = next(e for e in ctl.index() if (e.name, e.version) == ("tiny-softmax", "3"))
    assert entry.state == "UNAVAILABLE" and "sha256" in entry.reason
    assert all(e.version != "3" for e in ctl.index(ready_only=True))


def test_poll_unloads_a_removed_model_after_its_requests(tiny_repo: Path) -> None:
    ctl = control(tiny_repo)
    removed = ctl.registry.get("tiny-logistic")
    remove(tiny_repo, "tiny-logistic")

    async def run() -> None:
        removed.in_flight += 1  # a request still running on it
        await ctl.poll()
        with pytest.raises(ModelNotFound):
            ctl.registry.get("tiny-logistic")
        await asyncio.sleep(0.7)
        assert removed.ready  # still open for the request in flight
        removed.in_flight -= 1
        await asyncio.sleep(0.1)
        assert not removed.ready and removed.runtime is None

    asyncio.run(run())
    assert ("tiny-logistic", "1") not in states(ctl)


def test_poll_unloads_a_removed_version_and_keeps_the_others(tiny_repo: Path) -> None:
    ctl = control(tiny_repo)
    remove(tiny_repo, "tiny-softmax", "2")
    asyncio.run(ctl.poll())
    assert ctl.registry.get_ready("tiny-softmax").version == 1
    with pytest.raises(ModelNotFound):
        ctl.registry.get("tiny-softmax", 2)


def test_explicit_load_and_unload(tiny_repo: Path) -> None:
    ctl = control(tiny_repo, "explicit")

    async def run() -> None:
        await ctl.unload("tiny-linear")
        assert states(ctl)[("tiny-linear", "1")] == "UNAVAILABLE"
        with pytest.raises(ModelNotFound):
            ctl.registry.get("tiny-linear")
        await ctl.load("tiny-linear")
        assert ctl.registry.get_ready("tiny-linear").version == 1
        with pytest.raises(ModelNotFound, match="not in the repository"):
            await ctl.load("nope")
        with pytest.raises(ModelNotFound, match="not loaded"):
            await ctl.unload("nope")
        add_version(tiny_repo, "tiny-linear", source=1, version=2, broken=True)
        remove(tiny_repo, "tiny-linear", "1")
        with pytest.raises(BadRequest, match="failed to load: version 2: ValueError"):
            await ctl.load("tiny-linear")

    asyncio.run(run())


def test_none_refuses(tiny_repo: Path) -> None:
    ctl = control(tiny_repo, "none")
    with pytest.raises(ModelControlOff, match="NNSERVE_MODEL_CONTROL=none"):
        ctl.index()
    with pytest.raises(ModelControlOff):
        asyncio.run(ctl.load("tiny-linear"))
