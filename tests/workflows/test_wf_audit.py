"""The audit chain: intact after real work; any change, deletion or reordering is found and named."""

from __future__ import annotations

import itertools

import pytest
import sqlalchemy as sa
from click.testing import CliRunner
from sqlmodel import Session, SQLModel, select

from marketplace import db
from marketplace import workflows as wf
from marketplace.cli import main
from marketplace.errors import PermissionDenied
from marketplace.models import AccessRequest, AuditEvent
from marketplace.vocabulary import Role


def _some_history(world) -> int:
    rid = world.conditional_sharing()
    world.approve_all(rid)
    with pytest.raises(PermissionDenied), world.step() as s:
        wf.advance_clock(s, world.role(s, Role.regulator), 1)
    with world.step() as s:
        n = len(s.exec(select(AuditEvent)).all())
    assert n >= 7
    return n


def _exec(world, sql: str, **params) -> None:
    with world.engine.begin() as conn:
        conn.execute(sa.text(sql), params)


def test_chain_of_real_work_verifies_and_events_are_ordered(world):
    n = _some_history(world)
    result = world.verify()
    assert result.ok and result.checked == n and result.first_bad_seq is None
    with Session(world.engine) as s:
        events = wf.audit_events(s)
        assert [e.seq for e in events] == list(range(1, n + 1))
        assert all(e.prev_hash == p.hash for p, e in itertools.pairwise(events))
        assert events[-1].outcome.value == "refused"
        assert [e.seq for e in wf.audit_events(s, last=3)] == [n - 2, n - 1, n]


@pytest.mark.parametrize(
    "column,value",
    [
        ("payload", '{"forged": true}'),
        ("action", "request.forged"),
        ("outcome", "refused"),
        ("actor_id", None),
    ],
)
def test_changed_event_is_named(world, column, value):
    _some_history(world)
    _exec(world, f"UPDATE auditevent SET {column} = :v WHERE seq = 3", v=value)
    result = world.verify()
    assert not result.ok and result.first_bad_seq == 3 and "changed" in result.reason


def test_changed_time_is_named(world):
    _some_history(world)
    _exec(world, "UPDATE auditevent SET at = :v WHERE seq = 4", v="2030-01-01 00:00:00")
    result = world.verify()
    assert not result.ok and result.first_bad_seq == 4


def test_deleted_event_is_named(world):
    _some_history(world)
    _exec(world, "DELETE FROM auditevent WHERE seq = 5")
    result = world.verify()
    assert not result.ok and result.first_bad_seq == 5 and "deleted" in result.reason


def test_deleted_newest_event_is_found_through_the_log_head(world):
    n = _some_history(world)
    _exec(world, "DELETE FROM auditevent WHERE seq = :n", n=n)
    result = world.verify()
    assert not result.ok and result.first_bad_seq == n


def test_reordered_events_are_named(world):
    _some_history(world)
    _exec(world, "UPDATE auditevent SET seq = -1 WHERE seq = 3")
    _exec(world, "UPDATE auditevent SET seq = 3 WHERE seq = 4")
    _exec(world, "UPDATE auditevent SET seq = 4 WHERE seq = -1")
    result = world.verify()
    assert not result.ok and result.first_bad_seq == 3


def test_events_of_the_open_step_are_read_back_before_it_commits(world):
    """Events queued by a step are read back by any read of the log in the same transaction."""
    rid = world.conditional_sharing()
    before = world.count(AuditEvent)
    with world.step() as s:
        req = s.get(AccessRequest, rid)
        review = wf.open_review(req)
        wf.decide(s, world.reviewer(s, review), review, "approve")
        orm_rows = s.exec(select(AuditEvent).order_by(AuditEvent.seq)).all()
        assert len(orm_rows) == before + 1 and orm_rows[-1].action == "review.decide"
        assert wf.audit_events(s, last=1)[0].seq == before + 1
        assert wf.verify_chain(s).ok and wf.verify_chain(s).checked == before + 1
        req = s.get(AccessRequest, rid)
        review = wf.open_review(req)
        wf.decide(s, world.reviewer(s, review), review, "approve")  # approves and grants: three events
        assert [e.action for e in wf.audit_events(s, last=3)] == [
            "review.decide",
            "request.approve",
            "request.grant",
        ]
    assert world.count(AuditEvent) == before + 4 and world.verify().ok
    with world.step() as s:
        actions = [e.action for e in wf.audit_events(s, last=3)]
    assert actions == ["review.decide", "request.approve", "request.grant"]


READS_OF_THE_LOG = {
    "entity": lambda s: len(s.exec(select(AuditEvent)).all()),
    "column": lambda s: len(s.exec(select(AuditEvent.seq)).all()),
    "count": lambda s: s.exec(select(sa.func.count()).select_from(AuditEvent)).one(),
    "core table": lambda s: s.exec(select(sa.func.count()).select_from(AuditEvent.__table__)).one(),
    "subquery": lambda s: s.exec(
        select(sa.func.count()).select_from(select(AuditEvent.id).where(AuditEvent.seq > 0).subquery())
    ).one(),
    "join": lambda s: len(
        s.exec(select(AccessRequest.id, AuditEvent.id).join(AuditEvent, sa.true(), isouter=True)).all()
    )
    and s.exec(select(sa.func.count(AuditEvent.id))).one(),
    "by key": lambda s: s.get(AuditEvent, s.exec(select(sa.func.max(AuditEvent.id))).one()) is not None,
}


@pytest.mark.parametrize("how", sorted(READS_OF_THE_LOG))
def test_every_form_of_reading_the_log_sees_the_queued_events(world, how):
    """Whatever shape a read of the log takes (entity, column, count, plain table, subquery, join, primary
    key), the events the open step queued are written first; reads of other rows leave them queued."""
    rid = world.conditional_sharing()
    before = world.count(AuditEvent)
    with world.step() as s:
        req = s.get(AccessRequest, rid)
        review = wf.open_review(req)
        wf.decide(s, world.reviewer(s, review), review, "approve")
        assert s.get(AccessRequest, rid).conditions is not None  # other rows, and a relationship load
        assert world.count(AuditEvent) == before  # another connection: nothing written yet
        seen = READS_OF_THE_LOG[how](s)
        if how in ("entity", "column", "count", "core table", "subquery"):
            assert seen == before + 1
        else:
            assert seen
    assert world.count(AuditEvent) == before + 1 and world.verify().ok


def test_refusal_survives_rollback_but_nothing_else_does(world):
    rid = world.conditional_sharing()
    before = world.count(AuditEvent)
    with pytest.raises(PermissionDenied), world.step() as s:
        req = s.get(AccessRequest, rid)
        wf.withdraw(s, world.role(s, Role.registrar), req)  # not the requester
    assert world.count(AuditEvent) == before + 1
    with world.step() as s:
        assert s.get(AccessRequest, rid).status.value == "in_review"
    assert world.verify().ok


def test_refusal_is_kept_when_the_caller_goes_on_and_commits(world):
    rid = world.conditional_sharing()
    before = world.count(AuditEvent)
    with world.step() as s:
        req = s.get(AccessRequest, rid)
        with pytest.raises(PermissionDenied):
            wf.withdraw(s, world.role(s, Role.registrar), req)
        wf.withdraw(s, req.requester, req, "changed plans")  # the same transaction goes on and commits
    with Session(world.engine) as s:
        actions = [(e.action, e.outcome.value) for e in wf.audit_events(s, last=2)]
    assert actions == [("request.withdraw", "refused"), ("request.withdraw", "ok")]
    assert world.count(AuditEvent) == before + 2 and world.verify().ok


@pytest.fixture
def file_sandbox(tmp_path, monkeypatch):
    url = f"sqlite:///{tmp_path / 'sb.db'}"
    monkeypatch.setenv("MARKETPLACE_DB_URL", url)
    db.dispose_engines()
    engine = db.get_engine(url)
    SQLModel.metadata.create_all(engine)
    return engine


def test_cli_audit_verify_exit_status_and_log(file_sandbox):
    from marketplace.synth import seed_sandbox

    seed_sandbox(file_sandbox, 7, "small")
    runner = CliRunner()
    assert runner.invoke(main, ["clock", "advance", "--days", "3"]).exit_code == 0
    ok = runner.invoke(main, ["audit", "verify"])
    assert ok.exit_code == 0 and "intact: 1 events" in ok.output
    log = runner.invoke(main, ["audit", "log", "--last", "5"])
    assert log.exit_code == 0 and "clock.advance" in log.output
    with file_sandbox.begin() as conn:
        conn.execute(sa.text("UPDATE auditevent SET payload = '{}' WHERE seq = 1"))
    bad = runner.invoke(main, ["audit", "verify"])
    assert bad.exit_code == 1 and "seq=1" in bad.output
    assert "fingerprint does not match its content" in bad.output  # the reason in words (audit.reason.*)
    from marketplace import i18n

    i18n.set_language("zh")
    try:
        zh = runner.invoke(main, ["audit", "verify"])
    finally:
        i18n.reset_language()
    assert zh.exit_code == 1 and "指纹与内容不符" in zh.output  # keyed: "事件的密钥指纹与内容不符"
