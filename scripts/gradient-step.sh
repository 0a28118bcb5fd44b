#!/usr/bin/env bash
# Gradient descent, served: walk linear-regression (height in cm from weight in kg) from zeros
# to the least-squares line in a few calls to POST /v1/models/linear-regression/gradient-step.
# onnxruntime runs the model's step graph; each call sends back the parameters the previous
# one returned (the service keeps no state), and the loss (mean squared error) goes down.
#
#   scripts/gradient-step.sh                       # http://127.0.0.1:8000
#   BASE_URL=http://host:8000 scripts/gradient-step.sh
#
# The graph standardizes the weight, x' = (x - mu) / sigma, so w and b are in standardized
# units; the line in raw units is slope = w / sigma, intercept = b - w mu / sigma (mu and sigma
# come from the model card). Least squares gives slope 0.7514 cm/kg, intercept 124.298 cm.
# Exits non-zero on any HTTP error, printing the service's JSON error body.
set -euo pipefail
BASE_URL="${BASE_URL:-http://127.0.0.1:8000}"
MODEL="linear-regression"
DATA='"x": [[48], [57], [50], [54], [64], [61], [43], [59]],
      "y": [165, 165, 157, 170, 175, 165, 155, 170]'
CALLS=6   # at most; the walk stops at the first answer that says converged
STEPS=25
LEARNING_RATE=0.1

# request CURL-ARGS...: the response body; on a 4xx/5xx, print the service's {"error": ...}
# body to stderr and fail (curl --fail-with-body exits 22), which set -e turns into an exit.
request() {
  local body
  if ! body=$(curl --silent --show-error --fail-with-body "$@"); then
    echo "$body" >&2
    return 22
  fi
  printf '%s\n' "$body"
}

post() {
  request -H 'content-type: application/json' -d "$1" "$BASE_URL/v1/models/$MODEL/gradient-step"
}

# json EXPRESSION: evaluate a Python expression on the JSON document read from stdin (as `d`).
json() { python3 -c "import json, sys; d = json.load(sys.stdin); print($1)"; }

card=$(request "$BASE_URL/v1/models/$MODEL")
mu=$(json 'd["preprocessing"]["mean"][0]' <<<"$card")
sigma=$(json 'd["preprocessing"]["std"][0]' <<<"$card")
echo "$MODEL: standardization mu=$mu sigma=$sigma; $CALLS calls of $STEPS steps at lr $LEARNING_RATE"

start='"init": "zeros"'   # the first call starts from zeros, later ones from the last answer
done_steps=0
for call in $(seq 1 "$CALLS"); do
  answer=$(post "{$start, $DATA, \"steps\": $STEPS, \"learning_rate\": $LEARNING_RATE}")
  summary=$(json '"loss %.6g -> %.6g, converged=%s, diverged=%s"
    % (d["losses"][0], d["losses"][-1], d["converged"], d["diverged"])' <<<"$answer")
  echo "call $call (steps $((done_steps + 1))-$((done_steps + STEPS))): $summary"
  done_steps=$((done_steps + STEPS))
  start="\"parameters\": $(json 'json.dumps(d["parameters"])' <<<"$answer")"
  if [[ $(json 'd["converged"]' <<<"$answer") == True ]]; then break; fi
done

echo "$answer"
# Back to raw units: slope = w / sigma, intercept = b - w mu / sigma.
json "'line: height = %.7f * weight + %.5f' % (
    d['parameters']['linear.weight'][0][0] / $sigma,
    d['parameters']['linear.bias'][0] - d['parameters']['linear.weight'][0][0] * $mu / $sigma)" \
  <<<"$answer"
