# Two commands on a fresh machine:  make run  (the app)   make test  (the tests)
VENV ?= .venv
PY := $(VENV)/bin/python
PYTHON ?= python3

$(VENV)/.installed: requirements.txt requirements-dev.txt
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -r requirements-dev.txt
	touch $@

.PHONY: install run test chromium lint bench
install: $(VENV)/.installed

run: $(VENV)/.installed
	$(VENV)/bin/streamlit run app.py  # serves explorer.py; warms the engine at server start

# The browser test drives Debian's Chromium; installed here when missing (as root).
chromium:
	@command -v chromium >/dev/null 2>&1 || { \
	  if [ "$$(id -u)" = 0 ]; then apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q chromium; \
	  else echo "The browser test needs Chromium: sudo apt-get install chromium"; exit 1; fi; }

test: $(VENV)/.installed chromium
	$(PY) -m pytest -q

lint: $(VENV)/.installed
	$(VENV)/bin/ruff check . && $(VENV)/bin/ruff format --check .

bench: $(VENV)/.installed
	$(PY) -m bench.run
