"""The gradient-step endpoint on the lessons and the card's data sets, on the real app.

tiny-mlp's zero-start symmetry and what a random start separates, polynomial-fit's under-
and over-fitting with its validation losses and L2, two-minima's two ends, the honest
convergence flag on the bowl, and data taken from the card when a request sends none.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from fastapi.testclient import TestClient

from service.app import create_app
from service.config import Settings


def url(name: str) -> str:
    return f"/v1/models/{name}/gradient-step"


@pytest.fixture(scope="module")
def client(models_dir: Path) -> Iterator[TestClient]:
    with TestClient(create_app(Settings(models_dir=models_dir))) as client:
        yield client


def post(client: TestClient, name: str, **body: Any) -> dict[str, Any]:
    answer = client.post(url(name), json=body)
    assert answer.status_code == 200, answer.text
    return dict(answer.json())


def walk(client: TestClient, name: str, calls: int, **body: Any) -> list[dict[str, Any]]:
    """`calls` requests, each continuing from the parameters the last one returned."""
    answers = [post(client, name, **body)]
    body.pop("init", None)
    for _ in range(calls - 1):
        answers.append(post(client, name, **body, parameters=answers[-1]["parameters"]))
    return answers


def gradient_norm(answer: dict[str, Any]) -> float:
    return math.sqrt(sum(float(np.sum(np.square(g))) for g in answer["gradients"].values()))


def test_bowl_crawling_along_its_valley_is_not_converged(client: TestClient) -> None:
    """From (-4, 4) at lr 0.01 f is 2 to float32's last digit after 3,000 steps, but the point
    is still ~7e-4 from (1, 2) and the gradient ~2.4e-4: that is not convergence."""
    last = walk(client, "quadratic-bowl", 3, init="trained", learning_rate=0.01, steps=1000)[-1]
    distance = math.dist(last["parameters"]["point"], (1.0, 2.0))
    assert 2e-4 < gradient_norm(last) < 3e-4 and 5e-4 < distance < 1e-3
    assert last["losses"][-1] == last["losses"][-2], "float32 f has stopped changing"
    assert last["converged"] is False


def test_bowl_at_the_minimum_is_converged(client: TestClient) -> None:
    last = post(client, "quadratic-bowl", init="trained", learning_rate=0.1, steps=1000)
    assert last["converged"] is True
    assert gradient_norm(last) <= 1e-5 * (1 + abs(last["losses"][-1]))


def test_describe_says_how_convergence_is_scaled(client: TestClient) -> None:
    about = client.get(url("quadratic-bowl")).json()
    assert "1e-05 * (1 + |loss|)" in about["convergence"]
    assert "float32" in about["convergence"]


def test_a_request_without_data_learns_from_the_cards_data_set(client: TestClient) -> None:
    about = client.get(url("linear-regression")).json()
    data = about["data"]
    assert len(data["x"]) == len(data["y"]) == 8
    own = post(client, "linear-regression", init="zeros", steps=5, x=data["x"], y=data["y"])
    from_card = post(client, "linear-regression", init="zeros", steps=5)
    assert from_card["losses"] == own["losses"]


@pytest.mark.parametrize("name", ["logistic-regression", "polynomial-regression", "tiny-mlp"])
def test_every_small_model_serves_its_data_set(client: TestClient, name: str) -> None:
    about = client.get(url(name)).json()
    assert about["data"] is not None and len(about["data"]["x"]) == len(about["data"]["y"]) > 0
    assert post(client, name, init="zeros", steps=2)["steps"] == 2


def test_mnist_softmax_learns_from_the_ten_digits_in_its_card(client: TestClient) -> None:
    data = client.get(url("mnist-softmax")).json()["data"]
    assert data["y"] == [float(d) for d in range(10)] and len(data["x"][0]) == 784
    answer = post(client, "mnist-softmax", init="zeros", steps=20, learning_rate=0.5)
    assert answer["losses"][0] == pytest.approx(math.log(10), rel=1e-6)
    assert answer["losses"][-1] < 0.5


def test_mnist_mlp_has_no_data_set_and_still_needs_x(client: TestClient) -> None:
    answer = client.post(url("mnist-mlp"), json={"steps": 1})
    assert answer.status_code == 422 and "x is required" in answer.json()["error"]


def test_tiny_mlp_from_zeros_keeps_its_hidden_units_identical(client: TestClient) -> None:
    last = walk(client, "tiny-mlp", 2, init="zeros", learning_rate=2.0, steps=500)[-1]
    w1 = np.array(last["parameters"]["hidden.weight"])  # [4, 2]
    w2 = np.array(last["parameters"]["output.weight"])  # [1, 4]
    assert np.abs(w1).max() > 1e-3, "the walk from zeros never moved"
    assert (w1 == w1[0]).all() and (w2 == w2[0, 0]).all(), f"units differ: {w1}, {w2}"


def test_tiny_mlp_from_random_separates_what_logistic_regression_cannot(
    client: TestClient,
) -> None:
    data = client.get(url("tiny-mlp")).json()["data"]
    labels = np.array(data["y"])
    mlp = walk(client, "tiny-mlp", 2, init="random", learning_rate=2.0, steps=500)[-1]
    w1 = np.array(mlp["parameters"]["hidden.weight"])
    assert len({tuple(row) for row in w1}) == 4, "random hidden units should differ"
    probed = post(client, "tiny-mlp", parameters=mlp["parameters"], steps=1, learning_rate=1e-6,
                  probe=data["x"])  # fmt: skip
    accuracy = np.mean((np.array(probed["predictions"])[:, 0] > 0.5) == (labels > 0.5))
    line = post(client, "logistic-regression", init="zeros", steps=1000, learning_rate=0.5,
                x=data["x"], y=data["y"])  # fmt: skip
    assert accuracy > 0.95 and mlp["losses"][-1] < 0.15
    assert line["losses"][-1] > 0.6, "a straight line should not separate XOR"


def fit(client: TestClient, degree: int, l2: float = 0.0) -> dict[str, Any]:
    """3,000 steps at lr 0.05 from zeros on the card's points; the last answer."""
    body = {"init": "zeros", "learning_rate": 0.05, "steps": 1000, "degree": degree, "l2": l2}
    return walk(client, "polynomial-fit", 3, **body)[-1]


def test_polynomial_fit_under_fits_fits_and_over_fits(client: TestClient) -> None:
    low, good, high = fit(client, 1), fit(client, 3), fit(client, 9)
    train = {d: a["losses"][-1] for d, a in ((1, low), (3, good), (9, high))}
    held = {d: a["validation_losses"][-1] for d, a in ((1, low), (3, good), (9, high))}
    assert train[1] > 2 * train[3] and held[1] > held[3], "degree 1 should under-fit"
    assert train[9] < train[3] and held[9] > 2 * held[3], "degree 9 should over-fit"
    tamed = fit(client, 9, l2=5.0)
    assert tamed["validation_losses"][-1] < 0.6 * held[9], "L2 should tame degree 9"


def test_polynomial_fit_reports_one_validation_loss_per_step(client: TestClient) -> None:
    answer = post(client, "polynomial-fit", init="zeros", steps=7, degree=3)
    assert len(answer["validation_losses"]) == len(answer["losses"]) == 7
    weights = answer["parameters"]["linear.weight"][0]
    assert weights[3:] == [0.0] * 6, "weights above the degree must not move"


def test_polynomial_fit_probe_draws_the_curve(client: TestClient) -> None:
    grid = [[x] for x in np.linspace(-3, 3, 13).tolist()]
    answer = post(client, "polynomial-fit", init="trained", steps=1, learning_rate=1e-6,
                  probe=grid)  # fmt: skip
    assert np.array(answer["predictions"]).shape == (13, 1)
    served = client.post("/v1/models/polynomial-fit/predict", json={"instances": grid}).json()
    served_curve = np.array(served["predictions"], dtype=np.float64).reshape(-1)
    np.testing.assert_allclose(np.array(answer["predictions"])[:, 0], served_curve, atol=1e-5)


def test_two_minima_ends_depend_on_the_start(client: TestClient) -> None:
    ends = []
    for start in (-2.0, 2.0):
        answer = post(client, "two-minima", parameters={"point": [start]}, learning_rate=0.05,
                      steps=300)  # fmt: skip
        assert answer["converged"] is True
        ends.append(answer["parameters"]["point"][0])
    assert ends == [pytest.approx(-1.05745, abs=1e-4), pytest.approx(0.93040, abs=1e-4)]


@pytest.mark.parametrize(
    ("name", "body", "says"),
    [
        ("linear-regression", {"degree": 2}, "no degree"),
        ("polynomial-fit", {"degree": 0}, "between 1 and 9"),
        ("polynomial-fit", {"degree": 10}, "between 1 and 9"),
        ("polynomial-fit", {"probe": [[1.0, 2.0]]}, "rows of 1 numbers"),
        ("polynomial-fit", {"probe": [[float("nan")]]}, "probe"),
        ("quadratic-bowl", {"probe": [[1.0, 2.0]]}, "reports no predictions"),
        ("tiny-mlp", {"validation_x": [[0.0, 0.0]], "validation_y": [1]}, "need x and y"),
        ("tiny-mlp", {"x": [[0.0, 0.0]], "y": [1], "validation_x": [[0.0, 0.0]]}, "validation_y"),
        (
            "tiny-mlp",
            {"x": [[0.0, 0.0]], "y": [1], "validation_x": [[0.0]], "validation_y": [1]},
            "validation: x rows",
        ),
    ],
)
def test_bad_lesson_requests_are_422(
    client: TestClient, name: str, body: dict[str, Any], says: str
) -> None:
    answer = client.post(url(name), content=json.dumps(body, allow_nan=True),
                         headers={"content-type": "application/json"})  # fmt: skip
    assert answer.status_code == 422, answer.text
    assert says in answer.json()["error"]


def test_the_work_limit_counts_the_validation_rows(models_dir: Path) -> None:
    """polynomial-fit: 10 parameters, 11 training and 10 validation rows; 100 steps cost
    100 x 21 x 10 = 21,000 with the card's validation part, 11,000 without."""
    settings = Settings(models_dir=models_dir, max_gradient_work=15_000)
    with TestClient(create_app(settings)) as small:
        data = small.get(url("polynomial-fit")).json()["data"]
        refused = small.post(url("polynomial-fit"), json={"steps": 100})
        own = small.post(url("polynomial-fit"), json={"steps": 100, "x": data["x"], "y": data["y"]})
    assert refused.status_code == 422 and "21 x 10 = 21000" in refused.json()["error"]
    assert own.status_code == 200, own.text
