# nnserve: every target installs what it needs into .venv from constraints.txt.
PYTHON      ?= python3.11
VENV        ?= .venv
BIN         := $(VENV)/bin
PIP         := $(BIN)/python -m pip
CONSTRAINTS := constraints.txt
PYTEST_ARGS ?=
export NNSERVE_MNIST_DIR ?= $(abspath ../shared/mnist)

.PHONY: run install install-dev system-deps test test-slow test-container lint train bench clean

## run: install the service (no torch) and serve the committed models on port 8000
run: $(VENV)/.base
	$(BIN)/python -m service

install: $(VENV)/.base
install-dev: $(VENV)/.dev

$(VENV)/.base: pyproject.toml $(CONSTRAINTS)
	$(PYTHON) -m venv $(VENV)
	$(PIP) install -q --upgrade pip
	$(PIP) install -q -c $(CONSTRAINTS) -e .
	touch $@

$(VENV)/.dev: $(VENV)/.base
	$(PIP) install -q -c $(CONSTRAINTS) -e '.[train,dev]'
	touch $@

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
