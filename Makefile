# The project's verbs. `make up` runs the app locally; `make test` proves it. Both install what they need.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
PORT ?= 4566
STACK_DIR ?= $(CURDIR)/.stack
TARGET ?= local
AWS_STACK_DIR ?= $(CURDIR)/.stack-aws
# `make test` runs against its own stack (own port and state), so tests never touch the albums you are editing.
TEST_PORT ?= 4599
TEST_STACK_DIR ?= $(CURDIR)/.stack-test
PYTEST := $(PY) -m pytest
CHROMIUM ?= /usr/lib/chromium/chromium
CHROMIUM_SHELL ?= /usr/lib/chromium/chromium-headless-shell
# STACK=embedded (default: MiniStack as a local process, managed here) | docker | localstack (docker-compose.yml).
STACK ?= embedded
ifneq ($(STACK),embedded)
  TARGET := $(STACK)
  COMPOSE_UP = docker compose $(if $(filter localstack,$(STACK)),--profile localstack) up -d --wait \
               $(if $(filter localstack,$(STACK)),localstack,ministack) &&
  # A container stack is one shared stack: the tests use it (and its port) rather than a test stack of their own.
  TEST_PORT := $(PORT)
  TEST_STACK_DIR := $(CURDIR)/.stack-$(STACK)-state
  STOP := docker compose stop
endif
# The token is asked for here, not in docker-compose.yml: compose would demand it for STACK=docker too.
ifeq ($(STACK)$(LOCALSTACK_AUTH_TOKEN),localstack)
  COMPOSE_UP = { echo "error: STACK=localstack needs LOCALSTACK_AUTH_TOKEN (LocalStack's auth token)" >&2; false; } &&
endif
TEST_ENV := PORT=$(TEST_PORT) STACK_DIR=$(TEST_STACK_DIR)
STOP ?= $(PY) -m bootstrap down

export PORT STACK_DIR TARGET AWS_STACK_DIR

# Python caches what it compiles (.pyc in __pycache__/, git-ignored) for everything make runs, even where the machine
# sets PYTHONDONTWRITEBYTECODE (this one does). Otherwise every pytest process compiles each test module and the ~370
# modules of its plugins again (pytest rewrites the asserts of every module of a pytest plugin's package, schemathesis
# and hypothesis included, and keeps the result only where bytecode may be written): 3.5-4 CPU-s to start a process
# that collects tests/integration instead of 1.8, 2.1 instead of 1.2 for tests/unit; 15-20 CPU-s of a `make test`
# (2026-12-06). MiniStack's Lambda workers are not affected (their code is compiled into the zip: functions.py).
unexport PYTHONDONTWRITEBYTECODE

.PHONY: help install up down reset status deploy destroy restore test test-unit test-integration test-e2e test-postman \
        test-stack test-stack-down lint bench chromium clean postman-env test-docker logs sam editor

help: ## List the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-17s %s\n", $$1, $$2}'

# uv installs from the same registry as pip, the same pinned versions, in a fraction of the time (a clean .venv:
# ~12 s instead of ~40; SAM CLI's venv: ~2 s instead of 30-85). The installed packages' bytecode is compiled once here;
# SAM CLI's is not: the test runs it once, and compiling all of it costs ~12 CPU-s beside the suites.
UV_VERSION := 0.9.5
UV := $(VENV)/bin/uv

$(VENV)/.installed: pyproject.toml
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet uv==$(UV_VERSION)
	$(UV) pip install --quiet --python $(PY) --compile-bytecode -e '.[dev]'
	@touch $@

node_modules/.installed: package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	@touch $@

install: $(VENV)/.installed node_modules/.installed ## Create .venv and node_modules from the pinned versions

# SAM CLI in a venv of its own (its pins differ from MiniStack's botocore pin), for tests/integration/test_sam_deploy.py
# and for deploying template.yaml with `sam deploy`. Made by the tests (a few seconds, once; `make test` makes it beside
# the other suites, tests/suites.py), not by `make up`.
SAM_CLI_VERSION := 1.170.0
SAM_VENV := .venv-sam

$(SAM_VENV)/.installed-$(SAM_CLI_VERSION): $(VENV)/.installed
	@test -x $(SAM_VENV)/bin/python || $(UV) venv --quiet --python $(PYTHON) $(SAM_VENV)
	$(UV) pip install --quiet --python $(SAM_VENV)/bin/python aws-sam-cli==$(SAM_CLI_VERSION)
	@touch $@

sam: $(SAM_VENV)/.installed-$(SAM_CLI_VERSION) ## Install SAM CLI into .venv-sam (`make test` needs it)

up: install ## Start MiniStack, deploy the stack, seed the albums, print the URLs
	@$(COMPOSE_UP) $(PY) -m bootstrap up --target $(TARGET)

down: ## Stop MiniStack gracefully (state is kept for the next `make up`)
	@$(STOP)

reset: ## Stop MiniStack and wipe local state (users, albums, everything)
	@$(PY) -m bootstrap reset

status: ## Is the local stack running? Print its outputs
	@$(PY) -m bootstrap status

logs: ## Functions' log lines (CloudWatch Logs): FUNCTION=get REQUEST_ID=<id> SINCE=<minutes> FOLLOW=1
	@$(PY) -m bootstrap logs --target $(TARGET) $(if $(FUNCTION),--function $(FUNCTION)) \
	  $(if $(REQUEST_ID),--request-id $(REQUEST_ID)) $(if $(SINCE),--since $(SINCE)) $(if $(FOLLOW),--follow)

.PHONY: watch debug
watch: install ## Beside `make up`: a saved file under lambdas/ or frontend/ (or template.yaml) is live in a second
	@$(PY) -m bootstrap.watch

debug: install ## FUNCTION=get|create|update|delete|stats runs under debugpy on 127.0.0.1:DEBUG_PORT (5678) until Ctrl-C
	@$(PY) -m bootstrap.debug $(FUNCTION) $(if $(DEBUG_PORT),--port $(DEBUG_PORT))

# USER must come from the command line: the shell's own $USER (your login name) is never taken for a user of the app.
editor: install ## Make USER=<username or e-mail> an editor (REVOKE=1: a reader again; TARGET=aws for AWS)
	@$(if $(filter command line,$(origin USER)),,$(error give the user: make editor USER=<username or e-mail>))
	@$(PY) -m bootstrap.editor --target $(TARGET) $(if $(REVOKE),--revoke) -- "$(USER)"

deploy: install ## Deploy to TARGET=aws|localstack (uses your AWS credentials / LocalStack)
	@$(PY) -m bootstrap up --target $(TARGET)

destroy: install ## Say what TARGET's stack holds; with CONFIRM=<account>/<region>: back up the albums, delete it all (KEEP_DATA=1 keeps table + pool)
	@$(PY) -m bootstrap destroy --target $(TARGET) $(if $(CONFIRM),--confirm $(CONFIRM)) $(if $(KEEP_DATA),--keep-data)

restore: install ## List the table's backups on TARGET; BACKUP=<name>: load that backup's albums into the deployed table
	@$(PY) -m bootstrap restore --target $(TARGET) $(if $(BACKUP),--backup $(BACKUP))

# The headless shell runs the browser tests (~2.5x less CPU per page); the full browser, the back/forward cache test.
chromium: ## Install Debian's Chromium + headless shell for the browser tests when missing (as root)
	@if [ -x $(CHROMIUM) ] && [ -x $(CHROMIUM_SHELL) ]; then :; \
	elif [ "$$(id -u)" = 0 ] && apt-get update -qq && DEBIAN_FRONTEND=noninteractive \
	  apt-get install -y -qq chromium chromium-headless-shell >/dev/null; then :; \
	else echo "note: Debian's chromium + chromium-headless-shell not installed (needs root and apt): e2e uses what" \
	  "is there, else Playwright's own browser (or set CHROMIUM_PATH)"; fi

test-stack: install
	@$(COMPOSE_UP) $(TEST_ENV) $(PY) -m bootstrap up --target $(TARGET) > $(TEST_STACK_DIR).log 2>&1 || \
	  { cat $(TEST_STACK_DIR).log; exit 1; }
	@echo "test stack up on port $(TEST_PORT) ($(TEST_STACK_DIR))"

test-stack-down:
	@$(TEST_ENV) $(STOP)

ifeq ($(STACK),embedded)
# tests/suites.py: lint, unit tests and the stack's start overlap; the suites on the stack follow, two workers each;
# one timing line per suite and the total, also in test-results/timings.json.
test: install chromium ## Everything: lint, unit, integration, e2e and Postman/newman on a fresh test stack
	@$(TEST_ENV) $(PY) -m tests.suites
else
test: install chromium sam
	@$(MAKE) --no-print-directory lint
ifeq ($(STACK),docker)
	@$(MAKE) --no-print-directory test-docker
else
	@$(TEST_ENV) $(PY) -m bootstrap reset >/dev/null
	@$(MAKE) --no-print-directory test-stack
	@status=0; \
	  $(MAKE) --no-print-directory test-unit || status=1; \
	  $(MAKE) --no-print-directory test-integration || status=1; \
	  $(MAKE) --no-print-directory test-e2e || status=1; \
	  $(MAKE) --no-print-directory test-postman || status=1; \
	  $(MAKE) --no-print-directory test-stack-down; \
	  exit $$status
endif
endif

# pytest-docker (tests/docker_stack.py) starts the compose MiniStack for the session and stops it at the end.
test-docker: install chromium sam ## make test STACK=docker: unit, then integration, e2e and newman on the container
	@status=0; \
	  $(MAKE) --no-print-directory test-unit || status=1; \
	  PORT=$(PORT) STACK_DIR=$(TEST_STACK_DIR) $(PYTEST) -p tests.docker_stack -q \
	    tests/integration tests/e2e tests/postman/test_newman.py || status=1; \
	  exit $$status

test-unit: install ## In-process handler tests (moto), no stack needed
	$(PYTEST) tests/unit -q

test-integration: test-stack sam ## HTTP through API Gateway with real Cognito tokens
	$(TEST_ENV) $(PYTEST) tests/integration -q

test-e2e: test-stack chromium ## Chromium drives the real pages
	$(TEST_ENV) $(PYTEST) tests/e2e -q

test-postman: test-stack ## Postman collection run by newman
	$(TEST_ENV) $(PY) tests/postman/run.py

postman-env: install ## Write a Postman environment for the stack into its folder (TARGET=aws: the AWS stack's)
	@STACK_DIR=$(if $(filter aws,$(TARGET)),$(AWS_STACK_DIR),$(STACK_DIR)) $(PY) tests/postman/run.py --write-environment

lint: install ## ruff, mypy (strict: lambdas/albums, bootstrap), cfn-lint on template.yaml, ESLint, actionlint
	$(VENV)/bin/ruff check lambdas bootstrap tests bench
	$(VENV)/bin/cfn-lint template.yaml
	$(VENV)/bin/mypy
	npx --no-install eslint --max-warnings 0 frontend/js
	$(VENV)/bin/actionlint .github/workflows/*.yml

bench: install chromium ## Benchmarks: start-up, latency, scale, import cost, load, faults -> bench/results.json
	$(PY) -m bench

clean: ## Remove build output (keeps local state)
	rm -rf $(STACK_DIR)/build $(TEST_STACK_DIR)/build .pytest_cache .ruff_cache test-results
