# Two commands on a fresh machine with Python 3.11:  make demo  |  make test
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: install demo test clean

$(STAMP): pyproject.toml constraints.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -c constraints.txt -e ".[vision,test]"
	touch $(STAMP)

install: $(STAMP)

# Evaluate the tiny Pythia twin on the finance suite; results land in results/harness.duckdb.
demo: $(STAMP)
	$(BIN)/harness run --model tiny-pythia --task finance
	$(BIN)/harness runs

test: $(STAMP)
	$(BIN)/python -m pytest -q

clean:
	rm -rf $(VENV) reports/* results/*.duckdb*
