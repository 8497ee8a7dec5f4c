"""Registration renewal before expiry (its own review), what an expiry suspends (the product's listing, the
activation of authorizations that need it), and objections during the public notice."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlmodel import select

from marketplace import workflows as wf
from marketplace.errors import PolicyRefusal
from marketplace.models import Authorization, Objection, Organization, Product, Registration, Resource
from marketplace.vocabulary import (
    Grade,
    ObjectionStatus,
    OrganizationKind,
    ProductStatus,
    RegistrationStatus,
    RegistrationType,
    Role,
)
from marketplace.workflows import clock


def _listed_product_registration(s) -> Registration:
    prod = s.exec(
        select(Product).where(Product.status == ProductStatus.listed).order_by(Product.id)
    ).first()
    return wf.current_registration(s, prod)


def _review_and_register(world, reg_id):
    with world.step() as s:
        reg = s.get(Registration, reg_id)
        registrar = world.role(s, Role.registrar)
        wf.accept_registration(s, registrar, reg)
        wf.start_registration_review(s, registrar, reg)
        wf.publish_notice(s, registrar, reg)
    with world.step() as s:
        wf.advance_clock(s, world.role(s, Role.trainer), 15)
    with world.step() as s:
        return wf.register(s, world.role(s, Role.registrar), s.get(Registration, reg_id))


def test_a_renewal_is_filed_only_in_the_last_days_of_validity(world):
    with world.step() as s:
        reg = _listed_product_registration(s)
        op = world.role(s, Role.operator, reg.product.operator_id)
        with pytest.raises(PolicyRefusal) as exc:
            wf.renew_registration(s, op, reg.product)
    assert exc.value.rule == "registration.renewal_window" and exc.value.key == "refusal.renewal_window"


def test_a_renewal_goes_through_its_own_review_and_carries_the_validity_on(world):
    with world.step() as s:
        reg = _listed_product_registration(s)
        reg.valid_until = clock.today(s) + timedelta(days=30)
        old_id, old_until, prod_id = reg.id, reg.valid_until, reg.product_id
    with world.step() as s:
        prod = s.get(Product, prod_id)
        new = wf.renew_registration(s, world.role(s, Role.operator, prod.operator_id), prod, "still offered")
        assert new.type is RegistrationType.renewal and new.status is RegistrationStatus.submitted
        new_id = new.id
    registered = _review_and_register(world, new_id)
    with world.step() as s:
        new, old = s.get(Registration, new_id), s.get(Registration, old_id)
        assert new.status is RegistrationStatus.registered and old.status is RegistrationStatus.renewed
        assert new.valid_until == old_until.replace(year=old_until.year + 3)
        assert wf.current_registration(s, s.get(Product, prod_id)).id == new_id
    assert registered is not None and world.verify().ok


def test_an_expired_product_registration_takes_the_product_off_the_shelf(world):
    with world.step() as s:
        reg = _listed_product_registration(s)
        reg.valid_until = clock.today(s) + timedelta(days=1)
        prod_id, reg_id = reg.product_id, reg.id
    with world.step() as s:
        wf.advance_clock(s, world.role(s, Role.trainer), 3)
    with world.step() as s:
        assert s.get(Registration, reg_id).status is RegistrationStatus.expired
        prod = s.get(Product, prod_id)
        assert prod.status is ProductStatus.withdrawn


def test_an_expired_resource_registration_stops_the_activation_of_an_authorization(world):
    with world.step() as s:
        res = next(
            r
            for r in s.exec(select(Resource).order_by(Resource.id)).all()
            if wf.current_registration(s, r) is not None and r.grade is not Grade.core
        )
        reg = wf.current_registration(s, res)
        reg.valid_until = clock.today(s) + timedelta(days=1)
        op_org = s.exec(
            select(Organization)
            .where(Organization.kind == OrganizationKind.operator)
            .order_by(Organization.id)
        ).first()
        registrar = world.role(s, Role.registrar)
        auth = wf.propose_authorization(s, registrar, operator=op_org, resources=[res], term_years=2)
        wf.agree_authorization(s, world.role(s, Role.operator, op_org.id), auth)
        auth_id = auth.id
    with world.step() as s:
        wf.advance_clock(s, world.role(s, Role.trainer), 3)
    with pytest.raises(PolicyRefusal) as exc, world.step() as s:
        wf.activate_authorization(s, world.role(s, Role.registrar), s.get(Authorization, auth_id))
    assert exc.value.rule == "registration.mandatory"


def _in_notice(world) -> int:
    with world.step() as s:
        res = world.resource(
            s,
            lambda r: not r.registrations
            and r.grade is not Grade.core
            and "authorized_operation" in wf.resource_channels(r),
        )
        reg = wf.submit_registration(s, world.role(s, Role.steward, res.holder_id), res)
        registrar = world.role(s, Role.registrar)
        wf.accept_registration(s, registrar, reg)
        wf.start_registration_review(s, registrar, reg)
        wf.publish_notice(s, registrar, reg)
        return reg.id


def test_anyone_objects_during_the_notice_and_a_dismissed_objection_lets_it_continue(world):
    reg_id = _in_notice(world)
    with world.step() as s:
        citizen = world.requester(s, OrganizationKind.enterprise)
        reg = s.get(Registration, reg_id)
        obj = wf.file_objection(s, citizen, reg, "The description misstates the holder")
        assert obj.status is ObjectionStatus.open and obj.due > clock.today(s)
        obj_id = obj.id
    with world.step() as s:
        wf.advance_clock(s, world.role(s, Role.trainer), 15)
    with pytest.raises(PolicyRefusal) as exc, world.step() as s:
        wf.register(s, world.role(s, Role.registrar), s.get(Registration, reg_id))
    assert exc.value.rule == "registration.objection_open"
    with world.step() as s:
        citizen = world.requester(s, OrganizationKind.enterprise)
        with pytest.raises(PolicyRefusal) as late:  # the notice is over
            wf.file_objection(s, citizen, s.get(Registration, reg_id), "A second thought")
        assert late.value.rule == "registration.objection_period"
    with world.step() as s:
        registrar, obj = world.role(s, Role.registrar), s.get(Objection, obj_id)
        wf.decide_objection(s, registrar, obj, "dismiss", "holder is right")
    with world.step() as s:
        reg = wf.register(s, world.role(s, Role.registrar), s.get(Registration, reg_id))
        assert reg.status is RegistrationStatus.registered


def test_an_upheld_objection_refuses_the_registration(world):
    reg_id = _in_notice(world)
    with world.step() as s:
        obj = wf.file_objection(s, world.requester(s, OrganizationKind.research), s.get(Registration, reg_id),
                                "The resource holds data of another department")
        wf.decide_objection(s, world.role(s, Role.registrar), obj, "uphold", "confirmed with the holder")
        reg = s.get(Registration, reg_id)
        assert reg.status is RegistrationStatus.rejected and "objection upheld" in reg.reason


def test_under_deemed_approval_an_undecided_objection_lapses(world):
    reg_id = _in_notice(world)
    with world.step() as s:
        wf.set_policy(s, world.role(s, Role.trainer), "deemed-approval")
        obj = wf.file_objection(s, world.requester(s, OrganizationKind.research), s.get(Registration, reg_id),
                                "Please check the update frequency")
        obj_id = obj.id
    with world.step() as s:
        wf.advance_clock(s, world.role(s, Role.trainer), 20)
    with world.step() as s:
        assert s.get(Objection, obj_id).status is ObjectionStatus.dismissed
        assert wf.register(s, world.role(s, Role.registrar), s.get(Registration, reg_id)).code
