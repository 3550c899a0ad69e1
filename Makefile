# Two commands on a fresh machine: `make manuscript` and `make test`.
# The virtual environment is rebuilt whenever the content of requirements.lock changes
# (its SHA-256 names the stamp file), never because of a file time.

SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
LOCK_SHA := $(shell sha256sum requirements.lock | cut -c1-16)
VENV_STAMP := $(VENV)/.lock-$(LOCK_SHA)
# QUARTO=auto uses `quarto render` when quarto is on PATH; QUARTO=1 forces it, QUARTO=0 forces qrender.
QUARTO ?= auto

.PHONY: manuscript test venv r-deps lint lock bench submission clean

manuscript: $(VENV_STAMP)
	@if [ "$(QUARTO)" = 1 ] || { [ "$(QUARTO)" = auto ] && command -v quarto >/dev/null 2>&1; }; then \
		echo "Rendering with Quarto"; QUARTO_PYTHON="$(abspath $(PY))" quarto render; \
	else \
		$(PY) -m qrender; \
	fi

test: $(VENV_STAMP) r-deps
	$(PY) -m ruff check .
	$(PY) -m pytest -q

venv: $(VENV_STAMP)

$(VENV_STAMP): requirements.lock
	rm -rf $(VENV)
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q --no-deps -r requirements.lock
	$(PY) -m pip check
	touch $@

# R and its survival package are the reference the tests compare against (Debian packages).
r-deps:
	@Rscript -e 'library(survival)' >/dev/null 2>&1 || { \
		echo "Installing R and r-cran-survival from Debian"; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq r-base-core r-cran-survival poppler-utils >/dev/null; }

lint: $(VENV_STAMP)
	$(PY) -m ruff check .

# Re-pin every package after editing requirements.in.
lock:
	rm -rf .lock-venv && $(PYTHON) -m venv .lock-venv
	.lock-venv/bin/pip install -q -r requirements.in
	{ echo "# Pinned by 'make lock' (pip freeze of a venv built from requirements.in). Do not edit by hand."; \
	  .lock-venv/bin/pip freeze | grep -v '^pip=='; } > requirements.lock
	rm -rf .lock-venv

# Archive the built article, its ledger and the data hash: make submission TAG=v1
submission: manuscript
	@test -n "$(TAG)" || { echo "usage: make submission TAG=v1" >&2; exit 2; }
	@test ! -e submissions/$(TAG) || { echo "submissions/$(TAG) exists; choose a new TAG" >&2; exit 2; }
	mkdir -p submissions/$(TAG)
	cp _manuscript/manuscript.pdf _manuscript/manuscript.docx _manuscript/manuscript.html \
	   _manuscript/numbers.json _manuscript/analysis-data.csv submissions/$(TAG)/
	sha256sum data/cohort.csv > submissions/$(TAG)/data.sha256
	git describe --always --dirty > submissions/$(TAG)/code-version 2>/dev/null || echo unversioned > submissions/$(TAG)/code-version
	@echo "archived submissions/$(TAG)/"

clean:
	rm -rf _manuscript .build
