"""Sandbox time: deadlines (escalation, deemed decisions), grant expiry, and the clock command."""

from __future__ import annotations

from datetime import date

import pytest
from click.testing import CliRunner
from sqlmodel import SQLModel

from marketplace import db
from marketplace import workflows as wf
from marketplace.cli import main
from marketplace.errors import InvalidInput
from marketplace.models import AccessRequest
from marketplace.policy import load_policy
from marketplace.vocabulary import Decision, GrantStatus, RequestStatus, ReviewStatus, Role


def test_missed_deadline_is_recorded_and_escalated_under_national_policy(world):
    rid = world.conditional_sharing()
    with world.step() as s:
        due = wf.open_review(s.get(AccessRequest, rid)).due_on
        report = wf.advance_clock(s, world.role(s, Role.trainer), (due - wf.clock.today(s)).days)
        assert report.breached == []  # on the due date itself nothing is late yet
    with world.step() as s:
        report = wf.advance_clock(s, world.role(s, Role.trainer), 1)
        review = s.get(AccessRequest, rid).reviews[0]
        assert review.breached and review.status is ReviewStatus.escalated
        assert report.breached[0]["outcome"] == "escalate"
    world.approve_all(rid)  # an escalated stage can still be decided
    with world.step() as s:
        assert s.get(AccessRequest, rid).status is RequestStatus.granted
    assert world.verify().ok


def test_deemed_approval_policy_approves_and_grants(world):
    with world.step() as s:
        wf.set_policy(s, world.role(s, Role.trainer), "deemed-approval")
    rid = world.conditional_sharing()
    with world.step() as s:
        report = wf.advance_clock(s, world.role(s, Role.trainer), 60)
        req = s.get(AccessRequest, rid)
        assert {r.status for r in req.reviews} == {ReviewStatus.deemed}
        assert all(r.breached and r.decision is Decision.approve for r in req.reviews)
        assert req.status is RequestStatus.granted
        assert [b["outcome"] for b in report.breached] == ["deemed_approval"] * len(req.reviews)


def test_deemed_rejection_rejects(world):
    rid = world.conditional_sharing()
    strict = load_policy("national-2025", {"deadlines.on_breach": "deemed_rejection"})
    with world.step() as s:
        s.info["marketplace.policy"] = strict  # the policy in force for this transaction
        wf.advance_clock(s, world.role(s, Role.trainer), 30)
        req = s.get(AccessRequest, rid)
        assert req.status is RequestStatus.rejected
        assert (
            req.reviews[0].status is ReviewStatus.deemed and req.reviews[1].status is ReviewStatus.cancelled
        )


def test_grants_expire_with_the_clock(world):
    rid = world.conditional_sharing()
    world.approve_all(rid)
    with world.step() as s:
        until = s.get(AccessRequest, rid).grant.valid_until
        wf.advance_clock(s, world.role(s, Role.trainer), (until - wf.clock.today(s)).days + 1)
        req = s.get(AccessRequest, rid)
        assert req.grant.status is GrantStatus.expired and req.status is RequestStatus.expired


def test_advance_validates_days(world):
    with world.step() as s, pytest.raises(InvalidInput) as exc:
        wf.advance_clock(s, world.role(s, Role.trainer), 0)
    assert exc.value.field == "days"


def test_set_clock_restarts_at_a_date(world):
    with world.step() as s:
        wf.set_clock(s, world.role(s, Role.trainer), start=date(2026, 1, 5))
    with world.step() as s:
        assert wf.clock.today(s) == date(2026, 1, 5)
        assert wf.clock.now(s).tzinfo is not None


def test_clock_cli_show_and_advance(tmp_path, monkeypatch):
    from marketplace.synth import seed_sandbox

    url = f"sqlite:///{tmp_path / 'sb.db'}"
    monkeypatch.setenv("MARKETPLACE_DB_URL", url)
    db.dispose_engines()
    engine = db.get_engine(url)
    SQLModel.metadata.create_all(engine)
    seed_sandbox(engine, 7, "small")
    runner = CliRunner()
    shown = runner.invoke(main, ["clock", "show"])
    assert shown.exit_code == 0 and "2025-03-03" in shown.output
    moved = runner.invoke(main, ["clock", "advance", "--days", "10"])
    assert moved.exit_code == 0 and "Clock: 2025-03-03 → 2025-03-13" in moved.output
    assert "2025-03-13" in runner.invoke(main, ["clock", "show"]).output
    refused = runner.invoke(main, ["clock", "advance", "--days", "1", "--as", "regulator"])
    assert refused.exit_code != 0 and "trainer" in str(refused.exception)
    bad = runner.invoke(main, ["clock", "advance", "--days", "0"])
    assert bad.exit_code == 2 and "--days" in bad.output
