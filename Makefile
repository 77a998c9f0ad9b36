# collab: the one entry point. `make demo` starts the demo; `make test` runs every test.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
ASSETS := collab/static/nhsuk/nhsuk-frontend.min.css

.PHONY: setup demo test test-fast lint check security bench clean

setup: $(STAMP) $(ASSETS)

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[test]'
	touch $(STAMP)

frontend/node_modules/nhsuk-frontend/package.json: frontend/package.json frontend/package-lock.json
	cd frontend && npm ci --no-audit --no-fund --loglevel=error

$(ASSETS): frontend/node_modules/nhsuk-frontend/package.json
	rm -rf collab/static/nhsuk && mkdir -p collab/static/nhsuk
	cp frontend/node_modules/nhsuk-frontend/dist/nhsuk/nhsuk-frontend.min.css collab/static/nhsuk/
	cp frontend/node_modules/nhsuk-frontend/dist/nhsuk/nhsuk-frontend.min.js collab/static/nhsuk/
	cp -r frontend/node_modules/nhsuk-frontend/dist/nhsuk/assets collab/static/nhsuk/assets

## demo: set everything up and serve the Herefordshire demo on SQLite at http://127.0.0.1:8000
demo: setup
	$(BIN)/collab demo

## test: set everything up (chromium included) and run every test on the database DATABASE_URL names (SQLite if unset);
## on SQLite, the tests again at two clock edges (scripts/test-at-clock-edges)
test: setup
	scripts/ensure-debian-package chromium chromium "the browser tests"
	$(BIN)/ruff check collab tests conftest.py $(wildcard bench)
	$(BIN)/collab makemigrations --check --dry-run
	$(BIN)/python scripts/audit-dependencies
	$(BIN)/python -m pytest -q $(PYTEST_ARGS)
	$(if $(PYTEST_ARGS),,scripts/test-at-clock-edges)

## security: dependencies against known vulnerabilities (bandit and the deploy checks run in pytest: tests/security)
security: setup
	$(BIN)/python scripts/audit-dependencies

lint: setup
	$(BIN)/ruff check collab tests conftest.py $(wildcard bench)

## bench: run every benchmark (ONLY=name for one); writes bench/results.json
bench: setup
	$(BIN)/python -m bench $(if $(ONLY),--only $(ONLY),)

clean:
	rm -rf $(VENV) var collab/static/nhsuk frontend/node_modules
