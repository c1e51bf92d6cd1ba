# One place for every command, the same locally and in CI (.ci/run calls `make test`).
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: install run test test-unit test-integration test-rabbitmq test-topologies lint bench eval soak soak-long lock clean

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

## The whole suite; the tests start their own redis-server, worker processes and HTTP servers,
## and use the local RabbitMQ (127.0.0.1:5672) on a vhost of their own.
test: install
	@command -v redis-server >/dev/null || { echo "redis-server is needed: apt-get install redis-server"; exit 1; }
	@command -v rabbitmqctl >/dev/null || echo "rabbitmqctl not found: the RabbitMQ tests are skipped (.ci/run installs it)"
	$(VENV)/bin/pytest

test-unit: install
	$(VENV)/bin/pytest tests/unit

test-integration: install
	$(VENV)/bin/pytest tests/integration

## The pipeline on RabbitMQ (BROKER_URL=amqp://…): needs rabbitmq-server running, as .ci/run starts it.
test-rabbitmq: install
	$(VENV)/bin/pytest tests/integration/test_rabbitmq.py

## Seed end to end, two workers, kill -9 of every worker: on embedded, one Redis, RabbitMQ + Redis Cluster
## (also part of `make test`).
test-topologies: install
	$(VENV)/bin/pytest -m topology

lint: install
	$(VENV)/bin/ruff check worker tests bench
	$(VENV)/bin/ruff format --check worker tests bench
	$(VENV)/bin/mypy
	$(VENV)/bin/lint-imports --no-cache
	$(VENV)/bin/check-jsonschema --builtin-schema vendor.compose-spec docker-compose.yml

bench: install
	$(PY) bench/run.py

## Quality against bare trafilatura: metadata per field on every labelled set, extraction-dev text;
## keyword agreement with publisher tags; NER cost and its cuts.
eval: install
	$(PY) bench/eval_metadata.py
	$(PY) bench/eval_extraction.py
	$(PY) bench/eval_keywords.py
	$(PY) bench/eval_entities.py

soak: install
	$(PY) bench/soak.py

## Stored state over 13 simulated days of 90 s (about 20 minutes, not in CI): flat after the retention?
soak-long: install
	$(PY) bench/soak_long.py


## Re-resolve the pinned dependencies after editing pyproject.toml: the dev lock, then the image's
## runtime lock (no extras) with the same pins.
lock: install
	$(VENV)/bin/pip install -q uv
	$(VENV)/bin/uv pip compile pyproject.toml --extra dev --extra bench --python-version 3.11 -o requirements.lock
	$(VENV)/bin/uv pip compile pyproject.toml -c requirements.lock --python-version 3.11 -o requirements-runtime.lock

clean:
	rm -rf $(VENV) var out .pytest_cache .mypy_cache .ruff_cache
