# The two commands of the README are `make demo` and `make test`; both set up first.
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

.PHONY: setup demo test lint bench constraints clean

setup: $(STAMP)

$(STAMP): pyproject.toml $(CONSTRAINTS)
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check \
		-c $(CONSTRAINTS) -e '.[$(EXTRAS)]' 2>&1 | $(QUIET_PIP)
	$(BIN)/python -c "import torch, linreg; print('torch', torch.__version__, '| linreg', linreg.__version__)"
	touch $@

demo: $(STAMP)
	mkdir -p build/demo
	$(BIN)/linreg train --plot build/demo/loss.png
	$(BIN)/linreg compare --plot build/demo/compare.png
	$(BIN)/linreg solve

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

test: lint
	$(BIN)/python -m pytest

bench: $(STAMP)
	$(BIN)/python benchmarks/run.py

constraints: $(STAMP)
	$(BIN)/python -m pip freeze --exclude-editable | sed 's/^torch==\(.*\)+cpu$$/torch==\1/' \
		| grep -v '^torch-linreg' > $(CONSTRAINTS).new
	mv $(CONSTRAINTS).new $(CONSTRAINTS)

clean:
	rm -rf build dist site .cache .pytest_cache .mypy_cache .ruff_cache .hypothesis
