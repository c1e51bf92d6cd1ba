# The worker image: the same code runs as worker, beat or a one-shot ingest.
FROM python:3.11-slim
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_NO_CACHE_DIR=1
WORKDIR /app
RUN useradd --create-home --uid 10001 ingest
COPY requirements.lock pyproject.toml README.md ./
RUN pip install -r requirements.lock
COPY worker ./worker
COPY schedules ./schedules
RUN pip install --no-deps . && mkdir -p /data/var /data/out && chown -R ingest /data
USER ingest
ENV INGEST_STATE_DIR=/data/var INGEST_OUT_DIR=/data/out INGEST_SCHEDULES_DIR=/app/schedules
CMD ["python", "-m", "worker", "run", "--no-beat"]
