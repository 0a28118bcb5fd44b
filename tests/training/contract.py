"""The training<->service contract as data: I/O names and shapes, parameter names and shapes."""

from __future__ import annotations

IO = {
    "mnist-mlp": ({"input": [-1, 784]}, {"logits": [-1, 10], "probabilities": [-1, 10]}),
    "mnist-softmax": ({"input": [-1, 784]}, {"logits": [-1, 10], "probabilities": [-1, 10]}),
    "logistic-regression": ({"input": [-1, 2]}, {"logit": [-1, 1], "probability": [-1, 1]}),
    "linear-regression": ({"input": [-1, 1]}, {"prediction": [-1, 1]}),
    "polynomial-regression": ({"input": [-1, 1]}, {"prediction": [-1, 1]}),
    "digit-gate": ({"input": [-1, 784]}, {"logit": [-1, 1], "probability": [-1, 1]}),
}
TASKS = {
    "mnist-mlp": "classification",
    "mnist-softmax": "classification",
    "logistic-regression": "binary-classification",
    "linear-regression": "regression",
    "polynomial-regression": "regression",
    "digit-gate": "binary-classification",
}
PARAMETERS = {
    "mnist-mlp": {
        "fc1.weight": [512, 784],
        "fc1.bias": [512],
        "fc2.weight": [256, 512],
        "fc2.bias": [256],
        "fc3.weight": [10, 256],
        "fc3.bias": [10],
    },
    "mnist-softmax": {"linear.weight": [10, 784], "linear.bias": [10]},
    "logistic-regression": {"linear.weight": [1, 2], "linear.bias": [1]},
    "linear-regression": {"linear.weight": [1, 1], "linear.bias": [1]},
    "polynomial-regression": {"linear.weight": [1, 3], "linear.bias": [1]},
    "digit-gate": {
        "hidden.weight": [256, 784],
        "hidden.bias": [256],
        "output.weight": [1, 256],
        "output.bias": [1],
    },
}
NAMES = list(IO)
