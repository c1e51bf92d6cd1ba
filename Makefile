# One place for every command, the same locally and in CI (.ci/run calls `make test`).
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: install run test test-unit test-integration lint bench eval soak soak-long lock clean

install: $(STAMP)

$(STAMP): requirements.lock pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -r requirements.lock
	$(PY) -m pip install -q --no-deps -e .
	touch $(STAMP)

## The service on its embedded default: no Redis, state in ./var, JSONL in ./out.
run: install
	$(PY) -m worker run

## The whole suite; the tests start their own redis-server, worker processes and HTTP servers.
test: install
	@command -v redis-server >/dev/null || { echo "redis-server is needed: apt-get install redis-server"; exit 1; }
	$(VENV)/bin/pytest

test-unit: install
	$(VENV)/bin/pytest tests/unit

test-integration: install
	$(VENV)/bin/pytest tests/integration

lint: install
	$(VENV)/bin/ruff check worker tests bench
	$(VENV)/bin/ruff format --check worker tests bench
	$(VENV)/bin/mypy
	$(VENV)/bin/lint-imports --no-cache
	$(VENV)/bin/check-jsonschema --builtin-schema vendor.compose-spec docker-compose.yml

bench: install
	$(PY) bench/run.py

eval: install
	$(PY) bench/eval_extraction.py

soak: install
	$(PY) bench/soak.py

## Stored state over 13 simulated days of 90 s (about 20 minutes, not in CI): flat after the retention?
soak-long: install
	$(PY) bench/soak_long.py

## Re-resolve the pinned dependencies after editing pyproject.toml.
lock: install
	$(VENV)/bin/pip install -q uv
	$(VENV)/bin/uv pip compile pyproject.toml --extra dev --extra bench --python-version 3.11 -o requirements.lock

clean:
	rm -rf $(VENV) var out .pytest_cache .mypy_cache .ruff_cache
