"""`marketplace workshop create` and the trainer commands, through the real console entry point."""

from __future__ import annotations

import csv
import re
import subprocess
import sys
from pathlib import Path

import pytest
from sqlmodel import select

from marketplace import db
from marketplace.models import AuditEvent, Participant
from marketplace.workshop import join

CODE = re.compile(r"^[2-9A-HJ-NP-Z]{4}(-[2-9A-HJ-NP-Z]{4}){3}$")


def cli(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess:
    code = "from marketplace.cli import run; run()"
    return subprocess.run(
        [sys.executable, "-c", code, *args], capture_output=True, text=True, env=env, timeout=120
    )


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    import os

    return {
        **os.environ,
        "MARKETPLACE_DB_URL": f"sqlite:///{tmp_path / 'ws.db'}",
        "MARKETPLACE_HOME": str(tmp_path),
    }


def test_create_writes_a_roster_of_working_codes(tmp_path: Path, env: dict[str, str]) -> None:
    out = tmp_path / "roster.csv"
    done = cli(
        "workshop",
        "create",
        "--participants",
        "7",
        "--roles",
        "department=2,enterprise=3,steward=1,operator=1",
        "--practice-world",
        "--out",
        str(out),
        env=env,
    )
    assert done.returncode == 0, done.stderr
    assert "created 7 participant seats" in done.stdout and "trainer seat created" in done.stdout
    rows = list(csv.DictReader(out.open(encoding="utf-8")))
    assert [r["group"] for r in rows].count("trainer") == 1 and len(rows) == 8
    assert all(CODE.match(r["join_code"]) for r in rows) and len({r["join_code"] for r in rows}) == 8
    engine = db.make_engine(env["MARKETPLACE_DB_URL"])
    for r in rows:
        assert join(r["join_code"], engine).account_id == int(r["account_id"])
    trainer = next(r["join_code"] for r in rows if r["group"] == "trainer")
    # a second create adds seats with the trainer's code; the roster then has only the new seats
    again = cli(
        "workshop",
        "create",
        "-n",
        "2",
        "--roles",
        "steward=2",
        "--out",
        str(tmp_path / "more.csv"),
        "--trainer-code",
        trainer,
        env=env,
    )
    assert again.returncode == 0, again.stderr
    with db.session_scope(engine) as s:
        assert len(s.exec(select(Participant)).all()) == 10
    status = cli("workshop", "status", env={**env, "MARKETPLACE_TRAINER_CODE": trainer})
    assert status.returncode == 0 and "participants" in status.stdout and "national-2025" in status.stdout
    engine.dispose()


def test_bad_input_is_one_line_and_changes_nothing(tmp_path: Path, env: dict[str, str]) -> None:
    bad = cli("workshop", "create", "-n", "5", "--roles", "department=2,wizard=3", env=env)
    assert bad.returncode == 2 and bad.stderr.strip().count("\n") == 0
    assert "--roles" in bad.stderr and "wizard" in bad.stderr and "steward" in bad.stderr
    wrong_sum = cli("workshop", "create", "-n", "5", "--roles", "department=2", env=env)
    assert wrong_sum.returncode == 2 and "add up to" in wrong_sum.stderr
    assert not (tmp_path / "ws.db").exists() or not db.is_seeded(db.make_engine(env["MARKETPLACE_DB_URL"]))


def test_trainer_commands_refuse_participants_and_log_it(tmp_path: Path, env: dict[str, str]) -> None:
    out = tmp_path / "roster.csv"
    assert (
        cli(
            "workshop",
            "create",
            "-n",
            "2",
            "--roles",
            "enterprise=2",
            "--practice-world",
            "--out",
            str(out),
            env=env,
        ).returncode
        == 0
    )
    rows = list(csv.DictReader(out.open(encoding="utf-8")))
    participant = next(r["join_code"] for r in rows if r["group"] == "enterprise")
    trainer = next(r["join_code"] for r in rows if r["group"] == "trainer")
    refused = cli("workshop", "checkpoint", "mine", "--trainer-code", participant, env=env)
    assert refused.returncode == 2 and "trainer role" in refused.stderr and "Traceback" not in refused.stderr
    ok = cli(
        "workshop",
        "checkpoint",
        "start",
        "--export",
        str(tmp_path / "start.json.gz"),
        "--trainer-code",
        trainer,
        env=env,
    )
    assert ok.returncode == 0, ok.stderr
    assert cli("workshop", "release", "--trainer-code", trainer, env=env).stdout.startswith("released 01-")
    restored = cli(
        "workshop",
        "restore",
        "again",
        "--from-file",
        str(tmp_path / "start.json.gz"),
        "--trainer-code",
        trainer,
        env=env,
    )
    assert restored.returncode == 0 and "restored again" in restored.stdout, restored.stderr
    switched = cli("workshop", "policy", "sme-discount", "--trainer-code", trainer, env=env)
    assert switched.returncode == 0 and "national-2025 → sme-discount" in switched.stdout
    engine = db.make_engine(env["MARKETPLACE_DB_URL"])
    with db.session_scope(engine) as s:
        refusals = s.exec(select(AuditEvent).where(AuditEvent.outcome == "refused")).all()
    assert [e.action for e in refusals] == ["workshop.console"]
    engine.dispose()


def test_status_and_a_missing_exercise_read_in_chinese(tmp_path: Path, env: dict[str, str]) -> None:
    out = tmp_path / "roster.csv"
    made = cli("workshop", "create", "-n", "2", "--roles", "department=1,steward=1", "--practice-world",
               "--out", str(out), env=env)
    assert made.returncode == 0, made.stderr
    rows = list(csv.DictReader(out.open(encoding="utf-8")))
    trainer = next(r["join_code"] for r in rows if r["group"] == "trainer")
    zh = {**env, "MARKETPLACE_TRAINER_CODE": trainer, "MARKETPLACE_LANG": "zh"}
    assert cli("workshop", "release", env=zh).returncode == 0
    status = cli("workshop", "status", env=zh)
    assert status.returncode == 0, status.stderr
    table = status.stdout.splitlines()[-2:]
    assert "练习" in table[0] and "标题" in table[0] and "exercise" not in table[0], table
    assert "提交第一份数据申请" in table[1] and "File your" not in table[1], table
    missing = cli("workshop", "release", "bogus", env=zh)
    assert missing.returncode == 2 and "未找到练习" in missing.stderr, missing.stderr
