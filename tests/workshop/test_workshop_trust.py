"""What a trainer must be able to trust: checkpoints that cannot be forged or lose history, seats that cannot
be lost, on SQLite and PostgreSQL. Each attack of the workshop-trust issue is refused, audited, and changes
nothing."""

from __future__ import annotations

import copy
import json
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlmodel import select

from marketplace import auditkey, db
from marketplace.errors import InvalidInput, MarketplaceError, PermissionDenied
from marketplace.models import AuditEvent, Checkpoint
from marketplace.workflows import audit
from marketplace.workshop import join, snapshot
from marketplace.workshop.roster import code_hash, code_kdf, new_join_code

from .conftest import make_workshop
from .test_workshop_checkpoint import activity, business, dump


@pytest.fixture
def ws(engine):
    ws = make_workshop(engine)
    activity(ws, "before")
    ws.fac.checkpoint("start")
    return ws


def stored(ws, name: str = "start") -> dict:
    with db.session_scope(ws.engine) as s:
        return copy.deepcopy(s.exec(select(Checkpoint).where(Checkpoint.name == name)).one().snapshot)


def put(ws, snap: dict, name: str = "start") -> None:
    """What someone with the database but not the key does: rewrite the checkpoint row."""
    table = Checkpoint.__table__
    with ws.engine.begin() as conn:
        conn.execute(sa.update(table).where(table.c.name == name).values(snapshot=snap))


def with_row(snap: dict, table: str, values: dict) -> dict:
    t = snap["tables"][table]
    t["rows"].append([values.get(c) for c in t["columns"]])
    return snap


def backdoor(snap: dict) -> tuple[dict, str]:
    """A second trainer seat with a code the attacker knows, planted in the checkpoint."""
    code = new_join_code()
    accounts = snap["tables"]["account"]
    new_id = max(r[accounts["columns"].index("id")] for r in accounts["rows"]) + 1
    template = dict(zip(accounts["columns"], accounts["rows"][0], strict=True))
    with_row(snap, "account", {**template, "id": new_id, "username": "backdoor", "display_name": "x"})
    with_row(snap, "accountrole", {"account_id": new_id, "role": "trainer"})
    with_row(
        snap,
        "participant",
        {
            "account_id": new_id,
            "join_code_hash": code_hash(code),
            "join_code_kdf": code_kdf(code),
            "seat": 999,
            "group": "trainer",
            "created_at": "2025-01-01T00:00:00",
        },
    )
    return snap, code


def last_refusal(ws) -> AuditEvent:
    with db.session_scope(ws.engine) as s:
        return s.exec(
            select(AuditEvent).where(AuditEvent.outcome == "refused").order_by(AuditEvent.seq.desc())
        ).first()


def test_a_checkpoint_with_a_planted_trainer_code_is_refused_and_audited(ws) -> None:
    snap, code = backdoor(stored(ws))
    put(ws, snap)
    before = business(dump(ws.engine))
    with pytest.raises(InvalidInput, match="MAC does not match"):
        ws.fac.restore("start")
    assert business(dump(ws.engine)) == before
    refusal = last_refusal(ws)
    assert refusal.action == "workshop.restore" and refusal.payload["name"] == "start"
    assert refusal.actor_id == ws.trainer.account_id
    with pytest.raises(PermissionDenied):
        join(code, ws.engine)
    with db.session_scope(ws.engine) as s:
        assert audit.verify_chain(s).ok


def test_a_resealed_checkpoint_without_the_key_and_a_stripped_mac_are_refused(ws) -> None:
    other = auditkey.AuditKey(b"\x01" * 32, "attacker")
    put(ws, snapshot.seal(backdoor(stored(ws))[0], other))
    with pytest.raises(InvalidInput, match="key id"):
        ws.fac.restore("start")
    put(ws, {**backdoor(stored(ws))[0], "format": snapshot.UNSIGNED_FORMAT, "mac": None})
    with pytest.raises(InvalidInput, match="no MAC"):
        ws.fac.restore("start")


def test_restores_never_remove_audit_events(ws) -> None:
    """Events after the checkpoint, refused attempts included, stay; the restore appends its own."""
    intruder = join(ws.seat("steward").join_code, ws.engine)
    with pytest.raises(MarketplaceError):
        intruder.accept_quote(1)  # not theirs: refused, and audited
    activity(ws, "after")
    history = dump(ws.engine)["auditevent"]
    ws.fac.restore("start")
    now = dump(ws.engine)["auditevent"]
    assert now[: len(history)] == history and len(now) == len(history) + 1
    # a checkpoint stripped of a table cannot be made without the key either
    snap = stored(ws)
    del snap["tables"]["participant"]
    put(ws, snap)
    with pytest.raises(InvalidInput):
        ws.fac.restore("start")
    assert dump(ws.engine)["auditevent"][: len(now)] == now
    with db.session_scope(ws.engine) as s:
        assert audit.verify_chain(s).ok


def test_a_checkpoint_is_validated_completely_before_anything_changes(ws) -> None:
    key = auditkey.load_key()
    snap = stored(ws)
    accounts = snap["tables"]["account"]
    accounts["rows"][-1][accounts["columns"].index("organization_id")] = "seven"  # sealed, but a bad type
    put(ws, snapshot.seal(snap, key))
    before = business(dump(ws.engine))
    with pytest.raises(InvalidInput, match=r"snapshot\.tables\.account\.rows\[\d+\]\.organization_id"):
        ws.fac.restore("start")
    assert business(dump(ws.engine)) == before
    assert last_refusal(ws).payload["name"] == "start"


def test_a_checkpoint_that_would_remove_the_trainer_seat_is_refused(ws) -> None:
    key = auditkey.load_key()
    snap = stored(ws)
    part = snap["tables"]["participant"]
    i = part["columns"].index("account_id")
    part["rows"] = [r for r in part["rows"] if r[i] != ws.trainer.account_id]
    put(ws, snapshot.seal(snap, key))
    with pytest.raises(PermissionDenied, match="no trainer seat"):
        ws.fac.restore("start")
    assert ws.fac.dashboard() is not None  # still the trainer


def test_a_refused_file_restore_leaves_no_checkpoint_behind(ws, tmp_path: Path) -> None:
    path = ws.fac.export_checkpoint("start", tmp_path / "start.json")
    data = json.loads(path.read_text())
    path.write_text(json.dumps(backdoor(data)[0]))
    before = business(dump(ws.engine))
    with pytest.raises(InvalidInput, match="MAC"):
        ws.fac.restore_file(path, "planted")
    assert list(ws.fac.checkpoints()["name"]) == ["start"]
    assert business(dump(ws.engine)) == before


def test_export_checks_its_path_first(ws, tmp_path: Path) -> None:
    with pytest.raises(InvalidInput, match="path"):
        ws.fac.export_checkpoint("start", tmp_path / "missing" / "x.json")
    with pytest.raises(InvalidInput, match="path"):
        ws.fac.export_checkpoint("start", tmp_path)


def test_every_checkpoint_is_anchored_outside_the_database(ws) -> None:
    value, path = ws.fac.last_anchor
    assert path.is_file() and path.parent.parent == db.data_dir()
    assert json.loads(path.read_text()) == value
    activity(ws, "after")
    with db.session_scope(ws.engine) as s:
        result = audit.verify_chain(s, anchor=value)
    assert result.ok and result.anchored == value["seq"]


def test_idempotency_keys_belong_to_their_account(ws) -> None:
    a = join(ws.seat("enterprise", 0).join_code, ws.engine)
    b = join(ws.seat("enterprise", 1).join_code, ws.engine)
    product = next(c for c in a.catalog() if c["kind"] == "product")
    receipt = a.file_request(purpose="industry_development", product=product["code"], key="shared-key-1")
    with pytest.raises(PermissionDenied, match="another account"):
        b.file_request(purpose="industry_development", product=product["code"], key="shared-key-1")
    refusal = last_refusal(ws)
    assert refusal.actor_id == b.account_id and refusal.payload["key"] == "shared-key-1"
    again = a.file_request(purpose="industry_development", product=product["code"], key="shared-key-1")
    assert again.replayed and again.subject_id == receipt.subject_id
