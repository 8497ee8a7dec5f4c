"""No lost codes: a roster that cannot be written never leaves seats nobody holds the codes of, and exports
check their path before anything is saved."""

from __future__ import annotations

import csv
import stat
from pathlib import Path

import pytest
from sqlmodel import select

from marketplace import db
from marketplace.models import AuditEvent, Checkpoint, Participant


@pytest.fixture
def sandbox(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    url = f"sqlite:///{tmp_path / 'ws.db'}"
    monkeypatch.setenv("MARKETPLACE_DB_URL", url)
    monkeypatch.setenv("MARKETPLACE_HOME", str(tmp_path))
    db.dispose_engines()
    return url


def run_cli(capsys, *args: str) -> tuple[int, str]:
    from marketplace.cli import run

    with pytest.raises(SystemExit) as done:
        run(list(args))
    out = capsys.readouterr()
    return done.value.code, out.out + out.err


CREATE = (
    "workshop",
    "create",
    "-n",
    "3",
    "--roles",
    "department=1,enterprise=1,steward=1",
    "--practice-world",
)


def seats(url: str) -> int:
    engine = db.make_engine(url)
    try:
        with db.session_scope(engine) as s:
            return len(s.exec(select(Participant)).all())
    finally:
        engine.dispose()


def test_create_checks_the_roster_path_before_anything(sandbox, tmp_path, capsys) -> None:
    code, text = run_cli(capsys, *CREATE, "--out", str(tmp_path / "nowhere" / "roster.csv"))
    assert code == 2 and "--out" in text and "Traceback" not in text
    assert not (tmp_path / "ws.db").exists()  # nothing was even created
    code, text = run_cli(capsys, *CREATE, "--out", str(tmp_path))
    assert code == 2 and "--out" in text


def test_the_roster_is_private_to_its_owner(sandbox, tmp_path, capsys) -> None:
    out = tmp_path / "roster.csv"
    out.write_text("old")
    out.chmod(0o644)
    code, text = run_cli(capsys, *CREATE, "--out", str(out))
    assert code == 0, text
    assert stat.S_IMODE(out.stat().st_mode) == 0o600
    assert len(list(csv.DictReader(out.open(encoding="utf-8")))) == 4


def test_seats_are_taken_back_when_the_roster_cannot_be_written(
    sandbox, tmp_path, capsys, monkeypatch
) -> None:
    import marketplace.workshop as ws

    def full_disk(*_a, **_k):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(ws, "write_roster", full_disk)
    code, text = run_cli(capsys, *CREATE, "--out", str(tmp_path / "roster.csv"))
    assert code == 2 and "--out" in text and "No space left" in text
    assert seats(sandbox) == 0
    monkeypatch.undo()
    monkeypatch.setenv("MARKETPLACE_DB_URL", sandbox)
    monkeypatch.setenv("MARKETPLACE_HOME", str(tmp_path))
    code, text = run_cli(capsys, *CREATE, "--out", str(tmp_path / "roster.csv"))  # and the next try works
    assert code == 0 and "trainer seat created" in text, text
    engine = db.make_engine(sandbox)
    with db.session_scope(engine) as s:
        removed = s.exec(select(AuditEvent).where(AuditEvent.action == "workshop.remove_seats")).one()
        assert len(removed.payload["accounts"]) == 4 and "No space left" in removed.payload["reason"]
    engine.dispose()


def test_checkpoint_export_checks_its_path_first_and_export_alone(sandbox, tmp_path, capsys) -> None:
    out = tmp_path / "roster.csv"
    assert run_cli(capsys, *CREATE, "--out", str(out))[0] == 0
    trainer = next(
        r["join_code"] for r in csv.DictReader(out.open(encoding="utf-8")) if r["group"] == "trainer"
    )
    code, text = run_cli(
        capsys,
        "workshop",
        "checkpoint",
        "start",
        "--export",
        str(tmp_path / "no" / "s.json"),
        "--trainer-code",
        trainer,
    )
    assert code == 2 and "--export" in text
    engine = db.make_engine(sandbox)
    with db.session_scope(engine) as s:
        assert s.exec(select(Checkpoint)).all() == []
    code, text = run_cli(capsys, "workshop", "checkpoint", "start", "--trainer-code", trainer)
    assert code == 0 and "anchored at seq" in text, text
    code, text = run_cli(
        capsys,
        "workshop",
        "export",
        "start",
        "--out",
        str(tmp_path / "start.json.gz"),
        "--trainer-code",
        trainer,
    )
    assert code == 0 and (tmp_path / "start.json.gz").is_file(), text
    code, text = run_cli(
        capsys,
        "workshop",
        "export",
        "start",
        "--out",
        str(tmp_path / "no" / "x.json"),
        "--trainer-code",
        trainer,
    )
    assert code == 2 and "--out" in text
    engine.dispose()
