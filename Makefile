# The one entry point: `make help` lists the targets.
VENV ?= .venv
PYTHON ?= python3
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-stamp
# The other Pythons `make test` runs (3.13, the newest declared; `PYTHONS="3.12 3.13"` adds
# 3.12); scripts/test-pythons.sh keeps a .venv-X.Y for each and says what each runs.
PYTHONS ?= 3.13
# Test processes for the tests not marked slow: one per core. The suite is CPU-bound on this
# 2-core machine (vmstat: 0 % idle), so 4 were no faster, and their load made timed tests
# fail (a refresh swapping a clicked button, a pause pushed late); a file stays on one
# process (--dist loadfile), its fixtures shared within it. The slow tests (real worker processes, mostly
# waiting on leases and signals) run after them on 2: 2:37 against 3:33 one at a time.
TEST_WORKERS ?= 2

.PHONY: help setup static services demo dashboard bench-peers bench-scaling test test-all-stores test-pythons test-fast lint types check bench constraints clean

help: ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | sed 's/:.*## /\t/' | expand -t 14

$(STAMP): pyproject.toml constraints.txt
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check -c constraints.txt -e '.[dev]'
	@touch $(STAMP)

setup: $(STAMP) ## create .venv and install jobdeck with every extra and the pinned dependencies

static: ## after changing package.json: re-vendor the dashboard's two JS libraries (needs npm)
	$(PYTHON) scripts/vendor_static.py

services: ## start the local services the tests use; install Chromium and antiword if missing
	@bash scripts/ensure-services.sh
	@bash scripts/ensure-system-packages.sh

demo: setup ## run the demo: worker, scheduler, dashboard and mail on SQLite (jobdeck demo)
	$(VENV)/bin/jobdeck demo

dashboard: setup ## serve the dashboard for the demo database on http://127.0.0.1:8080
	$(VENV)/bin/jobdeck dashboard --app jobdeck.demo.app:deck --database sqlite:///demo-data/jobdeck.db

test: setup services ## run the whole test suite on 3.11, then test-pythons (a subset of it on 3.13)
	@echo "==================== $$($(PY) -V) ($(VENV)): the whole suite ===================="
	$(PY) -m pytest -n $(TEST_WORKERS) --dist loadfile -m "not slow" --durations=30
	@echo "==================== the slow tests, two files at a time (real processes killed and timed) ===================="
	$(PY) -m pytest -n 2 --dist loadfile -m slow
	@TEST_WORKERS=$(TEST_WORKERS) PYTHONS="$(PYTHONS)" bash scripts/test-pythons.sh

test-all-stores: setup services ## the web, browser and CLI tests on PostgreSQL too (make test runs most of them on SQLite alone)
	JOBDECK_TEST_ALL_STORES=1 $(PY) -m pytest -n $(TEST_WORKERS) --dist loadfile -m "not slow" tests/web tests/browser tests/cli

test-pythons: services ## the core, worker, scheduler, store conformance and web smoke tests on 3.13 (scripts/test-pythons.sh)
	@PYTHONS="$(PYTHONS)" bash scripts/test-pythons.sh

lint: setup ## ruff lint and format check, and the layer rule (lint-imports; see docs/architecture.md)
	$(VENV)/bin/ruff check src tests bench scripts
	$(VENV)/bin/ruff format --check src tests bench scripts
	$(VENV)/bin/lint-imports

types: setup ## mypy on the package
	$(VENV)/bin/mypy

check: lint types test ## everything CI cares about

bench: setup services ## jobdeck's own benchmarks on SQLite and PostgreSQL
	$(PY) bench/run.py

bench-scaling: setup services ## drain with 1, 2 and 4 worker processes, and with 1M jobs of history
	$(PY) bench/scaling.py

bench-peers: setup services ## jobdeck beside Celery, RQ, Dramatiq, Huey, arq, saq, Procrastinate, pgqueuer, Oban
	bash bench/peers/run.sh

constraints: ## re-pin constraints.txt from the current .venv (keeps pins with a python_version marker)
	@grep ';' constraints.txt > constraints.markers || true
	$(PY) -m pip freeze --exclude-editable --disable-pip-version-check | grep -v '^-e' > constraints.txt
	@cat constraints.markers >> constraints.txt && rm constraints.markers

clean: ## remove the virtualenv and caches
	rm -rf $(VENV) $(PYTHONS:%=.venv-%) .pytest_cache .mypy_cache .ruff_cache
