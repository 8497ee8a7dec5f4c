"""Checkpoint and restore the whole marketplace, on SQLite and PostgreSQL and from one to the other."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlmodel import SQLModel

from marketplace import db
from marketplace.errors import InvalidInput, NotFound
from marketplace.workflows import audit
from marketplace.workshop import join
from marketplace.workshop.snapshot import read_file, snapshot_engine, write_file

from .conftest import make_workshop


def _norm(v):
    if isinstance(v, datetime):
        return (v if v.tzinfo else v.replace(tzinfo=UTC)).astimezone(UTC).isoformat()
    if isinstance(v, date):
        return v.isoformat()
    if isinstance(v, Decimal):
        return f"{v:.5f}"
    if isinstance(v, float):
        return round(v, 9)
    if hasattr(v, "value"):
        return v.value
    return v


def dump(engine) -> dict[str, list[str]]:
    """Every row of every table but `checkpoint`, normalised (independent of the snapshot code)."""
    out: dict[str, list[str]] = {}
    with engine.connect() as conn:
        for name, table in sorted(SQLModel.metadata.tables.items()):
            if name == "checkpoint":
                continue
            rows = conn.execute(sa.select(table).order_by(*table.primary_key.columns)).mappings().all()
            out[name] = [
                json.dumps({k: _norm(v) for k, v in r.items()}, sort_keys=True, default=str) for r in rows
            ]
    return out


def business(d: dict[str, list[str]]) -> dict[str, list[str]]:
    """The marketplace's state: every table but the audit log (history, which a restore never takes back)."""
    out = {k: v for k, v in d.items() if k != "auditevent"}
    return {**out, "sandboxsetting": [r for r in d["sandboxsetting"] if '"key": "audit_head"' not in r]}


def activity(ws, tag: str) -> None:
    ent = join(ws.seat("enterprise").join_code, ws.engine)
    dep = join(ws.seat("department").join_code, ws.engine)
    reg = join(ws.seat("registrar").join_code, ws.engine)
    product = next(c for c in ent.catalog() if c["kind"] == "product")
    r = ent.file_request(
        purpose="industry_development", product=product["code"], volume=50, use_statement=tag
    )
    ent.accept_quote(r.subject_id)
    res = next(c for c in dep.catalog() if "sharing" in c["channels"])
    dep.file_request(purpose="public_governance", resource=res["code"], channel="sharing", use_statement=tag)
    for item in reg.review_queue():
        reg.decide(item["review_id"], "approve")


def test_checkpoint_restore_round_trip(engine) -> None:
    ws = make_workshop(engine)
    activity(ws, "before")
    saved = dump(engine)
    counts = ws.fac.checkpoint("before-break")
    assert counts["accessrequest"] == 2 and "auditevent" not in counts  # history is not state

    activity(ws, "after")
    ws.fac.switch_policy("sme-discount")
    ws.fac.advance_clock(30)
    ws.fac.create_participants("enterprise=2", participants=2)
    ws.fac.release_next()
    assert dump(engine) != saved

    history = dump(engine)["auditevent"]
    restored = ws.fac.restore("before-break")
    assert restored["accessrequest"] == 2
    now = dump(engine)
    assert business(now) == business(saved)
    assert now["auditevent"][: len(history)] == history  # every earlier event kept, the restore appended
    with db.session_scope(engine) as s:
        assert audit.verify_chain(s).ok
        last = audit.events(s, last=1)[0]
        assert (last.action, last.payload["name"]) == ("workshop.restore", "before-break")
    # the marketplace goes on after a restore: new rows get fresh ids (PostgreSQL sequences were reset)
    activity(ws, "again")
    with db.session_scope(engine) as s:
        assert audit.verify_chain(s).ok
    assert len(dump(engine)["accessrequest"]) == 4
    assert list(ws.fac.checkpoints()["name"]) == ["before-break"]


def test_checkpoint_errors_change_nothing(workshop) -> None:
    workshop.fac.checkpoint("one")
    before = dump(workshop.engine)
    with pytest.raises(InvalidInput, match="checkpoint"):
        workshop.fac.checkpoint("one")
    with pytest.raises(InvalidInput, match="checkpoint"):
        workshop.fac.checkpoint("   ")
    with pytest.raises(NotFound, match="checkpoint"):
        workshop.fac.restore("never-saved")
    assert dump(workshop.engine) == before


@pytest.mark.postgres
def test_checkpoint_moves_from_sqlite_to_postgresql(tmp_path: Path, ws_engine, pg_url: str) -> None:
    ws = make_workshop(ws_engine)
    activity(ws, "laptop")
    expected = dump(ws_engine)
    ws.fac.checkpoint("laptop")
    path = ws.fac.export_checkpoint("laptop", tmp_path / "laptop.json.gz")
    assert read_file(path)["tables"].keys() == snapshot_engine(ws_engine)["tables"].keys()

    pg = db.make_engine(pg_url)
    try:
        hub = make_workshop(pg, seed=5)
        hub.fac.import_checkpoint(path, "from-laptop")
        hub.fac.restore("from-laptop", hand_over=True)  # the laptop's trainer runs the hub from now on
        assert business(dump(pg)) == business(expected)
        with db.session_scope(pg) as s:
            assert audit.verify_chain(s).ok
        # the laptop's participants can now join the hub and carry on
        ent = join(ws.seat("enterprise").join_code, pg)
        assert len(ent.my_requests()) == 1
        product = next(c for c in ent.catalog() if c["kind"] == "product")
        ent.file_request(purpose="industry_development", product=product["code"])
        with db.session_scope(pg) as s:
            assert audit.verify_chain(s).ok
    finally:
        pg.dispose()


def test_snapshot_file_round_trip_and_bad_files(tmp_path: Path, workshop) -> None:
    snap = snapshot_engine(workshop.engine)
    for name in ("s.json", "s.json.gz"):
        assert read_file(write_file(snap, tmp_path / name)) == json.loads(json.dumps(snap))
    (tmp_path / "bad.json").write_text('{"format": "something-else"}')
    with pytest.raises(InvalidInput, match="snapshot"):
        read_file(tmp_path / "bad.json")
    with pytest.raises(InvalidInput, match="path"):
        read_file(tmp_path / "missing.json")
