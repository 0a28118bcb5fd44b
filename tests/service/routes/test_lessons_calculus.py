"""The calculus lessons served like every model, on the real app and the committed files.

The notes' numbers through V2 infer (computation graph at (5, 3, 2), the derivative's secants
and the chain rule's 3000, the activations and softmax's temperature), the lessons in
/v1/models with their task and formula, their V2 metadata, /predict refusing them, and bad
input answered with the same 4xx JSON as any other model.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest
from fastapi.testclient import TestClient

LESSONS = {
    "computation-graph": ("input", "FP32", 3),
    "derivative": ("input", "FP64", 2),
    "activations": ("z", "FP32", 1),
}


def infer(client: TestClient, name: str, *inputs: tuple[str, str, list[list[float]]]) -> Any:
    body = {
        "inputs": [
            {"name": n, "datatype": d, "shape": [len(rows), len(rows[0])], "data": rows}
            for n, d, rows in inputs
        ]
    }
    answer = client.post(f"/v2/models/{name}/infer", json=body)
    assert answer.status_code == 200, answer.text
    return {o["name"]: np.array(o["data"]).reshape(o["shape"]) for o in answer.json()["outputs"]}


def test_the_computation_graph_at_5_3_2(client: TestClient) -> None:
    out = infer(client, "computation-graph", ("input", "FP32", [[5, 3, 2]]))
    got = {name: float(value[0, 0]) for name, value in out.items()}
    want = {"u": 6, "v": 11, "J": 33, "dJ_dv": 3, "dJ_du": 3, "dJ_da": 3, "dJ_db": 6, "dJ_dc": 9}
    assert got == want


def test_nudging_a_by_a_thousandth_moves_j_by_three_thousandths(client: TestClient) -> None:
    out = infer(client, "computation-graph", ("input", "FP32", [[5, 3, 2], [5.001, 3, 2]]))
    assert out["J"][1, 0] - out["J"][0, 0] == pytest.approx(0.003, abs=1e-5)
    assert out["dJ_da"][0, 0] * 0.001 == pytest.approx(0.003)


def test_the_derivative_notes_numbers(client: TestClient) -> None:
    rows = [[2, 1e-3], [5, 1e-3], [1, 1e-6]]
    out = infer(client, "derivative", ("input", "FP64", rows))
    np.testing.assert_allclose(out["f"][0, :2], [8, 4])
    np.testing.assert_allclose(out["f_plus_h"][0, :2], [8.004, 4.004001], rtol=1e-12)
    np.testing.assert_allclose(out["slope_estimate"][0, :2], [4, 4.001], rtol=1e-9)
    np.testing.assert_allclose(out["slope"][0, :2], [4, 4])
    np.testing.assert_allclose(out["f_plus_h"][1, 1], 25.010001, rtol=1e-12)
    np.testing.assert_allclose(out["slope_estimate"][1, 1], 10.001, rtol=1e-9)
    assert out["slope"][1, 1] == 10
    assert out["slope"][2, 2] == 3000  # the chain rule: 4 (3 + 2)^3 * 6
    assert abs(out["slope_estimate"][2, 2] - 3000) < 0.01  # FP64 keeps h = 1e-6 honest


def test_the_estimate_closes_on_the_slope_until_rounding_takes_over(client: TestClient) -> None:
    powers = range(1, 16)
    out = infer(client, "derivative", ("input", "FP64", [[5, 10.0**-p] for p in powers]))
    error = np.abs(out["slope_estimate"][:, 1] - out["slope"][:, 1])  # a^2 at a = 5
    assert error[0] > error[3] > error[6]  # h = 0.1 > 1e-4 > 1e-7: the secant hugs the curve
    assert error[-1] > error[6]  # h = 1e-15: rounding has taken over


def test_activations_and_their_derivatives(client: TestClient) -> None:
    z = [[-2.0], [0.0], [3.0]]
    out = infer(client, "activations", ("z", "FP32", z))
    sig = 1 / (1 + np.exp(-np.array(z)))
    np.testing.assert_allclose(out["sigmoid"], sig, rtol=1e-6)
    np.testing.assert_allclose(out["sigmoid_grad"], sig * (1 - sig), rtol=1e-5)
    assert out["sigmoid_grad"][1, 0] == 0.25
    np.testing.assert_allclose(out["tanh_grad"], 1 - np.tanh(z) ** 2, rtol=1e-5, atol=1e-7)
    assert out["relu"].ravel().tolist() == [0, 0, 3]
    assert out["relu_grad"].ravel().tolist() == [0, 0, 1]


def test_softmax_temperature_sharpens_and_flattens(client: TestClient) -> None:
    scores = [[2.0, 1.0, 0.1]] * 3
    out = infer(
        client,
        "softmax-temperature",
        ("scores", "FP32", scores),
        ("temperature", "FP32", [[1.0], [0.1], [10.0]]),
    )
    p = out["softmax"]
    np.testing.assert_allclose(p.sum(axis=1), 1, rtol=1e-6)
    np.testing.assert_allclose(p[0], np.exp(scores[0]) / np.exp(scores[0]).sum(), rtol=1e-6)
    assert p[1, 0] > 0.99 and p[2].max() - p[2].min() < 0.1


def test_lessons_are_listed_with_their_task_and_formula(client: TestClient) -> None:
    listed = {m["name"]: m for m in client.get("/v1/models").json()["models"]}
    for name in [*LESSONS, "softmax-temperature"]:
        assert listed[name]["task"] == "lesson" and listed[name]["ready"], name
        card = client.get(f"/v1/models/{name}").json()
        assert card["formula"], name


@pytest.mark.parametrize("name", LESSONS)
def test_v2_metadata_describes_inputs_and_outputs(client: TestClient, name: str) -> None:
    meta = client.get(f"/v2/models/{name}").json()
    card = client.get(f"/v1/models/{name}").json()
    assert meta["inputs"] == [
        {k: s[k] for k in ("name", "datatype", "shape")} for s in card["inputs"]
    ]
    assert [o["name"] for o in meta["outputs"]] == [o["name"] for o in card["outputs"]]
    assert {o["datatype"] for o in meta["outputs"]} == {LESSONS[name][1]}


@pytest.mark.parametrize("name", [*LESSONS, "softmax-temperature"])
def test_predict_refuses_a_lesson(client: TestClient, name: str, repo_root: Path) -> None:
    image = repo_root / "docs" / "img" / "web-overview.png"  # any real PNG: refused before decoding
    files = {"file": ("digit.png", image.read_bytes(), "image/png")}
    answer = client.post(f"/predict?model={name}", files=files)
    assert answer.status_code == 422
    assert "error" in answer.json()


def bad_bodies(width: int, datatype: str, input_name: str) -> list[tuple[str, str]]:
    """Raw JSON bodies, so NaN and 1e999 reach the service as written."""

    def body(rows: int, cols: int, data: str, dtype: str = datatype) -> str:
        tensor = f'"name": "{input_name}", "datatype": "{dtype}", "shape": [{rows}, {cols}]'
        return f'{{"inputs": [{{{tensor}, "data": [{data}]}}]}}'

    def repeat(value: str, count: int) -> str:
        return ", ".join([value] * count)

    return [
        ("wrong width", body(1, width + 1, repeat("1.0", width + 1))),
        ("infinity", body(1, width, repeat("1e999", width))),
        ("NaN", body(1, width, repeat("NaN", width))),
        ("huge batch", body(5000, width, repeat("1.0", 5000 * width))),
        ("wrong datatype", body(1, width, repeat("1", width), "INT64")),
    ]


@pytest.mark.parametrize("name", LESSONS)
def test_bad_input_gets_the_same_4xx_as_any_model(client: TestClient, name: str) -> None:
    input_name, datatype, width = LESSONS[name]
    ours = bad_bodies(width, datatype, input_name)
    reference = bad_bodies(1, "FP32", "input")  # linear-regression: one weight per row
    headers = {"content-type": "application/json"}
    for (why, body), (_, other) in zip(ours, reference, strict=True):
        answer = client.post(f"/v2/models/{name}/infer", content=body, headers=headers)
        expected = client.post("/v2/models/linear-regression/infer", content=other, headers=headers)
        assert 400 <= answer.status_code < 500, (why, answer.text)
        assert answer.status_code == expected.status_code, (why, answer.text, expected.text)
        assert set(answer.json()) == set(expected.json()) >= {"error"}, why


def test_v1_predict_names_every_output_of_a_lesson(client: TestClient) -> None:
    answer = client.post("/v1/models/computation-graph/predict", json={"instances": [[5, 3, 2]]})
    assert answer.status_code == 200, answer.text
    (row,) = answer.json()["predictions"]
    assert row == {
        "u": 6,
        "v": 11,
        "J": 33,
        "dJ_dv": 3,
        "dJ_du": 3,
        "dJ_da": 3,
        "dJ_db": 6,
        "dJ_dc": 9,
    }
