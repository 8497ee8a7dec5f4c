# Three commands for a newcomer: `make lab`, `make test`, `make demo`. Re-running a target reinstalls nothing that
# is up to date (stamp files in .venv track pyproject.toml).
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP_RUN := $(VENV)/.installed-runtime
STAMP_TEST := $(VENV)/.installed-test
STAMP_SYS := $(VENV)/.installed-system
ALLOW_ROOT := $(if $(filter 0,$(shell id -u)),--allow-root,)
PYTEST_ARGS ?=

.PHONY: lab test demo seed bench lint messages system-deps clean help

help:
	@echo "make lab    - install into .venv, seed the sandbox if empty, open JupyterLab on the start notebook"
	@echo "make test   - install test dependencies (Debian chromium + postgresql too) and run the whole suite"
	@echo "make demo   - run the headless story through all three channels"
	@echo "make bench  - run the benchmarks in benchmarks/"
	@echo "make messages - extract message keys from the code and update the translation catalogs"

$(BIN)/python:
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "Python >= 3.11 is required (found " + sys.version.split()[0] + "); set PYTHON=/path/to/python3.11")'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

# the catalogs too: the install compiles them (setup.py), so an edited .po is compiled again
$(STAMP_RUN): pyproject.toml setup.py $(wildcard marketplace/locale/*/LC_MESSAGES/*.po) | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e .
	$(BIN)/python -m marketplace.jupyter_nodelay
	@touch $@

$(STAMP_TEST): pyproject.toml $(STAMP_RUN)
	$(BIN)/python -m pip install --quiet -e ".[test]"
	@touch $@

# Debian packages the tests need: chromium (real-browser tests) and the PostgreSQL server (second backend).
$(STAMP_SYS):
	@bash .ci/system-deps.sh
	@mkdir -p $(VENV) && touch $@

system-deps: $(STAMP_SYS)

lab: $(STAMP_RUN)
	$(BIN)/marketplace seed --if-empty
	$(BIN)/jupyter lab $(ALLOW_ROOT) notebooks/00_start_here.ipynb

demo: $(STAMP_RUN)
	$(BIN)/marketplace demo

seed: $(STAMP_RUN)
	$(BIN)/marketplace seed

# Translation catalogs (marketplace/locale): template from the code and the English catalog, merged into every
# language; then the check names anything still missing, empty or fuzzy.
messages: $(STAMP_RUN)
	$(BIN)/python -m marketplace.translations update
	$(BIN)/python -m marketplace.translations check

lint: $(STAMP_TEST)
	$(BIN)/ruff check marketplace tests benchmarks

test: $(STAMP_SYS) $(STAMP_TEST)
	$(BIN)/ruff check marketplace tests benchmarks
	$(BIN)/python -m pytest $(PYTEST_ARGS)

bench: $(STAMP_TEST) $(STAMP_SYS)
	@for b in benchmarks/bench_*.py; do echo "== $$b"; $(BIN)/python $$b || exit 1; done

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache .hypothesis *.egg-info
