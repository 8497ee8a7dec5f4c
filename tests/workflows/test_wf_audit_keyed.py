"""The keyed audit log: what someone who can write to the database but does not hold the key can no longer
hide (a full re-hash, a truncation with the head moved, renumbering), anchors, and logs from before keying."""

from __future__ import annotations

import json
import os
import stat

import pytest
import sqlalchemy as sa
from click.testing import CliRunner
from sqlmodel import Session, SQLModel

from marketplace import auditkey, db
from marketplace import workflows as wf
from marketplace.cli import main
from marketplace.errors import AuditKeyError, PermissionDenied
from marketplace.models import AuditEvent
from marketplace.vocabulary import Role
from marketplace.workflows import audit


def _history(world) -> int:
    rid = world.conditional_sharing()
    world.approve_all(rid)
    with pytest.raises(PermissionDenied), world.step() as s:
        wf.advance_clock(s, world.role(s, Role.regulator), 1)
    return world.count(AuditEvent)


def _rows(engine) -> list[dict]:
    with engine.connect() as conn:
        return [
            dict(r) for r in conn.execute(sa.select(AuditEvent.__table__).order_by(AuditEvent.seq)).mappings()
        ]


def _rewrite(engine, rows: list[dict], mac) -> None:
    """What an attacker with the database but not the key does: rewrite every row, re-chain, move the head."""
    prev = audit.GENESIS
    with engine.begin() as conn:
        conn.execute(sa.delete(AuditEvent.__table__))
        for i, row in enumerate(rows, start=1):
            row = {**row, "seq": i, "prev_hash": prev}
            row["hash"] = mac(row)
            conn.execute(sa.insert(AuditEvent.__table__), [row])
            prev = row["hash"]
        head = audit.read_head(conn)
        head.update(seq=len(rows), hash=prev)
        conn.execute(
            sa.text("UPDATE sandboxsetting SET value = :v WHERE key = 'audit_head'"), {"v": json.dumps(head)}
        )


def _sha(row: dict) -> str:
    return audit.event_hash(
        **{
            k: row[k]
            for k in ("seq", "at", "actor_id", "action", "subject_type", "subject_id", "payload", "prev_hash")
        },
        outcome=str(row["outcome"]),
    )


def _other_key_mac(row: dict) -> str:
    other = auditkey.AuditKey(os.urandom(32), "attacker")
    fields = {
        k: row[k]
        for k in (
            "seq",
            "at",
            "recorded_at",
            "actor_id",
            "action",
            "subject_type",
            "subject_id",
            "payload",
            "prev_hash",
        )
    }
    return audit.event_mac(other, **fields, outcome=str(row["outcome"]))


def test_the_key_lives_outside_the_database_in_a_private_file(world) -> None:
    _history(world)
    path = auditkey.key_path()
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    secret = path.read_text().strip()
    with world.engine.connect() as conn:
        for table in SQLModel.metadata.sorted_tables:
            text = json.dumps([list(r) for r in conn.execute(sa.select(table))], default=str)
            assert secret not in text, table.name
    with world.step() as s:
        assert audit.read_head(s.connection())["key_id"] == auditkey.load_key().key_id


@pytest.mark.parametrize("forge", [_sha, _other_key_mac], ids=["sha256", "another-key"])
def test_a_full_rehash_with_a_forged_payload_is_found(world, forge) -> None:
    _history(world)
    rows = _rows(world.engine)
    rows[2]["payload"] = {**rows[2]["payload"], "forged": True}
    _rewrite(world.engine, rows, forge)
    result = world.verify()
    assert not result.ok and result.first_bad_seq is not None


def test_truncation_with_the_head_moved_is_found(world) -> None:
    n = _history(world)
    rows = _rows(world.engine)
    with world.engine.begin() as conn:
        conn.execute(sa.delete(AuditEvent.__table__).where(AuditEvent.seq > n - 2))
        head = audit.read_head(conn)
        head.update(seq=rows[n - 3]["seq"], hash=rows[n - 3]["hash"])
        conn.execute(
            sa.text("UPDATE sandboxsetting SET value = :v WHERE key = 'audit_head'"), {"v": json.dumps(head)}
        )
    result = world.verify()
    assert not result.ok and "head" in result.reason


def test_deleted_and_renumbered_events_are_found(world) -> None:
    _history(world)
    rows = _rows(world.engine)
    del rows[3]  # the refusal nobody should see, say
    _rewrite(world.engine, [{k: v for k, v in r.items() if k != "id"} for r in rows], lambda r: r["hash"])
    result = world.verify()
    assert not result.ok and result.first_bad_seq == 4


def test_recorded_at_is_covered(world) -> None:
    _history(world)
    with world.engine.begin() as conn:
        conn.execute(
            sa.text("UPDATE auditevent SET recorded_at = :v WHERE seq = 2"), {"v": "2020-01-01 00:00:00"}
        )
    result = world.verify()
    assert not result.ok and result.first_bad_seq == 2


def test_verify_needs_the_key_and_names_a_wrong_one(world, monkeypatch) -> None:
    _history(world)
    monkeypatch.setenv(auditkey.ENV_KEY, os.urandom(32).hex())
    result = world.verify()
    assert not result.ok and "key id" in result.reason
    with pytest.raises(AuditKeyError, match="not the key"), world.step() as s:
        wf.advance_clock(s, world.role(s, Role.trainer), 1)  # nor does anything write with it
    monkeypatch.delenv(auditkey.ENV_KEY)
    auditkey.key_path().unlink()
    with pytest.raises(AuditKeyError, match="no audit key"), world.step() as s:
        audit.verify_chain(s)


def test_an_anchor_proves_nothing_before_it_changed(world) -> None:
    _history(world)
    with world.step() as s:
        captured = audit.read_head(s.connection())  # someone with the database saves the head (MAC and all)
    rid = world.conditional_sharing()  # the log goes on
    world.approve_all(rid)
    with world.step() as s:
        anchored = audit.anchor(s)  # the trainer anchors it
        good = audit.verify_chain(s, anchor=anchored)
    assert good.ok and good.anchored == anchored["seq"] > captured["seq"]
    # ... deletes everything after the saved head and puts it back
    with world.engine.begin() as conn:
        conn.execute(sa.delete(AuditEvent.__table__).where(AuditEvent.seq > captured["seq"]))
        conn.execute(
            sa.text("UPDATE sandboxsetting SET value = :v WHERE key = 'audit_head'"),
            {"v": json.dumps(captured)},
        )
    assert world.verify().ok  # a replayed head of the log's own is consistent: what anchors are for
    with world.step() as s:
        result = audit.verify_chain(s, anchor=anchored)
    assert not result.ok and "anchored seq" in result.reason
    forged = {**anchored, "seq": captured["seq"], "hash": captured["hash"]}
    with world.step() as s:
        assert "MAC" in audit.verify_chain(s, anchor=forged).reason


def test_a_legacy_log_is_verified_as_before_and_keyed_from_then_on(world) -> None:
    """A sandbox from before keying: SHA-256 events and a head without a key id."""
    n = _history(world)
    rows = _rows(world.engine)
    _rewrite(world.engine, [{k: v for k, v in r.items() if k != "id"} for r in rows], _sha)
    with world.engine.begin() as conn:
        conn.execute(
            sa.text("UPDATE sandboxsetting SET value = :v WHERE key = 'audit_head'"),
            {"v": json.dumps({"seq": n, "hash": audit.read_head(conn)["hash"]})},
        )
    legacy = world.verify()
    assert legacy.ok and legacy.legacy == n
    with world.step() as s:
        wf.advance_clock(s, world.role(s, Role.trainer), 1)
    result = world.verify()
    assert result.ok and result.legacy == n and result.checked == n + 2
    with world.step() as s:
        marker = audit.events(s, last=2)[0]
        assert (marker.action, marker.payload["legacy_events"]) == ("audit.keyed", n)
        assert audit.read_head(s.connection())["keyed_from"] == n + 1
    # the legacy prefix is pinned by the first keyed event
    with world.engine.begin() as conn:
        conn.execute(sa.text("UPDATE auditevent SET payload = '{}' WHERE seq = 2"))
    assert not world.verify().ok


def test_a_refused_step_names_its_input_not_a_rolled_back_row(world) -> None:
    rid = world.conditional_sharing()
    with pytest.raises(PermissionDenied), world.step() as s:
        from marketplace.models import AccessRequest, Organization

        org = s.get(Organization, s.get(AccessRequest, rid).requester_org_id)
        new = AccessRequest(
            **{**s.get(AccessRequest, rid).model_dump(exclude={"id", "code", "version"}), "code": "tmp-x"}
        )
        s.add(new)
        s.flush()
        audit.attempting(s, "request.copy", {"from": rid, "org": org.code})
        raise audit.refuse(s, None, "request.copy", new, PermissionDenied("anyone", "copy", "not allowed"))
    with Session(world.engine) as s:
        last = audit.events(s, last=1)[0]
    assert (last.action, last.outcome.value, last.subject_type, last.subject_id) == (
        "request.copy",
        "refused",
        "request",
        None,
    )
    assert last.payload["input"] == {
        "action": "request.copy",
        "from": rid,
        "org": last.payload["input"]["org"],
    }
    assert world.verify().ok


@pytest.fixture
def file_sandbox(tmp_path, monkeypatch):
    url = f"sqlite:///{tmp_path / 'sb.db'}"
    monkeypatch.setenv("MARKETPLACE_DB_URL", url)
    db.dispose_engines()
    engine = db.get_engine(url)
    SQLModel.metadata.create_all(engine)
    return engine


def run_cli(capsys, *args: str) -> tuple[int, str]:
    """The command as a user runs it (errors as one line and an exit status)."""
    from marketplace.cli import run

    with pytest.raises(SystemExit) as done:
        run(list(args))
    out = capsys.readouterr()
    return done.value.code, out.out + out.err


def test_cli_anchor_and_verify_against_it(file_sandbox, tmp_path, capsys) -> None:
    from marketplace.synth import seed_sandbox

    seed_sandbox(file_sandbox, 7, "small")
    runner = CliRunner()
    assert runner.invoke(main, ["clock", "advance", "--days", "3"]).exit_code == 0
    out = tmp_path / "anchor.json"
    made = runner.invoke(main, ["audit", "anchor", "--out", str(out)])
    assert made.exit_code == 0 and "seq 1" in made.output, made.output
    assert runner.invoke(main, ["clock", "advance", "--days", "1"]).exit_code == 0
    ok = runner.invoke(main, ["audit", "verify", "--anchor", str(out)])
    assert ok.exit_code == 0 and "anchor" in ok.output, ok.output
    code, text = run_cli(capsys, "audit", "anchor", "--out", str(tmp_path / "no" / "a.json"))
    assert code == 2 and "--out" in text
    out.write_text(json.dumps({**json.loads(out.read_text()), "seq": 0}))
    forged = runner.invoke(main, ["audit", "verify", "--anchor", str(out)])
    assert forged.exit_code == 1 and "MAC" in forged.output
    out.write_text("[1, 2")
    code, text = run_cli(capsys, "audit", "verify", "--anchor", str(out))
    assert code == 2 and "--anchor" in text


def test_catalog_import_is_recorded(file_sandbox) -> None:
    from pathlib import Path

    from marketplace.synth import seed_sandbox

    seed_sandbox(file_sandbox, 7, "small")
    sample = sorted((Path(__file__).parents[1] / "data" / "catalogs").glob("*.ttl"))[0]
    result = CliRunner().invoke(main, ["catalog", "import", str(sample)])
    assert result.exit_code == 0, result.output
    with Session(file_sandbox) as s:
        last = audit.events(s, last=1)[0]
        assert last.action == "catalog.import" and last.payload["file"] == sample.name
        assert audit.verify_chain(s).ok
