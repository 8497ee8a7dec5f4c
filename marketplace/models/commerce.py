"""Authorized operation and its money: authorizations, products, quotes, payments, and revenue against MAR."""

from datetime import date, datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa
from sqlmodel import Field, Relationship, SQLModel

from marketplace.models.columns import Versioned, enum_field, fk, json_field, money_field, utcnow
from marketplace.vocabulary import (
    AuthorizationModel,
    AuthorizationStatus,
    BillingUnit,
    ExitDutyStatus,
    PlanStatus,
    ProductKind,
    ProductStatus,
    QuoteStatus,
    SelectionMethod,
    SelectionStatus,
)

if TYPE_CHECKING:
    from marketplace.models.catalog import Registration, Resource
    from marketplace.models.parties import Organization


class AuthorizationResource(SQLModel, table=True):
    """Scope of an authorization: the resources the operator may process."""

    authorization_id: int = Field(foreign_key="authorization.id", primary_key=True, ondelete="CASCADE")
    resource_id: int = Field(foreign_key="resource.id", primary_key=True, index=True)


class ProductResource(SQLModel, table=True):
    """The authorized resources a product is made from."""

    product_id: int = Field(foreign_key="product.id", primary_key=True, ondelete="CASCADE")
    resource_id: int = Field(foreign_key="resource.id", primary_key=True, index=True)


class Designation(SQLModel, table=True):
    """A government designates the implementing institution of authorized operation for its jurisdiction.

    The jurisdiction is the government's region, and within it one data domain when `domain` is set (a sector
    authority's designation); "" covers every domain (发改数据规〔2025〕27号).
    """

    __table_args__ = (sa.UniqueConstraint("government_id", "institution_id", "domain"),)

    id: int | None = Field(default=None, primary_key=True)
    government_id: int = fk("organization.id")
    institution_id: int = fk("organization.id")
    region: str = Field(max_length=100, index=True)
    domain: str = Field(default="", max_length=64)
    designated_at: datetime = Field(default_factory=utcnow)


class PlanResource(SQLModel, table=True):
    """The resources an implementation plan proposes to open to authorized operation."""

    plan_id: int = Field(foreign_key="implementationplan.id", primary_key=True, ondelete="CASCADE")
    resource_id: int = Field(foreign_key="resource.id", primary_key=True, index=True)


class ImplementationPlan(Versioned, table=True):
    """The implementing institution's plan (scope, resources, scenarios, security, products), approved by the
    government before operators are selected (发改数据规〔2025〕27号)."""

    id: int | None = Field(default=None, primary_key=True)
    code: str = Field(index=True, unique=True, max_length=64)
    institution_id: int = fk("organization.id")
    government_id: int = fk("organization.id")
    scope: str = Field(default="", max_length=2000)
    scenarios: list[str] = json_field(list)
    security_measures: list[str] = json_field(list)
    expected_products: list[str] = json_field(list)
    status: PlanStatus = enum_field(PlanStatus, default=PlanStatus.drafted)
    drafted_at: datetime = Field(default_factory=utcnow)
    decided_at: datetime | None = None
    decided_by: int | None = fk("account.id", nullable=True)
    decision_note: str = Field(default="", max_length=2000)

    resources: list["Resource"] = Relationship(link_model=PlanResource)


class SelectionResource(SQLModel, table=True):
    """The resources a selection round (one lot of the implementation plan) chooses an operator for."""

    selection_id: int = Field(foreign_key="selectionround.id", primary_key=True, ondelete="CASCADE")
    resource_id: int = Field(foreign_key="resource.id", primary_key=True, index=True)


class SelectionRound(Versioned, table=True):
    """The implementing institution chooses an operator for resources of its approved plan: a competitive
    round (applications, qualification, scores, a recorded decision on public notice) or a direct award with
    its grounds and justification (发改数据规〔2025〕27号; policy `[selection]`)."""

    id: int | None = Field(default=None, primary_key=True)
    code: str = Field(index=True, unique=True, max_length=64)
    institution_id: int = fk("organization.id")
    plan_id: int | None = fk("implementationplan.id", nullable=True)
    method: SelectionMethod = enum_field(SelectionMethod)
    status: SelectionStatus = enum_field(SelectionStatus, default=SelectionStatus.open)
    title: str = Field(default="", max_length=300)
    opened_at: datetime = Field(default_factory=utcnow)
    opened_by: int | None = fk("account.id", nullable=True)
    weights: dict[str, Any] = json_field(dict)
    decided_at: datetime | None = None
    decided_by: int | None = fk("account.id", nullable=True)
    winner_id: int | None = fk("organization.id", nullable=True)
    grounds: str = Field(default="", max_length=32)
    justification: str = Field(default="", max_length=2000)
    decision: dict[str, Any] = json_field(dict)
    notice_until: date | None = None

    resources: list["Resource"] = Relationship(link_model=SelectionResource)
    applications: list["SelectionApplication"] = Relationship(back_populates="selection")


class SelectionApplication(SQLModel, table=True):
    """An operator's application to a round: what it declares, whether it qualified (the rule it failed),
    the evaluation panel's scores and the weighted total."""

    __table_args__ = (sa.UniqueConstraint("selection_id", "operator_id"),)

    id: int | None = Field(default=None, primary_key=True)
    selection_id: int = fk("selectionround.id")
    operator_id: int = fk("organization.id")
    filed_by: int | None = fk("account.id", nullable=True)
    filed_at: datetime
    security_level: int
    registered_capital: Decimal = money_field(nullable=False)
    statement: str = Field(default="", max_length=2000)
    qualified: bool = True
    refusal_rule: str = Field(default="", max_length=100)
    refusal_reason: str = Field(default="", max_length=500)
    scores: dict[str, Any] = json_field(dict)
    total: Decimal | None = money_field()

    selection: SelectionRound = Relationship(back_populates="applications")


class Authorization(Versioned, table=True):
    """An authorized-operation agreement between an implementing agency and an operator."""

    id: int | None = Field(default=None, primary_key=True)
    code: str = Field(index=True, unique=True, max_length=64)
    agency_id: int = fk("organization.id")
    operator_id: int = fk("organization.id")
    model: AuthorizationModel = enum_field(AuthorizationModel)
    sector: str = Field(default="", max_length=100, description="for by_sector / by_scenario models")
    status: AuthorizationStatus = enum_field(AuthorizationStatus, default=AuthorizationStatus.proposed)
    term_start: date | None = None
    term_end: date | None = None
    created_at: datetime = Field(default_factory=utcnow)
    plan_id: int | None = fk("implementationplan.id", nullable=True)
    ended_reason: str = Field(default="", max_length=500)
    selection_id: int | None = fk("selectionround.id", nullable=True)
    obligations: list[dict[str, Any]] = json_field(list)

    agency: "Organization" = Relationship(
        sa_relationship_kwargs={"foreign_keys": "Authorization.agency_id"})
    operator: "Organization" = Relationship(
        sa_relationship_kwargs={"foreign_keys": "Authorization.operator_id"})
    resources: list["Resource"] = Relationship(link_model=AuthorizationResource)
    products: list["Product"] = Relationship(back_populates="authorization")


class ExitDuty(Versioned, table=True):
    """Once an authorization ends: the operator's duty to return or destroy the data it got, by a date."""

    id: int | None = Field(default=None, primary_key=True)
    authorization_id: int = Field(foreign_key="authorization.id", unique=True, index=True)
    operator_id: int = fk("organization.id")
    opened_at: datetime = Field(default_factory=utcnow)
    due: date
    status: ExitDutyStatus = enum_field(ExitDutyStatus, default=ExitDutyStatus.open)
    completed_at: datetime | None = None
    completed_by: int | None = fk("account.id", nullable=True)
    how: str = Field(default="", max_length=32, description="returned or destroyed")
    evidence: str = Field(default="", max_length=2000)


class Complaint(SQLModel, table=True):
    """A complaint about an operator, filed by anyone; counted by the operator's yearly evaluation."""

    id: int | None = Field(default=None, primary_key=True)
    operator_id: int = fk("organization.id")
    filed_by: int = fk("account.id")
    filed_at: datetime
    text: str = Field(max_length=2000)


class SecurityIncident(SQLModel, table=True):
    """A security incident at an operator (minor or major), recorded by the regulator or the operator."""

    id: int | None = Field(default=None, primary_key=True)
    operator_id: int = fk("organization.id")
    recorded_by: int = fk("account.id")
    recorded_at: datetime
    severity: str = Field(max_length=16, description="minor or major")
    description: str = Field(max_length=2000)


class Evaluation(SQLModel, table=True):
    """The regulator's yearly evaluation of an operator: facts, score, outcome and the sanction it led to."""

    __table_args__ = (sa.UniqueConstraint("operator_id", "year"),)

    id: int | None = Field(default=None, primary_key=True)
    operator_id: int = fk("organization.id")
    year: int = Field(index=True)
    facts: dict[str, Any] = json_field(dict)
    score: int = 0
    outcome: str = Field(max_length=32)
    rectify_by: date | None = None
    evaluated_by: int | None = fk("account.id", nullable=True)
    evaluated_at: datetime


class Publication(SQLModel, table=True):
    """A party's yearly disclosure (NDA notice of 10 Feb 2026): the implementing institution's authorizations
    and caps, or the operator's resources, products and prices, for `year`, due by the policy's deadline the
    year after. `status`: published (on time), late, or missed (the clock passed the deadline without it)."""

    __table_args__ = (sa.UniqueConstraint("party_id", "year"),)

    id: int | None = Field(default=None, primary_key=True)
    party_id: int = fk("organization.id")
    year: int = Field(index=True)
    role: str = Field(max_length=16, description="institution or operator")
    due: date
    status: str = Field(max_length=16, index=True)
    published_at: datetime | None = None
    content: dict[str, Any] = json_field(dict)


class Product(Versioned, table=True):
    """What an operator makes from authorized resources, priced under a regulated cap."""

    id: int | None = Field(default=None, primary_key=True)
    code: str = Field(index=True, unique=True, max_length=64)
    name: str = Field(max_length=300)
    operator_id: int = fk("organization.id")
    authorization_id: int | None = fk("authorization.id", nullable=True)
    kind: ProductKind = enum_field(ProductKind)
    transformation: str = Field(default="deidentified", max_length=32,
                                description="deidentified, aggregated, model, raw")
    billing_unit: BillingUnit = enum_field(BillingUnit)
    unit_cost: Decimal | None = money_field()
    price_cap: Decimal | None = money_field()
    actual_price: Decimal | None = money_field()
    status: ProductStatus = enum_field(ProductStatus, default=ProductStatus.draft)
    description: str = Field(default="")
    created_at: datetime = Field(default_factory=utcnow)

    operator: "Organization" = Relationship()
    authorization: Authorization | None = Relationship(back_populates="products")
    resources: list["Resource"] = Relationship(link_model=ProductResource)
    registrations: list["Registration"] = Relationship(back_populates="product")


class Quote(SQLModel, table=True):
    """A price computed by the policy for one request: one line per component, each with its reason."""

    id: int | None = Field(default=None, primary_key=True)
    request_id: int = fk("accessrequest.id")
    policy_name: str = Field(max_length=64)
    currency: str = Field(default="CNY", max_length=3)
    total: Decimal = money_field(Decimal("0"), nullable=False)
    lines: list[dict[str, Any]] = json_field(list)
    status: QuoteStatus = enum_field(QuoteStatus, default=QuoteStatus.offered)
    created_at: datetime = Field(default_factory=utcnow)
    accepted_at: datetime | None = None


class Payment(SQLModel, table=True):
    """A fee paid for an accepted quote, split exactly into operator revenue, holder share and taxes."""

    __table_args__ = (sa.UniqueConstraint("quote_id"),)

    id: int | None = Field(default=None, primary_key=True)
    request_id: int = fk("accessrequest.id")
    quote_id: int = fk("quote.id")
    operator_id: int | None = fk("organization.id", nullable=True)
    amount: Decimal = money_field(Decimal("0"), nullable=False)
    operator_revenue: Decimal = money_field(Decimal("0"), nullable=False)
    holder_share: Decimal = money_field(Decimal("0"), nullable=False)
    taxes: Decimal = money_field(Decimal("0"), nullable=False)
    paid_at: datetime = Field(default_factory=utcnow)


class RevenuePeriod(Versioned, table=True):
    """An operator's maximum allowed revenue (MAR) for one period and the revenue it actually took."""

    __table_args__ = (sa.UniqueConstraint("operator_id", "year"),)

    id: int | None = Field(default=None, primary_key=True)
    operator_id: int = fk("organization.id")
    year: int = Field(index=True)
    operating_cost: Decimal = money_field(Decimal("0"), nullable=False)
    profit_rate: Decimal = Field(default=Decimal("0"), sa_type=sa.Numeric(8, 5))
    taxes: Decimal = money_field(Decimal("0"), nullable=False)
    mar: Decimal = money_field(Decimal("0"), nullable=False)
    deduction: Decimal = money_field(Decimal("0"), nullable=False,
                                     description="over-MAR revenue of the last period")
    revenue: Decimal = money_field(Decimal("0"), nullable=False)
    base_mar: Decimal = money_field(Decimal("0"), nullable=False, description="MAR before the deduction")
    cost_filing_id: int | None = fk("costfiling.id", nullable=True)
    determined_by: int | None = fk("account.id", nullable=True)
    determined_at: datetime | None = None
    closed_at: datetime | None = Field(default=None, description="set when the period is closed")
    excess: Decimal = money_field(Decimal("0"), nullable=False,
                                  description="revenue above MAR at the close, carried to the next period")


class CostFiling(SQLModel, table=True):
    """An operator's costs for one period, filed with the price authority as the basis of its MAR."""

    __table_args__ = (sa.UniqueConstraint("operator_id", "year"),)

    id: int | None = Field(default=None, primary_key=True)
    code: str = Field(index=True, unique=True, max_length=64)
    operator_id: int = fk("organization.id")
    year: int = Field(index=True)
    costs: dict[str, Any] = json_field(dict)
    subsidy: Decimal = money_field(Decimal("0"), nullable=False)
    operating_cost: Decimal = money_field(Decimal("0"), nullable=False, description="costs minus subsidy")
    taxes: Decimal = money_field(Decimal("0"), nullable=False, description="taxes forecast for the period")
    basis: str = Field(default="", max_length=2000)
    filed_by: int | None = fk("account.id", nullable=True)
    filed_at: datetime = Field(default_factory=utcnow)


class CapFiling(SQLModel, table=True):
    """A product's cap as the authorizing body filed it in writing: date, basis, forecast volume."""

    id: int | None = Field(default=None, primary_key=True)
    code: str = Field(index=True, unique=True, max_length=64)
    product_id: int = fk("product.id")
    operator_id: int = fk("organization.id")
    agency_id: int | None = fk("organization.id", nullable=True)
    year: int = Field(index=True)
    cap: Decimal = money_field(Decimal("0"), nullable=False)
    forecast_volume: int = Field(default=1)
    forecast_revenue: Decimal = money_field(Decimal("0"), nullable=False)
    provisional: bool = Field(default=False, description="a trial cap filed before MAR was set")
    basis: str = Field(default="", max_length=2000)
    status: str = Field(default="in_force", max_length=16, index=True, description="in_force or superseded")
    filed_by: int | None = fk("account.id", nullable=True)
    filed_at: datetime = Field(default_factory=utcnow)
