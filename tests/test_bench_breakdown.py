"""benchmarks.breakdown: where one request's time goes, the app driven in-process (real models)."""

from __future__ import annotations

import math
from pathlib import Path

from benchmarks import asgi_driver, breakdown, payloads, plan
from benchmarks.servers import Threads

MODELS = Path(__file__).resolve().parents[1] / "models"


def test_the_app_is_timed_whole_and_from_its_fast_paths() -> None:
    x = payloads.normalized(payloads.digit_28x28())
    cells = {
        "v2-binary": (plan.V2_INFER, payloads.v2_binary(x)),
        "refused": ("/v2/models/no-such-model/infer", payloads.v2_binary(x)),
    }
    timed = asgi_driver.app_micros(MODELS, Threads(), cells, repeats=20)
    assert set(timed) == {"whole", "fast_paths", "handed_off"}
    assert timed["whole"]["v2-binary"] > 0 and timed["fast_paths"]["v2-binary"] > 0
    assert 0.0 <= timed["handed_off"]["v2-binary"] <= 1.0
    assert all(math.isnan(column["refused"]) for column in timed.values())  # a 404: not timed


def test_the_rows_add_up_to_the_whole_app_and_the_measured_p50() -> None:
    stages = {
        "stages_us": {"v2-json": {"decode body": 50.0, "session.run": 40.0, breakdown.HAND_OFF: 0}},
        "app_us": {"v2-json": 300.0},
        "fast_paths_us": {"v2-json": 250.0},
    }
    cells = [
        {"contender": name, "p50_ms": p50, "connections": 1, "images": 1, "workers": 1}
        for name, p50 in (("ceiling", 0.1), ("v2-json", 0.45))
    ]
    column = breakdown.explain(stages, cells)["stages_us"]["v2-json"]
    assert column[breakdown.MIDDLEWARE] == 50.0
    assert column[breakdown.REST] == 160.0  # the fast paths' 250 minus the stages' 90
    assert column["waiting (p50 minus all above)"] == 450.0 - 100.0 - 300.0
    assert column["whole app in-process"] == 300.0 and column["measured p50 at c=1"] == 450.0
