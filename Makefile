# Targets a new user needs: `make demo` serves the site with demo data on the embedded
# default (SQLite + filesystem broker); `make test` runs the suite against PostgreSQL and Redis,
# `make check` the part that starts no process (tests marked slow or e2e left out). Each run
# has its own test database and broker namespace (tests/settings.py): runs may overlap.
PYTHON ?= python3.11
VENV ?= .venv
PY := $(VENV)/bin/python
HOST ?= 127.0.0.1
PORT ?= 8000
TEST_DATABASE_URL ?= postgres://postgres@127.0.0.1:5432/navab
TEST_BROKER_URL ?= redis://127.0.0.1:6379/15
# The demo's reference judge (aj_ref): one of its own tiny models, built by `manage.py demo`.
DEMO_REFERENCE_JUDGE ?= $(or $(EVAL_REFERENCE_JUDGE),$(CURDIR)/var/models/demo--tiny-gpt2-seed1)

.PHONY: install demo test check lint

install: $(VENV)/.installed

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(VENV)/bin/pip install --upgrade pip setuptools wheel
	$(VENV)/bin/pip install -e ".[ml,dev]"
	touch $@

# The demo release has a few items per country; the default (10) would grey every slice.
demo: export DIVERVALUE_MIN_N ?= 3
demo: install
	$(PY) manage.py migrate --noinput
	EVAL_REFERENCE_JUDGE=$(DEMO_REFERENCE_JUDGE) $(PY) manage.py demo
	EVAL_REFERENCE_JUDGE=$(DEMO_REFERENCE_JUDGE) $(PY) manage.py serve_demo --host $(HOST) --port $(PORT)

test: install
	DATABASE_URL=$(TEST_DATABASE_URL) CELERY_BROKER_URL=$(TEST_BROKER_URL) $(PY) -m pytest $(PYTEST_ARGS)

check: install
	DATABASE_URL=$(TEST_DATABASE_URL) CELERY_BROKER_URL=$(TEST_BROKER_URL) \
		$(PY) -m pytest -m "not slow and not e2e" $(PYTEST_ARGS)

lint: install
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy leaderboard evaluation pipeline
