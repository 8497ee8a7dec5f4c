"""`marketplace seed`: counts and time on success; one line and exit 2 on bad input, nothing changed."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from marketplace import db
from marketplace.cli import run
from marketplace.synth import build_world, canonical_dump


def _run(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    with pytest.raises(SystemExit) as exit_:
        run(argv)
    out, err = capsys.readouterr()
    return int(exit_.value.code or 0), out, err


def test_seed_builds_the_default_world_and_prints_counts(capsys) -> None:
    code, out, err = _run(["seed"], capsys)
    assert code == 0, err
    counts = build_world(42).counts()
    for table, n in counts.items():
        assert any(line.split() == [table, str(n)] for line in out.splitlines()), table
    assert "seed 42, size small, locale en_US" in out and "done in" in out
    assert db.is_seeded(db.get_engine())


def test_seed_twice_gives_the_same_database_and_another_seed_changes_it(capsys) -> None:
    assert _run(["seed", "--seed", "9", "--yes"], capsys)[0] == 0
    first = canonical_dump(db.get_engine())
    assert _run(["seed", "--seed", "9"], capsys)[0] == 0
    assert canonical_dump(db.get_engine()) == first
    assert _run(["seed", "--seed", "10", "--locale", "zh_CN"], capsys)[0] == 0
    assert canonical_dump(db.get_engine()) != first


@pytest.mark.parametrize(
    ("argv", "option", "value"),
    [
        (["--size", "huge"], "--size", "huge"),
        (["--locale", "fr_FR"], "--locale", "fr_FR"),
        (["--seed", "-1"], "--seed", "-1"),
        (["--seed", "abc"], "--seed", "abc"),
    ],
)
def test_bad_option_is_one_line_exit_2_and_changes_nothing(capsys, argv, option, value) -> None:
    assert _run(["seed", "--seed", "3"], capsys)[0] == 0
    before = canonical_dump(db.get_engine())
    code, _out, err = _run(["seed", *argv], capsys)
    assert code == 2
    assert len(err.strip().splitlines()) == 1 and "Traceback" not in err
    assert option in err and value in err
    assert canonical_dump(db.get_engine()) == before


def test_unreachable_database_is_one_line_exit_2(capsys, monkeypatch) -> None:
    monkeypatch.setenv("MARKETPLACE_DB_URL", "postgresql://nobody@127.0.0.1:1/none")
    db.dispose_engines()
    code, _out, err = _run(["seed", "--size", "small"], capsys)
    assert code == 2
    assert len(err.strip().splitlines()) == 1 and "MARKETPLACE_DB_URL" in err and "Traceback" not in err


def test_the_command_in_a_fresh_process_rejects_a_bad_size_before_touching_the_database(tmp_path) -> None:
    env = {**os.environ, "MARKETPLACE_HOME": str(tmp_path)}
    env.pop("MARKETPLACE_DB_URL", None)
    cmd = [sys.executable, "-c", "from marketplace.cli import run; run()", "seed", "--size", "galaxy"]
    bad = subprocess.run(cmd, capture_output=True, text=True, env=env, check=False)
    assert bad.returncode == 2 and len(bad.stderr.strip().splitlines()) == 1
    assert "galaxy" in bad.stderr and "small" in bad.stderr and "province" in bad.stderr
    assert not (tmp_path / "sandbox.db").exists()


def test_seed_if_empty_seeds_once_and_then_leaves_the_sandbox_alone(tmp_path, monkeypatch) -> None:
    from click.testing import CliRunner

    from marketplace import db
    from marketplace.cli import main
    from marketplace.synth import canonical_dump

    monkeypatch.setenv("MARKETPLACE_DB_URL", f"sqlite:///{tmp_path / 'once.db'}")
    db.dispose_engines()
    runner = CliRunner()
    first = runner.invoke(main, ["seed", "--if-empty", "--seed", "3"])
    assert first.exit_code == 0, first.output
    assert "seeded" in first.output
    before = canonical_dump(db.get_engine())
    second = runner.invoke(main, ["seed", "--if-empty", "--seed", "4"])
    assert second.exit_code == 0, second.output
    assert "already seeded" in second.output
    assert canonical_dump(db.get_engine()) == before


def test_a_sandbox_seeded_by_an_older_version_gets_the_newer_tables(tmp_path, monkeypatch):
    """`make lab` (seed --if-empty) and the panels (ensure_seeded) keep the world and add missing tables.

    Such a sandbox records no schema revision (revisions came later): the baseline revision completes it."""
    import sqlalchemy as sa
    from click.testing import CliRunner

    from marketplace import db
    from marketplace.cli import main
    from marketplace.synth import canonical_dump, ensure_seeded

    monkeypatch.setenv("MARKETPLACE_DB_URL", f"sqlite:///{tmp_path / 'old.db'}")
    db.dispose_engines()
    runner = CliRunner()
    assert runner.invoke(main, ["seed", "--if-empty", "--seed", "3"]).exit_code == 0
    engine = db.get_engine()
    before = canonical_dump(engine)
    for undo in (
        lambda: runner.invoke(main, ["seed", "--if-empty"]),
        lambda: ensure_seeded(engine),
    ):
        with engine.begin() as conn:
            conn.exec_driver_sql("DROP TABLE usagereport")  # as in a sandbox made before usage reports
            conn.exec_driver_sql("DROP TABLE alembic_version")  # ... and before schema revisions
        assert not sa.inspect(engine).has_table("usagereport")
        undo()
        assert sa.inspect(engine).has_table("usagereport")
        assert sa.inspect(engine).has_table("alembic_version")
        assert canonical_dump(engine) == before
