# `make demo` and `make test` each do all of their own set-up on a fresh machine.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-stamp
EXAMPLES := $(wildcard examples/*/charter.yaml)

.PHONY: install demo test lint unit docs schemas schemas-check examples-check policy-test bench clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -e '.[dev]'
	touch $(STAMP)

install: $(STAMP)

demo: $(STAMP)
	@echo "== charter check examples/credit-scoring (a high-risk credit model) =="
	$(BIN)/charter check examples/credit-scoring --color always
	@echo
	@echo "== charter check examples/demand-forecast (a minimal-risk regression model) =="
	$(BIN)/charter check examples/demand-forecast --color always
	@echo
	@echo "== a broken spec: four mistakes, four findings with line and column =="
	-$(BIN)/charter check tests/cases/demo-broken --color always

test: lint unit schemas-check examples-check policy-test

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

unit: $(STAMP)
	$(BIN)/pytest -q

docs: $(STAMP)
	$(BIN)/python -m compiler.policy_docs docs/policies.md

schemas: $(STAMP)
	$(BIN)/charter schema --out schemas

schemas-check: $(STAMP)
	$(BIN)/charter schema --out schemas --check

policy-test: $(STAMP)
	$(BIN)/charter policy test policies

examples-check: $(STAMP)
	$(BIN)/charter check --color never $(dir $(EXAMPLES))

bench: $(STAMP)
	$(BIN)/python bench/run.py

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache .hypothesis
