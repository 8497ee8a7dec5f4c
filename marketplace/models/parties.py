"""Parties: organizations, the accounts acting for them, and the roles an account holds."""

from datetime import datetime
from typing import TYPE_CHECKING

import sqlalchemy as sa
from sqlmodel import Field, Relationship, SQLModel

from marketplace.models.columns import Versioned, enum_field, fk, utcnow
from marketplace.vocabulary import EnterpriseSize, OrganizationKind, Role

if TYPE_CHECKING:
    from marketplace.models.catalog import Resource


class Organization(Versioned, table=True):
    id: int | None = Field(default=None, primary_key=True)
    code: str = Field(index=True, unique=True, max_length=64)
    name: str = Field(max_length=200)
    kind: OrganizationKind = enum_field(OrganizationKind)
    size: EnterpriseSize | None = enum_field(EnterpriseSize, default=None, nullable=True)
    region: str = Field(default="", max_length=100, index=True)
    sector: str = Field(default="", max_length=100)
    created_at: datetime = Field(default_factory=utcnow)

    accounts: list["Account"] = Relationship(back_populates="organization")
    resources: list["Resource"] = Relationship(back_populates="holder")


class Account(Versioned, table=True):
    id: int | None = Field(default=None, primary_key=True)
    username: str = Field(index=True, unique=True, max_length=100)
    display_name: str = Field(max_length=200)
    email: str = Field(default="", max_length=200)
    organization_id: int = fk("organization.id")
    active: bool = Field(default=True)
    created_at: datetime = Field(default_factory=utcnow)

    organization: "Organization" = Relationship(back_populates="accounts")
    roles: list["AccountRole"] = Relationship(back_populates="account", cascade_delete=True)

    @property
    def role_names(self) -> set[Role]:
        return {r.role for r in self.roles}


class AccountRole(SQLModel, table=True):
    __table_args__ = (sa.UniqueConstraint("account_id", "role"),)

    id: int | None = Field(default=None, primary_key=True)
    account_id: int = fk("account.id", ondelete="CASCADE")
    role: Role = enum_field(Role)

    account: "Account" = Relationship(back_populates="roles")

