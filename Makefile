# The two commands a fresh machine needs: `make demo` and `make test`.
# Each bootstraps .venv by itself (Python 3.11+ as python3).

PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-stamp

.PHONY: demo demo-cluster test lint bench bench-postgres bench-clickhouse bench-load bench-read bench-dashboard install clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 $(BIN)/python -m pip install --quiet -e ".[dev,postgres,clickhouse]"
	touch $(STAMP)

install: $(STAMP)

## Seed an embedded SQLite demo database and serve it on http://127.0.0.1:8000
demo: $(STAMP)
	$(BIN)/engagement-api demo

## The demo with its counters on a local 2-shard x 2-replica ClickHouse cluster (docs/scaling.md)
demo-cluster: $(STAMP)
	$(BIN)/python -m devtools.demo_cluster

## Lint, format-check, type-check and run every test (in parallel, with branch coverage)
# pytest-xdist workers: most tests wait on servers, so one more than the 2 cores is fastest.
# Servers they share (PostgreSQL) are started once per run: tests/support/shared.py.
# --dist loadgroup: the dashboard's browser tests (xdist group "browser") go to one worker, which
# starts Chromium once (tests/dashboard/conftest.py; Debian's chromium is installed when missing).
# The coverage data goes to a directory of this run's own (never a fixed file in the tree, which
# a concurrent run would mix into its own), removed afterwards; the report is the terminal's.
TEST_WORKERS ?= 3
test: $(STAMP)
	$(BIN)/ruff check src tests bench devtools
	$(BIN)/ruff format --check src tests bench devtools
	$(BIN)/mypy
	cov=$$(mktemp -d) && trap 'rm -rf "$$cov"' EXIT && \
	COVERAGE_FILE="$$cov/coverage" PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 \
		$(BIN)/pytest -n $(TEST_WORKERS) --dist loadgroup \
		--cov --cov-report=term-missing:skip-covered

lint: $(STAMP)
	$(BIN)/ruff check src tests bench devtools
	$(BIN)/ruff format --check src tests bench devtools
	$(BIN)/mypy

## Benchmarks (not part of the tests); see bench/README.md and bench/LOAD.md
bench: $(STAMP)
	$(BIN)/python -m bench

bench-postgres: $(STAMP)
	$(BIN)/python -m bench --backend postgresql

bench-clickhouse: $(STAMP)
	$(BIN)/python -m bench --backend clickhouse

bench-load: $(STAMP)
	$(BIN)/python -m bench.load

bench-read: $(STAMP)
	$(BIN)/python -m bench.read

bench-dashboard: $(STAMP)
	$(BIN)/python -m bench.dashboard

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache demo-data
