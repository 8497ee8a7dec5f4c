"""Requests and their outcome: requests, review stages, conditions, grants, deliveries, usage reports."""

from datetime import date, datetime
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa
from sqlmodel import Field, Relationship, SQLModel

from marketplace.models.columns import Versioned, enum_field, fk, json_field, utcnow
from marketplace.vocabulary import (
    Channel,
    ConditionKind,
    Decision,
    DeliveryKind,
    GrantStatus,
    Purpose,
    RequestStatus,
    ReviewStage,
    ReviewStatus,
    Role,
)

if TYPE_CHECKING:
    from marketplace.models.catalog import Resource, SharingListEntry
    from marketplace.models.commerce import Product
    from marketplace.models.parties import Account, Organization


class AccessRequest(Versioned, table=True):
    """A request by an account for a resource (sharing/opening) or a product (authorized operation)."""

    id: int | None = Field(default=None, primary_key=True)
    code: str = Field(index=True, unique=True, max_length=64)
    requester_id: int = fk("account.id")
    requester_org_id: int = fk("organization.id")
    channel: Channel = enum_field(Channel)
    resource_id: int | None = fk("resource.id", nullable=True)
    product_id: int | None = fk("product.id", nullable=True)
    purpose: Purpose = enum_field(Purpose)
    use_statement: str = Field(default="")
    project_reference: str = Field(default="", max_length=200,
                                   description="the public project a free-use claim serves")
    sponsor_org_id: int | None = fk("organization.id", nullable=True)
    list_entry_id: int | None = fk("sharinglistentry.id", nullable=True)
    fields: list[str] = json_field(list)
    volume: int = Field(default=1)
    duration_days: int = Field(default=365)
    status: RequestStatus = enum_field(RequestStatus, default=RequestStatus.draft)
    policy_name: str = Field(default="", max_length=64)
    created_at: datetime = Field(default_factory=utcnow)
    submitted_at: datetime | None = Field(default=None, index=True)
    decided_at: datetime | None = None
    updated_at: datetime | None = None

    requester: "Account" = Relationship()
    requester_org: "Organization" = Relationship(
        sa_relationship_kwargs={"foreign_keys": "AccessRequest.requester_org_id"})
    resource: "Resource" = Relationship()
    product: "Product" = Relationship()
    list_entry: "SharingListEntry" = Relationship()
    reviews: list["Review"] = Relationship(back_populates="request",
                                           sa_relationship_kwargs={"order_by": "Review.sequence"})
    conditions: list["Condition"] = Relationship(back_populates="request")
    grant: "Grant" = Relationship(back_populates="request")


#: Statuses of an open review stage: the review queue lists these (opened, with a due date) and nothing else.
OPEN_STAGE_STATUSES = (ReviewStatus.pending, ReviewStatus.escalated)
#: The partial index's predicate, as SQL with literal values: both backends' planners use a partial index
#: only for a query whose WHERE implies this (`workflows.reviews.queue_query` states the same terms).
OPEN_STAGE_WHERE = (
    "status IN (" + ", ".join(f"'{s.value}'" for s in OPEN_STAGE_STATUSES) + ") "
    "AND opened_at IS NOT NULL AND due_on IS NOT NULL"
)
#: Name of the index of the open stages in queue order (due date, then id): the queue pages along it by key.
OPEN_STAGE_INDEX = "ix_review_open_due"


class Review(Versioned, table=True):
    """One review stage of a request, with its due date from the policy."""

    __table_args__ = (
        sa.UniqueConstraint("request_id", "sequence"),
        sa.Index(OPEN_STAGE_INDEX, "due_on", "id", sqlite_where=sa.text(OPEN_STAGE_WHERE),
                 postgresql_where=sa.text(OPEN_STAGE_WHERE)),
    )

    id: int | None = Field(default=None, primary_key=True)
    request_id: int = fk("accessrequest.id")
    sequence: int = Field(default=0)
    stage: ReviewStage = enum_field(ReviewStage)
    reviewer_role: Role = enum_field(Role, index=False)
    reviewer_org_id: int | None = fk("organization.id", nullable=True)
    reviewer_id: int | None = fk("account.id", nullable=True)
    status: ReviewStatus = enum_field(ReviewStatus, default=ReviewStatus.pending)
    decision: Decision | None = enum_field(Decision, default=None, nullable=True, index=False)
    reason: str = Field(default="")
    opened_at: datetime | None = None
    due_on: date | None = Field(default=None, index=True)
    decided_at: datetime | None = None
    breached: bool = Field(default=False, index=True)

    request: AccessRequest = Relationship(back_populates="reviews")


class Condition(SQLModel, table=True):
    """A term attached to a request by the policy or a reviewer, enforced at delivery."""

    id: int | None = Field(default=None, primary_key=True)
    request_id: int = fk("accessrequest.id")
    review_id: int | None = fk("review.id", nullable=True)
    kind: ConditionKind = enum_field(ConditionKind)
    params: dict[str, Any] = json_field(dict)
    text: str = Field(default="", max_length=300)
    source: str = Field(default="policy", max_length=32, description="policy or reviewer")

    request: AccessRequest = Relationship(back_populates="conditions")


class Grant(Versioned, table=True):
    """The licence that results from an approved request: ODRL-shaped terms, validity, revocation."""

    id: int | None = Field(default=None, primary_key=True)
    code: str = Field(index=True, unique=True, max_length=64)
    request_id: int = Field(foreign_key="accessrequest.id", unique=True, index=True)
    terms: dict[str, Any] = json_field(dict)
    status: GrantStatus = enum_field(GrantStatus, default=GrantStatus.active)
    valid_from: date
    valid_until: date | None = Field(default=None, index=True)
    revoked_reason: str = Field(default="")
    suspended_reason: str = Field(default="", max_length=500)
    usage_report_due: date | None = None
    created_at: datetime = Field(default_factory=utcnow)

    request: AccessRequest = Relationship(back_populates="grant")
    deliveries: list["Delivery"] = Relationship(back_populates="grant")
    usage_reports: list["UsageReport"] = Relationship(
        back_populates="grant", sa_relationship_kwargs={"order_by": "UsageReport.id"}
    )


class Delivery(SQLModel, table=True):
    """What was actually released under a grant, with its checksum and privacy report."""

    id: int | None = Field(default=None, primary_key=True)
    grant_id: int = fk("grant.id")
    request_id: int = fk("accessrequest.id")
    kind: DeliveryKind = enum_field(DeliveryKind)
    row_count: int = Field(default=0)
    columns: list[str] = json_field(list)
    checksum: str = Field(default="", max_length=64)
    privacy_report: dict[str, Any] | None = Field(default=None, sa_type=sa.JSON)
    delivered_at: datetime = Field(default_factory=utcnow)

    grant: Grant = Relationship(back_populates="deliveries")


class UsageReport(SQLModel, table=True):
    """How granted data was used, as the grantee reports it: the grant's `report_usage` duty, each period."""

    id: int | None = Field(default=None, primary_key=True)
    grant_id: int = fk("grant.id")
    request_id: int = fk("accessrequest.id")
    filed_by_id: int = fk("account.id")
    period_due: date = Field(description="the due date this report answers")
    filed_at: datetime = Field(description="sandbox time")
    late: bool = Field(default=False)
    summary: str = Field(max_length=2000)

    grant: Grant = Relationship(back_populates="usage_reports")
