# The commands people type. `make run` and `make test` set up everything they need themselves.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PORT ?= 5000
FLASK := $(BIN)/flask --app wsgi
export NUMBA_CACHE_DIR ?= $(CURDIR)/instance/numba-cache

.PHONY: translations run serve test test-sqlite test-postgres test-fast install torch assets browser lint format migrate bench evaluate clean

run: install
	$(FLASK) db upgrade
	$(FLASK) deliberate load-demo
	$(FLASK) run --host 127.0.0.1 --port $(PORT)

# The production shape on this machine, in the foreground (Ctrl-C stops it): the migrations, then
# gunicorn (2 x cores + 1 workers; WEB_CONCURRENCY) on 127.0.0.1:8000 (BIND, or PORT) and
# DELIBERATE_RQ_WORKERS RQ workers (1). Needs DATABASE_URL (PostgreSQL) and REDIS_URL.
serve: install
	$(BIN)/python -m deliberate.serve

# The whole suite on SQLite, and the tests that touch the database (marked `db` by
# tests/conftest.py) again on PostgreSQL when DATABASE_URL points at one. Both passes run at once,
# each on one pytest-xdist worker (TEST_PASSES=together, PASS_WORKERS=1). On the shared 2-core
# machine that took 6.4 min; both at once on two workers each 8.5 min; one pass after the other on
# two workers each (TEST_PASSES=serial PASS_WORKERS=2) 9.2 min; one process each, serially, ~20.
# `make test-sqlite` or `make test-postgres` alone runs on PYTEST_WORKERS workers (0: no xdist).
# tests/conftest.py says how tests keep out of each other's way. Extra options: PYTEST_ARGS="...".
TEST_PASSES ?= together
PASS_WORKERS ?= 1
PYTEST_WORKERS ?= 2
PYTEST = $(BIN)/python -m pytest $(if $(filter-out 0,$(PYTEST_WORKERS)),-n $(PYTEST_WORKERS) --dist loadgroup) $(PYTEST_ARGS)
# One hash seed for the whole run, printed, so a failure that hangs on a set's order comes back
# with `make test PYTHONHASHSEED=<the number>`.
ifndef PYTHONHASHSEED
PYTHONHASHSEED := $(shell od -An -N2 -tu2 /dev/urandom | tr -d ' ')
endif
export PYTHONHASHSEED
# Each worker and each subprocess a test starts compiles the project and the tests again when
# bytecode may not be written (8.5 s of CPU to collect the suite instead of 3.4 s).
unexport PYTHONDONTWRITEBYTECODE

test: install browser
	@echo "PYTHONHASHSEED=$(PYTHONHASHSEED)"
	@if [ -z "$$DATABASE_URL" ]; then $(MAKE) --no-print-directory test-sqlite && \
		echo "DATABASE_URL is not set: PostgreSQL run skipped (.ci/run sets it)."; \
	elif [ "$(TEST_PASSES)" = together ]; then \
		echo "SQLite and PostgreSQL passes at once; each one's output follows when it ends."; \
		$(MAKE) --no-print-directory -j2 --output-sync=target test-sqlite test-postgres \
			PYTEST_WORKERS=$(PASS_WORKERS); \
	else $(MAKE) --no-print-directory test-sqlite PYTEST_WORKERS=$(PASS_WORKERS) && \
		$(MAKE) --no-print-directory test-postgres PYTEST_WORKERS=$(PASS_WORKERS); fi

test-sqlite:
	TEST_DATABASE_URL=sqlite $(PYTEST)

test-postgres:
	TEST_DATABASE_URL="$$DATABASE_URL" $(PYTEST) -m db

# The edit-test loop: SQLite, without the real model, the demo, the browser or the slow tests.
test-fast: install
	TEST_DATABASE_URL=sqlite $(PYTEST) -m "not model and not demo and not browser and not slow"

PO_FILES := $(wildcard deliberate/translations/*/LC_MESSAGES/messages.po)
MO_FILES := $(PO_FILES:.po=.mo)
install: $(VENV)/.installed static/dist/app.css $(MO_FILES)

# The interface's catalogues: `make translations` gathers the strings of the code and the templates
# into messages.pot and merges them into each language's .po (kept in git); `make install` compiles
# the .po files to .mo (git-ignored), which Flask-Babel reads.
%.mo: %.po $(VENV)/.installed
	$(BIN)/pybabel compile --use-fuzzy -i $< -o $@ 2>&1 | grep -v '^compiling' || true

translations: $(VENV)/.installed
	$(BIN)/pybabel extract -F babel.cfg -k _l -o deliberate/translations/messages.pot \
		--no-location --sort-output .
	$(BIN)/pybabel update -i deliberate/translations/messages.pot -d deliberate/translations \
		--no-fuzzy-matching

# torch comes first, from PyTorch's CPU-only index: resolved from PyPI it is the CUDA build, with
# several GB of NVIDIA libraries. Choose another index with `make install TORCH_INDEX=<url>`, or
# pip's own indexes with `TORCH_INDEX=`. When the index does not answer within a few seconds (an
# offline machine that serves wheels from a local folder), pip's own indexes are used instead.
TORCH_VERSION := 2.13.0
TORCH_INDEX ?= https://download.pytorch.org/whl/cpu
export TORCH_IS_INSTALLED = import importlib.metadata as m, sys; \
	sys.exit(m.version("torch").split("+")[0] != "$(TORCH_VERSION)")
export INDEX_ANSWERS = import sys, urllib.request; urllib.request.urlopen(sys.argv[1], timeout=5)

$(VENV)/.installed: pyproject.toml
	@$(PYTHON) -c 'import sys; assert sys.version_info[:2] == (3, 11), "Python 3.11 is required"'
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	@$(MAKE) --no-print-directory torch
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $@

torch:
	@if $(BIN)/python -c "$$TORCH_IS_INSTALLED" 2>/dev/null; then \
		echo "torch $(TORCH_VERSION) is already installed"; \
	elif [ -n "$(TORCH_INDEX)" ] && $(BIN)/python -c "$$INDEX_ANSWERS" "$(TORCH_INDEX)/" 2>/dev/null; then \
		echo "Installing torch $(TORCH_VERSION) from $(TORCH_INDEX)"; \
		$(BIN)/python -m pip install --quiet --retries 1 --index-url "$(TORCH_INDEX)" \
			torch==$(TORCH_VERSION); \
	else \
		[ -z "$(TORCH_INDEX)" ] || echo "$(TORCH_INDEX) does not answer: installing torch from" \
			"pip's own indexes (on PyPI that is the CUDA build)"; \
		$(BIN)/python -m pip install --quiet torch==$(TORCH_VERSION); \
	fi

node_modules/.package-lock.json: package.json package-lock.json
	npm ci --no-audit --no-fund

assets: static/dist/app.css
static/dist/app.css: node_modules/.package-lock.json static/build.sh $(wildcard static/scss/*.scss) $(wildcard static/js/*.js)
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
