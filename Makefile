# patroli: `make demo` runs the main job on bundled data, `make test` runs the tests.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo test install lint bench clean

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

test: $(STAMP)
	$(BIN)/ruff check src tests bench
	$(BIN)/python -m pytest

lint: $(STAMP)
	$(BIN)/ruff check src tests bench

bench: $(STAMP)
	$(BIN)/python bench/throughput.py

clean:
	rm -rf $(VENV) demo.db patroli-report.html
