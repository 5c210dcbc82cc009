# Two commands on a fresh machine:  make run  (the app)   make test  (the tests)
VENV ?= .venv
PY := $(VENV)/bin/python
PYTHON ?= python3

$(VENV)/.installed: requirements.txt requirements-dev.txt
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -r requirements-dev.txt
	touch $@

.PHONY: install run test chromium fashion lint bench
install: $(VENV)/.installed

run: $(VENV)/.installed fashion
	$(VENV)/bin/streamlit run app.py  # serves explorer.py; warms the engine at server start

# The browser tests drive Debian's Chromium, installed here when missing (as root); without root,
# Playwright's own Chromium (a download from its CDN: needs that network).
chromium: $(VENV)/.installed
	@command -v chromium >/dev/null 2>&1 || { \
	  if [ "$$(id -u)" = 0 ]; then apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q chromium; \
	  else $(PY) -m playwright install chromium; fi; }

# Fashion-MNIST's 70,000 images (the shipped fashion-* models' data): Debian's package, installed
# when missing (as root); else the app shows those models on MNIST digits and says how to add it.
FASHION_DIR := /usr/share/datasets/fashion-mnist
fashion:
	@test -f $(FASHION_DIR)/train-images-idx3-ubyte.gz || { \
	  if [ "$$(id -u)" = 0 ]; then apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q dataset-fashion-mnist; \
	  else echo "Fashion-MNIST is not installed: sudo apt-get install dataset-fashion-mnist (or set VAE_EXPLORER_DATA_ROOT)"; fi; }

test: $(VENV)/.installed chromium fashion
	$(PY) -m pytest -q

lint: $(VENV)/.installed
	$(VENV)/bin/ruff check . && $(VENV)/bin/ruff format --check .

bench: $(VENV)/.installed
	$(PY) -m bench.run
