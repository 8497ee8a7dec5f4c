"""Supervision: complaints and security incidents are recorded, the regulator evaluates each operator's year
from recorded facts, and the outcome's sanction acts through the linked lifecycles (audited)."""

from __future__ import annotations

import pytest
from sqlmodel import select

from marketplace import workflows as wf
from marketplace.errors import InvalidInput, PermissionDenied, TransitionError
from marketplace.models import AuditEvent, Authorization, Organization
from marketplace.policy import evaluate_operator, load_policy
from marketplace.vocabulary import AuthorizationStatus, OrganizationKind, Role
from marketplace.workflows import clock


def _operator(s):
    active = Authorization.status == AuthorizationStatus.active
    auth = s.exec(select(Authorization).where(active).order_by(Authorization.id)).first()
    return s.get(Organization, auth.operator_id)


def test_the_policy_scores_facts_and_picks_the_most_severe_outcome_reached():
    policy = load_policy("national-2025")
    assert evaluate_operator(policy, {}).outcome == "none"
    assert evaluate_operator(policy, {"complaint": 1}).outcome == "warning"
    assert evaluate_operator(policy, {"complaint": 1, "incident_minor": 1}).outcome == "rectification_order"
    assert evaluate_operator(policy, {"incident_major": 1}).outcome == "suspension"
    result = evaluate_operator(policy, {"incident_major": 1, "over_mar": 1, "complaint": 1})
    assert result.outcome == "termination" and result.score == 10
    assert ("over_mar", 1, 3) in result.lines


def test_complaints_lead_to_a_warning_and_a_year_is_evaluated_once(world):
    with world.step() as s:
        op = _operator(s)
        wf.file_complaint(s, world.requester(s, OrganizationKind.enterprise), op, "Prices above the list")
        with pytest.raises(InvalidInput):
            wf.file_complaint(s, world.requester(s, OrganizationKind.enterprise), op, " ")
        year = clock.today(s).year
        with pytest.raises(PermissionDenied):
            wf.evaluate(s, world.role(s, Role.registrar), op, year)
        ev = wf.evaluate(s, world.role(s, Role.regulator), op, year)
        assert ev.outcome == "warning" and ev.facts["complaint"] == 1
        with pytest.raises(TransitionError):
            wf.evaluate(s, world.role(s, Role.regulator), op, year)
    with world.step() as s:
        assert s.exec(select(AuditEvent).where(AuditEvent.action == "operator.evaluate")).all()


def test_a_rectification_order_carries_its_deadline(world):
    with world.step() as s:
        op = _operator(s)
        wf.file_complaint(s, world.requester(s, OrganizationKind.nonprofit), op, "Late deliveries")
        wf.record_incident(s, world.role(s, Role.operator, op.id), op, "minor", "Misconfigured access list")
        ev = wf.evaluate(s, world.role(s, Role.regulator), op, clock.today(s).year)
        assert ev.outcome == "rectification_order" and ev.rectify_by > clock.today(s)


def test_termination_ends_every_active_authorization_through_the_linked_lifecycles(world):
    with world.step() as s:
        op = _operator(s)
        regulator = world.role(s, Role.regulator)
        with pytest.raises(PermissionDenied):
            wf.record_incident(s, world.requester(s, OrganizationKind.enterprise), op, "major", "x")
        wf.record_incident(s, regulator, op, "major", "Records of patients leaked")
        wf.record_incident(s, regulator, op, "major", "Second leak")
        ev = wf.evaluate(s, regulator, op, clock.today(s).year)
        assert ev.outcome == "termination"
        auths = s.exec(select(Authorization).where(Authorization.operator_id == op.id)).all()
        assert auths and all(a.status is not AuthorizationStatus.active for a in auths)
        assert any("evaluation" in a.ended_reason for a in auths)
    assert world.verify().ok
