# LoanTrack: the README's two commands are `make run` and `make test`; the rest are what CI and developers use.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PY := $(BIN)/python
PORT ?= 8000
# Two workers (the machine has two cores); a test file stays on one worker so its module-scoped setup runs once.
PYTEST_ARGS ?= -n 2 --dist loadfile

.PHONY: help install install-test run web migrate seed test test-fast browser-deps lint format check messages bench bench-smoke ci clean

help:
	@echo "make run      install, migrate, load demo data and start web + Celery worker + beat"
	@echo "make test     install the test tools and run the whole test suite"
	@echo "make lint     ruff (with Django and timezone rules) and djlint on templates"
	@echo "make check    makemigrations --check and check --deploy with production settings"
	@echo "make messages update the translation catalogs and compile them"
	@echo "make bench    generate LOANS (100000) loans and time the busiest pages (docs/performance.md)"

$(PY):
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

# Re-install only when the dependency list changes.
$(VENV)/.installed: pyproject.toml | $(PY)
	$(BIN)/pip install --quiet -e .
	@touch $@

$(VENV)/.installed-test: pyproject.toml $(VENV)/.installed
	$(BIN)/pip install --quiet -e ".[test]"
	@touch $@

install: $(VENV)/.installed

install-test: $(VENV)/.installed-test

var:
	@mkdir -p var/celery/queue var/celery/processed var/media

migrate: install var
	$(PY) manage.py migrate --noinput

seed: migrate
	$(PY) manage.py seed_demo

run: seed
	@$(PY) manage.py demo_logins --port $(PORT)
	PORT=$(PORT) $(BIN)/honcho start -f Procfile

test: install-test var browser-deps
	$(BIN)/pytest $(PYTEST_ARGS)

# The browser tests drive Debian's chromium; install it when this machine lets us (root with apt), else they skip
# locally and fail in CI (LOANTRACK_REQUIRE_SERVICES=1).
browser-deps:
	@scripts/ensure-chromium.sh

lint: install-test
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/djlint templates --lint

format: install-test
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

check: install var
	$(PY) manage.py makemigrations --check --dry-run
	DJANGO_SETTINGS_MODULE=loantrack.settings.production \
	SECRET_KEY=$${SECRET_KEY:-$$($(PY) -c 'import secrets; print(secrets.token_urlsafe(64))')} \
	ALLOWED_HOSTS=$${ALLOWED_HOSTS:-loantrack.example.com} \
	FIELD_ENCRYPTION_KEY=$${FIELD_ENCRYPTION_KEY:-$$($(PY) -c 'from cryptography.fernet import Fernet; print(Fernet.generate_key().decode())')} \
	FIELD_HASH_KEY=$${FIELD_HASH_KEY:-$$($(PY) -c 'import secrets; print(secrets.token_urlsafe(32))')} \
	$(PY) manage.py check --deploy --fail-level WARNING

messages: install
	$(PY) manage.py makemessages --locale zh_Hans --locale en --ignore '.venv/*' --ignore 'var/*' --ignore 'tests/*' --ignore 'artifacts/*' --no-obsolete
	$(PY) manage.py compilemessages --ignore '.venv/*'

# Performance (docs/performance.md): a generated book served by gunicorn with the production settings.
LOANS ?= 100000
bench: install var
	@command -v hey >/dev/null || apt-get install -y -qq hey
	$(PY) scripts/bench.py --loans $(LOANS) $(BENCH_ARGS)

# CI's variant: 5,000 loans in a fresh database; fails on an error page or a query budget, times nothing.
bench-smoke: install var
	$(PY) scripts/bench.py --smoke

ci: lint check test bench-smoke

clean:
	rm -rf $(VENV) var
