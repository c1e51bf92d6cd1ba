"""Importing the package defines things and does nothing else: no files, no patches, no dispatcher."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

SCRIPT = """
import importlib, pkgutil, sys
import worker
names = [m.name for m in pkgutil.walk_packages(worker.__path__, "worker.") if not m.name.endswith("__main__")]
for name in names:
    importlib.import_module(name)
from kombu.transport import redis as kombu_redis
from worker import dispatch
print(len(names))
print(getattr(kombu_redis.Channel._connparams, "_survives_race", False))
print(bool(dispatch._installed))
"""


class TestImportSideEffects:
    def test_importing_every_module_leaves_nothing_behind(self, tmp_path: Path) -> None:
        """Every module imported from an empty folder creates no file or folder, patches nothing."""
        env = {k: v for k, v in os.environ.items() if not k.startswith("INGEST_") and k != "REDIS_URL"}
        env["PYTHONDONTWRITEBYTECODE"] = "1"

        out = subprocess.run(
            [sys.executable, "-c", SCRIPT], cwd=tmp_path, env=env, capture_output=True, text=True, check=True
        ).stdout.split()

        assert int(out[0]) > 50
        assert ["False", "False"] == out[1:]
        assert [] == sorted(p.name for p in tmp_path.iterdir())
