"""Catalog: public data resources, their field schema and registrations."""

from datetime import date, datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa
from sqlmodel import Field, Relationship, SQLModel

from marketplace.models.columns import Versioned, enum_field, fk, json_field, money_field, utcnow
from marketplace.vocabulary import (
    FieldMarking,
    FieldType,
    Grade,
    ObjectionStatus,
    OpeningAttribute,
    RegistrationStatus,
    RegistrationSubject,
    RegistrationType,
    SharingAttribute,
)

if TYPE_CHECKING:
    from marketplace.models.commerce import Product
    from marketplace.models.parties import Account, Organization


class Resource(Versioned, table=True):
    """A public data resource held by an organization (the data holder)."""

    id: int | None = Field(default=None, primary_key=True)
    code: str = Field(index=True, unique=True, max_length=64)
    title: str = Field(max_length=300)
    domain: str = Field(index=True, max_length=64)
    description: str = Field(default="")
    holder_id: int = fk("organization.id")
    grade: Grade = enum_field(Grade)
    sharing_attribute: SharingAttribute = enum_field(SharingAttribute)
    opening_attribute: OpeningAttribute = enum_field(OpeningAttribute)
    update_frequency: str = Field(default="monthly", max_length=32)
    row_count: int = Field(default=0, description="size: number of records held")
    cost_basis: Decimal | None = money_field(description="yearly cost of producing and maintaining the data")
    template: str = Field(default="", max_length=64, description="synthetic-row template")
    keywords: list[str] = json_field(list)
    published: bool = Field(default=False, description="already published in the sharing catalogue")
    epsilon_budget: float | None = Field(default=None, description="ε budget; None = policy")
    source: str = Field(default="seed", max_length=200, description="seed, or the URI it was imported from")
    created_at: datetime = Field(default_factory=utcnow)

    holder: "Organization" = Relationship(back_populates="resources")
    fields: list["ResourceField"] = Relationship(
        back_populates="resource", cascade_delete=True,
        sa_relationship_kwargs={"order_by": "ResourceField.position"},
    )
    registrations: list["Registration"] = Relationship(back_populates="resource")

    @property
    def contains_personal_info(self) -> bool:
        return any(f.marking != FieldMarking.other for f in self.fields)


class ResourceField(SQLModel, table=True):
    """One column of a resource's schema, with its privacy marking."""

    __table_args__ = (sa.UniqueConstraint("resource_id", "name"),)

    id: int | None = Field(default=None, primary_key=True)
    resource_id: int = fk("resource.id", ondelete="CASCADE")
    position: int = Field(default=0)
    name: str = Field(max_length=100)
    dtype: FieldType = enum_field(FieldType, index=False)
    marking: FieldMarking = enum_field(FieldMarking)
    description: str = Field(default="")
    generator: str = Field(default="", max_length=64, description="synthetic generator for this column")
    params: dict[str, Any] = json_field(dict)

    resource: Resource = Relationship(back_populates="fields")


class Registration(Versioned, table=True):
    """The public registration record of a resource or a product."""

    id: int | None = Field(default=None, primary_key=True)
    code: str | None = Field(default=None, index=True, unique=True, max_length=64,
                             description="issued when registered")
    subject: RegistrationSubject = enum_field(RegistrationSubject)
    resource_id: int | None = fk("resource.id", nullable=True)
    product_id: int | None = fk("product.id", nullable=True)
    type: RegistrationType = enum_field(RegistrationType)
    status: RegistrationStatus = enum_field(RegistrationStatus, default=RegistrationStatus.submitted)
    applicant_id: int | None = fk("account.id", nullable=True)
    registrar_id: int | None = fk("account.id", nullable=True)
    previous_id: int | None = fk("registration.id", nullable=True)
    submitted_at: datetime | None = None
    notice_until: date | None = None
    registered_at: datetime | None = None
    valid_until: date | None = None
    reason: str = Field(default="")
    details: dict[str, Any] = json_field(dict)

    resource: Resource | None = Relationship(back_populates="registrations")
    product: "Product" = Relationship(back_populates="registrations")
    applicant: "Account" = Relationship(sa_relationship_kwargs={"foreign_keys": "Registration.applicant_id"})


class Objection(Versioned, table=True):
    """An objection anyone files during a registration's public notice; the registrar decides it by `due`
    (upheld: the registration is refused; dismissed: it continues)."""

    id: int | None = Field(default=None, primary_key=True)
    registration_id: int = fk("registration.id")
    filed_by: int = fk("account.id")
    filed_at: datetime
    grounds: str = Field(max_length=2000)
    due: date
    status: ObjectionStatus = enum_field(ObjectionStatus, default=ObjectionStatus.open)
    decided_by: int | None = fk("account.id", nullable=True)
    decided_at: datetime | None = None
    decision_note: str = Field(default="", max_length=2000)



class SharingList(Versioned, table=True):
    """A department's sharing responsibility list (共享责任清单): the resources it must share with other
    departments for their duties. One list per holder; its entries are added and withdrawn over time."""

    id: int | None = Field(default=None, primary_key=True)
    code: str = Field(index=True, unique=True, max_length=64)
    holder_id: int = Field(foreign_key="organization.id", unique=True, index=True)
    basis: str = Field(default="", max_length=500, description="the duty or instrument the list rests on")
    published_at: datetime
    published_by: int | None = fk("account.id", nullable=True)
    updated_at: datetime | None = None

    holder: "Organization" = Relationship()
    entries: list["SharingListEntry"] = Relationship(
        back_populates="sharing_list", sa_relationship_kwargs={"order_by": "SharingListEntry.id"}
    )


class SharingListEntry(Versioned, table=True):
    """One resource on a list: who may cite it (`recipients`: organization ids; empty = any department with
    the duty), for which purposes, on which duty; `status` in_force or withdrawn."""

    id: int | None = Field(default=None, primary_key=True)
    code: str = Field(index=True, unique=True, max_length=64)
    list_id: int = fk("sharinglist.id")
    resource_id: int = fk("resource.id")
    recipients: list[int] = json_field(list)
    purposes: list[str] = json_field(list)
    duty: str = Field(default="", max_length=500, description="the recipients' duty the sharing serves")
    status: str = Field(default="in_force", max_length=16, index=True)
    added_at: datetime
    withdrawn_at: datetime | None = None

    sharing_list: SharingList = Relationship(back_populates="entries")
    resource: Resource = Relationship()


class DatasetCopies(SQLModel, table=True):
    """How many open datasets of its kind a seeded resource stands for (the `national` world only).

    A national catalog calibrated to the published count of open datasets (340,000) is far too large to hold
    one resource per dataset; each open resource of a region stands for `copies` datasets of its kind on the
    region's open-data platforms, so the sum over resources is the calibrated figure
    (seed/world/national.toml).
    """

    resource_id: int = Field(foreign_key="resource.id", primary_key=True)
    copies: int = Field(ge=1)
