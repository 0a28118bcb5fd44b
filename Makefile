# nnserve: every target installs what it needs into .venv from constraints.txt.
# The first of these that is Python 3.11 or newer; `make PYTHON=/path/to/python3.x ...` overrides.
PYTHON_CANDIDATES := python3.11 python3.12 python3.13 python3
ifeq ($(origin PYTHON),undefined)
PYTHON := $(firstword $(foreach p,$(PYTHON_CANDIDATES),$(shell $(p) -c 'import sys; sys.exit(sys.version_info < (3, 11))' >/dev/null 2>&1 && echo $(p))))
endif
# Where pip takes torch from for the train/dev extras: empty means pip's own indexes (on Linux,
# PyPI's torch is the CUDA build, several GB); https://download.pytorch.org/whl/cpu is the CPU build.
TORCH_INDEX_URL ?=
VENV        ?= .venv
BIN         := $(VENV)/bin
PIP         := $(BIN)/python -m pip
CONSTRAINTS := constraints.txt
PYTEST_ARGS ?=
export NNSERVE_MNIST_DIR ?= $(abspath ../shared/mnist)

.PHONY: run install install-dev python system-deps test test-slow test-container lint train bench clean

## run: install the service (no torch) and serve the committed models on port 8000
run: $(VENV)/.base
	$(BIN)/python -m service

install: $(VENV)/.base
install-dev: $(VENV)/.dev

$(VENV)/.base: pyproject.toml $(CONSTRAINTS)
	@PYTHON='$(PYTHON)' bash scripts/dev/python-check.sh $(PYTHON_CANDIDATES)
	$(PYTHON) -m venv $(VENV)
	$(PIP) install -q --upgrade pip
	$(PIP) install -q -c $(CONSTRAINTS) -e .
	touch $@

$(VENV)/.dev: $(VENV)/.base
	$(if $(TORCH_INDEX_URL),$(PIP) install -q -c $(CONSTRAINTS) --index-url $(TORCH_INDEX_URL) torch)
	$(PIP) install -q -c $(CONSTRAINTS) -e '.[train,dev]'
	touch $@

## python: say which Python the venv is built with (PYTHON=... overrides)
python:
	@PYTHON='$(PYTHON)' bash scripts/dev/python-check.sh $(PYTHON_CANDIDATES)

## system-deps: Debian packages the tests and benchmarks drive (chromium, wrk, curl)
system-deps:
	@bash scripts/dev/system-deps.sh

## test: install the dev set and run the whole test suite (not the slow soak/fault or container tests)
test: $(VENV)/.dev system-deps
	$(BIN)/python -m pytest -m "not slow and not container" $(PYTEST_ARGS)

## test-slow: load, soak and fault tests (bounded, loopback only)
test-slow: $(VENV)/.dev system-deps
	$(BIN)/python -m pytest -m slow $(PYTEST_ARGS)

## test-container: build the image, bring it up with compose, smoke it, tear it down
test-container: $(VENV)/.dev
	$(BIN)/python -m pytest -m container $(PYTEST_ARGS)

## lint: ruff on everything, mypy --strict on service/
lint: $(VENV)/.dev
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy service

## train: retrain every model from MNIST and rewrite models/
train: $(VENV)/.dev
	$(BIN)/python -m training fit all --data-dir "$(NNSERVE_MNIST_DIR)"

## bench: benchmark nnserve against a naive FastAPI server and a bare ASGI ceiling
bench: $(VENV)/.dev system-deps
	$(BIN)/python -m benchmarks

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache test-artifacts
