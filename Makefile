# Each target bootstraps .venv when missing and re-installs only when the project files change.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: install test lint typecheck unit demo demo-reject demo-capture bench clean matrix-smoke

$(BIN)/uv:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --disable-pip-version-check uv

$(STAMP): pyproject.toml constraints.txt | $(BIN)/uv
	$(BIN)/uv pip install --quiet --compile-bytecode --python $(BIN)/python -c constraints.txt -e '.[dev]'
	touch $(STAMP)

install: $(STAMP)

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: $(STAMP)
	$(BIN)/mypy

unit: $(STAMP)
	$(BIN)/python -m pytest

test: lint typecheck unit

demo: $(STAMP)
	$(BIN)/python -m scripts.demo $(DEMO_ARGS)

demo-reject: $(STAMP)
	$(BIN)/python -m scripts.demo --candidate worse $(DEMO_ARGS)

demo-capture: $(STAMP)
	$(BIN)/python -m scripts.demo --capture $(DEMO_ARGS)

bench: $(STAMP)
	for f in benchmarks/bench_*.py; do $(BIN)/python $$f || exit 1; done

# One entry of the Airflow version matrix (constraints/$(MATRIX_ENTRY).txt): the smoke suite in
# that entry's cached venv (.ci/matrix-venv). Warnings are not errors there: older Airflow
# versions warn about their own deprecations.
MATRIX_ENTRY ?= airflow-2.11
matrix-smoke: | $(BIN)/uv
	venv="$$(UV=$(BIN)/uv .ci/matrix-venv $(MATRIX_ENTRY))" && \
	"$$venv/bin/python" -m pytest tests/compat -q -o filterwarnings=

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache build dist
