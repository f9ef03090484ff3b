# Two commands for a newcomer: `make run` (the product on the embedded default) and `make test`.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-$(shell cat requirements.txt requirements-dev.txt | cksum | cut -d' ' -f1)

.PHONY: run test lint format bench bench-100k chaos clean

$(STAMP): requirements.txt requirements-dev.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -r requirements.txt -r requirements-dev.txt
	rm -f $(VENV)/.installed-*; touch $(STAMP)

run: $(STAMP)
	$(BIN)/python scripts/devrun.py

test: $(STAMP)
	$(BIN)/python -m pytest

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports
	$(BIN)/python scripts/check_import_cycles.py

format: $(STAMP)
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

# Every benchmark, bench_sync at 10,000 and 100,000 variants included (budget: 25 minutes). `make bench-100k` runs
# bench_sync alone (both sizes).
bench: $(STAMP)
	$(BIN)/python -m benchmarks

bench-100k: $(STAMP)
	$(BIN)/python -m benchmarks bench_sync

# A soak of the real processes under faults (CHAOS_SECONDS, CHAOS_SEED: see benchmarks/chaos/__main__.py).
chaos: $(STAMP)
	$(BIN)/python -m benchmarks.chaos

clean:
	rm -rf $(VENV) instance .pytest_cache
