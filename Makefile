# The two commands a newcomer needs: `make demo` and `make test`. Each sets up .venv
# (Python 3.11 from pyenv when present) and installs what it needs on first use.
PYENV_311 := $(firstword $(wildcard $(HOME)/.pyenv/versions/3.11*/bin/python3))
PYTHON ?= $(if $(PYENV_311),$(PYENV_311),python3)
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: demo test lint typecheck pytest bench docs nox services clean

$(PY):
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip

$(STAMP): pyproject.toml | $(PY)
	$(PY) -m pip install -q -e '.[test,bench,docs,progress]' nox
	touch $(STAMP)

demo: $(STAMP)
	$(PY) examples/tour.py

services:
	bash scripts/install-services.sh

lint: $(STAMP)
	$(VENV)/bin/ruff check src tests benchmarks examples
	$(VENV)/bin/ruff format --check src tests benchmarks examples

typecheck: $(STAMP)
	$(VENV)/bin/mypy --strict src tests/typing_promise.py tests/typing_combine.py examples

pytest: $(STAMP) services
	$(PY) -m pytest -q

test: lint typecheck docs pytest

# Warnings are errors, so the docs cannot rot; their examples run in tests/test_docs.py.
docs: $(STAMP)
	$(VENV)/bin/sphinx-build -W --keep-going -b html docs docs/_build/html

bench: $(STAMP)
	$(PY) -m shortly.bench --readme README.md

nox: $(STAMP)
	$(VENV)/bin/nox

clean:
	rm -rf $(VENV) .mypy_cache .ruff_cache .nox build dist
