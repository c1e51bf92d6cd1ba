# The worker image: the same code runs as worker, beat, consumer or a one-shot ingest.
# Two stages: the first installs the runtime dependencies (requirements-runtime.lock: no test or lint
# tools; the spaCy model is one of them, a pip package) into a virtualenv, the second copies it.
FROM python:3.11-slim AS build
ENV PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1 PYTHONDONTWRITEBYTECODE=1
RUN python -m venv /opt/venv
ENV PATH=/opt/venv/bin:$PATH
WORKDIR /src
COPY requirements-runtime.lock ./
RUN pip install -r requirements-runtime.lock
COPY pyproject.toml README.md ./
COPY worker ./worker
RUN pip install --no-deps . && python -m worker --help > /dev/null

FROM python:3.11-slim
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PATH=/opt/venv/bin:$PATH
RUN useradd --create-home --uid 10001 ingest && mkdir -p /data/var /data/out && chown -R ingest /data
COPY --from=build /opt/venv /opt/venv
WORKDIR /app
# The example sources; compose mounts ./schedules over them, so sources change without a rebuild.
COPY schedules ./schedules
USER ingest
ENV INGEST_STATE_DIR=/data/var INGEST_OUT_DIR=/data/out INGEST_SCHEDULES_DIR=/app/schedules
# Not ok when the broker or state store is down, or no worker or beat was seen lately (`health --help`).
HEALTHCHECK --interval=30s --timeout=20s --start-period=60s --retries=3 \
    CMD ["python", "-m", "worker", "health", "--compact"]
CMD ["python", "-m", "worker", "run", "--no-beat"]
