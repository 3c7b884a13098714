# Each target bootstraps .venv when missing and re-installs only when the project files change.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: install test lint typecheck unit unit-fast unit-slow demo demo-reject demo-capture bench clean matrix-smoke

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

# Fast tests use both cores. The slow end-to-end tests mostly wait on the wall clock (a verdict
# needs several judged minutes of per-minute metrics), so they run side by side, a file per worker
# (module fixtures such as a started api-server or a built venv run once): the longest one
# (four pipeline runs in a row on one endpoint) alone, the others spread over several workers.
LONGEST_E2E := tests/e2e/test_e2e_repeated_promotion.py
unit: unit-fast unit-slow

unit-fast: $(STAMP)
	$(BIN)/python -m pytest -m "not slow" -n 2 --dist loadfile

unit-slow: $(STAMP)
	$(BIN)/python -m pytest -m slow $(LONGEST_E2E) -q & longest=$$!; \
	$(BIN)/python -m pytest -m slow -n 6 --dist loadfile --ignore=$(LONGEST_E2E) -q; others=$$?; \
	wait $$longest; longest_rc=$$?; \
	test $$others -eq 0 && test $$longest_rc -eq 0

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
