"""Trainer operations on the command line need the trainer's code whenever a workshop runs on the database,
and `--as` acts only as the account whose code is given; every refusal is audited."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest
from sqlmodel import select

from marketplace import db
from marketplace.models import AuditEvent
from marketplace.workflows import clock

from .test_workshop_no_lost_codes import CREATE, run_cli, sandbox  # noqa: F401  (fixture)


@pytest.fixture
def roster(sandbox, tmp_path: Path, capsys) -> dict[str, dict[str, str]]:  # noqa: F811
    out = tmp_path / "roster.csv"
    assert run_cli(capsys, *CREATE, "--out", str(out))[0] == 0
    return {r["group"]: r for r in csv.DictReader(out.open(encoding="utf-8"))}


def state(url: str) -> tuple[int, list[tuple[str, str, dict]]]:
    engine = db.make_engine(url)
    try:
        with db.session_scope(engine) as s:
            offset = clock.clock_state(s).offset_days
            refusals = [
                (e.action, e.outcome.value, e.payload)
                for e in s.exec(select(AuditEvent).where(AuditEvent.outcome == "refused")).all()
            ]
        return offset, refusals
    finally:
        engine.dispose()


def test_clock_advance_needs_the_trainer_code(sandbox, roster, capsys, monkeypatch) -> None:  # noqa: F811
    monkeypatch.delenv("MARKETPLACE_TRAINER_CODE", raising=False)
    code, text = run_cli(capsys, "clock", "advance", "--days", "5")
    assert code == 2 and "trainer's code" in text and "Traceback" not in text
    offset, refusals = state(sandbox)
    assert offset == 0 and refusals[-1][:2] == ("clock.advance", "refused")
    code, text = run_cli(
        capsys, "clock", "advance", "--days", "5", "--trainer-code", roster["enterprise"]["join_code"]
    )
    assert code == 2 and "trainer role" in text
    assert state(sandbox)[0] == 0
    code, text = run_cli(
        capsys, "clock", "advance", "--days", "5", "--trainer-code", roster["trainer"]["join_code"]
    )
    assert code == 0, text
    assert state(sandbox)[0] == 5


def test_as_acts_only_as_the_account_of_the_code(sandbox, roster, capsys) -> None:  # noqa: F811
    trainer = roster["trainer"]
    code, text = run_cli(
        capsys,
        "clock",
        "advance",
        "--days",
        "1",
        "--as",
        roster["steward"]["username"],
        "--trainer-code",
        trainer["join_code"],
    )
    assert code == 2 and "--as acts only as the account" in text
    code, text = run_cli(
        capsys,
        "clock",
        "advance",
        "--days",
        "1",
        "--as",
        trainer["username"],
        "--trainer-code",
        roster["steward"]["join_code"],
    )
    assert code == 2
    offset, refusals = state(sandbox)
    assert offset == 0 and refusals[-2][2]["as"] == roster["steward"]["username"]
    code, text = run_cli(
        capsys,
        "clock",
        "advance",
        "--days",
        "1",
        "--as",
        trainer["username"],
        "--trainer-code",
        trainer["join_code"],
    )
    assert code == 0, text


def test_reset_of_a_workshop_needs_the_trainer_code(sandbox, roster, capsys) -> None:  # noqa: F811
    code, text = run_cli(capsys, "reset", "--yes")
    assert code == 2 and "trainer's code" in text
    assert state(sandbox)[1][-1][0] == "sandbox.reset"
    code, text = run_cli(capsys, "reset", "--yes", "--trainer-code", roster["trainer"]["join_code"])
    assert code == 0, text
