# Three commands for a newcomer: `make lab`, `make test`, `make demo`. Re-running a target reinstalls nothing that
# is up to date (stamp files in .venv track the lock and the packaging files).
#
# One environment for the lab and the tests: .venv holds exactly what requirements.lock pins (uv pip sync adds,
# changes and removes packages to match it), plus this package, editable. Binder installs the same pins
# (environment.yml mirrors the lock). `make lock` regenerates the lock after a dependency changes in
# pyproject.toml; `make lock UPGRADE=1` also moves every pin to the newest version allowed.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
LOCK := requirements.lock
PYCANON_VENV := .venv-pycanon
PYCANON_LOCK := tests/privacy/pycanon.lock
NODELAY_CONFIG := jupyter-config/jupyter_server_config.d/marketplace-nodelay.json
STAMP_ENV := $(VENV)/.installed-lock
STAMP_SYS := $(VENV)/.installed-system
STAMP_PYCANON := $(PYCANON_VENV)/.installed-lock
ALLOW_ROOT := $(if $(filter 0,$(shell id -u)),--allow-root,)
PYTEST_ARGS ?=
UPGRADE ?=
# The Python versions and platforms the lock covers: one version of each package for all of them.
LOCK_FLAGS := --universal --python-version 3.11 --fork-strategy fewest --custom-compile-command "make lock" \
	--quiet $(if $(UPGRADE),--upgrade,)

.PHONY: lab test demo seed bench lint lock install messages system-deps pycanon-env clean help

help:
	@echo "make lab    - install into .venv from the lock, seed the sandbox if empty, open JupyterLab"
	@echo "make test   - install what the tests need (Debian chromium + postgresql too) and run the whole suite"
	@echo "make demo   - run the headless story through all three channels"
	@echo "make bench  - run the benchmarks in benchmarks/"
	@echo "make lock   - regenerate requirements.lock (and environment.yml, tests/privacy/pycanon.lock)"
	@echo "make install - build .venv from the lock without starting anything"
	@echo "make messages - extract message keys from the code and update the translation catalogs"

$(BIN)/python:
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "Python >= 3.11 is required (found " + sys.version.split()[0] + "); set PYTHON=/path/to/python3.11")'
	$(PYTHON) -m venv $(VENV)

# uv at the version the lock pins, then the lock, exactly, then the package (editable, built with the locked
# setuptools, no dependencies of its own: the lock has them all). An editable install carries no data files, so
# the Jupyter server config that the wheel ships is copied into the environment's etc/jupyter here. The
# translation catalogs are prerequisites too: the install compiles them (setup.py), so an edited .po is compiled
# again.
$(STAMP_ENV): $(LOCK) pyproject.toml setup.py $(wildcard marketplace/locale/*/LC_MESSAGES/*.po) | $(BIN)/python
	$(BIN)/python -m pip install --quiet "$$(grep -E '^uv==' $(LOCK))"
	$(BIN)/uv pip sync --quiet --python $(BIN)/python $(LOCK)
	$(BIN)/uv pip install --quiet --python $(BIN)/python --no-build-isolation --no-deps -e .
	install -D -m 644 $(NODELAY_CONFIG) $(VENV)/etc/jupyter/jupyter_server_config.d/marketplace-nodelay.json
	$(BIN)/python -m pip check
	@touch $@

install: $(STAMP_ENV)

# pycanon (the independent k-anonymity / l-diversity check the privacy tests compare against) pins pandas, numpy
# and scipy exactly, so it lives in an environment of its own; the tests talk to it through a subprocess.
$(STAMP_PYCANON): $(PYCANON_LOCK) | $(STAMP_ENV)
	$(PYTHON) -m venv $(PYCANON_VENV)
	$(BIN)/uv pip sync --quiet --python $(PYCANON_VENV)/bin/python $(PYCANON_LOCK)
	@touch $@

pycanon-env: $(STAMP_ENV) $(STAMP_PYCANON)

# Debian packages the tests need: chromium (real-browser tests) and the PostgreSQL server (second backend).
$(STAMP_SYS):
	@bash .ci/system-deps.sh
	@mkdir -p $(VENV) && touch $@

system-deps: $(STAMP_SYS)

lock: | $(BIN)/python
	@test -x $(BIN)/uv || $(BIN)/python -m pip install --quiet uv
	$(BIN)/uv pip compile pyproject.toml --extra distributed --extra test $(LOCK_FLAGS) -o $(LOCK)
	$(BIN)/uv pip compile tests/privacy/pycanon.in $(LOCK_FLAGS) -o $(PYCANON_LOCK)
	$(BIN)/python .ci/environment_yml.py $(LOCK) environment.yml

# The Lab interface follows MARKETPLACE_LANG (marketplace.lab_language); figures need a CJK font for Chinese
# labels (Debian's fonts-noto-cjk, which `make system-deps` installs).
lab: $(STAMP_ENV)
	$(BIN)/marketplace seed --if-empty
	@$(BIN)/python -m marketplace.lab_language
	@ls /usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc >/dev/null 2>&1 || \
		echo "Chinese figure labels need a CJK font: apt-get install fonts-noto-cjk (or make system-deps)"
	$(BIN)/jupyter lab $(ALLOW_ROOT) notebooks/00_start_here.ipynb

demo: $(STAMP_ENV)
	$(BIN)/marketplace demo

seed: $(STAMP_ENV)
	$(BIN)/marketplace seed

# Translation catalogs (marketplace/locale): template from the code and the English catalog, merged into every
# language; then the check names anything still missing, empty or fuzzy.
messages: $(STAMP_ENV)
	$(BIN)/python -m marketplace.translations update
	$(BIN)/python -m marketplace.translations check

lint: $(STAMP_ENV)
	$(BIN)/ruff check .

test: $(STAMP_SYS) $(STAMP_ENV) $(STAMP_PYCANON)
	$(BIN)/ruff check .
	$(BIN)/python -m pytest $(PYTEST_ARGS)

bench: $(STAMP_ENV) $(STAMP_SYS)
	@for b in benchmarks/bench_*.py; do echo "== $$b"; $(BIN)/python $$b || exit 1; done

clean:
	rm -rf $(VENV) $(PYCANON_VENV) .pytest_cache .ruff_cache .hypothesis *.egg-info build dist
