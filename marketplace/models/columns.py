"""Column helpers shared by the tables.

Why these exist: every status/kind is stored as a plain string column (portable between SQLite and
PostgreSQL, no native enum types to migrate) yet typed as the vocabulary enum in Python; money is an exact
decimal; rows that several people can change carry a version column that SQLAlchemy checks on every UPDATE
(optimistic locking: a stale write raises instead of silently overwriting).
"""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from enum import StrEnum
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import declared_attr
from sqlmodel import Field, SQLModel

MONEY = sa.Numeric(16, 2)


def utcnow() -> datetime:
    """Wall-clock time, timezone-aware (datetime columns store UTC); sandbox time comes from the clock."""
    return datetime.now(UTC)


def enum_field(enum: type[StrEnum], *, default: Any = ..., index: bool = True, nullable: bool = False) -> Any:
    """A string column typed as a vocabulary enum."""
    sa_type = sa.Enum(enum, native_enum=False, length=32, validate_strings=True,
                      values_callable=lambda e: [m.value for m in e])
    if default is ...:
        return Field(sa_type=sa_type, index=index, nullable=nullable)
    return Field(default=default, sa_type=sa_type, index=index, nullable=nullable)


def json_field(default_factory: Any = dict) -> Any:
    return Field(default_factory=default_factory, sa_type=sa.JSON, nullable=False)


def money_field(default: Decimal | None = None, *, nullable: bool = True, **kw: Any) -> Any:
    return Field(default=default, sa_type=MONEY, nullable=nullable, **kw)


def fk(target: str, *, nullable: bool = False, index: bool = True, ondelete: str | None = None) -> Any:
    return Field(default=None, foreign_key=target, index=index, nullable=nullable, ondelete=ondelete)


class Versioned(SQLModel):
    """Mixin for rows that several people can change: SQLAlchemy bumps `version` and checks it on UPDATE."""

    version: int = Field(default=1, nullable=False)

    @declared_attr.directive
    def __mapper_args__(cls) -> dict[str, Any]:
        return {"version_id_col": cls.__table__.c.version}
