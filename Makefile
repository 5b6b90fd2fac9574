# Two commands do all the set-up on a fresh machine (Python 3.11):
#   make app    create .venv, install, start the app on the embedded MNIST subset
#   make test   create .venv, install (with Debian's chromium for the browser test), run every test
#   make test-fast   the same without the browser and slow tests (pytest.ini's markers), for the edit-run loop
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
# two pytest-xdist workers, one torch thread each, a test file per worker at a time (tests/conftest.py keeps files
# that share a server, a Ray instance or a fixture's work together, and hands out the longest first); `make test XDIST=`
# runs in one process
XDIST ?= -n 2 --dist loadfile

.PHONY: app test test-fast setup setup-dev browser bench reproduce

$(BIN)/python:
	$(PY) -m venv $(VENV)

setup: $(BIN)/python
	$(BIN)/pip install -q -r requirements.txt

setup-dev: $(BIN)/python
	$(BIN)/pip install -q -r requirements-dev.txt

browser:  # Debian's Chromium; test tools cannot download a browser here
	@command -v chromium >/dev/null || { apt-get update -qq && apt-get install -y -qq chromium >/dev/null; }

app: setup
	$(BIN)/streamlit run app.py

test: setup-dev browser
	$(BIN)/python -m pytest -q tests $(XDIST)

test-fast: setup-dev
	$(BIN)/python -m pytest -q tests -m "not browser and not slow" $(XDIST)

bench: setup
	$(BIN)/pip install -q -r requirements-bench.txt
	$(BIN)/python -m benchmarks.bench

reproduce: setup
	$(BIN)/python -m mia_core reproduce --out results
