"""A small, hand-made world for the disclosure tests: rows written directly, so the figures are known.

Secrets that must never appear in a published report: account names and e-mails, use statements (the default
policy keeps them confidential) and field values (there are none in the register, but the marker names are
checked anyway).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path

from sqlmodel import Session

from marketplace.models import (
    AccessRequest,
    Account,
    Authorization,
    AuthorizationResource,
    Organization,
    Payment,
    Product,
    ProductResource,
    Quote,
    Registration,
    Resource,
    ResourceField,
    RevenuePeriod,
    Review,
    SandboxSetting,
)
from marketplace.vocabulary import (
    AuthorizationModel,
    AuthorizationStatus,
    BillingUnit,
    Channel,
    EnterpriseSize,
    FieldMarking,
    FieldType,
    Grade,
    OpeningAttribute,
    OrganizationKind,
    ProductKind,
    ProductStatus,
    Purpose,
    RegistrationStatus,
    RegistrationSubject,
    RegistrationType,
    RequestStatus,
    ReviewStage,
    ReviewStatus,
    Role,
    SharingAttribute,
)

DATA = Path(__file__).resolve().parents[1] / "data"
SHAPES = DATA / "dcat-ap-3.0.0-SHACL.ttl"
CATALOGS = DATA / "catalogs"
SECRET_EMAIL = "zhang.wei.secret@example.org"
SECRET_PERSON = "Zhang Wei Secretperson"
SECRET_USE = "SECRET-USE-STATEMENT"


def dt(y: int, m: int, d: int) -> datetime:
    return datetime(y, m, d, 9, 0, tzinfo=UTC)


@dataclass
class World:
    year: int = 2025


def build_world(session: Session) -> World:
    """Orgs, accounts, 3 resources (2 registered), 1 authorization, 3 products, requests and payments."""

    def org(code: str, name: str, kind: OrganizationKind, size: EnterpriseSize | None = None) -> Organization:
        o = Organization(code=code, name=name, kind=kind, size=size, region="East")
        session.add(o)
        session.flush()
        return o

    holder = org("ORG-000001", "Transport Bureau", OrganizationKind.department)
    dept = org("ORG-000002", "Health Commission", OrganizationKind.department)
    ent = org("ORG-000003", "Acme Logistics", OrganizationKind.enterprise, EnterpriseSize.small)
    uni = org("ORG-000004", "Eastern University", OrganizationKind.research)
    op1 = org("ORG-000005", "Data Ops Co", OrganizationKind.operator)
    op2 = org("ORG-000006", "Second Operator", OrganizationKind.operator)
    org("ORG-000007", "Data Regulator", OrganizationKind.regulator)
    accounts = {}
    for o in (holder, dept, ent, uni, op1):
        a = Account(
            username=f"user-{o.code}",
            display_name=f"{SECRET_PERSON} {o.code}",
            email=SECRET_EMAIL,
            organization_id=o.id,
        )
        session.add(a)
        accounts[o.code] = a
    session.flush()

    def resource(
        code: str,
        title: str,
        grade: Grade,
        sharing: SharingAttribute,
        opening: OpeningAttribute,
        personal: bool,
    ) -> Resource:
        r = Resource(
            code=code,
            title=title,
            domain="transport",
            description=f"{title} of the city",
            holder_id=holder.id,
            grade=grade,
            sharing_attribute=sharing,
            opening_attribute=opening,
            keywords=["bus", "traffic"],
            row_count=500,
            update_frequency="monthly",
            created_at=dt(2024, 12, 1),
        )
        session.add(r)
        session.flush()
        fields = [
            ("trip_id", FieldType.string, FieldMarking.other),
            (
                "district",
                FieldType.category,
                FieldMarking.quasi_identifier if personal else FieldMarking.other,
            ),
        ]
        if personal:
            fields.insert(0, ("id_card", FieldType.string, FieldMarking.identifier))
        for i, (name, dtype, marking) in enumerate(fields):
            session.add(ResourceField(resource_id=r.id, position=i, name=name, dtype=dtype, marking=marking))
        session.flush()
        return r

    r1 = resource(
        "RES-000001",
        "Bus ridership",
        Grade.general,
        SharingAttribute.unconditional,
        OpeningAttribute.unconditional,
        False,
    )
    r2 = resource(
        "RES-000002",
        "Transit card trips",
        Grade.important,
        SharingAttribute.conditional,
        OpeningAttribute.not_open,
        True,
    )
    r3 = resource(
        "RES-000003",
        "Parking permits",
        Grade.general,
        SharingAttribute.conditional,
        OpeningAttribute.conditional,
        True,
    )

    def registration(
        code: str | None,
        status: RegistrationStatus,
        *,
        resource_id: int | None = None,
        product_id: int | None = None,
        submitted: datetime,
        registered: datetime | None = None,
    ) -> Registration:
        reg = Registration(
            code=code,
            subject=RegistrationSubject.resource if resource_id else RegistrationSubject.product,
            resource_id=resource_id,
            product_id=product_id,
            type=RegistrationType.initial,
            status=status,
            applicant_id=accounts[holder.code].id,
            submitted_at=submitted,
            registered_at=registered,
            valid_until=date(registered.year + 3, registered.month, registered.day) if registered else None,
        )
        session.add(reg)
        session.flush()
        return reg

    registration(
        "REG-2025-R-000001",
        RegistrationStatus.registered,
        resource_id=r1.id,
        submitted=dt(2025, 1, 6),
        registered=dt(2025, 1, 20),
    )
    registration(
        "REG-2025-R-000002",
        RegistrationStatus.registered,
        resource_id=r2.id,
        submitted=dt(2025, 1, 7),
        registered=dt(2025, 1, 21),
    )
    registration(None, RegistrationStatus.submitted, resource_id=r3.id, submitted=dt(2025, 5, 2))
    # A registration of an earlier year that expired before 2025: not part of the 2025 report.
    old = registration(
        "REG-2020-R-000009",
        RegistrationStatus.expired,
        resource_id=r3.id,
        submitted=dt(2020, 2, 1),
        registered=dt(2020, 2, 20),
    )
    old.valid_until = date(2023, 2, 20)

    auth = Authorization(
        code="AUT-2025-000001",
        agency_id=holder.id,
        operator_id=op1.id,
        model=AuthorizationModel.overall,
        status=AuthorizationStatus.active,
        term_start=date(2025, 1, 1),
        term_end=date(2029, 12, 31),
    )
    session.add(auth)
    session.flush()
    session.add(AuthorizationResource(authorization_id=auth.id, resource_id=r2.id))

    def product(
        code: str,
        name: str,
        kind: ProductKind,
        unit: BillingUnit,
        cap: str,
        price: str,
        cost: str,
        status: ProductStatus,
        operator: Organization,
        transformation: str,
    ) -> Product:
        p = Product(
            code=code,
            name=name,
            operator_id=operator.id,
            authorization_id=auth.id,
            kind=kind,
            transformation=transformation,
            billing_unit=unit,
            unit_cost=Decimal(cost),
            price_cap=Decimal(cap),
            actual_price=Decimal(price),
            status=status,
            description=f"{name} built from transit card trips",
            created_at=dt(2025, 2, 1),
        )
        session.add(p)
        session.flush()
        session.add(ProductResource(product_id=p.id, resource_id=r2.id))
        return p

    p1 = product(
        "PRD-000001",
        "Trip flow API",
        ProductKind.api,
        BillingUnit.per_call,
        "1.00",
        "0.80",
        "0.40",
        ProductStatus.listed,
        op1,
        "aggregated",
    )
    p2 = product(
        "PRD-000002",
        "Station crowding report",
        ProductKind.report,
        BillingUnit.per_product,
        "5000.00",
        "4000.00",
        "3500.00",
        ProductStatus.listed,
        op2,
        "aggregated",
    )
    product(
        "PRD-000003",
        "Draft product",
        ProductKind.dataset,
        BillingUnit.per_record,
        "0.10",
        "0.05",
        "0.02",
        ProductStatus.draft,
        op1,
        "deidentified",
    )
    registration(
        "REG-2025-P-000001",
        RegistrationStatus.registered,
        product_id=p1.id,
        submitted=dt(2025, 2, 2),
        registered=dt(2025, 2, 20),
    )

    # Requests: (code, requester org, channel, target, status, submitted, decided, breached reviews)
    specs = [
        ("REQ-1", dept, Channel.sharing, r2, RequestStatus.delivered, dt(2025, 3, 3), dt(2025, 3, 10), 0),
        ("REQ-2", dept, Channel.sharing, r2, RequestStatus.rejected, dt(2025, 3, 4), dt(2025, 3, 24), 1),
        ("REQ-3", ent, Channel.opening, r1, RequestStatus.approved, dt(2025, 4, 1), dt(2025, 4, 3), 0),
        (
            "REQ-4",
            uni,
            Channel.opening,
            r1,
            RequestStatus.approved_with_conditions,
            dt(2025, 4, 2),
            dt(2025, 4, 12),
            0,
        ),
        ("REQ-5", uni, Channel.opening, r1, RequestStatus.in_review, dt(2025, 6, 1), None, 1),
        (
            "REQ-6",
            ent,
            Channel.authorized_operation,
            p1,
            RequestStatus.granted,
            dt(2025, 5, 5),
            dt(2025, 5, 9),
            0,
        ),
        (
            "REQ-7",
            ent,
            Channel.authorized_operation,
            p2,
            RequestStatus.granted,
            dt(2025, 5, 6),
            dt(2025, 5, 8),
            0,
        ),
        ("REQ-8", ent, Channel.opening, r1, RequestStatus.withdrawn, dt(2025, 6, 2), None, 0),
        ("REQ-OLD", ent, Channel.opening, r1, RequestStatus.rejected, dt(2024, 6, 2), dt(2024, 6, 5), 0),
    ]
    requests = {}
    for code, requester, channel, target, status, submitted, decided, breached in specs:
        is_product = isinstance(target, Product)
        req = AccessRequest(
            code=code,
            requester_id=accounts[requester.code].id,
            requester_org_id=requester.id,
            channel=channel,
            resource_id=None if is_product else target.id,
            product_id=target.id if is_product else None,
            purpose=Purpose.industry_development if is_product else Purpose.public_governance,
            use_statement=f"{SECRET_USE} {code} for {SECRET_PERSON}",
            volume=1000 if target is p1 else 1,
            status=status,
            submitted_at=submitted,
            decided_at=decided,
            created_at=submitted,
        )
        session.add(req)
        session.flush()
        requests[code] = req
        for seq in range(breached):
            session.add(
                Review(
                    request_id=req.id,
                    sequence=seq,
                    stage=ReviewStage.holder,
                    reviewer_role=Role.steward,
                    status=ReviewStatus.escalated,
                    opened_at=submitted,
                    due_on=date(2025, 1, 1),
                    breached=True,
                )
            )
        session.flush()

    def pay(req: AccessRequest, operator: Organization, amount: str, when: datetime) -> None:
        total = Decimal(amount)
        q = Quote(request_id=req.id, policy_name="national-2025", total=total, created_at=when)
        session.add(q)
        session.flush()
        taxes = (total * Decimal("0.06")).quantize(Decimal("0.01"))
        holder_share = (total * Decimal("0.10")).quantize(Decimal("0.01"))
        session.add(
            Payment(
                request_id=req.id,
                quote_id=q.id,
                operator_id=operator.id,
                amount=total,
                operator_revenue=total - taxes - holder_share,
                holder_share=holder_share,
                taxes=taxes,
                paid_at=when,
            )
        )
        session.flush()

    pay(requests["REQ-6"], op1, "800.00", dt(2025, 5, 10))
    pay(requests["REQ-7"], op2, "4000.00", dt(2025, 5, 9))
    # op1 has a MAR of 500 set for 2025 (so it is over MAR); op2 has none (trial caps).
    session.add(
        RevenuePeriod(
            operator_id=op1.id,
            year=2025,
            operating_cost=Decimal("400"),
            profit_rate=Decimal("0.05"),
            taxes=Decimal("80"),
            mar=Decimal("500.00"),
            base_mar=Decimal("500.00"),
            deduction=Decimal("0"),
            revenue=Decimal("0"),
            determined_at=dt(2025, 1, 2),
        )
    )
    session.add(
        SandboxSetting(
            key="clock",
            value={"start": "2025-06-30", "offset_days": 0, "paused": True, "anchor": "2025-06-30"},
        )
    )
    session.flush()
    return World()
