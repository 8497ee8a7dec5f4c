"""`marketplace lists show [--department CODE]` as a user types it: the seeded sharing responsibility lists
and their entries in words, in English and in Chinese (MARKETPLACE_LANG); an unknown department is one line
and exit 2."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def mkt(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "marketplace", *args],
        capture_output=True, text=True, env=env, cwd=ROOT, timeout=120,
    )


@pytest.fixture(scope="module")
def seeded(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    home = tmp_path_factory.mktemp("lists-cli")
    env = dict(os.environ, MARKETPLACE_HOME=str(home), MARKETPLACE_DB_URL=f"sqlite:///{home / 'cli.db'}")
    env.pop("MARKETPLACE_LANG", None)
    out = mkt("seed", "--seed", "7", env=env)
    assert out.returncode == 0, out.stderr
    return env


def test_lists_show_prints_every_list_and_its_entries_in_words(seeded) -> None:
    out = mkt("lists", "show", env=seeded)
    assert out.returncode == 0, out.stderr
    assert re.search(r"SCL-\d{4}-\d{6} · .+ · published \d{4}-\d{2}-\d{2} · basis: ", out.stdout), out.stdout
    entry = next(line for line in out.stdout.splitlines() if line.startswith("  - "))
    assert "duty:" in entry and "purposes: public governance" in entry and entry.endswith("· in force")
    zh = mkt("lists", "show", env={**seeded, "MARKETPLACE_LANG": "zh"})
    assert zh.returncode == 0, zh.stderr
    assert "发布于" in zh.stdout and "职责：" in zh.stdout and "用途：" in zh.stdout and "有效" in zh.stdout
    assert "published" not in zh.stdout and "purposes" not in zh.stdout


def test_lists_show_for_one_department_and_a_bad_code_is_one_line_exit_2(seeded) -> None:
    everything = mkt("lists", "show", env=seeded).stdout
    code = re.search(r"(SCL-\d{4}-\d{6}) · ", everything).group(1)
    holder = re.search(re.escape(code) + r" · (.+?) · published", everything).group(1)
    import sqlite3

    db_path = seeded["MARKETPLACE_DB_URL"].removeprefix("sqlite:///")
    with sqlite3.connect(db_path) as conn:
        (dept,) = conn.execute("SELECT code FROM organization WHERE name = ?", (holder,)).fetchone()
    one = mkt("lists", "show", "--department", dept, env=seeded)
    assert one.returncode == 0 and code in one.stdout
    assert sum(line.startswith("SCL-") for line in one.stdout.splitlines()) == 1
    for lang, words in (
        ("en", "expected the code of a government department"),
        ("zh", "应为某个政府部门的编码"),
    ):
        bad = mkt("lists", "show", "--department", "NOPE-1", env={**seeded, "MARKETPLACE_LANG": lang})
        assert bad.returncode == 2 and "Traceback" not in bad.stderr
        assert len(bad.stderr.strip().splitlines()) == 1
        assert words in bad.stderr and "--department" in bad.stderr
