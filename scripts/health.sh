#!/usr/bin/env bash
# Is nnserve up, and what does it serve? Server metadata, liveness, readiness, then one model's
# metadata (inputs, outputs, provider) and readiness, all from the Open Inference Protocol V2.
#
#   scripts/health.sh                 # mnist-mlp on http://127.0.0.1:8000
#   BASE_URL=http://host:8000 scripts/health.sh logistic-regression
#
# Exits non-zero on any HTTP error (e.g. an unknown model: 404), printing the JSON error body.
set -euo pipefail
BASE_URL="${BASE_URL:-http://127.0.0.1:8000}"
MODEL="${1:-mnist-mlp}"

get() {
  echo "GET $1"
  # --fail-with-body: exit 22 on 4xx/5xx but still show the service's {"error": ...} message
  curl --silent --show-error --fail-with-body "$BASE_URL$1"
  echo
}

get /v2                           # {"name": "nnserve", "version": ..., "extensions": [...]}
get /v2/health/live               # 200 while the process answers
get /v2/health/ready              # 200 once every model is loaded and warmed, 503 before
get "/v2/models/$MODEL"           # tensor names, datatypes, shapes
get "/v2/models/$MODEL/ready"
