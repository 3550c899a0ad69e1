# Two commands on a fresh machine: `make manuscript` and `make test`.
# The virtual environment is rebuilt whenever the content of requirements.lock changes
# (its SHA-256 names the stamp file), never because of a file time.

SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
LOCK_SHA := $(shell sha256sum requirements.lock | cut -c1-16)
VENV_STAMP := $(VENV)/.lock-$(LOCK_SHA)
# Quarto's launcher: $(QUARTO) from the environment (as .ci/run sets it), else `quarto` on PATH.
# `make manuscript` renders with it when there is one, else with qrender; RENDERER=qrender or
# RENDERER=quarto chooses. The Quarto tests run when it is found and are skipped, saying so, if not.
QUARTO ?= $(shell command -v quarto 2>/dev/null)
RENDERER ?= $(if $(QUARTO),quarto,qrender)
# The study folder to build (default: the HAIC article at the root); `make manuscript STUDY=examples/colon`
# builds that folder's article with qrender.
STUDY ?=

.PHONY: manuscript preview test venv r-deps client-deps lint lock bench bench-quarto status submission diff clean

manuscript: $(VENV_STAMP)
ifneq ($(STUDY),)
	$(PY) -m qrender $(STUDY)
else ifeq ($(RENDERER),quarto)
	@test -n "$(QUARTO)" || { echo "RENDERER=quarto, but no Quarto: set QUARTO or put quarto on PATH" >&2; exit 2; }
	@echo "Rendering with Quarto ($(QUARTO))"
	QUARTO_PYTHON="$(abspath $(PY))" "$(QUARTO)" render
else
	$(PY) -m qrender
endif

# The HTML article live at http://127.0.0.1:PORT/ (printed), rebuilt on every save; PDF and Word
# on demand (links in the page) and on exit. PORT=0 (default) lets the system choose a free port.
PORT ?= 0
preview: $(VENV_STAMP)
	$(PY) -m qrender preview --port $(PORT)

# The writing loop against its floor (cold, no-op, prose edit), in one run; see bench/loop.py.
bench: $(VENV_STAMP)
	$(PY) bench/loop.py

# quarto render (cold, prose edit, nothing changed) against Quarto's floor, qrender beside it; see
# bench/quarto.py.
bench-quarto: $(VENV_STAMP)
	@test -n "$(QUARTO)" || { echo "bench-quarto needs Quarto: set QUARTO or put quarto on PATH" >&2; exit 2; }
	QUARTO="$(QUARTO)" $(PY) bench/quarto.py

test: $(VENV_STAMP) r-deps client-deps
	$(PY) -m ruff check .
	@if [ -n "$(QUARTO)" ]; then echo "Quarto tests run with $(QUARTO)"; \
	else echo "Quarto not found (set QUARTO or put quarto on PATH): the Quarto tests are skipped"; fi
	QUARTO="$(QUARTO)" $(PY) -m pytest -q

venv: $(VENV_STAMP)

$(VENV_STAMP): requirements.lock
	rm -rf $(VENV)
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q --no-deps -r requirements.lock
	$(PY) -m pip check
	# the engine (analysis, qrender, review) importable from any study folder, as Quarto's kernel needs
	echo "$(CURDIR)" > "$$($(PY) -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')/manuscript-builder.pth"
	touch $@

# R and its survival package are the reference the tests compare against (Debian packages).
r-deps:
	@Rscript -e 'library(survival)' >/dev/null 2>&1 || { \
		echo "Installing R and r-cran-survival from Debian"; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq r-base-core r-cran-survival poppler-utils >/dev/null; }

# The programs readers open the article with, which the tests drive headless (Debian packages):
# LibreOffice renders the Word file, Chromium opens the HTML, poppler reads and rasterises PDF pages.
client-deps:
	@{ command -v soffice && command -v chromium && command -v pdftoppm; } >/dev/null 2>&1 || { \
		echo "Installing LibreOffice Writer (headless), Chromium and poppler-utils from Debian"; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
			libreoffice-writer-nogui chromium poppler-utils >/dev/null; }

lint: $(VENV_STAMP)
	$(PY) -m ruff check .

# Pin what requirements.in adds, keeping every version already pinned (the analysis's numbers
# depend on them); `make lock FRESH=1` re-pins every package.
lock:
	rm -rf .lock-venv && $(PYTHON) -m venv .lock-venv
	.lock-venv/bin/pip install -q -r requirements.in $(if $(FRESH),,-c requirements.lock)
	{ echo "# Pinned by 'make lock' (pip freeze of a venv built from requirements.in). Do not edit by hand."; \
	  .lock-venv/bin/pip freeze | grep -v '^pip=='; } > requirements.lock
	rm -rf .lock-venv

# Archive the built article, its ledger, data hash, qmd and bibliography: make submission TAG=v1
submission: manuscript
	@test -n "$(TAG)" || { echo "usage: make submission TAG=v1" >&2; exit 2; }
	$(PY) -m review submission $(TAG)

# The resubmission kit against an archived submission, in _manuscript/diff-$(OLD)/: a Word file with
# tracked changes, the marked-up PDF and HTML, and the change report. The tag is checked before
# anything is built.
diff: $(VENV_STAMP)
	@test -n "$(OLD)" || { echo "usage: make diff OLD=v1 (a tag under submissions/)" >&2; exit 2; }
	@test -d "submissions/$(OLD)" || { echo "submissions/$(OLD): no such submission (submissions: $$(ls submissions 2>/dev/null | tr '\n' ' '))" >&2; exit 2; }
	@$(MAKE) --no-print-directory manuscript
	$(PY) -m review diff $(OLD)

# The size of .cache/ by store (the end of each build prunes it to the last builds' entries).
status: $(VENV_STAMP)
	@$(PY) -m qrender.prune

clean:
	rm -rf _manuscript .cache _variables.yml _freeze .jupyter_cache .quarto
