"""A small practice marketplace for short workshops, tests and the load benchmark.

The full synthetic world (`marketplace.synth`) is the usual starting point; this one is deliberately tiny
(a few departments holding non-personal resources, enterprises, two operators with registered and listed
products) so that a workshop can start in a second and every channel has something to request. For the
exercises on operator selection and sharing responsibility lists it also seeds the city's government, its
designation of the first department as implementing institution with an approved implementation plan, one
open selection round under that plan, and each department's sharing responsibility list with one entry any
other department may cite. It writes
catalog rows directly, as any seeding does; every later change goes through the workflows. Deterministic
from `seed`.
"""

from __future__ import annotations

import random
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy.engine import Engine
from sqlmodel import select

from marketplace import db
from marketplace.codes import make_code
from marketplace.models import (
    Authorization,
    AuthorizationResource,
    Designation,
    ImplementationPlan,
    Organization,
    Product,
    ProductResource,
    Registration,
    Resource,
    ResourceField,
    SelectionRound,
    SharingList,
    SharingListEntry,
)
from marketplace.policy import load_policy
from marketplace.vocabulary import (
    AuthorizationModel,
    AuthorizationStatus,
    BillingUnit,
    EnterpriseSize,
    FieldMarking,
    FieldType,
    Grade,
    OpeningAttribute,
    OrganizationKind,
    PlanStatus,
    ProductKind,
    ProductStatus,
    RegistrationStatus,
    RegistrationSubject,
    RegistrationType,
    SelectionMethod,
    SelectionStatus,
    SharingAttribute,
)
from marketplace.workflows.facts import DEFAULT_POLICY

DOMAINS = ("transport", "environment", "agriculture", "health-services", "commerce", "weather")
FIELDS = [
    ("district", FieldType.category),
    ("month", FieldType.date),
    ("count", FieldType.integer),
    ("average", FieldType.number),
    ("category", FieldType.category),
]


def build_practice_world(
    engine: Engine | None = None,
    *,
    seed: int = 0,
    departments: int = 4,
    enterprises: int = 6,
    operators: int = 2,
) -> dict[str, int]:
    """Create the tables and a small world in an EMPTY database; returns how many of each row were made."""
    engine = db.create_all(engine)
    rng = random.Random(seed)
    now = datetime.now(UTC)
    with db.session_scope(engine) as s:
        if s.exec(select(Organization)).first() is not None:
            return {}
        depts = [
            Organization(
                code=f"ORG-DEP-{i:03d}",
                name=f"{d.title()} Bureau",
                kind=OrganizationKind.department,
                region="Practice City",
            )
            for i, d in enumerate(DOMAINS[:departments], 1)
        ]
        ents = [
            Organization(
                code=f"ORG-ENT-{i:03d}",
                name=f"Enterprise {i}",
                kind=OrganizationKind.enterprise,
                size=rng.choice(list(EnterpriseSize)),
                region="Practice City",
            )
            for i in range(1, enterprises + 1)
        ]
        ops = [
            Organization(
                code=f"ORG-OPR-{i:03d}",
                name=f"Data Operator {i}",
                kind=OrganizationKind.operator,
                region="Practice City",
            )
            for i in range(1, operators + 1)
        ]
        regulator = Organization(
            code="ORG-REG-001",
            name="Data Administration",
            kind=OrganizationKind.regulator,
            region="Practice City",
        )
        s.add_all([*depts, *ents, *ops, regulator])
        s.flush()
        resources: list[Resource] = []
        for dept in depts:
            domain = DOMAINS[(dept.id or 0) % len(DOMAINS)]
            for j, (sharing, opening) in enumerate(
                [
                    (SharingAttribute.conditional, OpeningAttribute.conditional),
                    (SharingAttribute.conditional, OpeningAttribute.not_open),
                    (SharingAttribute.unconditional, OpeningAttribute.conditional),
                ],
                1,
            ):
                res = Resource(
                    code=f"RES-{dept.code[-3:]}-{j:02d}",
                    title=f"{domain} statistics {j}",
                    domain=domain,
                    holder_id=dept.id,
                    grade=Grade.general,
                    sharing_attribute=sharing,
                    opening_attribute=opening,
                    row_count=rng.randint(1_000, 50_000),
                    cost_basis=Decimal(rng.randint(10, 90) * 1000),
                    template="",
                    published=j == 3,
                )
                s.add(res)
                s.flush()
                for pos, (name, dtype) in enumerate(FIELDS):
                    s.add(
                        ResourceField(
                            resource_id=res.id,
                            position=pos,
                            name=name,
                            dtype=dtype,
                            marking=FieldMarking.other,
                        )
                    )
                resources.append(res)
        s.flush()
        today = date(2025, 3, 3)
        products = 0
        for k, op in enumerate(ops):
            agency = depts[k % len(depts)]
            scope = [r for r in resources if r.holder_id == agency.id]
            auth = Authorization(
                code=f"AUT-2025-{k + 1:06d}",
                agency_id=agency.id,
                operator_id=op.id,
                model=AuthorizationModel.overall,
                status=AuthorizationStatus.active,
                term_start=today,
                term_end=today + timedelta(days=365 * 5),
            )
            s.add(auth)
            s.flush()
            for r in scope:
                s.add(AuthorizationResource(authorization_id=auth.id, resource_id=r.id))
                s.add(
                    Registration(
                        code=f"REG-2025-R-{r.id:06d}",
                        subject=RegistrationSubject.resource,
                        resource_id=r.id,
                        type=RegistrationType.initial,
                        status=RegistrationStatus.registered,
                        registered_at=now,
                        valid_until=today + timedelta(days=365 * 3),
                    )
                )
            for m, (unit, price, status) in enumerate(
                [
                    (BillingUnit.per_record, "0.04", ProductStatus.listed),
                    (BillingUnit.per_call, "0.30", ProductStatus.listed),
                    (BillingUnit.per_month, None, ProductStatus.registered),
                ],
                1,
            ):
                prod = Product(
                    code=f"PRD-{op.code[-3:]}-{m:02d}",
                    name=f"{agency.name} {unit.value.replace('_', ' ')} product",
                    operator_id=op.id,
                    authorization_id=auth.id,
                    kind=ProductKind.dataset,
                    transformation="aggregated",
                    billing_unit=unit,
                    unit_cost=Decimal("0.01") if unit is not BillingUnit.per_month else Decimal("300"),
                    actual_price=Decimal(price) if price else None,
                    status=status,
                )
                s.add(prod)
                s.flush()
                s.add(ProductResource(product_id=prod.id, resource_id=scope[m % len(scope)].id))
                s.add(
                    Registration(
                        code=f"REG-2025-P-{prod.id:06d}",
                        subject=RegistrationSubject.product,
                        product_id=prod.id,
                        type=RegistrationType.initial,
                        status=RegistrationStatus.registered,
                        registered_at=now,
                        valid_until=today + timedelta(days=365 * 3),
                    )
                )
                products += 1
        opened = datetime(today.year, today.month, today.day, 9, tzinfo=UTC)
        _jurisdiction_and_lists(s, depts, resources, opened)
        counts = {
            "organizations": len(depts) + len(ents) + len(ops) + 2,
            "resources": len(resources),
            "products": products,
        }
    return counts


REGION = "Practice City"
LIST_DUTY = "the recipients' statutory duties"


def _jurisdiction_and_lists(
    s: Any, depts: list[Organization], resources: list[Resource], now: datetime
) -> None:
    """The city's government designates the first department as implementing institution, approves its plan
    over that department's resources, and the institution has one competitive round open (so operator
    participants can apply and the institution's steward can score and decide). Every department has a
    sharing responsibility list, published by the data authority, whose entry for its first resource any
    other department may cite for public governance (the sharing exercise). `now` is the practice world's
    first sandbox day, so the round opens on the day the workshop starts."""
    gov = Organization(
        code="ORG-GOV-001", name="Practice City Government", kind=OrganizationKind.government, region=REGION
    )
    s.add(gov)
    s.flush()
    institution = depts[0]
    s.add(Designation(government_id=gov.id, institution_id=institution.id, region=REGION, domain=""))
    scope = [r for r in resources if r.holder_id == institution.id]
    plan = ImplementationPlan(
        code="tmp",
        institution_id=institution.id,
        government_id=gov.id,
        scope=f"Authorized operation of {institution.name} statistics",
        scenarios=["city services planning"],
        security_measures=["aggregated releases only", "access logging"],
        expected_products=["district statistics service"],
        status=PlanStatus.approved,
        drafted_at=now - timedelta(days=30),
        decided_at=now - timedelta(days=20),
    )
    plan.resources = scope
    s.add(plan)
    s.flush()
    plan.code = make_code("plan", plan.id, year=2025)
    lot = SelectionRound(
        code="tmp",
        institution_id=institution.id,
        plan_id=plan.id,
        method=SelectionMethod.competitive,
        status=SelectionStatus.open,
        title=f"Operator for {institution.name} statistics",
        opened_at=now,
        weights=load_policy(DEFAULT_POLICY).selection.weights.model_dump(),
    )
    lot.resources = scope
    s.add(lot)
    s.flush()
    lot.code = make_code("selection", lot.id, year=2025)
    for dept in depts:
        listed = SharingList(
            code="tmp",
            holder_id=dept.id,
            basis=f"Issued by the data authority of {REGION}",
            published_at=now,
            updated_at=now,
        )
        s.add(listed)
        s.flush()
        listed.code = make_code("sharinglist", listed.id, year=2025)
        first = next(r for r in resources if r.holder_id == dept.id)
        entry = SharingListEntry(
            code="tmp",
            list_id=listed.id,
            resource_id=first.id,
            recipients=[],
            purposes=["public_governance"],
            duty=LIST_DUTY,
            status="in_force",
            added_at=now,
        )
        s.add(entry)
        s.flush()
        entry.code = make_code("listentry", entry.id, year=2025)
