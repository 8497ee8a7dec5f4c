"""Registration, authorization, product, request and grant lifecycles: legal paths and refused transitions."""

from __future__ import annotations

import pytest
from sqlmodel import select

from marketplace import workflows as wf
from marketplace.errors import InvalidInput, PolicyRefusal, TransitionError
from marketplace.models import (
    AccessRequest,
    Account,
    AuditEvent,
    Authorization,
    Organization,
    Product,
    Registration,
    Resource,
)
from marketplace.vocabulary import (
    AuthorizationStatus,
    Grade,
    OrganizationKind,
    ProductStatus,
    RegistrationStatus,
    RequestStatus,
    ReviewStatus,
    Role,
)


def _unregistered(s, world):
    return world.resource(
        s,
        lambda r: (
            not r.registrations
            and r.grade is not Grade.core
            and "authorized_operation" in wf.resource_channels(r)
        ),
    )


def _register_resource(world, res_id):
    """Steward submits; registrar accepts, reviews, publishes; clock past the notice; registrar registers."""
    with world.step() as s:
        res = s.get(Resource, res_id)
        reg = wf.submit_registration(s, world.role(s, Role.steward, res.holder_id), res)
        registrar = world.role(s, Role.registrar)
        wf.accept_registration(s, registrar, reg)
        wf.start_registration_review(s, registrar, reg)
        wf.publish_notice(s, registrar, reg)
        reg_id = reg.id
    with world.step() as s:
        wf.advance_clock(s, world.role(s, Role.trainer), 15)
        reg = s.get(Registration, reg_id)
        wf.register(s, world.role(s, Role.registrar), reg)
    return reg_id


def test_registration_lifecycle_issues_a_code_with_policy_validity(world):
    with world.step() as s:
        res_id = _unregistered(s, world).id
    reg_id = _register_resource(world, res_id)
    with world.step() as s:
        reg = s.get(Registration, reg_id)
        assert reg.status is RegistrationStatus.registered
        assert reg.code.startswith("REG-2025-R-")
        assert (reg.valid_until.year - reg.registered_at.year) == 3  # national-2025: 3 years
        assert wf.current_registration(s, reg.resource) is reg


def test_register_before_the_notice_period_ends_is_refused_and_writes_nothing(world):
    with world.step() as s:
        res = _unregistered(s, world)
        reg = wf.submit_registration(s, world.role(s, Role.steward, res.holder_id), res)
        registrar = world.role(s, Role.registrar)
        for step in (wf.accept_registration, wf.start_registration_review, wf.publish_notice):
            step(s, registrar, reg)
        reg_id = reg.id
    before = world.count(AuditEvent)
    with pytest.raises(TransitionError) as exc, world.step() as s:
        wf.register(s, world.role(s, Role.registrar), s.get(Registration, reg_id))
    assert "public notice runs until" in str(exc.value)
    with world.step() as s:
        reg = s.get(Registration, reg_id)
        assert reg.status is RegistrationStatus.public_notice and reg.code is None
    assert world.count(AuditEvent) == before + 1  # only the refused attempt


def test_illegal_registration_transition_names_object_state_and_action(world):
    with world.step() as s:
        res = _unregistered(s, world)
        reg = wf.submit_registration(s, world.role(s, Role.steward, res.holder_id), res)
        reg_id = reg.id
    with pytest.raises(TransitionError) as exc, world.step() as s:
        wf.publish_notice(s, world.role(s, Role.registrar), s.get(Registration, reg_id))
    assert exc.value.state == "submitted" and exc.value.action == "publish_notice"
    assert "registration" in exc.value.subject


def test_change_and_deregistration_close_the_previous_record(world):
    with world.step() as s:
        res_id = _unregistered(s, world).id
    first = _register_resource(world, res_id)
    with world.step() as s:
        res = s.get(Registration, first).resource
        steward = world.role(s, Role.steward, res.holder_id)
        with pytest.raises(TransitionError):
            wf.submit_registration(s, steward, res)  # already registered: file a change instead
    with world.step() as s:
        res = s.get(Registration, first).resource
        change = wf.change_registration(s, world.role(s, Role.steward, res.holder_id), res, {"title": "new"})
        registrar = world.role(s, Role.registrar)
        for step in (wf.accept_registration, wf.start_registration_review, wf.publish_notice):
            step(s, registrar, change)
        change_id = change.id
    with world.step() as s:
        wf.advance_clock(s, world.role(s, Role.trainer), 15)
        wf.register(s, world.role(s, Role.registrar), s.get(Registration, change_id))
        assert s.get(Registration, first).status is RegistrationStatus.changed
        assert s.get(Registration, change_id).status is RegistrationStatus.registered


def test_registration_expires_after_its_validity(world):
    with world.step() as s:
        res_id = _unregistered(s, world).id
    reg_id = _register_resource(world, res_id)
    with world.step() as s:
        report = wf.advance_clock(s, world.role(s, Role.trainer), 3 * 366 + 2)
        assert s.get(Registration, reg_id).status is RegistrationStatus.expired
        assert any(e["kind"] == "registration" for e in report.expired)


def _operator_org(s):
    return s.exec(
        select(Organization).where(Organization.kind == OrganizationKind.operator).order_by(Organization.id)
    ).first()


def test_authorization_term_is_capped_by_policy(world):
    with world.step() as s:
        agency = world.role(s, Role.registrar)
        res = _unregistered(s, world)
        with pytest.raises(InvalidInput) as exc:
            wf.propose_authorization(s, agency, operator=_operator_org(s), resources=[res], term_years=6)
        assert exc.value.field == "term_years" and "5" in exc.value.expected


def test_authorization_lifecycle_and_mandatory_registration(world):
    with world.step() as s:
        res = _unregistered(s, world)
        agency = world.role(s, Role.registrar)
        op_org = _operator_org(s)
        auth = wf.propose_authorization(s, agency, operator=op_org, resources=[res], term_years=2)
        wf.agree_authorization(s, world.role(s, Role.operator, op_org.id), auth)
        auth_id, res_id = auth.id, res.id
    with pytest.raises(PolicyRefusal) as exc, world.step() as s:
        wf.activate_authorization(s, world.role(s, Role.registrar), s.get(Authorization, auth_id))
    assert exc.value.rule == "registration.mandatory"
    from marketplace.i18n import error_text

    assert exc.value.key == "refusal.registration_mandatory"  # worded in every language, like the policy's
    assert "未登记" in error_text(exc.value, "zh")
    _register_resource(world, res_id)
    with pytest.raises(PolicyRefusal) as exc, world.step() as s:  # registered, but no operator selected
        wf.activate_authorization(s, world.role(s, Role.registrar), s.get(Authorization, auth_id))
    assert exc.value.rule == "authorization.selection" and exc.value.key == "refusal.operator_not_selected"
    with world.step() as s:
        op_id = s.get(Authorization, auth_id).operator_id
    round_id = world.select_operator(op_id, [res_id])
    with world.step() as s:
        auth = s.get(Authorization, auth_id)
        wf.activate_authorization(s, world.role(s, Role.registrar), auth)
        assert auth.status is AuthorizationStatus.active and auth.selection_id == round_id
        with pytest.raises(TransitionError):
            wf.agree_authorization(s, world.role(s, Role.operator, auth.operator_id), auth)
    with world.step() as s:
        auth = s.get(Authorization, auth_id)
        wf.terminate_authorization(s, world.role(s, Role.regulator), auth, "breach of terms")
        assert auth.status is AuthorizationStatus.terminated


def test_product_lifecycle_price_cap_and_listing(world):
    with world.step() as s:
        auth = s.exec(
            select(Authorization)
            .where(Authorization.status == AuthorizationStatus.active)
            .order_by(Authorization.id)
        ).first()
        op = world.role(s, Role.operator, auth.operator_id)
        prod = wf.create_product(
            s,
            op,
            auth,
            name="Extract",
            kind="dataset",
            billing_unit="per_record",
            resources=list(auth.resources)[:1],
        )
        assert prod.status is ProductStatus.draft and prod.price_cap is not None
        prod_id, op_id = prod.id, op.id
    with pytest.raises(TransitionError), world.step() as s:
        wf.price_product(s, s.get(Account, op_id), s.get(Product, prod_id), "0.01")  # not registered yet
    with pytest.raises(TransitionError), world.step() as s:
        wf.register_product(s, s.get(Account, op_id), s.get(Product, prod_id))  # no registration in force
    with world.step() as s:
        prod = s.get(Product, prod_id)
        reg = wf.submit_registration(s, s.get(Account, op_id), prod)
        registrar = world.role(s, Role.registrar)
        for step in (wf.accept_registration, wf.start_registration_review, wf.publish_notice):
            step(s, registrar, reg)
        wf.advance_clock(s, world.role(s, Role.trainer), 15)
        wf.register(s, registrar, reg)
        wf.register_product(s, s.get(Account, op_id), prod)
        cap = prod.price_cap
    with pytest.raises(PolicyRefusal) as exc, world.step() as s:
        wf.price_product(s, s.get(Account, op_id), s.get(Product, prod_id), cap + 1)
    assert exc.value.rule == "pricing.above_cap" and str(cap) in str(exc.value)
    with world.step() as s:
        prod = s.get(Product, prod_id)
        assert prod.status is ProductStatus.registered and prod.actual_price is None
        wf.price_product(s, s.get(Account, op_id), prod, cap)
        wf.list_product(s, s.get(Account, op_id), prod)
        assert prod.status is ProductStatus.listed
        wf.withdraw_product(s, s.get(Account, op_id), prod, "end of line")
        assert prod.status is ProductStatus.withdrawn
        with pytest.raises(TransitionError):
            wf.list_product(s, s.get(Account, op_id), prod)


def test_request_withdraw_return_resubmit_and_late_transitions(world):
    rid = world.conditional_sharing()
    with world.step() as s:
        req = s.get(AccessRequest, rid)
        wf.decide(
            s,
            world.role(s, Role.registrar),
            wf.open_review(req),
            "return_for_revision",
            reason="state the legal basis",
        )
        assert req.status is RequestStatus.returned
        assert all(r.status is not ReviewStatus.pending for r in req.reviews)
    with world.step() as s:
        req = s.get(AccessRequest, rid)
        wf.resubmit(s, req.requester, req, use_statement="Legal basis: art. 12")
        assert req.status is RequestStatus.in_review and len(req.reviews) == 4
        assert wf.open_review(req).sequence == 2
    world.approve_all(rid)
    with world.step() as s:
        req = s.get(AccessRequest, rid)
        assert req.status is RequestStatus.granted
        with pytest.raises(TransitionError):
            wf.withdraw(s, req.requester, req)  # only before a decision


def test_later_stage_cannot_be_decided_first(world):
    rid = world.conditional_sharing()
    with pytest.raises(TransitionError), world.step() as s:
        req = s.get(AccessRequest, rid)
        holder = req.reviews[1]
        wf.decide(s, world.reviewer(s, holder), holder, "approve")


def test_withdraw_cancels_pending_reviews(world):
    rid = world.conditional_sharing()
    with world.step() as s:
        req = s.get(AccessRequest, rid)
        wf.withdraw(s, req.requester, req, "no longer needed")
        assert req.status is RequestStatus.withdrawn
        assert {r.status for r in req.reviews} == {ReviewStatus.cancelled}


def test_grant_revocation_stops_deliveries(world):
    rid = world.conditional_sharing()
    world.approve_all(rid)
    with world.step() as s:
        req = s.get(AccessRequest, rid)
        steward = world.role(s, Role.steward, req.resource.holder_id)
        wf.revoke_grant(s, steward, req, "misuse reported")
        assert req.status is RequestStatus.revoked and req.grant.status.value == "revoked"
    with pytest.raises(TransitionError), world.step() as s:
        req = s.get(AccessRequest, rid)
        wf.deliver(s, world.role(s, Role.steward, req.resource.holder_id), req, rows=10)


def test_bad_input_names_field_value_and_expectation(world):
    with world.step() as s:
        res = world.resource(s, lambda r: True)
        dept = world.requester(s, OrganizationKind.department)
        with pytest.raises(InvalidInput) as exc:
            wf.create_request(s, dept, resource=res, channel="sharing", purpose="fun")
        assert (
            exc.value.field == "purpose"
            and exc.value.value == "fun"
            and "public_governance" in exc.value.expected
        )
        with pytest.raises(InvalidInput) as exc:
            wf.create_request(s, dept, resource=res, channel="sharing", purpose="research", fields=["nope"])
        assert exc.value.field == "fields"
        with pytest.raises(InvalidInput):
            wf.create_request(s, dept, resource=res, channel="sharing", purpose="research", volume=0)
    assert world.count(AccessRequest) == 0
