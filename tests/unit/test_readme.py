"""The README's configuration table says what `worker/config.py` defines: every setting, its default."""

from __future__ import annotations

import re

from tests.conftest import ROOT
from worker import config

ROW = re.compile(r"^\| `(?P<env>[A-Z_]+)` \| (?P<default>[^|]*?) \|")


def readme_table() -> dict[str, str]:
    """Return variable -> default cell of the rows under `## Configuration` (backticks stripped)."""
    text = (ROOT / "README.md").read_text("utf-8")
    section = text.split("\n## Configuration\n", 1)[1].split("\n## ", 1)[0]
    rows = {}
    for line in section.splitlines():
        m = ROW.match(line)
        if m:
            cell = m.group("default").strip()
            rows[m.group("env")] = "" if cell == "unset" else cell.strip("`")
    return rows


class TestConfigurationTable:
    def test_every_setting_has_a_row_with_its_default(self) -> None:
        """Each setting of `config.reference()` has one row whose default is the one the code uses."""
        expected = {row["env"]: row["default"] for row in config.reference()}

        table = readme_table()

        missing = sorted(set(expected) - set(table))
        assert [] == missing, f"add README rows for {missing} (defaults: {[expected[m] for m in missing]})"
        assert [] == sorted(set(table) - set(expected)), "README rows name variables that are no setting"
        assert expected == table

    def test_rows_follow_the_definition_order(self) -> None:
        """The table lists the settings in the order `worker/config.py` defines them."""
        assert [row["env"] for row in config.reference()] == list(readme_table())
