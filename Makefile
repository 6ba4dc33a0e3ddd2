# patroli: `make demo` runs the main job on bundled data, `make test` runs the tests.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo test install lint bench clean chromium

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

$(STAMP): $(BIN)/python pyproject.toml
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $(STAMP)

install: $(STAMP)

DEMO := src/patroli/data/demo
DEMO_INPUTS := $(DEMO)/posts.jsonl $(DEMO)/posts.csv $(DEMO)/whatsapp_grup_loker.txt $(DEMO)/telegram_export/result.json

demo: $(STAMP)
	$(BIN)/patroli scan $(DEMO_INPUTS) --db demo.db --out patroli-report.html --out patroli-report.json

# Browser tests drive Debian's Chromium through Playwright (never a downloaded browser):
# installed with apt-get when missing and this runs as root; otherwise they skip.
chromium:
	@if [ ! -x /usr/bin/chromium ]; then \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
	    echo "installing Debian's chromium for the browser tests"; \
	    { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium; } \
	      || echo "chromium could not be installed: the browser tests will skip"; \
	  else echo "no /usr/bin/chromium (install Debian's chromium): the browser tests will skip"; fi; \
	fi

test: $(STAMP) chromium
	$(BIN)/ruff check src tests bench
	$(BIN)/python -m pytest

lint: $(STAMP)
	$(BIN)/ruff check src tests bench

bench: $(STAMP)
	$(BIN)/python bench/throughput.py

clean:
	rm -rf $(VENV) demo.db patroli-report.html
