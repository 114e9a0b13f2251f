# Developer entry points. `make dev` and `make test` are all a newcomer needs.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
PORT ?= 7071
STAMP := $(VENV)/.installed
# npm ci writes node_modules/.package-lock.json; it is stale once the lock file is newer.
WEB_STAMP := web/node_modules/.package-lock.json
AZURITE := devtools/azurite/node_modules/.package-lock.json
# checkov pins many packages, so it gets a virtual environment of its own, never .venv.
CHECKOV_VENV ?= .venv-checkov
CHECKOV_STAMP := $(CHECKOV_VENV)/.installed

.PHONY: install webdeps azurite checkov dev serve emulators test pytest webtest lint fuzz bench clean test-pythons

$(STAMP): requirements.txt requirements-dev.txt
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -r requirements-dev.txt
	touch $(STAMP)

install: $(STAMP)

$(WEB_STAMP): web/package.json web/package-lock.json
	cd web && npm ci --no-audit --no-fund
	touch $(WEB_STAMP)

## make webdeps: web/'s npm packages (the openai SDK and TypeScript, for tests only)
webdeps: $(WEB_STAMP)

## make azurite: the Azure Storage emulator the quota-store tests start (npm ci, Node 18+)
$(AZURITE): devtools/azurite/package.json devtools/azurite/package-lock.json
	cd devtools/azurite && npm ci --no-audit --no-fund
	touch $(AZURITE)

azurite: $(AZURITE)

## make checkov: the IaC scanner tests/infra runs on infra/, in its own venv ($(CHECKOV_VENV))
$(CHECKOV_STAMP):
	$(PYTHON) -m venv $(CHECKOV_VENV)
	$(CHECKOV_VENV)/bin/python -m pip install -q --upgrade pip
	$(CHECKOV_VENV)/bin/python -m pip install -q "checkov>=3.2,<4"
	touch $(CHECKOV_STAMP)

checkov: $(CHECKOV_STAMP)

## make dev: the relay on http://localhost:7071 with every provider emulator and a demo config
dev: install
	$(PY) -m devtools.dev --port $(PORT)

## make serve: the relay alone, configured by the environment and local.settings.json
serve: install
	$(PY) -m devtools.local_host --port $(PORT)

## make emulators: only the provider emulators, for `func start` against them
emulators: install
	$(PY) -m devtools.dev --emulators-only

## make test: lint, type-check and run the whole suite (Python, Node, headless Chromium, the azd template)
test: install lint webtest pytest

## make webtest: the web client's node --test suite
webtest: webdeps
	cd web && npm test

pytest: install webdeps azurite checkov
	$(PY) -m coverage run -m pytest
	$(PY) -m coverage report --fail-under=85

lint: install
	$(PY) -m ruff check shared devtools tests function_app.py bench
	$(PY) -m mypy shared devtools

## make test-pythons: on each other supported Python, in its own .venv-X.Y, the tests that prove
## the app imports, indexes every function, and streams every alias through the local host
OTHER_PYTHONS ?= 3.12 3.13
PYTHONS_TESTS ?= tests/test_function_app.py tests/shared/test_openapi.py tests/devtools/test_local_host.py \
	tests/devtools/test_dev.py tests/devtools/test_func_start.py tests/test_function_app_misconfigured.py \
	tests/shared/test_chat_route.py

.venv-%/.installed: requirements.txt requirements-dev.txt
	interpreter=$$(.ci/find-python $*) && $$interpreter -m venv .venv-$*
	.venv-$*/bin/python -m pip install -q --upgrade pip
	.venv-$*/bin/python -m pip install -q --only-binary=:all: -r requirements-dev.txt
	touch $@

test-pythons: $(foreach version,$(OTHER_PYTHONS),.venv-$(version)/.installed)
	set -e; for version in $(OTHER_PYTHONS); do \
	  echo "== Python $$version: $$(.venv-$$version/bin/python --version)"; \
	  .venv-$$version/bin/python -m pytest -q -p no:cacheprovider $(PYTHONS_TESTS); \
	done

## make fuzz: the long fuzz suite, then Schemathesis against a dev relay on free ports (devtools/fuzz_api.py)
fuzz: install webdeps azurite
	RELAY_FUZZ_PROFILE=long $(PY) -m pytest tests/fuzz -q -p no:cacheprovider
	$(PY) -m devtools.fuzz_api

## make bench: throughput and latency figures, printed as tables; the goals table first (bench/goals.py).
## Scale it with RELAY_BENCH_STREAMS, _CHUNKS, _OPENS, _BURST, _PATHS, _LOOPS (make bench BENCH=goals runs only it)
## RELAY_BENCH_UPSTREAM=paced (default: bench/paced_upstream.py, one timer for every stream) or =emulator (devtools/emulators)
BENCH ?=
bench: install
	$(PY) -m bench $(BENCH)

clean:
	rm -rf $(VENV) .venv-* .pytest_cache .mypy_cache .ruff_cache .coverage web/node_modules devtools/azurite/node_modules test-artifacts
