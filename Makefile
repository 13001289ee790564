# The two commands (README): `make run` sets everything up and runs the portal; `make test` runs
# the whole suite. `make lint` and `make bench` are for development.
PY := .venv/bin/python
TEST_SETTINGS := slaportal.settings_test

.PHONY: run test lint bench setup setup-dev

## Install what is missing (virtualenv, Python packages, WeasyPrint's system packages).
setup:
	@bash scripts/bootstrap.sh run

setup-dev:
	@bash scripts/bootstrap.sh dev

## Migrate, load the demo data, start web + Celery worker + Celery beat (PORT, default 8000).
run: setup
	@exec $(PY) scripts/run.py

## manage.py check, the migrations check, then the whole pytest suite (it prints the DB/broker).
test: setup-dev
	@mkdir -p "$${SLAPORTAL_VAR_DIR:-var/test}/staticfiles"  # WhiteNoise warns on every request without it
	DJANGO_SETTINGS_MODULE=$(TEST_SETTINGS) $(PY) manage.py check
	DJANGO_SETTINGS_MODULE=$(TEST_SETTINGS) $(PY) manage.py makemigrations --check --dry-run
	$(PY) -m ruff check .
	$(PY) -m mypy
	@$(PY) -m pytest; rc=$$?; \
	if [ $$rc -eq 5 ]; then echo "make test: pytest collected no tests; that is a failure" >&2; fi; \
	[ $$rc -eq 0 ] || exit $$rc; \
	echo "make test: the browser tests (Playwright + Debian chromium), in a process of their own"; \
	$(PY) -m pytest -m browser; rc=$$?; \
	if [ $$rc -eq 5 ]; then echo "make test: pytest collected no browser tests; that is a failure" >&2; fi; \
	[ $$rc -eq 0 ] || exit $$rc; \
	echo "make test: every role's pages, the work queues and the overdue review on SQLite (make run's database)"; \
	v="$${SLAPORTAL_VAR_DIR:-var/test}"; case "$$v" in /*) ;; *) v="$$(pwd)/$$v";; esac; \
	env -u SLAPORTAL_REQUIRE_SERVICES DATABASE_URL="sqlite:///$$v/pages.sqlite3" $(PY) -m pytest -p no:cacheprovider \
		tests/test_every_role_chinese.py tests/ui/test_work_queues.py tests/ui/test_overdue.py tests/sla/test_calendar.py

lint: setup-dev
	$(PY) -m ruff check .
	$(PY) -m mypy

## Every script in bench/ (each starts what it measures; figures go to stdout).
bench: setup-dev
	@set -e; found=0; for f in bench/*; do \
		case "$$f" in *.py) found=1; echo "== $$f"; $(PY) "$$f";; \
		*) if [ -f "$$f" ] && [ -x "$$f" ]; then found=1; echo "== $$f"; "./$$f"; fi;; esac; \
	done; [ $$found = 1 ] || echo "bench/: no scripts"
