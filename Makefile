# The two commands a newcomer needs: `make demo` and `make test`. Each sets up .venv
# (Python 3.11 from pyenv when present) and installs what it needs on first use.
PYENV_311 := $(firstword $(wildcard $(HOME)/.pyenv/versions/3.11*/bin/python3))
PYTHON ?= $(if $(PYENV_311),$(PYENV_311),python3)
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: demo test lint typecheck pytest bench docs nox nox-latest services clean

LOCK := requirements/dev.txt
EXTRAS := --extra test --extra bench --extra docs --extra progress

.PHONY: lock

$(PY):
	$(PYTHON) -m venv $(VENV)

# The tool chain comes from the lock file, with hashes, so a checkout gives the same
# verdict next month as today; the package's own dependency ranges stay loose.
$(STAMP): $(LOCK) pyproject.toml | $(PY)
	$(PY) -m pip install -q --require-hashes --no-deps -r $(LOCK)
	$(PY) -m pip install -q --no-deps --no-build-isolation -e .
	touch $(STAMP)

# Refresh the lock to the newest releases (one lock for Python 3.10 to 3.13).
lock: $(STAMP)
	$(VENV)/bin/uv pip compile --quiet --universal --python-version 3.10 --generate-hashes \
		--upgrade $(EXTRAS) pyproject.toml requirements/tools.in -o $(LOCK)

demo: $(STAMP)
	$(PY) examples/tour.py

services:
	bash scripts/install-services.sh

lint: $(STAMP)
	$(VENV)/bin/ruff check src tests benchmarks examples
	$(VENV)/bin/ruff format --check src tests benchmarks examples

typecheck: $(STAMP)
	$(VENV)/bin/mypy --strict src tests/typing_promise.py tests/typing_combine.py examples

# The tests that compare wall-clock times run last and alone, so no other test's
# threads or processes share the machine with their measurements.
pytest: $(STAMP) services
	$(PY) -m pytest -q
	$(PY) -m pytest -q -m timing tests

test: lint typecheck docs pytest

# Warnings are errors, so the docs cannot rot; their examples run in tests/test_docs.py.
docs: $(STAMP)
	$(VENV)/bin/sphinx-build -W --keep-going -b html docs docs/_build/html

bench: $(STAMP)
	$(PY) -m benchmarks --readme README.md

# Every supported Python, from the lock; `make nox-latest` against the newest releases.
nox: $(STAMP)
	$(VENV)/bin/nox -s tests

nox-latest: $(STAMP)
	$(VENV)/bin/nox -s latest

clean:
	rm -rf $(VENV) .mypy_cache .ruff_cache .nox build dist
