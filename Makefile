# The README's two commands: `make serve` (build both languages, serve the site) and
# `make test` (everything the CI checks). Both set up first: .venv with the pinned
# stack, and the Debian packages the site needs (tools/system-deps.sh).
SHELL := bash
.SHELLFLAGS := -eu -o pipefail -c
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
CONSTRAINTS := requirements/constraints.txt
EXTRAS := test,docs,browser
# pip's find-links on these machines warn once per package about missing index folders.
QUIET_PIP := sed "/is ignored: it is neither a file nor a directory/d"

# matplotlib's font list lives in the checkout: a list cached by another install (one
# since deleted, say) can lack matplotlib's own fonts, and every figure would then warn.
export MPLCONFIGDIR := $(CURDIR)/.cache/matplotlib

PORT ?= 8000
# The address the site is served from; publish under another base URL by changing it.
SITE_URL ?= http://127.0.0.1:$(PORT)/
export SITE_URL
DOCS_LANG ?= en

.PHONY: setup system-deps site serve preview demo readme-images test lint bench bench-site constraints clean

setup: $(STAMP) system-deps

$(STAMP): pyproject.toml $(CONSTRAINTS)
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check \
		-c $(CONSTRAINTS) -e '.[$(EXTRAS)]' 2>&1 | $(QUIET_PIP)
	$(BIN)/python -c "import torch, linreg; print('torch', torch.__version__, '| linreg', linreg.__version__)"
	touch $@

system-deps: $(STAMP)
	tools/system-deps.sh $(BIN)/python

site: setup
	$(BIN)/python tools/build_site.py

serve: site
	@echo "Serving the site at $(SITE_URL) (English: $(SITE_URL)en/, 中文: $(SITE_URL)zh/). Ctrl-C stops."
	$(BIN)/python -m http.server --bind 127.0.0.1 --directory site $(PORT)

# A quick preview for writers: no notebook is executed, pages reload on save.
# DOCS_LANG=zh previews the Chinese site.
preview: $(STAMP)
	LINREG_EXECUTE=0 NO_MKDOCS_2_WARNING=1 $(BIN)/mkdocs serve --dev-addr 127.0.0.1:$(PORT) \
		-f $(if $(filter zh,$(DOCS_LANG)),mkdocs.zh.yml -w mkdocs.yml,mkdocs.yml)

demo: $(STAMP)
	mkdir -p build/demo
	$(BIN)/linreg train --plot build/demo/loss.png
	$(BIN)/linreg compare --plot build/demo/compare.png
	$(BIN)/linreg solve

# The two images of the README, drawn by the project's own commands.
readme-images: site
	mkdir -p docs/readme
	$(BIN)/linreg train --plot docs/readme/loss.png
	$(BIN)/python tools/screenshot.py en/tutorials/02-pytorch-lesson/ docs/readme/site.png

lint: setup
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

test: lint
	$(BIN)/python -m pytest

bench: $(STAMP)
	$(BIN)/python benchmarks/run.py

# What every page of the built site transfers (first visit, further page), what the first
# search transfers, and Lighthouse's scores (Lighthouse pinned in benchmarks/package-lock.json).
# (A clean-build timing too: .venv/bin/python benchmarks/site.py --scratch)
bench-site: site
	npm ci --prefix benchmarks --no-audit --no-fund
	$(BIN)/python benchmarks/site.py --skip-build

constraints: $(STAMP)
	head -4 $(CONSTRAINTS) > $(CONSTRAINTS).new
	$(BIN)/python -m pip freeze --exclude-editable | sed 's/^torch==\(.*\)+cpu$$/torch==\1/' \
		| grep -v '^torch-linreg' >> $(CONSTRAINTS).new
	mv $(CONSTRAINTS).new $(CONSTRAINTS)

clean:
	rm -rf build dist site .cache .pytest_cache .mypy_cache .ruff_cache .hypothesis
