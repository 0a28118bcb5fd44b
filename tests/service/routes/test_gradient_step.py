"""POST/GET /v1/models/{name}/gradient-step on the real app and the committed step graphs."""

from __future__ import annotations

import itertools
import math
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from service.app import create_app
from service.cards import read_card, sha256_file, write_card
from service.config import Settings

WEIGHT_KG = [48, 57, 50, 54, 64, 61, 43, 59]
HEIGHT_CM = [165, 165, 157, 170, 175, 165, 155, 170]
SLOPE, INTERCEPT = 0.7514124562779751, 124.29802113285037
LINEAR = "/v1/models/linear-regression/gradient-step"
BOWL = "/v1/models/quadratic-bowl/gradient-step"
LOGISTIC = "/v1/models/logistic-regression/gradient-step"
SOFTMAX = "/v1/models/mnist-softmax/gradient-step"


@pytest.fixture(scope="module")
def client(models_dir: Path) -> Iterator[TestClient]:
    with TestClient(create_app(Settings(models_dir=models_dir))) as client:
        yield client


def height_weight(**fields: Any) -> dict[str, Any]:
    return {"x": [[kg] for kg in WEIGHT_KG], "y": HEIGHT_CM, **fields}


def test_describe_lists_parameters_loss_data_and_limits(client: TestClient) -> None:
    answer = client.get(LINEAR)
    assert answer.status_code == 200
    body = answer.json()
    assert body["parameters"] == [
        {"name": "linear.weight", "datatype": "FP32", "shape": [1, 1]},
        {"name": "linear.bias", "datatype": "FP32", "shape": [1]},
    ]
    assert body["loss"] == "mean-squared-error"
    assert body["convention"].startswith("L = mean((y_hat - y)^2) + l2/(2m)")
    assert body["x"]["shape"] == [-1, 1] and body["y"]["datatype"] == "FP32"
    assert body["limits"] == {
        "max_steps": 1000,
        "max_learning_rate": 10.0,
        "max_batch": 1024,
        "max_work": 5_000_000_000,
    }


def test_describe_says_how_mnist_rows_are_normalized(client: TestClient) -> None:
    body = client.get("/v1/models/mnist-mlp/gradient-step").json()
    assert [p["name"] for p in body["parameters"]][::2] == [
        "fc1.weight",
        "fc2.weight",
        "fc3.weight",
    ]
    assert body["loss"] == "cross-entropy" and body["y"]["datatype"] == "INT64"
    assert body["x"]["meaning"].startswith("rows of 784 MNIST-normalized pixels, (p/255 - 0.1307)")


def test_describe_a_function_has_no_data(client: TestClient) -> None:
    body = client.get(BOWL).json()
    assert body["parameters"] == [{"name": "point", "datatype": "FP32", "shape": [2]}]
    assert body["x"] is None and body["y"] is None


@pytest.mark.parametrize("method", ["GET", "POST"])
def test_unknown_model_is_404(client: TestClient, method: str) -> None:
    answer = client.request(method, "/v1/models/nope/gradient-step", json={})
    assert answer.status_code == 404
    assert answer.json() == {"error": "model 'nope' not found"}


def test_linear_regression_walks_from_zeros_to_the_least_squares_line(
    client: TestClient, models_dir: Path
) -> None:
    card = read_card(models_dir / "linear-regression" / "1")
    mu, sigma = card.preprocessing.mean[0], card.preprocessing.std[0]
    answer = client.post(LINEAR, json=height_weight(init="zeros", steps=50)).json()
    losses = list(answer["losses"])
    for _ in range(9):  # a client continues by sending back what it got
        request = height_weight(parameters=answer["parameters"], steps=50)
        answer = client.post(LINEAR, json=request).json()
        losses += answer["losses"]
    assert len(losses) == 500 and losses[-1] < losses[0]
    # The loss goes down every step, up to float32 rounding once it has converged.
    assert all(b <= a * (1 + 1e-5) for a, b in itertools.pairwise(losses)), "the loss rose"
    w = answer["parameters"]["linear.weight"][0][0]
    b = answer["parameters"]["linear.bias"][0]
    assert w / sigma == pytest.approx(SLOPE, rel=1e-4)
    assert b - w * mu / sigma == pytest.approx(INTERCEPT, rel=1e-4)
    assert answer["converged"] is True and answer["diverged"] is False


def test_answer_has_one_loss_per_step_and_the_last_gradients(client: TestClient) -> None:
    answer = client.post(BOWL, json={"init": "trained", "steps": 3, "learning_rate": 0.1})
    assert answer.status_code == 200
    body = answer.json()
    assert set(body) == {"losses", "gradients", "parameters", "steps", "converged", "diverged"}
    assert body["steps"] == 3 and len(body["losses"]) == 3
    assert body["losses"][0] == 12.0  # f(-4, 4): the bowl's documented start
    assert body["gradients"].keys() == body["parameters"].keys() == {"point"}


def test_bowl_converges_at_lr_0_1(client: TestClient) -> None:
    body = client.post(BOWL, json={"init": "random", "seed": 3, "steps": 1000}).json()
    assert body["converged"] is True and body["diverged"] is False
    assert body["losses"][-1] == pytest.approx(2.0, abs=1e-6)
    assert body["parameters"]["point"] == pytest.approx([1.0, 2.0], abs=5e-6)


def test_divergence_is_reported_with_the_last_finite_parameters(client: TestClient) -> None:
    answer = client.post(BOWL, json={"steps": 1000, "learning_rate": 0.2})
    assert answer.status_code == 200
    body = answer.json()
    assert body["diverged"] is True and body["converged"] is False
    assert 0 < body["steps"] == len(body["losses"]) < 1000
    values = body["losses"] + body["parameters"]["point"] + body["gradients"]["point"]
    assert all(math.isfinite(v) for v in values)


def test_logistic_regression_from_zeros_starts_at_ln_2(client: TestClient) -> None:
    request = {"init": "zeros", "x": [[0.5, -1.0], [2.0, 1.0]], "y": [0, 1], "steps": 2}
    body = client.post(LOGISTIC, json=request).json()
    assert body["losses"][0] == pytest.approx(math.log(2), rel=1e-6)
    assert body["losses"][1] < body["losses"][0]


def test_random_start_is_seeded(client: TestClient) -> None:
    def first_loss(seed: int) -> float:
        request = height_weight(init="random", seed=seed)
        return float(client.post(LINEAR, json=request).json()["losses"][0])

    assert first_loss(7) == first_loss(7) != first_loss(8)


def test_stateless_the_served_weights_never_change(client: TestClient, models_dir: Path) -> None:
    model = models_dir / "linear-regression" / "1" / "model.onnx"
    digest = sha256_file(model)
    before = client.post(LINEAR, json=height_weight(learning_rate=0.5)).json()
    client.post(LINEAR, json=height_weight(init="trained", steps=100, learning_rate=2.0))
    after = client.post(LINEAR, json=height_weight(learning_rate=0.5)).json()
    assert after["losses"] == before["losses"]
    assert after["parameters"] == before["parameters"]
    assert sha256_file(model) == digest


LINEAR_BAD = [
    ({"parameters": {"linear.weight": [[0.0]]}}, "parameters must be exactly"),
    (
        {"parameters": {"linear.weight": [[0.0, 1.0]], "linear.bias": [0.0]}},
        "parameters.linear.weight has shape [1, 2], expected [1, 1]",
    ),
    ({"parameters": {"linear.weight": [["a"]], "linear.bias": [0]}}, "parameters.linear.weight"),
    ({"y": HEIGHT_CM[:3]}, "y must have one value per row of x (8), got 3"),
    ({"x": [[1.0, 2.0]], "y": [1.0]}, "x rows must have 1 values, got 2"),
    ({"x": [[1.0], [2.0, 3.0]], "y": [1.0, 2.0]}, "x must be rows of equal length"),
    ({"x": [], "y": []}, "x must be a non-empty list of rows of 1 numbers"),
    ({"x": None}, "x is required for model linear-regression"),
    ({"learning_rate": 0.0}, "learning_rate must be a number > 0, got 0.0"),
    ({"learning_rate": -0.1}, "learning_rate must be a number > 0, got -0.1"),
    ({"learning_rate": 10.5}, "learning_rate 10.5 is above the limit of 10.0"),
    ({"steps": 0}, "steps must be between 1 and 1000, got 0"),
    ({"steps": 1001}, "steps must be between 1 and 1000, got 1001"),
    ({"l2": -1.0}, "l2 must be a number >= 0, got -1.0"),
    ({"x": [[1e39]] * 8}, "x has a value beyond float32's range"),
]


@pytest.mark.parametrize(("change", "message"), LINEAR_BAD)
def test_bad_request_is_422_naming_the_field(
    client: TestClient, change: dict[str, Any], message: str
) -> None:
    answer = client.post(LINEAR, json=height_weight(**change))
    assert answer.status_code == 422
    assert message in answer.json()["error"]


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ('"x": [[NaN]], "y": [1]', "x contains NaN or Inf"),
        ('"x": [[1]], "y": [Infinity]', "y contains NaN or Inf"),
        ('"x": [[1]], "y": [1], "learning_rate": NaN', "learning_rate must be a number > 0"),
        ('"x": [[1]], "y": [1], "l2": Infinity', "l2 must be a number >= 0"),
        (
            '"x": [[1]], "y": [1], "parameters": {"linear.weight": [[NaN]], "linear.bias": [0]}',
            "parameters.linear.weight contains NaN or Inf",
        ),
    ],
)
def test_non_finite_numbers_are_422(client: TestClient, body: str, message: str) -> None:
    """JSON has no NaN, but Python's parser (and many clients) accept the tokens."""
    headers = {"content-type": "application/json"}
    answer = client.post(LINEAR, content="{" + body + "}", headers=headers)
    assert answer.status_code == 422
    assert message in answer.json()["error"]


@pytest.mark.parametrize(
    ("url", "request_body", "message"),
    [
        (BOWL, {"x": [[1.0, 2.0]]}, "x and y: model quadratic-bowl takes no data"),
        (LOGISTIC, {"x": [[1.0, 2.0]], "y": [2]}, "y[0] = 2 is not 0 or 1"),
        (SOFTMAX, {"x": [[0.0] * 784] * 2, "y": [3, 1.5]}, "y[1] = 1.5 is not a class id 0..9"),
        (SOFTMAX, {"x": [[0.0] * 784], "y": [10]}, "y[0] = 10 is not a class id 0..9"),
        (SOFTMAX, {"x": [[0.0] * 28], "y": [1]}, "x rows must have 784 values, got 28"),
        (BOWL, {"init": "ones"}, "body.init"),
        (BOWL, {"stepz": 3}, "body.stepz"),
        (BOWL, {"steps": "many"}, "body.steps"),
        (BOWL, {"steps": True}, "body.steps"),
        (BOWL, {"learning_rate": "0.1"}, "body.learning_rate"),
        (BOWL, {"init": "random", "seed": -1}, "body.seed"),
    ],
)
def test_other_bad_requests_are_422(
    client: TestClient, url: str, request_body: dict[str, Any], message: str
) -> None:
    answer = client.post(url, json=request_body)
    assert answer.status_code == 422
    assert message in answer.json()["error"]


def test_batch_over_the_cap_is_422(models_dir: Path) -> None:
    settings = Settings(models_dir=models_dir, max_gradient_batch=4)
    with TestClient(create_app(settings)) as capped:
        answer = capped.post(LINEAR, json=height_weight())
    assert answer.status_code == 422
    assert answer.json() == {"error": "x has 8 rows, more than the limit of 4"}


def test_a_model_without_step_graph_is_404(models_dir: Path, tmp_path: Path) -> None:
    version_dir = tmp_path / "quadratic-bowl" / "1"
    shutil.copytree(models_dir / "quadratic-bowl" / "1", version_dir)
    card = read_card(version_dir)
    files = {role: f for role, f in card.files.items() if role != "step"}
    write_card(version_dir, card.model_copy(update={"files": files, "step": None}))
    with TestClient(create_app(Settings(models_dir=tmp_path))) as client:
        answer = client.post(BOWL, json={})
    assert answer.status_code == 404
    assert answer.json() == {"error": "model 'quadratic-bowl' has no gradient-step graph"}


def test_work_over_the_cap_is_422(client: TestClient) -> None:
    """mnist-mlp has 535,818 parameters: 1024 rows x 10 steps is over 5e9."""
    request = {"x": [[0.0] * 784] * 1024, "y": [0] * 1024, "steps": 10}
    answer = client.post("/v1/models/mnist-mlp/gradient-step", json=request)
    assert answer.status_code == 422
    assert answer.json() == {
        "error": "steps x rows of x x parameters = 10 x 1024 x 535818 = 5486776320 is over "
        "the limit of 5000000000; send fewer steps or rows"
    }


def test_divergence_on_the_first_step_returns_the_start(client: TestClient) -> None:
    """x near float32's limit: the very first loss overflows; nothing completed, no 500."""
    start = {"linear.weight": [[100.0]], "linear.bias": [0.0]}
    request = {"parameters": start, "x": [[3e38], [-3e38]], "y": [1.0, 2.0], "steps": 5}
    answer = client.post(LINEAR, json=request)
    assert answer.status_code == 200
    assert answer.json() == {
        "losses": [],
        "gradients": {},
        "parameters": start,
        "steps": 0,
        "converged": False,
        "diverged": True,
    }
