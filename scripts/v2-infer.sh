#!/usr/bin/env bash
# Inference with plain JSON through the Open Inference Protocol V2 (what KServe and Triton
# clients speak): a batch of two 2-D points to logistic-regression, then three weights (kg)
# to linear-regression. Shapes and names follow `scripts/health.sh MODEL`.
#
#   scripts/v2-infer.sh
#   BASE_URL=http://host:8000 scripts/v2-infer.sh
#
# Exits non-zero on any HTTP error, printing the JSON error body.
set -euo pipefail
BASE_URL="${BASE_URL:-http://127.0.0.1:8000}"

infer() {
  echo "POST /v2/models/$1/infer"
  curl --silent --show-error --fail-with-body \
    -H 'Content-Type: application/json' --data-binary "$2" \
    "$BASE_URL/v2/models/$1/infer"
  echo
}

# Two points, shape [2, 2] (batch, features), data flat in row-major order. "outputs" asks for
# P(class 1) only; "id" is echoed back so a caller can match answers to requests.
infer logistic-regression '{
  "id": "points-1",
  "inputs": [{"name": "input", "shape": [2, 2], "datatype": "FP32",
              "data": [2.0, 2.0, -2.0, -2.0]}],
  "outputs": [{"name": "probability"}]
}'

# Raw weights in kg, shape [3, 1]; the graph standardizes them itself and predicts height (cm).
infer linear-regression '{
  "inputs": [{"name": "input", "shape": [3, 1], "datatype": "FP32", "data": [[48], [57], [64]]}]
}'
