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
# The [dependency-groups] of pyproject.toml that the set-up installs.
GROUPS := test docs browser dev
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

.PHONY: setup system-deps site serve preview demo readme-images check test lint bench bench-site dist constraints clean

setup: $(STAMP) system-deps node_modules/.package-lock.json

# The Nu HTML Checker (vnu.jar) for tests/test_html_valid.py, pinned in package-lock.json.
node_modules/.package-lock.json: package.json package-lock.json | system-deps
	npm ci --no-audit --no-fund --loglevel=error

# pip installs dependency groups (--group) from 25.1 on: first the pip the constraints pin.
$(STAMP): pyproject.toml $(CONSTRAINTS)
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check \
		-c $(CONSTRAINTS) pip 2>&1 | $(QUIET_PIP)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check \
		-c $(CONSTRAINTS) -e . $(addprefix --group ,$(GROUPS)) 2>&1 | $(QUIET_PIP)
	$(BIN)/python -c "import torch, linreg; print('torch', torch.__version__, '| linreg', linreg.__version__)"
	touch $@

system-deps: $(STAMP)
	tools/system-deps.sh $(BIN)/python

site: setup
	$(BIN)/python -m tools.build_site

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
	$(BIN)/python -m tools.screenshot en/tutorials/02-pytorch-lesson/ docs/readme/site.png

# Lint and types: the venv only, no Debian package.
lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

# The fast inner loop: lint, types and the package's tests (no site build, no browser,
# no notebook run); well under a minute.
check: lint
	$(BIN)/python -m pytest -n 2 -m "not site and not browser and not slow"

# Everything, on both cores (pytest-xdist; each test file stays on one worker).
test: lint setup
	$(BIN)/python -m pytest -n 2 --dist loadfile

# The package's speed: benchmarks/run.py's targets, then data parallel with 1 and 2 processes.
bench: $(STAMP)
	$(BIN)/python benchmarks/run.py
	$(BIN)/python benchmarks/ddp.py

# What every page of the built site transfers (first visit, further page), what the first
# search transfers, and Lighthouse's scores (Lighthouse pinned in benchmarks/package-lock.json).
# (A clean-build timing too: .venv/bin/python benchmarks/site.py --scratch)
bench-site: site
	npm ci --prefix benchmarks --no-audit --no-fund
	$(BIN)/python benchmarks/site.py --skip-build
	$(BIN)/python benchmarks/explorer.py

# The release files in $(DIST_DIR): the sdist and the wheel, built with the pinned hatchling and
# checked by twine; then the wheel alone in a fresh venv runs the lesson. That venv borrows
# this one's packages (torch ...) through a .pth file, so nothing is downloaded;
# DIST_DEPS=install has pip install the wheel's dependencies instead (the release workflow).
DIST_DIR ?= dist
DIST_VENV ?= build/dist-venv
DIST_DEPS ?= borrow
PURELIB := import sysconfig; print(sysconfig.get_path("purelib"))

dist: $(STAMP)
	rm -rf $(DIST_DIR) $(DIST_VENV)
	$(BIN)/python -m build --no-isolation --outdir $(DIST_DIR)
	$(BIN)/twine check --strict $(DIST_DIR)/*
	$(BIN)/python -m venv --without-pip $(DIST_VENV)
ifeq ($(DIST_DEPS),borrow)
	$(BIN)/python -c '$(PURELIB)' > "$$($(DIST_VENV)/bin/python -c '$(PURELIB)')/borrowed.pth"
	$(BIN)/python -m pip --python $(DIST_VENV)/bin/python install --quiet --no-deps --no-index \
		$(DIST_DIR)/*.whl
else
	$(BIN)/python -m pip --python $(DIST_VENV)/bin/python install --quiet $(DIST_DIR)/*.whl \
		2>&1 | $(QUIET_PIP)
endif
	$(DIST_VENV)/bin/linreg train

constraints: $(STAMP)
	head -4 $(CONSTRAINTS) > $(CONSTRAINTS).new
	$(BIN)/python -m pip freeze --all --exclude-editable | sed 's/^torch==\(.*\)+cpu$$/torch==\1/' \
		| grep -v '^torch-linreg' >> $(CONSTRAINTS).new
	mv $(CONSTRAINTS).new $(CONSTRAINTS)

clean:
	rm -rf build dist site .cache .pytest_cache .mypy_cache .ruff_cache .hypothesis
