"""Who may authorize what (发改数据规〔2025〕27号): only the implementing institution a government designated
proposes, only over resources held in its jurisdiction, and only under an implementation plan the government
approved. Each refusal names its rule and is audited; nothing is created."""

from __future__ import annotations

import pytest
from sqlmodel import select

from marketplace import workflows as wf
from marketplace.errors import PermissionDenied, PolicyRefusal
from marketplace.models import (
    Authorization,
    Designation,
    ImplementationPlan,
    Organization,
    PlanResource,
    Resource,
)
from marketplace.vocabulary import Grade, OrganizationKind, PlanStatus, Role


def _operator_org(s):
    return s.exec(
        select(Organization).where(Organization.kind == OrganizationKind.operator).order_by(Organization.id)
    ).first()


def _hospital_resource(s, world):
    return world.resource(
        s,
        lambda r: r.holder.kind is OrganizationKind.institution
        and r.grade is not Grade.core
        and "authorized_operation" in wf.resource_channels(r),
    )


def _institution(s):
    return wf.accounts_with_role(s, Role.registrar)[0]


def test_seeded_world_has_a_government_that_designates_the_data_bureau_under_an_approved_plan(world):
    with world.step() as s:
        gov = s.exec(select(Organization).where(Organization.kind == OrganizationKind.government)).one()
        d = s.exec(select(Designation)).one()
        institution = s.get(Organization, d.institution_id)
        assert d.government_id == gov.id and d.region == gov.region == institution.region
        assert wf.accounts_with_role(s, Role.authorizer, org_id=gov.id)
        plan = s.exec(select(ImplementationPlan)).one()
        assert plan.status is PlanStatus.approved and plan.government_id == gov.id
        assert plan.scenarios and plan.security_measures and plan.expected_products
        for a in s.exec(select(Authorization)).all():  # every seeded authorization rests on the plan
            assert a.plan_id == plan.id and a.agency_id == institution.id
            assert {r.id for r in a.resources} <= {r.id for r in plan.resources}
        assert all(r.grade is not Grade.core for r in plan.resources)


def test_a_transport_bureau_steward_cannot_authorize_a_hospital_resource(world):
    """The finding: a steward of the Transport Bureau proposed, agreed and activated such an authorization."""
    with world.step() as s:
        transport = s.exec(select(Organization).where(Organization.name.like("%Transport Bureau%"))).one()
        steward = world.role(s, Role.steward, transport.id)
        res = _hospital_resource(s, world)
        before = world.count(Authorization)
        with pytest.raises(PolicyRefusal) as exc:
            wf.propose_authorization(s, steward, operator=_operator_org(s), resources=[res], term_years=2)
    assert exc.value.rule == "authorization.implementing_institution"
    assert exc.value.key == "refusal.not_implementing_institution"
    assert world.count(Authorization) == before
    refused = world.refused_events("authorization.propose")
    assert refused and "authorization.implementing_institution" in refused[-1].payload["reason"]


def test_the_institution_cannot_authorize_resources_held_outside_its_jurisdiction(world):
    with world.step() as s:
        res = _hospital_resource(s, world)
        s.get(Organization, res.holder_id).region = "Elsewhere"
        res_id, code = res.id, res.code
    with pytest.raises(PolicyRefusal) as exc, world.step() as s:
        res = s.get(Resource, res_id)
        wf.propose_authorization(s, _institution(s), operator=_operator_org(s), resources=[res], term_years=2)
    assert exc.value.rule == "authorization.jurisdiction" and code in str(exc.value)
    assert exc.value.key == "refusal.outside_jurisdiction"


def test_a_sector_designation_reaches_only_its_domain(world):
    with world.step() as s:
        d = s.exec(select(Designation)).one()
        res = _hospital_resource(s, world)
        d.domain = "tax" if res.domain != "tax" else "health"
        with pytest.raises(PolicyRefusal) as exc:
            wf.propose_authorization(
                s, _institution(s), operator=_operator_org(s), resources=[res], term_years=2
            )
    assert exc.value.rule == "authorization.jurisdiction"


def test_an_authorization_waits_for_the_government_to_approve_a_plan_that_lists_its_resources(world):
    with world.step() as s:
        res = _hospital_resource(s, world)
        link = s.exec(select(PlanResource).where(PlanResource.resource_id == res.id)).one()
        s.delete(link)
        res_id = res.id
    with pytest.raises(PolicyRefusal) as exc, world.step() as s:
        res = s.get(Resource, res_id)
        wf.propose_authorization(s, _institution(s), operator=_operator_org(s), resources=[res], term_years=2)
    assert exc.value.rule == "authorization.plan" and exc.value.key == "refusal.plan_scope"

    with world.step() as s:
        res = s.get(Resource, res_id)
        plan = wf.draft_plan(
            s, _institution(s), resources=[res], scope="Hospital data for health services research",
            scenarios=["hospital capacity planning"], security_measures=["in-domain computation only"],
            expected_products=["aggregate reports"],
        )
        plan_id = plan.id
        assert plan.code.startswith("PLN-") and plan.status is PlanStatus.drafted
    with pytest.raises(PolicyRefusal) as exc, world.step() as s:
        res = s.get(Resource, res_id)
        wf.propose_authorization(s, _institution(s), operator=_operator_org(s), resources=[res], term_years=2)
    assert exc.value.key == "refusal.plan_not_approved"

    with pytest.raises(PermissionDenied), world.step() as s:  # the institution cannot approve its own plan
        wf.approve_plan(s, _institution(s), s.get(ImplementationPlan, plan_id))
    with world.step() as s:
        plan = s.get(ImplementationPlan, plan_id)
        wf.approve_plan(s, world.role(s, Role.authorizer, plan.government_id), plan, "fits the city's plan")
    with world.step() as s:
        res = s.get(Resource, res_id)
        auth = wf.propose_authorization(
            s, _institution(s), operator=_operator_org(s), resources=[res], term_years=2
        )
        assert auth.plan_id == plan_id
    assert world.verify().ok


def test_a_rejected_plan_cannot_be_approved_later(world):
    with world.step() as s:
        res = _hospital_resource(s, world)
        plan = wf.draft_plan(
            s, _institution(s), resources=[res], scope="x" * 10, scenarios=["a"], security_measures=["b"],
            expected_products=["c"],
        )
        gov = world.role(s, Role.authorizer, plan.government_id)
        wf.reject_plan(s, gov, plan, "scenarios too vague")
        assert plan.status is PlanStatus.rejected
        from marketplace.errors import TransitionError

        with pytest.raises(TransitionError):
            wf.approve_plan(s, gov, plan)


def test_activation_refusal_for_unregistered_resources_carries_its_message_key(world):
    with world.step() as s:
        res = world.resource(
            s,
            lambda r: not r.registrations
            and r.grade is not Grade.core
            and "authorized_operation" in wf.resource_channels(r),
        )
        op_org = _operator_org(s)
        auth = wf.propose_authorization(s, _institution(s), operator=op_org, resources=[res], term_years=2)
        wf.agree_authorization(s, world.role(s, Role.operator, op_org.id), auth)
        auth_id = auth.id
    with pytest.raises(PolicyRefusal) as exc, world.step() as s:
        wf.activate_authorization(s, _institution(s), s.get(Authorization, auth_id))
    assert exc.value.rule == "registration.mandatory" and exc.value.key == "refusal.registration_mandatory"


def test_enterprises_providing_public_services_hold_resources_and_answer_sharing_requests(world):
    """The finding: holders were only departments and institutions; the briefing counts enterprises
    providing public services (water, power, transport operators) among holders."""
    with world.step() as s:
        res = world.resource(
            s,
            lambda r: r.holder.kind is OrganizationKind.enterprise
            and r.sharing_attribute.value == "conditional",
        )
        assert res.domain == "utilities"
        dept = world.requester(s, OrganizationKind.department)
        req = wf.create_request(s, dept, resource=res, channel="sharing", purpose="public_governance")
        wf.submit_request(s, dept, req)
        rid, holder = req.id, res.holder_id
        plan = s.exec(select(ImplementationPlan)).one()
        assert res.id in {r.id for r in plan.resources}  # the government may authorize it
    world.approve_all(rid)
    with world.step() as s:
        req = world.request(s, rid)
        assert req.grant is not None
        assert any(r.reviewer_org_id == holder for r in req.reviews)
