"""The three supply channels end to end, on SQLite and PostgreSQL."""

from __future__ import annotations

from decimal import Decimal

import pytest
from sqlmodel import select

from marketplace import workflows as wf
from marketplace.errors import PolicyRefusal, TransitionError
from marketplace.models import AccessRequest, Account, Payment, Product
from marketplace.vocabulary import Grade, OrganizationKind, RequestStatus, ReviewStage, Role


def test_sharing_is_free_reviewed_by_the_holder_within_the_policy_deadline(world):
    rid = world.conditional_sharing()
    with world.step() as s:
        req = world.request(s, rid)
        assert req.status is RequestStatus.in_review
        assert [r.stage for r in req.reviews] == [ReviewStage.compliance, ReviewStage.holder]
        holder = req.reviews[1]
        assert holder.reviewer_role is Role.steward and holder.reviewer_org_id == req.resource.holder_id
        # national-2025: compliance 2 working days, holder 5 (published) / 10 working days after that
        assert req.reviews[0].due_on.isoformat() == "2025-03-05"
        assert holder.due_on > req.reviews[0].due_on
        assert wf.current_quote(s, req) is None and not wf.fee_due(s, req)
    world.approve_all(rid)
    with world.step() as s:
        req = world.request(s, rid)
        assert req.status is RequestStatus.granted
        assert s.exec(select(Payment).where(Payment.request_id == rid)).first() is None
        steward = world.role(s, Role.steward, req.resource.holder_id)
        d = wf.deliver(s, steward, req, rows=40, seed=1)
        assert req.status is RequestStatus.delivered and d.delivery.row_count == 40
        assert len(d.delivery.checksum) == 64
    assert world.verify().ok


def test_unconditional_opening_is_granted_and_delivered_at_once(world):
    with world.step() as s:
        res = world.resource(
            s,
            lambda r: (
                r.opening_attribute.value == "unconditional"
                and not r.contains_personal_info
                and r.grade is Grade.general
            ),
        )
        ent = world.requester(s, OrganizationKind.enterprise)
        req = wf.create_request(
            s, ent, resource=res, channel="opening", purpose="industry_development", volume=30
        )
        wf.submit_request(s, ent, req)
        assert req.status is RequestStatus.delivered
        assert req.reviews == []
        assert req.grant.deliveries[0].row_count == 30
        assert req.grant.valid_until is None  # open data: no expiry condition


def test_conditional_opening_needs_review_and_delivers_deidentified(world):
    with world.step() as s:
        res = world.resource(
            s, lambda r: r.opening_attribute.value == "conditional" and r.contains_personal_info
        )
        rsr = world.requester(s, OrganizationKind.research)
        req = wf.create_request(s, rsr, resource=res, channel="opening", purpose="research")
        wf.submit_request(s, rsr, req)
        assert req.status is RequestStatus.in_review
        assert [r.stage for r in req.reviews] == [ReviewStage.holder]
        assert "deidentify(k>=5, l>=2)" in [c.text for c in req.conditions]
        rid, holder = req.id, res.holder_id
    world.approve_all(rid, {"holder": ["deidentify(k>=8, l>=2)"]})
    with world.step() as s:
        req = world.request(s, rid)
        assert req.status is RequestStatus.granted
        d = wf.deliver(s, world.role(s, Role.steward, holder), req, rows=400, seed=2)
        rep = d.delivery.privacy_report
        assert rep["k_achieved"] >= 8 and rep["l_achieved"] >= 2
        identifiers = [f.name for f in res.fields if f.marking.value == "identifier"]
        assert not set(identifiers) & set(d.delivery.columns)


def _listed(s, transformation="deidentified", personal=None):
    return next(
        p
        for p in s.exec(select(Product)).all()
        if p.status.value == "listed"
        and p.transformation == transformation
        and (personal is None or any(r.contains_personal_info for r in p.resources) == personal)
        and p.actual_price
        and p.actual_price > 0
    )


def test_authorized_operation_quote_payment_reviews_grant_delivery(world):
    with world.step() as s:
        prod = _listed(s)
        ent = world.requester(s, OrganizationKind.enterprise)
        req = wf.create_request(s, ent, product=prod, purpose="industry_development", volume=3)
        wf.submit_request(s, ent, req)
        q = wf.current_quote(s, req)
        assert q.total > 0 and q.lines[0]["component"] == "purpose"
        # national-2025: a product sale has the compliance stage only (the one with a source)
        assert [r.stage for r in req.reviews] == [ReviewStage.compliance]
        rid, ent_id, total = req.id, ent.id, q.total
    world.approve_all(rid)
    with world.step() as s:
        req = world.request(s, rid)
        assert req.status is RequestStatus.approved  # approved, but the fee is not paid yet: no grant
        assert req.grant is None and wf.fee_due(s, req)
        with pytest.raises(TransitionError):
            wf.deliver(s, world.role(s, Role.operator, req.product.operator_id), req)
    with world.step() as s:
        req = world.request(s, rid)
        pay = wf.accept_quote(s, s.get(Account, ent_id), req)
        assert pay.amount == total
        assert pay.operator_revenue + pay.holder_share + pay.taxes == pay.amount
        assert req.status is RequestStatus.granted
        d = wf.deliver(s, world.role(s, Role.operator, req.product.operator_id), req, rows=100, seed=3)
        assert d.delivery.row_count > 0 and req.status is RequestStatus.delivered


def test_quote_can_be_accepted_before_the_reviews(world):
    with world.step() as s:
        prod = _listed(s)
        ent = world.requester(s, OrganizationKind.enterprise, index=1)
        req = wf.create_request(s, ent, product=prod, purpose="sector_development", volume=2)
        wf.submit_request(s, ent, req)
        wf.accept_quote(s, ent, req)
        assert req.status is RequestStatus.in_review
        with pytest.raises(TransitionError):
            wf.accept_quote(s, ent, req)  # only once
        rid = req.id
    world.approve_all(rid)
    with world.step() as s:
        assert world.request(s, rid).status is RequestStatus.granted


def test_public_welfare_pays_nothing_with_the_claim_evidence(world):
    with world.step() as s:
        prod = _listed(s)
        npo = world.requester(s, OrganizationKind.nonprofit)
        req = wf.create_request(s, npo, product=prod, purpose="public_welfare", volume=50,
                                use_statement="Bus access maps for elderly residents in a health programme")
        wf.submit_request(s, npo, req)
        q = wf.current_quote(s, req)
        assert q.total == Decimal("0") and q.status.value == "accepted"
        assert "Free" in q.lines[0]["reason"]
        rid = req.id
    world.approve_all(rid)
    with world.step() as s:
        req = world.request(s, rid)
        assert req.status is RequestStatus.granted
        assert s.exec(select(Payment).where(Payment.request_id == rid)).first() is None


def test_core_data_is_refused_naming_the_rule_and_nothing_changes(world):
    with world.step() as s:
        res = world.resource(s, lambda r: r.grade is Grade.core)
        dept = world.requester(s, OrganizationKind.department, not_org=res.holder_id)
        req = wf.create_request(s, dept, resource=res, channel="sharing", purpose="public_governance")
        rid, dept_id = req.id, dept.id
    with pytest.raises(PolicyRefusal) as exc, world.step() as s:
        wf.submit_request(s, s.get(Account, dept_id), world.request(s, rid))
    assert exc.value.rule.startswith("grade.")
    with world.step() as s:
        assert s.get(AccessRequest, rid).status is RequestStatus.draft
        assert world.request(s, rid).conditions == []
    refused = world.refused_events("request.submit")
    assert refused and refused[-1].payload["rule"] == exc.value.rule
