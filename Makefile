# The two commands a newcomer needs: `make run` and `make test`. Both set themselves up.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
DESK_PORT ?= 8080
export DESK_PORT

.PHONY: run test lint install demo clean bench

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

$(STAMP): pyproject.toml $(wildcard */__init__.py) | $(BIN)/python
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $(STAMP)

install: $(STAMP)

web-assets:
	@if [ -f web/package.json ]; then cd web && npm ci --no-audit --no-fund && npm run build; fi

.PHONY: web-assets

run: install web-assets
	$(BIN)/desk db upgrade
	@$(BIN)/desk demo
	@echo "Desk: http://127.0.0.1:$(DESK_PORT)  (health: /healthz; protocol: docs/protocol.md)"
	@echo "Console: http://127.0.0.1:$(DESK_PORT)/console/  demo consultants wang, li, zhao, chen (supervisor), sun (quality inspector) / password demo-password-2026"
	@echo "Reader chat: http://127.0.0.1:$(DESK_PORT)/chat/demo-pl  (or /chat/demo-ul)"
	$(BIN)/desk serve

# The front-end unit tests (vitest, web/src/**/*.test.ts) first: they take seconds.
test: install web-assets
	@if [ -f web/package.json ]; then cd web && npm test; fi
	$(BIN)/python -m pytest

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	cd web && npm ci --no-audit --no-fund && npm run typecheck

bench: install
	$(BIN)/python bench/chat_load.py

clean:
	rm -rf $(VENV) var build *.egg-info
