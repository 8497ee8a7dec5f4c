"""The participant and facilitator notebooks, executed headless, driven like a user, then checked in the
DB."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient
from sqlmodel import select

from marketplace import db
from marketplace.models import AccessRequest, AuditEvent, Checkpoint, ExerciseRelease, Quote, SandboxSetting
from marketplace.workflows import audit

from .conftest import make_workshop

NOTEBOOKS = Path(__file__).resolve().parents[2] / "notebooks" / "workshop"


def _errors(book: nbformat.NotebookNode) -> list[str]:
    found = []
    for i, cell in enumerate(book.cells):
        for out in cell.get("outputs", []):
            if out.get("output_type") == "error":
                found.append(f"cell {i}: {out.get('ename')}: {out.get('evalue')}")
            elif out.get("output_type") == "stream" and "Traceback" in out.get("text", ""):
                found.append(f"cell {i}: {out['text'][-800:]}")
    return found


def run(name: str, checks: list[str], env: dict[str, str], monkeypatch: pytest.MonkeyPatch) -> None:
    book = nbformat.read(NOTEBOOKS / name, as_version=4)
    original = len(book.cells)
    for cell in book.cells:
        if cell.cell_type == "code":
            assert cell.outputs == [] and cell.execution_count is None, "committed with outputs"
            assert len(cell.source.strip().splitlines()) <= 3
    book.cells += [nbformat.v4.new_code_cell(src) for src in checks]
    for k, v in env.items():
        monkeypatch.setenv(k, v)
    client = NotebookClient(
        book,
        kernel_name="python3",
        timeout=180,
        startup_timeout=120,
        resources={"metadata": {"path": str(NOTEBOOKS)}},
    )
    client.execute()
    assert _errors(book) == []
    shown = [
        c
        for c in book.cells[:original]
        if c.cell_type == "code"
        and any("application/vnd.jupyter.widget-view+json" in o.get("data", {}) for o in c.outputs)
    ]
    assert shown, "no widget was displayed"
    assert not any("Traceback" in json.dumps(c.get("outputs", [])) for c in book.cells)


PARTICIPANT = [
    """
import os
assert type(app).__name__ == "JoinBox"
app.code.value = os.environ["TEST_JOIN_CODE"]
app.join_button.click()
panel = app.panel
assert type(panel).__name__ == "ParticipantPanel", app.feedback.text
assert not hasattr(panel, "review_pick") and "Enterprise" in panel.identity.value
""",
    """
panel.target.value = next(k for k in panel.target.options if k.startswith("PRD-"))
panel.purpose.value = "industry_development"
panel.volume.value = 250
panel.use_statement.value = "route planning for delivery vans"
panel.file_button.click()
assert panel.feedback.kind == "ok", panel.feedback.text
assert panel.quote_pick.options, "the paid request offers a quote to accept"
panel.accept_button.click()
assert panel.feedback.kind == "ok" and "accepted" in panel.feedback.text, panel.feedback.text
""",
    """
from marketplace.ui import i18n
i18n.set_language("zh")
assert panel.file_button.description == "提交申请" and "已完成" in panel.exercise_box.value
i18n.set_language("en")
""",
]


def test_participant_notebook(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    url = f"sqlite:///{tmp_path / 'workshop.db'}"
    monkeypatch.setenv("MARKETPLACE_HOME", str(tmp_path))  # the notebook's data directory: the same audit key
    engine = db.make_engine(url)
    ws = make_workshop(engine)
    ws.fac.release_next()
    seat = ws.seat("enterprise")
    run(
        "participant.ipynb",
        PARTICIPANT,
        {
            "MARKETPLACE_DB_URL": url,
            "MARKETPLACE_HOME": str(tmp_path),
            "MARKETPLACE_LANG": "en",
            "TEST_JOIN_CODE": seat.join_code,
        },
        monkeypatch,
    )
    with db.session_scope(engine) as s:
        req = s.exec(select(AccessRequest)).one()
        quote = s.exec(select(Quote).where(Quote.request_id == req.id)).one()
        actors = set(s.exec(select(AuditEvent.actor_id).where(AuditEvent.action.like("request.%"))).all())
        assert audit.verify_chain(s).ok
    assert (req.requester_id, req.volume, req.use_statement) == (
        seat.account_id,
        250,
        "route planning for delivery vans",
    )
    assert quote.status == "accepted" and actors == {seat.account_id}
    engine.dispose()


FACILITATOR = [
    """
assert type(console).__name__ == "FacilitatorConsole"
console.release_button.click()
assert console.feedback.kind == "ok" and "01-first-request" in console.feedback.text, console.feedback.text
console.checkpoint_name.value = "warm-up"
console.save_button.click()
assert console.feedback.kind == "ok", console.feedback.text
""",
    """
console.round_button.click()
assert sum(console.traffic.counts.values()) > 0 and "file a request" in console.traffic_status.value
console.days.value = 12
console.advance_button.click()
assert console.feedback.kind == "ok" and "2025-03-15" in console.feedback.text, console.feedback.text
console.policy_pick.value = "sme-discount"
console.switch_button.click()
assert console.feedback.kind == "ok" and "sme-discount" in console.feedback.text, console.feedback.text
assert "sme-discount" in console.status.value and "<table" in console.effect.value
""",
    """
console.checkpoint_pick.value = "warm-up"
console.restore_button.click()  # asks first: restoring loses what was done since
assert console.feedback.kind == "info" and "warm-up" in console.feedback.text, console.feedback.text
assert "sme-discount" in console.status.value
console.restore_button.click()
assert console.feedback.kind == "ok" and "warm-up" in console.feedback.text, console.feedback.text
assert "national-2025" in console.status.value and "01-first-request" in console.tables.value
assert console.effect.value == "" and console.policy_pick.value == "national-2025"
""",
]


def test_facilitator_notebook(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    url = f"sqlite:///{tmp_path / 'workshop.db'}"
    monkeypatch.setenv("MARKETPLACE_HOME", str(tmp_path))  # the notebook's data directory: the same audit key
    engine = db.make_engine(url)
    ws = make_workshop(engine)
    run(
        "facilitator.ipynb",
        FACILITATOR,
        {
            "MARKETPLACE_DB_URL": url,
            "MARKETPLACE_HOME": str(tmp_path),
            "MARKETPLACE_LANG": "en",
            "MARKETPLACE_TRAINER_CODE": ws.trainer.join_code,
        },
        monkeypatch,
    )
    with db.session_scope(engine) as s:
        assert [c.name for c in s.exec(select(Checkpoint)).all()] == ["warm-up"]
        assert [r.exercise_id for r in s.exec(select(ExerciseRelease)).all()] == ["01-first-request"]
        assert s.get(SandboxSetting, "policy") is None  # restored to before the switch
        trainer_actions = list(
            s.exec(select(AuditEvent.action).where(AuditEvent.actor_id == ws.trainer.account_id)).all()
        )
        assert audit.verify_chain(s).ok
    for action in ("workshop.release", "workshop.restore"):  # the checkpoint event came after the saved state
        assert action in trainer_actions
    engine.dispose()


def test_kernel_runs_this_interpreter() -> None:
    from jupyter_client.kernelspec import KernelSpecManager

    argv0 = KernelSpecManager().get_kernel_spec("python3").argv[0]
    assert (
        argv0 in ("python", "python3", sys.executable)
        or Path(argv0).resolve() == Path(sys.executable).resolve()
    )
