# Two commands do all the set-up on a fresh machine: `make run` and `make test`.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
HOST ?= 127.0.0.1
PORT ?= 8000

.PHONY: venv run serve test lint bench clean

venv: $(VENV)/.installed

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e '.[dev]'
	touch $@

# Embedded default: SQLite, in-memory channel layer, django-q2 on the ORM broker.
run: venv
	$(PY) manage.py migrate --noinput -v0
	$(PY) manage.py collectstatic --noinput -v0
	$(PY) manage.py seed_demo
	@$(MAKE) --no-print-directory serve

# daphne and a django-q2 cluster together; Ctrl-C stops both.
serve:
	@echo ""
	@echo "  Open http://$(HOST):$(PORT)/  (API docs: http://$(HOST):$(PORT)/api/docs/)"
	@echo "  Ctrl-C stops the server and the task cluster."
	@echo ""
	@$(PY) -m config.serve --host $(HOST) --port $(PORT)

test: venv
	$(VENV)/bin/pytest

lint: venv
	$(VENV)/bin/ruff check .

bench: venv
	$(PY) -m bench

clean:
	rm -rf $(VENV) var db.sqlite3 db.sqlite3-*
