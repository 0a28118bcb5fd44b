"""The app's lifespan: what it loads at start is kept out of the cyclic collector's scans while
it serves (a full collection walked the whole loaded heap, 75-100 ms under a flood), and is
handed back to it at shutdown."""

from __future__ import annotations

import gc
from pathlib import Path

from fastapi.testclient import TestClient

from service.app import create_app
from service.config import Settings


def test_the_heap_loaded_at_start_is_frozen_while_serving_and_thawed_after(
    models_dir: Path,
) -> None:
    assert gc.get_freeze_count() == 0
    with TestClient(create_app(Settings(models_dir=models_dir))) as client:
        assert client.get("/v2/health/ready").status_code == 200
        frozen = gc.get_freeze_count()
        assert frozen > 50_000  # onnxruntime, numpy, FastAPI, the models' cards
        assert client.get("/v2/health/live").status_code == 200
        gc.collect()
        assert gc.get_freeze_count() == frozen  # a collection does not walk or free them
    assert gc.get_freeze_count() == 0
