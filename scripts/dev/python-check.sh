#!/usr/bin/env bash
# Say which Python `make` builds .venv with, or that none of the candidates is 3.11 or newer.
#   PYTHON=<chosen, may be empty> scripts/dev/python-check.sh <candidates...>
set -euo pipefail
if [ -z "${PYTHON:-}" ]; then
  echo "make: none of $* is Python 3.11 or newer; install one (python.org, your package" \
    "manager, pyenv) or name it: make run PYTHON=/path/to/python3.12" >&2
  exit 1
fi
if ! version=$("$PYTHON" -c 'import sys; print("%d.%d.%d" % sys.version_info[:3]); sys.exit(sys.version_info < (3, 11))' 2>/dev/null); then
  echo "make: PYTHON=$PYTHON is ${version:+Python }${version:-not a working Python}; nnserve needs Python 3.11 or newer" >&2
  exit 1
fi
echo "make: using $PYTHON (Python $version)" >&2
