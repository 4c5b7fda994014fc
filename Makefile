# Two entry points: `make demo` (set up, build a demo workspace, ingest it) and `make test`.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: setup demo previews test lint typecheck pytest bench clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

setup: $(STAMP)

demo: setup
	$(BIN)/callacct demo demo-workspace --force
	# What the demo's two schedules would send (weekly to supervisors, monthly bills to users),
	# written as .eml files into demo-workspace/outbox/.
	$(BIN)/callacct --workspace demo-workspace schedule run-due --dry-run

# The public reports' preview pictures, drawn from a small fixed demo (shipped in the wheel).
previews: setup
	$(BIN)/python -m callacct.demo.previews report_specs/previews

lint: setup
	$(BIN)/ruff check src tests benchmarks
	$(BIN)/ruff format --check src tests benchmarks

typecheck: setup
	$(BIN)/mypy

# Two worker processes (pytest-xdist): the suite takes about half the time on two cores.
# TEST_WORKERS=0 runs it in one process.
TEST_WORKERS ?= 2

pytest: setup
	$(BIN)/pytest -n $(TEST_WORKERS)

test: lint typecheck pytest

bench: setup
	$(BIN)/python benchmarks/bench_ingest.py
	$(BIN)/python benchmarks/bench_rating.py
	$(BIN)/python benchmarks/bench_classify.py
	$(BIN)/python benchmarks/bench_reports.py
	$(BIN)/python benchmarks/bench_lock.py
	$(BIN)/python benchmarks/bench_delivery.py
	$(BIN)/python benchmarks/bench_alarms.py
	$(BIN)/python benchmarks/bench_budgets.py

clean:
	rm -rf $(VENV) demo-workspace bench-data .pytest_cache .mypy_cache .ruff_cache
