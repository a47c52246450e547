# Aizen: the two commands a newcomer needs are `make dev` and `make test`.
SHELL := /bin/bash
.DEFAULT_GOAL := help

# A Python 3.13 interpreter that really runs (a pyenv shim for an unselected
# version does not): on PATH, in pyenv's versions, or in the usual places.
PYTHON313 ?= $(shell for candidate in python3.13 "$$HOME"/.pyenv/versions/3.13*/bin/python3.13 \
	/usr/local/bin/python3.13 /usr/bin/python3.13; do \
	if "$$candidate" -c 'import sys; sys.exit(sys.version_info[:2] != (3, 13))' >/dev/null 2>&1; then \
	command -v "$$candidate"; break; fi; done)

VENV  := .venv
TOOLS := .venv-tools
PY    := $(VENV)/bin/python
PIP_QUIET := --quiet --disable-pip-version-check
export SAM_CLI_TELEMETRY := 0
# sam build and the layer's Makefile call `python3.13`: the project venv's comes first.
SAM_ENV := PATH="$(CURDIR)/$(VENV)/bin:$$PATH"

.PHONY: help install dev test lint typecheck template build pytest chromium bench clean

help: ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-10s %s\n", $$1, $$2}'

$(VENV)/.installed: requirements-dev.txt layers/aizen/requirements.txt pyproject.toml
	@if [ -z "$(PYTHON313)" ]; then \
		echo "Aizen needs Python 3.13. Install it (e.g. 'pyenv install 3.13' or your OS's python3.13 package)" >&2; \
		echo "and run make again, or pass PYTHON313=/path/to/python3.13." >&2; exit 1; fi
	@echo "Creating $(VENV) with $(PYTHON313)"
	@test -x $(PY) || $(PYTHON313) -m venv $(VENV)
	@$(PY) -m pip install $(PIP_QUIET) --upgrade pip 2>&1 | grep -v '^WARNING: Location' || true
	@$(PY) -m pip install $(PIP_QUIET) -r requirements-dev.txt 2>&1 | grep -v '^WARNING: Location' || true
	@$(PY) -m pip install $(PIP_QUIET) --no-deps -e . 2>&1 | grep -v '^WARNING: Location' || true
	@$(PY) -c "import aizen, aizen_local, moto, aws_lambda_powertools" || { echo "install failed" >&2; exit 1; }
	@touch $@

$(TOOLS)/.installed: requirements-tools.txt
	@if [ -z "$(PYTHON313)" ]; then echo "Python 3.13 is required (see above)" >&2; exit 1; fi
	@echo "Creating $(TOOLS) (SAM CLI, cfn-lint) with $(PYTHON313)"
	@test -x $(TOOLS)/bin/python || $(PYTHON313) -m venv $(TOOLS)
	@$(TOOLS)/bin/python -m pip install $(PIP_QUIET) -r requirements-tools.txt 2>&1 | grep -v '^WARNING: Location' || true
	@$(TOOLS)/bin/sam --version >/dev/null && $(TOOLS)/bin/cfn-lint --version >/dev/null || { echo "tool install failed" >&2; exit 1; }
	@touch $@

install: $(VENV)/.installed $(TOOLS)/.installed ## create .venv (runtime + dev) and .venv-tools (SAM CLI)

dev: $(VENV)/.installed ## run the whole API locally on :3000 with demo data
	$(VENV)/bin/aizen serve --host 127.0.0.1 --port 3000

# The two environments install side by side; then lint (seconds, and the commonest failure); then
# the e2e tier starts (it needs neither the type check nor the build) while the other three checks
# run two at a time (each one's output printed whole when it ends), then the unit and integration
# tiers (they check the build's output). pip and sam build wait on the network and the disk much of
# the time, and the e2e tier waits on windows and the browser, which the other jobs fill.
test: ## every check: lint, types, template, build, tests
	@$(MAKE) --no-print-directory -j2 install
	@$(MAKE) --no-print-directory lint
	@$(MAKE) --no-print-directory pytest CHECKS="typecheck template build"

lint: $(VENV)/.installed
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

typecheck: $(VENV)/.installed
	$(VENV)/bin/mypy layers/aizen/aizen layers/aizen/prune_sdk.py local/aizen_local tests bench
	@# every function has an app.py: check them one at a time so module names do not clash
	@for fn in functions/*/app.py; do $(VENV)/bin/mypy --no-error-summary --no-warn-unused-configs $$fn || exit 1; done

template: $(TOOLS)/.installed
	$(TOOLS)/bin/cfn-lint template.yaml
	$(TOOLS)/bin/sam validate --lint

build: install ## sam build (arm64 layer with bytecode) into .aws-sam/
	$(SAM_ENV) $(TOOLS)/bin/sam build

# Unit and integration tests in PYTEST_WORKERS processes (pytest-xdist, worksteal: an idle worker
# takes tests from the other's queue, which splits the long reference files; a class's seeded store,
# tests.support.shared_site, is then seeded once on each worker that runs its tests); the e2e tier from the start in one more process, its output kept in .aizen/e2e.log and
# printed after the others'. The e2e tier stays one process: each xdist worker would start its own
# session stack. It spends much of its time waiting (stacks starting, rate-limit windows, the
# browser), which the other work fills; its bursts wait for room in their window, so the load does
# not change what they count. CHECKS (make test's) run first beside the e2e tier; if one fails, the
# unit and integration tiers do not run, and make waits for the e2e tier (its stacks stop with it).
PYTEST_WORKERS ?= 2
E2E_LOG := .aizen/e2e.log
CHECKS :=
pytest: $(VENV)/.installed chromium
	@mkdir -p $(dir $(E2E_LOG))
	@echo "AIZEN_REQUIRE_BUILD=1 $(VENV)/bin/pytest --durations=15 tests/e2e > $(E2E_LOG) (alongside; printed below)"
	@AIZEN_REQUIRE_BUILD=1 $(VENV)/bin/pytest --durations=15 tests/e2e > $(E2E_LOG) 2>&1 & e2e=$$!; \
	tiers=0; \
	if [ -n "$(CHECKS)" ]; then $(MAKE) --no-print-directory -j2 --output-sync=target $(CHECKS) || tiers=$$?; fi; \
	if [ $$tiers = 0 ]; then \
		echo "AIZEN_REQUIRE_BUILD=1 $(VENV)/bin/pytest -n $(PYTEST_WORKERS) --dist worksteal --durations=15 tests/unit tests/integration"; \
		AIZEN_REQUIRE_BUILD=1 $(VENV)/bin/pytest -n $(PYTEST_WORKERS) --dist worksteal --durations=15 tests/unit tests/integration || tiers=$$?; \
	fi; \
	wait $$e2e; e2e_status=$$?; \
	echo "== tests/e2e ($(E2E_LOG))"; cat $(E2E_LOG); \
	test $$tiers = 0 && test $$e2e_status = 0

# The end-to-end tests load the local stack's /docs page in a real headless browser: Debian's
# chromium, installed with apt-get when it is not on the PATH (through sudo unless root).
chromium:
	@command -v chromium >/dev/null || { \
		echo "Installing chromium (apt-get) for the browser tests"; \
		SUDO=$$([ "$$(id -u)" = 0 ] || echo sudo); \
		$$SUDO apt-get update -qq && $$SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; \
	}
	@command -v chromium >/dev/null || { echo "chromium is required by the browser tests" >&2; exit 1; }

bench: $(VENV)/.installed ## run every benchmark (bench/bench_*.py) and print its figures
	@for script in bench/bench_*.py; do echo "== $$script"; $(PY) $$script || exit 1; done

clean: ## remove environments and build output
	rm -rf $(VENV) $(TOOLS) .aws-sam .pytest_cache .mypy_cache .ruff_cache .aizen
