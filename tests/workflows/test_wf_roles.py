"""Roles are enforced by the workflows; every refusal raises PermissionDenied and is itself audited."""

from __future__ import annotations

import pytest
from sqlmodel import Session, select

from marketplace import workflows as wf
from marketplace.errors import PermissionDenied
from marketplace.models import AccessRequest, AccountRole, Organization, Product, Review
from marketplace.policy import load_policy
from marketplace.vocabulary import OrganizationKind, RequestStatus, ReviewStatus, Role
from marketplace.workflows import facts


def _refused(world, action):
    ev = world.refused_events(action)
    assert ev, f"no refused {action} event"
    return ev[-1]


def test_requester_cannot_review_own_request(world):
    with world.step() as s:
        registrar = world.role(s, Role.registrar)
        s.add(
            AccountRole(account_id=registrar.id, role=Role.requester)
        )  # a registrar who also files requests
    with world.step() as s:
        registrar = world.role(s, Role.registrar)
        res = world.resource(
            s,
            lambda r: r.sharing_attribute.value == "conditional" and r.holder_id != registrar.organization_id,
        )
        own = wf.create_request(s, registrar, resource=res, channel="sharing", purpose="public_governance")
        wf.submit_request(s, registrar, own)
        assert wf.open_review(own).reviewer_role is Role.registrar
        own_id = own.id
    with pytest.raises(PermissionDenied) as exc, world.step() as s:
        own = s.get(AccessRequest, own_id)
        wf.decide(s, world.role(s, Role.registrar), wf.open_review(own), "approve")
    assert "own request" in str(exc.value)
    ev = _refused(world, "review.decide")
    assert ev.outcome.value == "refused" and ev.subject_id == own_id
    with world.step() as s:
        assert wf.open_review(s.get(AccessRequest, own_id)).status is ReviewStatus.pending


def test_steward_reviews_only_for_own_organization(world):
    rid = world.conditional_sharing()
    with world.step() as s:
        req = s.get(AccessRequest, rid)
        wf.decide(s, world.role(s, Role.registrar), wf.open_review(req), "approve")
        world_reg = req.resource.holder_id
    with pytest.raises(PermissionDenied) as exc, world.step() as s:
        req = s.get(AccessRequest, rid)
        other = next(a for a in wf.accounts_with_role(s, Role.steward) if a.organization_id != world_reg)
        wf.decide(s, other, wf.open_review(req), "approve")
    assert "own organization" in str(exc.value)
    assert _refused(world, "review.decide").actor_id is not None


def test_security_stage_needs_a_security_reviewer(world, monkeypatch):
    # a policy that adds the holder and security stages to product sales (national-2025 has compliance only)
    three = load_policy(
        "national-2025", {"routing.stages.authorized_operation": ["compliance", "holder", "security"]}
    )
    monkeypatch.setattr(facts, "policy_named", lambda name: three)
    with world.step() as s:
        prod = next(p for p in s.exec(select(Product)).all() if p.status.value == "listed")
        npo = world.requester(s, OrganizationKind.nonprofit)
        req = wf.create_request(s, npo, product=prod, purpose="public_welfare",
                                use_statement="Bus access maps for elderly residents in a health programme")
        wf.submit_request(s, npo, req)
        rid = req.id
        for _ in range(2):
            review = wf.open_review(req)
            wf.decide(s, world.reviewer(s, review), review, "approve")
        assert wf.open_review(req).stage.value == "security"
    with pytest.raises(PermissionDenied), world.step() as s:
        req = s.get(AccessRequest, rid)
        wf.decide(s, world.role(s, Role.registrar), wf.open_review(req), "approve")
    with world.step() as s:
        req = s.get(AccessRequest, rid)
        wf.decide(s, world.role(s, Role.security_reviewer), wf.open_review(req), "approve")
        assert req.status is RequestStatus.granted


def test_only_the_operator_acts_on_its_products(world):
    with world.step() as s:
        prod = next(p for p in s.exec(select(Product)).all() if p.status.value == "listed")
        ops = s.exec(select(Organization).where(Organization.kind == OrganizationKind.operator)).all()
        other_org = next(o for o in ops if o.id != prod.operator_id)
        prod_id, other_id = prod.id, other_org.id
    with pytest.raises(PermissionDenied), world.step() as s:
        wf.withdraw_product(s, world.role(s, Role.operator, other_id), s.get(Product, prod_id))
    with pytest.raises(PermissionDenied), world.step() as s:
        wf.set_price_cap(s, world.role(s, Role.operator, other_id), s.get(Product, prod_id), "1.00")
    with world.step() as s:
        prod = s.get(Product, prod_id)
        assert prod.status.value == "listed"
        wf.set_price_cap(s, world.role(s, Role.regulator), prod, prod.price_cap)  # the regulator sets caps
    assert len(world.refused_events()) == 2


def test_only_registrar_registers_and_only_trainer_administers(world):
    with world.step() as s:
        res = world.resource(s, lambda r: not r.registrations and r.grade.value != "core")
        steward = world.role(s, Role.steward, res.holder_id)
        reg = wf.submit_registration(s, steward, res)
        reg_id, steward_id = reg.id, steward.id
    from marketplace.models import Account, Registration

    with pytest.raises(PermissionDenied), world.step() as s:
        wf.accept_registration(s, s.get(Account, steward_id), s.get(Registration, reg_id))
    with pytest.raises(PermissionDenied), world.step() as s:
        wf.advance_clock(s, world.role(s, Role.regulator), 5)
    with pytest.raises(PermissionDenied), world.step() as s:
        wf.set_policy(s, world.role(s, Role.registrar), "deemed-approval")
    with world.step() as s:
        assert wf.clock.today(s).isoformat() == "2025-03-03"
    actions = [e.action for e in world.refused_events()]
    assert actions == ["registration.accept", "clock.advance", "policy.set"]


def test_requester_role_is_needed_to_file(world):
    with pytest.raises(PermissionDenied), world.step() as s:
        res = world.resource(s, lambda r: r.opening_attribute.value == "unconditional")
        wf.create_request(
            s, world.role(s, Role.regulator), resource=res, channel="opening", purpose="research"
        )
    with Session(world.engine) as s:
        assert s.exec(select(AccessRequest)).first() is None
        assert s.exec(select(Review)).first() is None
    assert world.refused_events("request.create")


def test_review_queue_lists_only_what_the_actor_may_decide(world):
    rid = world.conditional_sharing()
    with world.step() as s:
        req = s.get(AccessRequest, rid)
        registrar = world.role(s, Role.registrar)
        queue = wf.review_queue(s, registrar)
        assert [r.request_id for r in queue] == [rid]
        assert wf.review_queue_count(s, registrar) == wf.QueueCount(1, capped=False)
        assert wf.review_queue(s, registrar, limit=1, after=wf.queue_key(queue[0])) == []
        holder = world.role(s, Role.steward, req.resource.holder_id)
        assert wf.review_queue(s, holder) == []  # the holder stage is not open yet
        wf.decide(s, registrar, queue[0], "approve")
        assert [r.request_id for r in wf.review_queue(s, holder)] == [rid]
        other = next(
            a for a in wf.accounts_with_role(s, Role.steward) if a.organization_id != req.resource.holder_id
        )
        assert wf.review_queue(s, other) == [] and wf.review_queue(s, req.requester) == []
