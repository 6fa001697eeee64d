# complaintsd: `make test` is the one test command (README); CI runs it through .ci/run.
#   make install     .venv with the project (editable) and its test extras
#   make test-deps   Dovecot for the IMAP tests, PostgreSQL, Chromium for the PDF sheet and the browser tests
#                    (with chromium-driver: apt, when missing), then install
#   make lint        install, then ruff (lint and format), mypy and import-linter (pyproject.toml)
#   make test        test-deps, then lint, then pytest, then the register and runner tests on PostgreSQL
#   make test-postgres  those on a private PostgreSQL (.ci/with-postgres; tests/postgres.py)
#   make demo        install, then `complaintsd demo`
#   make bench       test-deps, then benchmarks/ingest.py (500 messages, a full register, a 30 MB file)
#   make clean       remove the venv and build/test artefacts

SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := test

PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
PYTEST_ARGS ?= -q --durations=10
# Root installs system packages directly; anyone else through sudo.
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
export PATH := $(PATH):/usr/local/sbin:/usr/sbin:/sbin

.PHONY: demo install test-deps lint test test-postgres bench clean

demo:
	$(MAKE) install
	$(BIN)/complaintsd demo

install: $(VENV)/.installed

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

# Reinstalled when pyproject.toml changes; `make clean install` forces it.
$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/pip install --disable-pip-version-check -e '.[test,postgres]'
	touch $@

test-deps:
	@if command -v dovecot >/dev/null; then \
	  echo "dovecot: $$(dovecot --version)"; \
	else \
	  $(SUDO) apt-get update; \
	  DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y --no-install-recommends dovecot-imapd; \
	  echo "Stopping the system-wide Dovecot that apt started (the tests start their own)."; \
	  $(SUDO) service dovecot stop >/dev/null 2>&1 || true; \
	fi
	@if ls -d /usr/lib/postgresql/*/bin >/dev/null 2>&1; then \
	  echo "postgresql: $$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -1)"; \
	else \
	  $(SUDO) apt-get update; \
	  DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y --no-install-recommends postgresql; \
	  echo "Stopping the system-wide PostgreSQL that apt started (the tests start their own)."; \
	  $(SUDO) service postgresql stop >/dev/null 2>&1 || true; \
	fi
	@if command -v chromium >/dev/null && command -v chromedriver >/dev/null; then \
	  echo "chromium: $$(chromium --version 2>/dev/null), $$(chromedriver --version 2>/dev/null | cut -d' ' -f1-2)"; \
	else \
	  $(SUDO) apt-get update; \
	  DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y --no-install-recommends chromium chromium-driver; \
	fi
	$(MAKE) install

# The rules the tests enforce (settings in pyproject.toml): style, types, and the import contracts
# between core, edges, runners and the shell. lint-imports reads the installed (editable) package.
LINT_PATHS := daemon tests benchmarks

lint: install
	$(BIN)/ruff check $(LINT_PATHS)
	$(BIN)/ruff format --check $(LINT_PATHS)
	$(BIN)/mypy
	$(BIN)/lint-imports

test: test-deps
	$(MAKE) lint
	$(BIN)/pytest $(PYTEST_ARGS)
	$(MAKE) test-postgres
	@echo "== a small run of the ingestion benchmark (figures printed, not asserted; make bench for the full one)"
	PYTHONPATH=. $(BIN)/python benchmarks/ingest.py --messages 100 --latency 20

# The register and runner tests again, each on a database of its own on a PostgreSQL that
# .ci/with-postgres starts (as `postgres`, free loopback port, own data directory, stopped after),
# unless COMPLAINTSD_TEST_POSTGRES already names a server. Two tests are left out: their CLI reads
# a SQLite file the test writes by path (tests/test_migrations.py's config_file).
# tests/test_failover.py runs only here: two daemons on one register, stopped 20 times (about 3 min).
PG_PYTEST_ARGS := -q -p no:cacheprovider tests/test_runners_*.py tests/test_failover.py \
	--deselect tests/test_runners_evaluation.py::test_list_filters_on_the_evaluation \
	--deselect tests/test_runners_evaluation.py::test_actions_are_numbered_moved_on_shown_and_listed_until_verified

test-postgres: install
	@if [ -n "$${COMPLAINTSD_TEST_POSTGRES:-}" ]; then \
	  echo "== the register and runner tests on PostgreSQL"; \
	  COMPLAINTSD_TEST_REGISTER=postgresql $(BIN)/pytest $(PG_PYTEST_ARGS); \
	else \
	  .ci/with-postgres $(MAKE) test-postgres; \
	fi

bench: test-deps
	PYTHONPATH=. $(BIN)/python benchmarks/ingest.py --messages 500 --latency 200 --prefill 100000 --big-mb 30

clean:
	rm -rf $(VENV) build dist *.egg-info .pytest_cache .hypothesis .coverage htmlcov .mypy_cache .ruff_cache .import_linter_cache
	find . -name __pycache__ -type d -prune -not -path './.git/*' -exec rm -rf {} +
