# Entry points of the project. `make up` on a fresh Debian 12 machine (as root)
# installs what is missing and starts the whole local stack; `make test` does the
# same, runs the test suite, and stops only what it had to start.

SHELL := /bin/bash
PYTHON := .venv/bin/python
STACKCTL := $(PYTHON) -m deploy.stackctl
STAMP := .venv/.installed
TEST_RECORD := .stack/test-started

.PHONY: venv up down status logs test lint bench demo clean

venv: $(STAMP)

# Re-run only when pyproject.toml is newer than the stamp. Debian's python3 lacks
# ensurepip until python3-venv is installed: install it when creating the venv fails.
$(STAMP): pyproject.toml
	@test -x $(PYTHON) || python3 -m venv .venv 2>/dev/null || { \
	  echo "make: installing python3-venv"; \
	  rm -rf .venv; \
	  DEBIAN_FRONTEND=noninteractive apt-get update -q >/dev/null && \
	  DEBIAN_FRONTEND=noninteractive apt-get install -y -q python3-venv >/dev/null && \
	  python3 -m venv .venv; }
	@$(PYTHON) -m pip install -q --disable-pip-version-check -e '.[dev]' > .venv/pip.log 2>&1 \
	  || { cat .venv/pip.log; exit 1; }
	@touch $@

up: venv
	@$(STACKCTL) up

down: venv
	@$(STACKCTL) down

status: venv
	@$(STACKCTL) status

logs:
	@tail -n 20 -F .stack/logs/*.log

# Starts what is not running yet (recorded), runs pytest, stops what it started:
# a stack the developer already had up stays up. pytest's exit status is kept,
# including 5 ("no tests collected"), which fails the target. The stop's output
# goes to a log (shown if it fails) so that pytest's summary stays the last line.
test: venv
	@$(STACKCTL) up --record $(TEST_RECORD) || { \
	  status=$$?; $(STACKCTL) down --only $(TEST_RECORD); exit $$status; }
	@status=0; .venv/bin/pytest || status=$$?; \
	  $(STACKCTL) down --only $(TEST_RECORD) > .stack/logs/test-down.log 2>&1 || { \
	    cat .stack/logs/test-down.log; [ $$status -ne 0 ] || status=2; }; \
	  exit $$status

lint: venv
	@.venv/bin/ruff check .

bench: venv
	@$(PYTHON) -m bench

# Plays the charter's first law end to end on the running stack (`make up` first).
demo: venv
	@$(PYTHON) -m deploy.demo

clean:
	@if [ -x $(PYTHON) ]; then $(STACKCTL) down; fi
	@rm -rf .stack
