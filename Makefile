# The commands people type. `make run` and `make test` set up everything they need themselves.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PORT ?= 5000
FLASK := $(BIN)/flask --app wsgi
export NUMBA_CACHE_DIR ?= $(CURDIR)/instance/numba-cache

.PHONY: run test test-sqlite test-postgres install assets browser lint format migrate bench evaluate clean

run: install
	$(FLASK) db upgrade
	$(FLASK) deliberate load-demo
	$(FLASK) run --host 127.0.0.1 --port $(PORT)

# The whole suite on SQLite, then again on PostgreSQL when DATABASE_URL points at one.
test: install browser
	$(MAKE) --no-print-directory test-sqlite
	@if [ -n "$$DATABASE_URL" ]; then $(MAKE) --no-print-directory test-postgres; \
	else echo "DATABASE_URL is not set: PostgreSQL run skipped (.ci/run sets it)."; fi

test-sqlite:
	TEST_DATABASE_URL=sqlite $(BIN)/python -m pytest

test-postgres:
	TEST_DATABASE_URL="$$DATABASE_URL" $(BIN)/python -m pytest

install: $(VENV)/.installed static/dist/app.css

# CPU torch first: otherwise pip resolves torch from PyPI and fetches a multi-GB CUDA build.
$(VENV)/.installed: pyproject.toml
	@$(PYTHON) -c 'import sys; assert sys.version_info[:2] == (3, 11), "Python 3.11 is required"'
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet torch==2.13.0
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $@

node_modules/.package-lock.json: package.json package-lock.json
	npm ci --no-audit --no-fund

assets: static/dist/app.css
static/dist/app.css: node_modules/.package-lock.json static/build.sh $(wildcard static/scss/*.scss)
	bash static/build.sh

# Real-browser tests drive Debian's Chromium; Playwright's own browser download cannot work here.
browser:
	@command -v chromium >/dev/null 2>&1 || { \
		echo "Installing Debian's chromium for the browser tests"; \
		(apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium) >/dev/null \
		|| { echo "Could not install chromium: run 'apt-get install chromium' as root."; exit 1; }; }

# Style, the import contracts between layers, and types (pyproject.toml configures all three).
lint: $(VENV)/.installed
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports
	$(BIN)/mypy

format: install
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

migrate: install
	$(FLASK) db upgrade

bench: install
	$(BIN)/python bench/bench_groups.py

evaluate: install
	$(BIN)/python bench/evaluate_groups.py

clean:
	rm -rf $(VENV) node_modules static/dist
