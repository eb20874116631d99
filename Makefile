# The two commands of the README: `make dev` (the site, on SQLite with the demo catalog) and
# `make test` (the whole suite). Each installs what it needs first, and again only when the
# lock files change.

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PYTHON_DEPS := $(VENV)/.installed
NODE_DEPS := node_modules/.package-lock.json

.PHONY: dev test lock bench

dev: $(PYTHON_DEPS) $(NODE_DEPS)
	$(BIN)/locallibrary dev

test: $(PYTHON_DEPS) $(NODE_DEPS)
	$(BIN)/python -m pytest

$(PYTHON_DEPS): requirements.lock pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --require-hashes -r requirements.lock
	$(BIN)/python -m pip install --quiet --no-deps -e .
	touch $@

$(NODE_DEPS): package.json package-lock.json
	npm ci --no-audit --no-fund
	touch $@

# Benchmark: the site against a bare Starlette ceiling with Debian's wrk (bench/run.py).
BENCH_ARGS ?=
bench: $(PYTHON_DEPS) $(NODE_DEPS)
	$(BIN)/python bench/run.py $(BENCH_ARGS)

# Re-pin the Python dependencies after changing pyproject.toml.
lock:
	$(BIN)/python -m pip install --quiet uv
	$(BIN)/uv pip compile pyproject.toml --extra dev --universal --python-version 3.11 \
		--generate-hashes -o requirements.lock
