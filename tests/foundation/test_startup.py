"""`marketplace --help` and `marketplace info` start without the heavy libraries.

Every command used to import pandas, SQLModel, Faker, pyarrow and matplotlib before parsing its arguments
(1.1–1.5 s per start). These tests check what a start imports (`sys.modules` in a fresh interpreter), never
how long it takes: the figures are in `benchmarks/bench_startup.py`.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from marketplace import db, migrations
from marketplace.cli.core import sandbox_counts

ROOT = Path(__file__).resolve().parents[2]
HEAVY = ("pandas", "sqlmodel", "sqlalchemy", "faker", "pyarrow", "matplotlib", "numpy", "alembic", "pydantic")

# Runs the command in this interpreter and reports which heavy top-level packages it imported.
PROBE = """
import json, sys
from marketplace.cli import run
try:
    run(json.loads(sys.argv[1]))
except SystemExit as exc:
    code = exc.code
heavy = sorted({name.split(".")[0] for name in sys.modules} & set(json.loads(sys.argv[2])))
print("PROBE " + json.dumps({"code": code, "heavy": heavy}))
"""


def probe(args: list[str], home: Path) -> tuple[dict[str, object], str]:
    env = {**os.environ, "MARKETPLACE_HOME": str(home), "PYTHONPATH": str(ROOT)}
    env.pop("MARKETPLACE_DB_URL", None)
    done = subprocess.run([sys.executable, "-c", PROBE, json.dumps(args), json.dumps(HEAVY)], env=env,
                          capture_output=True, text=True, timeout=300, check=False)
    line = [ln for ln in done.stdout.splitlines() if ln.startswith("PROBE ")]
    assert line, done.stderr
    return json.loads(line[-1][len("PROBE "):]), done.stdout


@pytest.mark.parametrize("args", [["--help"], ["seed", "--help"], ["release", "--help"], ["quote", "--help"],
                                  ["simulate", "--help"], ["policy", "--help"], ["--version"]])
def test_help_imports_no_heavy_library(args: list[str], tmp_path: Path) -> None:
    result, out = probe(args, tmp_path)
    assert result == {"code": 0, "heavy": []}, out
    assert "Usage:" in out or "version" in out


def test_info_on_a_current_sandbox_imports_no_heavy_library(tmp_path: Path) -> None:
    first, out = probe(["info", "--json"], tmp_path)  # creates the sandbox the usual way
    assert first["code"] == 0, out
    assert "sqlalchemy" in first["heavy"]
    again, out2 = probe(["info", "--json"], tmp_path)
    assert again == {"code": 0, "heavy": []}, out2
    strip = lambda text: json.loads(text[: text.index("PROBE ")])  # noqa: E731
    assert strip(out2) == strip(out)  # the same answer either way


def test_quick_counts_equal_the_full_count_on_a_seeded_sandbox(tmp_path: Path) -> None:
    from marketplace.synth import seed_sandbox

    url = f"sqlite:///{tmp_path / 'sandbox.db'}"
    engine = db.make_engine(url)
    db.upgrade_schema(engine)
    seed_sandbox(engine, 42, "small", "en_US", reset=True)
    os.environ[db.ENV_URL] = url
    try:
        assert db.quick_counts(url) == sandbox_counts()[1]
    finally:
        del os.environ[db.ENV_URL]
        engine.dispose()


def test_quick_counts_leave_an_old_or_other_database_to_the_full_path(tmp_path: Path) -> None:
    path = tmp_path / "old.db"
    assert db.quick_counts(f"sqlite:///{path}") is None  # no file: it is created by the full path
    engine = db.make_engine(f"sqlite:///{path}")
    db.upgrade_schema(engine)
    assert db.quick_counts(f"sqlite:///{path}") is not None
    with engine.begin() as conn:
        conn.exec_driver_sql("UPDATE alembic_version SET version_num = '0001'")
    engine.dispose()
    assert db.quick_counts(f"sqlite:///{path}") is None  # behind head: upgraded by the full path
    assert db.quick_counts("sqlite://") is None
    assert db.quick_counts("postgresql+psycopg://u@127.0.0.1:1/x") is None


def test_shipped_head_is_alembics_head() -> None:
    assert db.shipped_head() == migrations.head()
