"""Linked lifecycles: when an authorization ends (expiry, termination), every grant resting on it is
suspended, deliveries are refused with the reason, and the operator's duty to return or destroy the data opens
with a due date whose completion is recorded."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlmodel import select

from marketplace import workflows as wf
from marketplace.errors import InvalidInput, PermissionDenied, TransitionError
from marketplace.models import AccessRequest, AuditEvent, Authorization, ExitDuty, Grant, Product
from marketplace.vocabulary import (
    AuthorizationStatus,
    ExitDutyStatus,
    GrantStatus,
    OrganizationKind,
    ProductStatus,
    Role,
)
from marketplace.workflows import clock


def _delivered_product_request(world) -> tuple[int, int]:
    """A nonprofit's public-welfare request for a listed aggregate product, granted and delivered once."""
    with world.step() as s:
        prod = next(
            p
            for p in s.exec(select(Product).order_by(Product.id)).all()
            if p.transformation == "aggregated" and p.status is ProductStatus.listed
        )
        npo = world.requester(s, OrganizationKind.nonprofit)
        req = wf.create_request(s, npo, product=prod, purpose="public_welfare",
                                use_statement="Bus access maps for elderly residents in a health programme")
        wf.submit_request(s, npo, req)
        rid, aid = req.id, prod.authorization_id
    world.approve_all(rid)
    with world.step() as s:
        req = s.get(AccessRequest, rid)
        wf.deliver(s, world.role(s, Role.operator, req.product.operator_id), req, rows=200, seed=1)
    return rid, aid


def _deliver_50(world, rid):
    with world.step() as s:
        req = s.get(AccessRequest, rid)
        return wf.deliver(s, world.role(s, Role.operator, req.product.operator_id), req, rows=50)


def test_an_expired_authorization_suspends_its_grants_and_no_row_is_delivered(world):
    """The finding: after an authorization expired, a grant on its product still delivered 50 rows."""
    rid, aid = _delivered_product_request(world)
    with world.step() as s:
        auth = s.get(Authorization, aid)
        auth.term_end = clock.today(s) + timedelta(days=1)
    with world.step() as s:
        wf.advance_clock(s, world.role(s, Role.trainer), 3)
    with world.step() as s:
        auth = s.get(Authorization, aid)
        assert auth.status is AuthorizationStatus.expired and auth.ended_reason.startswith("expired on")
        grant = s.get(AccessRequest, rid).grant
        assert grant.status is GrantStatus.suspended and auth.code in grant.suspended_reason
        deliveries = len(grant.deliveries)
        duty = s.exec(select(ExitDuty).where(ExitDuty.authorization_id == aid)).one()
        assert duty.status is ExitDutyStatus.open and duty.operator_id == auth.operator_id
        assert duty.due > clock.today(s)
        actions = {e.action for e in s.exec(select(AuditEvent)).all()}
        assert {"authorization.expire", "grant.suspend", "exit_duty.open", "product.withdraw"} <= actions
    with pytest.raises(TransitionError) as exc:
        _deliver_50(world, rid)
    assert "suspended" in str(exc.value) and "expired on" in str(exc.value)
    with world.step() as s:
        assert len(s.get(AccessRequest, rid).grant.deliveries) == deliveries
    assert world.refused_events("request.deliver")
    assert world.verify().ok


def test_a_terminated_authorization_suspends_its_grants_with_the_reason(world):
    rid, aid = _delivered_product_request(world)
    with world.step() as s:
        wf.terminate_authorization(s, world.role(s, Role.regulator), s.get(Authorization, aid), "data leak")
    with pytest.raises(TransitionError) as exc:
        _deliver_50(world, rid)
    assert "data leak" in str(exc.value)


def test_delivery_is_refused_once_the_term_is_over_even_before_the_clock_processes_it(world):
    rid, aid = _delivered_product_request(world)
    with world.step() as s:
        auth = s.get(Authorization, aid)
        auth.term_end = clock.today(s) + timedelta(days=1)
    with world.step() as s:  # the clock moves without processing expiries
        from marketplace.workflows.clock import ClockState, clock_state, store

        st = clock_state(s)
        store(s, ClockState(st.start, st.offset_days + 3, st.paused, st.anchor))
    with pytest.raises(TransitionError) as exc:
        _deliver_50(world, rid)
    assert "term ended" in str(exc.value)


def test_the_operator_records_the_return_or_destruction_of_the_data(world):
    _rid, aid = _delivered_product_request(world)
    with world.step() as s:
        auth = s.get(Authorization, aid)
        wf.terminate_authorization(s, world.role(s, Role.regulator), auth, "end of pilot")
    with world.step() as s:
        duty = s.exec(select(ExitDuty).where(ExitDuty.authorization_id == aid)).one()
        with pytest.raises(InvalidInput):
            wf.complete_exit_duty(s, world.role(s, Role.operator, duty.operator_id), duty, "sold", "x")
        with pytest.raises(PermissionDenied):
            wf.complete_exit_duty(s, world.role(s, Role.regulator), duty, "destroyed", "wiped")
    with world.step() as s:
        duty = s.exec(select(ExitDuty).where(ExitDuty.authorization_id == aid)).one()
        op = world.role(s, Role.operator, duty.operator_id)
        wf.complete_exit_duty(s, op, duty, "destroyed", "all copies wiped; certificate of destruction filed")
        assert duty.status is ExitDutyStatus.completed and duty.completed_by == op.id
        with pytest.raises(TransitionError):
            wf.complete_exit_duty(s, op, duty, "returned", "again")
    assert world.verify().ok


def test_a_suspended_grant_can_still_be_revoked_and_expires(world):
    rid, aid = _delivered_product_request(world)
    with world.step() as s:
        wf.terminate_authorization(s, world.role(s, Role.regulator), s.get(Authorization, aid), "sanction")
    with world.step() as s:
        req = s.get(AccessRequest, rid)
        g = wf.revoke_grant(s, world.role(s, Role.regulator), req, "follows the termination")
        assert g.status is GrantStatus.revoked
    with world.step() as s:
        assert s.exec(select(Grant).where(Grant.status == GrantStatus.suspended)).all() == []
