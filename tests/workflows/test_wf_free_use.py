"""Conditional free use: who may claim it, the evidence, the conditions, and misuse charged retroactively.

Finding reproduced: a large enterprise with an empty use statement naming `public_welfare` got a 0.00 quote.
"""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlmodel import select

from marketplace import workflows as wf
from marketplace.errors import PermissionDenied, PolicyRefusal
from marketplace.models import AccessRequest, Account, Organization, Payment, Product, Quote
from marketplace.vocabulary import (
    ConditionKind,
    GrantStatus,
    OrganizationKind,
    ProductStatus,
    RequestStatus,
    Role,
)

WELFARE = "Open data for a municipal public-health outreach programme for elderly residents"


def _product(s) -> Product:
    return s.exec(select(Product).where(Product.status == ProductStatus.listed).order_by(Product.id)).first()


def _large_enterprise(world, s) -> Account:
    for i in range(40):
        acc = world.requester(s, OrganizationKind.enterprise, index=i)
        if acc.organization.size and acc.organization.size.value == "large":
            return acc
    raise AssertionError("no large enterprise")


def test_enterprise_without_a_public_project_gets_no_free_quote(world):
    with world.step() as s:
        ent = _large_enterprise(world, s)
        req = wf.create_request(s, ent, product=_product(s), purpose="public_welfare", use_statement="",
                                volume=100)
        req_id, ent_id = req.id, ent.id
    with pytest.raises(PolicyRefusal) as exc, world.step() as s:
        wf.submit_request(s, s.get(Account, ent_id), s.get(AccessRequest, req_id))
    assert exc.value.rule == "free_use.statement"
    with world.step() as s:  # a refused claim changes nothing
        req = s.get(AccessRequest, req_id)
        assert req.status is RequestStatus.draft and req.purpose.value == "public_welfare"
        assert s.exec(select(Quote).where(Quote.request_id == req_id)).first() is None
    assert [e.action for e in world.refused_events("request.submit")] == ["request.submit"]
    with world.step() as s:
        wf.edit_request(s, s.get(Account, ent_id), s.get(AccessRequest, req_id), use_statement=WELFARE)
    with pytest.raises(PolicyRefusal) as exc, world.step() as s:
        wf.submit_request(s, s.get(Account, ent_id), s.get(AccessRequest, req_id))
    assert exc.value.rule == "free_use.project"
    # the requester accepts to pay instead: quoted as industry use
    with world.step() as s:
        req = s.get(AccessRequest, req_id)
        wf.submit_request(s, s.get(Account, ent_id), req, pay_if_refused=True)
        assert req.purpose.value == "industry_development"
        assert wf.current_quote(s, req).total > 0


def test_enterprise_with_a_named_project_and_sponsor_may_claim(world):
    with world.step() as s:
        ent = _large_enterprise(world, s)
        dept = s.exec(select(Organization).where(Organization.kind == OrganizationKind.department)).first()
        req = wf.create_request(s, ent, product=_product(s), purpose="public_welfare", use_statement=WELFARE,
                                project_reference="PHP-2025-017", sponsor=dept, volume=100)
        wf.submit_request(s, ent, req)
        assert wf.current_quote(s, req).total == 0
        kinds = {c.kind for c in req.conditions}
        wanted = {ConditionKind.no_commercial_use, ConditionKind.publish_results, ConditionKind.report_usage}
        assert wanted <= kinds


def test_misused_free_grant_is_revoked_and_charged_at_the_paid_price(world):
    with world.step() as s:
        ngo = world.requester(s, OrganizationKind.nonprofit)
        req = wf.create_request(s, ngo, product=_product(s), purpose="public_welfare", use_statement=WELFARE,
                                volume=200)
        wf.submit_request(s, ngo, req)
        req_id = req.id
    world.approve_all(req_id)
    with world.step() as s:
        req = s.get(AccessRequest, req_id)
        assert req.status is RequestStatus.granted and wf.current_quote(s, req).total == 0
        ngo = s.get(Account, req.requester_id)
        with pytest.raises(PermissionDenied):
            wf.find_misuse(s, ngo, req, "resold the extract")
    with world.step() as s:
        req = s.get(AccessRequest, req_id)
        pay = wf.find_misuse(s, world.role(s, Role.regulator), req, "resold the extract to a marketing firm")
        assert req.status is RequestStatus.revoked and req.grant.status is GrantStatus.revoked
        assert pay.amount > Decimal(0) and pay.amount == pay.operator_revenue + pay.holder_share + pay.taxes
        charge = s.get(Quote, pay.quote_id)
        assert any(line["component"] == "misuse" for line in charge.lines)
    assert world.count(Payment) == 1
    assert world.verify().ok


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    kind=st.sampled_from(
        [OrganizationKind.enterprise, OrganizationKind.nonprofit, OrganizationKind.research]
    ),
    statement=st.text(alphabet="abc de", max_size=60),
    project=st.sampled_from(["", "PHP-2025-017"]),
    sponsored=st.booleans(),
)
def test_a_refused_claim_changes_nothing(sqlite_world, kind, statement, project, sponsored):
    world = sqlite_world
    with world.step() as s:
        who = world.requester(s, kind)
        dept = s.exec(select(Organization).where(Organization.kind == OrganizationKind.department)).first()
        req = wf.create_request(
            s, who, product=_product(s), purpose="public_welfare", use_statement=statement,
            project_reference=project, sponsor=dept if sponsored else None, volume=10,
        )
        req_id, who_id = req.id, who.id
    before = (world.count(Quote), world.count(Payment), len(world.refused_events("request.submit")))
    try:
        with world.step() as s:
            wf.submit_request(s, s.get(Account, who_id), s.get(AccessRequest, req_id))
    except PolicyRefusal as exc:
        assert exc.rule.startswith("free_use.")
        with world.step() as s:
            req = s.get(AccessRequest, req_id)
            assert req.status is RequestStatus.draft and not req.reviews and not req.conditions
        assert (world.count(Quote), world.count(Payment)) == before[:2]
        assert len(world.refused_events("request.submit")) == before[2] + 1
    else:
        with world.step() as s:
            q = wf.current_quote(s, s.get(AccessRequest, req_id))
            assert q.total == 0  # free only when the claim stands
            assert len(" ".join(statement.split())) >= 40
            assert kind is not OrganizationKind.enterprise or (project and sponsored)
