# Two commands on a fresh Debian machine (as root): `make run` and `make test`.
# Each runs scripts/setup.sh first (idempotent; says what it skipped when not root).
SHELL := /bin/bash
.SHELLFLAGS := -euo pipefail -c
VENV := .venv
PY := $(VENV)/bin/python
ARGS ?=

.PHONY: help setup run test bench

help:
	@echo "make run [ARGS='-- CMD ...']  set up, then run denet-tui (no ARGS: the built-in demo)"
	@echo "make test                     set up, then pytest, ruff and import-linter"
	@echo "make bench                    set up, then run benchmarks/bench_*.py"
	@echo "make setup                    install/check everything (scripts/setup.sh)"

setup:
	@bash scripts/setup.sh

run: setup
	$(VENV)/bin/denet-tui run $(ARGS)

# pytest exit 5 = no tests collected: a failure here, never a silent pass.
test: setup
	@rc=0; $(PY) -m pytest -q --durations=15 || rc=$$?; \
	if [ $$rc -eq 5 ]; then echo "error: pytest collected no tests" >&2; fi; \
	exit $$rc
	$(VENV)/bin/ruff check .
	$(VENV)/bin/lint-imports

bench: setup
	@shopt -s nullglob; files=(benchmarks/bench_*.py); \
	if [ $${#files[@]} -eq 0 ]; then echo "no benchmarks/bench_*.py yet"; exit 0; fi; \
	for f in "$${files[@]}"; do echo "== $$f"; $(PY) "$$f"; done
