#!/usr/bin/env bash
# Upload a picture of a handwritten digit and get the digit back: POST /predict takes any
# PNG/JPEG/... of one digit, dark ink on light paper or light on dark, and preprocesses it the
# way MNIST was made. Answers {"model", "version", "digit", "probabilities", "provider"}.
#
#   scripts/predict.sh                          # the first sample in scripts/samples/
#   scripts/predict.sh photo.jpg mnist-softmax  # your own image, another model
#   BASE_URL=http://host:8000 scripts/predict.sh
#
# Exits non-zero on any HTTP error (not an image, a blank page, ...), printing the JSON error.
set -euo pipefail
BASE_URL="${BASE_URL:-http://127.0.0.1:8000}"
IMAGE="${1:-}"
MODEL="${2:-mnist-mlp}"
if [ -z "$IMAGE" ]; then
  for sample in "$(dirname "$0")"/samples/*.png; do IMAGE="$sample"; break; done  # sorted by name
fi
[ -f "$IMAGE" ] || { echo "predict.sh: no image at '$IMAGE' (give a path)" >&2; exit 2; }

echo "POST /predict?model=$MODEL  < $IMAGE"
# -F sends multipart/form-data with the image in the field `file`, as a browser form would.
curl --silent --show-error --fail-with-body \
  -F "file=@$IMAGE" "$BASE_URL/predict?model=$MODEL"
echo
