# The one entry point: `make help` lists the targets.
VENV ?= .venv
PYTHON ?= python3
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-stamp

.PHONY: help setup services demo test test-fast lint types check bench constraints clean

help: ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | sed 's/:.*## /\t/' | expand -t 14

$(STAMP): pyproject.toml constraints.txt
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check -c constraints.txt -e '.[dev]'
	@touch $(STAMP)

setup: $(STAMP) ## create .venv and install pinned dependencies

services: ## start the local services the tests use, if installed and stopped
	@bash scripts/ensure-services.sh

demo: setup ## run the demo: a worker with example tasks on SQLite
	$(VENV)/bin/jobdeck demo

test: setup services ## run the whole test suite
	$(PY) -m pytest

lint: setup ## ruff lint and format check
	$(VENV)/bin/ruff check src tests bench
	$(VENV)/bin/ruff format --check src tests bench

types: setup ## mypy on the package
	$(VENV)/bin/mypy

check: lint types test ## everything CI cares about

bench: setup services ## jobdeck's own benchmarks on SQLite and PostgreSQL
	$(PY) bench/run.py

constraints: ## re-pin constraints.txt from the current .venv
	$(PY) -m pip freeze --exclude-editable --disable-pip-version-check | grep -v '^-e' > constraints.txt

clean: ## remove the virtualenv and caches
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
