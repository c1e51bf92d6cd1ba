"""The settings: one validated definition, read from an environment mapping; a bad value is one line."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from structlog.testing import capture_logs

from tests.conftest import ROOT
from worker import config
from worker.config import Settings
from worker.errors import ConfigError, IngestError
from worker.settings_types import MAX_SEEDS, redis_seeds


def load_error(env: dict[str, str]) -> str:
    """Return the message of the ConfigError that `load(env)` raises."""
    with pytest.raises(ConfigError) as info:
        config.load(env)
    return str(info.value)


def clean_env(**extra: str) -> dict[str, str]:
    """Return this process's environment without any setting, plus `extra`."""
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith("INGEST_") and k not in {"REDIS_URL", "BROKER_URL"}
    }
    return {**env, **extra}


class TestBadValues:
    @pytest.mark.parametrize(
        ("env", "start", "why"),
        [
            ({"INGEST_STREAM_MAXLEN": "1e6x"}, "INGEST_STREAM_MAXLEN='1e6x': ", "integer"),
            (
                {"INGEST_DEDUP_RETENTION_DAYS": "0"},
                "INGEST_DEDUP_RETENTION_DAYS='0': ",
                "greater than or equal to 1",
            ),
            (
                {"INGEST_TASK_TIME_LIMIT_S": "3600"},
                "INGEST_TASK_TIME_LIMIT_S='3600': ",
                "less than INGEST_VISIBILITY_TIMEOUT_S (3600)",
            ),
            (
                {"INGEST_LOG_LEVEL": "verbose"},
                "INGEST_LOG_LEVEL='verbose': ",
                "DEBUG, INFO, WARNING, ERROR, CRITICAL",
            ),
            (
                {"INGEST_EMIT_DUPLICATES": "maybe"},
                "INGEST_EMIT_DUPLICATES='maybe': ",
                "1/0, true/false, yes/no, on/off",
            ),
            (
                {"INGEST_DEFAULT_TZ": "Mars/Olympus_Mons"},
                "INGEST_DEFAULT_TZ='Mars/Olympus_Mons': ",
                "time zone",
            ),
        ],
        ids=[
            "number-with-junk",
            "zero-retention",
            "limit-not-below-timeout",
            "log-level",
            "bool-typo",
            "unknown-tz",
        ],
    )
    def test_each_bad_setting_of_issue_12_is_one_line(
        self, env: dict[str, str], start: str, why: str
    ) -> None:
        """Each bad setting the issue lists raises ConfigError: `NAME='value as given': why`, on one line."""
        message = load_error(env)

        assert message.startswith(start), message
        assert why in message
        assert 1 == len(message.splitlines())

    @pytest.mark.parametrize(
        ("name", "value"),
        [
            ("INGEST_CONNECT_TIMEOUT_S", "0"),
            ("INGEST_TOTAL_TIMEOUT_S", "-5"),
            ("INGEST_READ_TIMEOUT_S", "inf"),
            ("INGEST_TICK_S", "nan"),
            ("INGEST_BATCH_SIZE", "0"),
            ("INGEST_FETCH_ATTEMPTS", "0"),
            ("INGEST_STREAM_MAXLEN", "0"),
            ("INGEST_HOST_RATE", "0"),
            ("INGEST_HOST_BURST", "0.5"),
            ("INGEST_HOST_CAP_PER_TICK", "0"),
            ("INGEST_METRICS_PORT", "65536"),
            ("INGEST_METRICS_PORT", "-1"),
            ("INGEST_MAX_BODY_BYTES", "15MiB"),
            ("INGEST_ALLOW_PRIVATE_NETWORKS", "t"),
            ("REDIS_URL", "localhost:6379"),
            ("REDIS_URL", "redis://a:7000/0?seeds=b"),
            ("REDIS_URL", "redis://a:7000/0?seeds=b:http"),
            ("BROKER_URL", "not a url"),
        ],
    )
    def test_out_of_range_values_are_refused(self, name: str, value: str) -> None:
        """Timeouts and rates are > 0, counts ≥ 1, ports 0..65535, switches and URLs well formed."""
        assert load_error({name: value}).startswith(f"{name}={value!r}: ")

    def test_a_timeout_below_the_default_limit_names_the_timeout(self) -> None:
        """When only the visibility timeout was set, the message blames it, not the default limit."""
        assert (
            "INGEST_VISIBILITY_TIMEOUT_S='60': Input should be greater than INGEST_TASK_TIME_LIMIT_S (300)"
            == load_error({"INGEST_VISIBILITY_TIMEOUT_S": "60"})
        )

    def test_the_poll_interval_bounds_keep_their_order(self) -> None:
        """The shortest poll interval may not exceed the longest one."""
        assert load_error({"INGEST_MIN_INTERVAL_S": "90000"}).startswith("INGEST_MIN_INTERVAL_S='90000': ")

    def test_several_bad_values_share_one_line(self) -> None:
        """Every bad value is reported, `; `-joined, on one line."""
        message = load_error(
            {"INGEST_STREAM_MAXLEN": "x", "INGEST_TICK_S": "-1", "INGEST_USER_AGENT": "a\nb"}
        )

        assert 1 == len(message.splitlines())
        assert message.startswith("INGEST_STREAM_MAXLEN='x': ")
        assert "; INGEST_TICK_S='-1': " in message

    def test_a_config_error_is_an_ingest_error(self) -> None:
        """The CLI turns every IngestError into `error: <message>` and exit code 2."""
        assert issubclass(ConfigError, IngestError)


class TestValidValues:
    def test_no_environment_gives_the_defaults(self) -> None:
        """An empty environment gives the embedded mode's defaults."""
        settings = config.load({})

        assert Settings() == settings
        assert settings.embedded
        assert Path("var/broker").resolve() == settings.broker_dir

    @pytest.mark.parametrize(
        ("env", "field", "expected"),
        [
            ({"INGEST_STREAM_MAXLEN": "5000"}, "stream_maxlen", 5000),
            ({"INGEST_HOST_RATE": "2.5"}, "host_rate_per_s", 2.5),
            ({"INGEST_HOST_BURST": "4"}, "host_burst", 4.0),
            ({"INGEST_HOST_CAP_PER_TICK": "3"}, "host_cap_per_tick", 3),
            ({"INGEST_NER_LANGUAGES": "en, de ,"}, "ner_languages", ("en", "de")),
            ({"INGEST_NER_LANGUAGES": ""}, "ner_languages", ()),
            ({"INGEST_LOG_LEVEL": "warning"}, "log_level", "WARNING"),
            ({"INGEST_DEFAULT_TZ": "Europe/Berlin"}, "default_tz", "Europe/Berlin"),
            ({"INGEST_STATE_DIR": "/data/var"}, "state_dir", Path("/data/var")),
            ({"INGEST_MAX_DEFER_S": "0"}, "max_defer_s", 0.0),
            ({"INGEST_METRICS_PORT": ""}, "metrics_port", 0),
            ({"INGEST_METRICS_PORT": "9100"}, "metrics_port", 9100),
            ({"REDIS_URL": ""}, "redis_url", None),
            ({"REDIS_URL": "redis://127.0.0.1:6379/0"}, "redis_url", "redis://127.0.0.1:6379/0"),
            ({"BROKER_URL": "redis://broker:6379/1"}, "broker_url", "redis://broker:6379/1"),
            ({"INGEST_TASK_TIME_LIMIT_S": "8", "INGEST_VISIBILITY_TIMEOUT_S": "10"}, "task_time_limit_s", 8),
        ],
        ids=lambda v: v if isinstance(v, str) else None,
    )
    def test_values_are_parsed(self, env: dict[str, str], field: str, expected: object) -> None:
        """Each variable reaches its field, typed; an empty one counts as unset, but for the NER list."""
        assert expected == getattr(config.load(env), field)

    @pytest.mark.parametrize(
        ("value", "expected"),
        [
            ("1", True),
            ("true", True),
            ("Yes", True),
            ("ON", True),
            ("0", False),
            ("false", False),
            ("no", False),
            ("off", False),
        ],
    )
    def test_switches_take_the_usual_spellings(self, value: str, expected: bool) -> None:
        """1/0, true/false, yes/no and on/off, in any case."""
        assert expected is config.load({"INGEST_EMIT_DUPLICATES": value}).emit_duplicates

    def test_the_reference_defaults_load_as_the_defaults(self) -> None:
        """Written out as an environment, the documented defaults give `Settings()` back."""
        assert Settings() == config.load({row["env"]: row["default"] for row in config.reference()})


class TestRetention:
    @pytest.mark.parametrize(
        ("env", "retention_s", "index_days"),
        [
            ({}, 30 * 86400, 30),
            ({"INGEST_DEDUP_RETENTION_DAYS": "7"}, 7 * 86400, 7),
            ({"INGEST_DEDUP_RETENTION_DAYS": "7", "INGEST_DEDUP_RETENTION_S": "180"}, 180, 2),
            ({"INGEST_DEDUP_RETENTION_S": "", "INGEST_JSONL_INDEX_DAYS": "10"}, 30 * 86400, 10),
        ],
        ids=["default", "days", "seconds-override-days", "index-days-set"],
    )
    def test_seconds_override_days_and_the_index_follows(
        self, env: dict[str, str], retention_s: int, index_days: int
    ) -> None:
        """Seconds win over days; the JSONL index keeps the retention's days (2 at least) unless set."""
        s = config.load(env)

        assert (retention_s, index_days) == (s.retention_s, s.jsonl_index_days_kept)

    def test_an_entry_memory_outlives_two_retentions_and_two_max_intervals(self) -> None:
        """A feed's memory expires after twice the longer of the retention and the longest interval."""
        short = config.load({"INGEST_DEDUP_RETENTION_S": "180", "INGEST_MAX_INTERVAL_S": "600"})

        assert (60 * 86400, 1200) == (Settings().entry_ttl_s, short.entry_ttl_s)

    @pytest.mark.parametrize(
        "env",
        [{"INGEST_DEDUP_RETENTION_S": "0"}, {"INGEST_ENTRY_MEMORY": "0"}, {"INGEST_JSONL_INDEX_DAYS": "1"}],
        ids=["retention", "entry-memory", "index-days"],
    )
    def test_bounds_below_their_minimum_are_refused(self, env: dict[str, str]) -> None:
        """A retention of 0 s, an empty memory or an index shorter than today and yesterday is an error."""
        name, value = next(iter(env.items()))

        assert load_error(env).startswith(f"{name}='{value}': Input should be greater than or equal to")


class TestSettingsObject:
    def test_with_changes_a_copy_and_validates(self) -> None:
        """`with_` returns a changed copy; a bad change raises ConfigError like a bad variable."""
        settings = config.load({"INGEST_STREAM": "news"})

        changed = settings.with_(state_dir=Path("/tmp/x"))

        assert (Path("/tmp/x"), "news", Path("var")) == (
            changed.state_dir,
            changed.stream,
            settings.state_dir,
        )
        with pytest.raises(
            ConfigError, match=r"^INGEST_TASK_TIME_LIMIT_S='4000': .*INGEST_VISIBILITY_TIMEOUT_S"
        ):
            settings.with_(task_time_limit_s=4000)
        with pytest.raises(ConfigError, match=r"^INGEST_STREAM_MAXLEN='0': "):
            settings.with_(stream_maxlen=0)

    def test_settings_are_frozen_and_hashable(self) -> None:
        """Settings cannot change in place, and `extra` plays no part in equality, as before."""
        settings = Settings()

        with pytest.raises(ValueError, match="frozen"):
            settings.stream = "other"  # type: ignore[misc]
        assert Settings(extra={"a": "b"}) == settings
        assert hash(Settings(extra={"a": "b"})) == hash(settings)

    def test_direct_construction_ignores_the_environment(self, monkeypatch: pytest.MonkeyPatch) -> None:
        """`Settings(...)` takes its arguments only; reading the environment is `load()`'s job."""
        monkeypatch.setenv("INGEST_STREAM", "from-env")

        assert ("articles", "from-env") == (Settings().stream, config.load().stream)


class TestUnknownNames:
    @pytest.mark.parametrize(
        ("env", "expected"),
        [
            ({"INGEST_STREAM_MAXLNE": "5"}, [("INGEST_STREAM_MAXLNE", "INGEST_STREAM_MAXLEN")]),
            ({"INGEST_HOST_RATE_PER_S": "2"}, [("INGEST_HOST_RATE_PER_S", "INGEST_HOST_RATE")]),
            ({"INGEST_QWERTYUIOP": "1"}, [("INGEST_QWERTYUIOP", None)]),
            ({"INGEST_REDIS_URL": "redis://r"}, [("INGEST_REDIS_URL", "REDIS_URL")]),
            ({"INGEST_STREAM": "x", "REDIS_URL": "redis://r", "PATH": "/bin", "ingest_lower": "1"}, []),
        ],
        ids=["typo", "field-name-for-alias", "nothing-close", "prefixed-redis-url", "all-known-or-foreign"],
    )
    def test_unknown_names_come_with_the_closest_known_one(
        self, env: dict[str, str], expected: list[tuple[str, str | None]]
    ) -> None:
        """Only `INGEST_*` names that match no setting are reported, each with the closest known name."""
        assert expected == config.unknown_names(env)

    def test_load_warns_and_goes_on(self) -> None:
        """An unknown name is a warning per name, not an error; the known ones still apply."""
        with capture_logs() as logs:
            settings = config.load({"INGEST_STREAM_MAXLNE": "5", "INGEST_TICK_S": "2"})

        assert 2.0 == settings.tick_s
        assert [
            {
                "event": "unknown_setting",
                "name": "INGEST_STREAM_MAXLNE",
                "did_you_mean": "INGEST_STREAM_MAXLEN",
                "log_level": "warning",
            }
        ] == logs


class TestReference:
    def test_covers_every_field(self) -> None:
        """Every field read from the environment has a row, with a variable, a type and a description."""
        rows = config.reference()

        assert set(Settings.model_fields) - {"extra"} == {row["name"] for row in rows}
        assert len(rows) == len({row["env"] for row in rows})
        assert all(row["env"] and row["type"] and row["description"] for row in rows)

    def test_rows_carry_ranges_and_relations(self) -> None:
        """Ranges come from the field definitions, relations included."""
        rows = {row["env"]: row for row in config.reference()}

        assert "0..65535" == rows["INGEST_METRICS_PORT"]["range"]
        assert ">= 1, < INGEST_VISIBILITY_TIMEOUT_S" == rows["INGEST_TASK_TIME_LIMIT_S"]["range"]
        assert ("host_rate_per_s", "1.0", "> 0") == (
            rows["INGEST_HOST_RATE"]["name"],
            rows["INGEST_HOST_RATE"]["default"],
            rows["INGEST_HOST_RATE"]["range"],
        )

    def test_sources_tell_env_from_default(self) -> None:
        """A variable that is set and not empty is the source of its field; other fields are defaults."""
        origin = config.sources({"INGEST_HOST_RATE": "2", "REDIS_URL": "", "INGEST_BOGUS": "1"})

        assert "env" == origin["host_rate_per_s"]
        assert {"default"} == {v for k, v in origin.items() if k != "host_rate_per_s"}

    def test_effective_masks_url_passwords(self) -> None:
        """The `config` command never prints a Redis password."""
        env = {"REDIS_URL": "redis://:s3cret@redis:6379/0"}

        rows = {row["env"]: row for row in config.effective(config.load(env), env)}

        assert {"env": "REDIS_URL", "value": "redis://:***@redis:6379/0", "source": "env"} == rows[
            "REDIS_URL"
        ]


class TestCommandLine:
    def run(self, *args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
        """Run `python -m worker ARGS`; a bad setting stops it before any service is touched."""
        return subprocess.run(
            [sys.executable, "-m", "worker", *args],
            env=env,
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )

    def test_a_bad_setting_exits_2_with_one_line(self) -> None:
        """`INGEST_STREAM_MAXLEN=1e6x` stops `health` with exit code 2 and one `error:` line, no traceback."""
        proc = self.run("health", env=clean_env(INGEST_STREAM_MAXLEN="1e6x"))

        assert 2 == proc.returncode
        assert 1 == len(proc.stderr.splitlines()), proc.stderr
        assert proc.stderr.startswith("error: INGEST_STREAM_MAXLEN='1e6x': ")
        assert "Traceback" not in proc.stderr + proc.stdout

    def test_config_prints_values_and_sources(self, tmp_path: Path) -> None:
        """`config --json` lists each effective value and its source; warnings go to stderr, not stdout."""
        proc = self.run(
            "config", "--json", env=clean_env(INGEST_STATE_DIR=str(tmp_path), INGEST_STREAM_MAXLNE="5")
        )

        rows = {row["env"]: row for row in json.loads(proc.stdout)}
        assert 0 == proc.returncode, proc.stderr
        assert {"env": "INGEST_STATE_DIR", "value": str(tmp_path), "source": "env"} == rows[
            "INGEST_STATE_DIR"
        ]
        assert {"env": "INGEST_STREAM", "value": "articles", "source": "default"} == rows["INGEST_STREAM"]
        assert "unknown_setting" in proc.stderr
        assert "INGEST_STREAM_MAXLEN" in proc.stderr


class TestRedisSeeds:
    @pytest.mark.parametrize(
        ("url", "expected"),
        [
            ("redis://a:7000/0", ("redis://a:7000/0", ())),
            ("redis://a:7000/0?seeds=b:7001,c:7002", ("redis://a:7000/0", (("b", 7001), ("c", 7002)))),
            (
                "rediss://u:p@a:7000/0?ssl_cert_reqs=none&seeds=b:7001%2C%5B::1%5D:7002",
                ("rediss://u:p@a:7000/0?ssl_cert_reqs=none", (("b", 7001), ("::1", 7002))),
            ),
        ],
        ids=["none", "two", "encoded-with-options"],
    )
    def test_seeds_are_split_off_the_url_and_other_options_kept(self, url: str, expected: tuple) -> None:
        """`?seeds=` comes off the URL redis-py sees; the URL's own options stay."""
        assert expected == redis_seeds(url)

    def test_a_seed_list_is_bounded(self) -> None:
        """More seeds than `MAX_SEEDS` is a malformed setting, not a loop over untrusted input."""
        seeds = ",".join(f"n{i}:7000" for i in range(MAX_SEEDS + 1))
        with pytest.raises(ValueError, match="at most"):
            redis_seeds(f"redis://a:7000/0?seeds={seeds}")
