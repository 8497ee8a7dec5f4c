"""In-domain computation: allowances (ε budgets, daily query and verification limits) and execution events.

Self-contained: grant, requester and resource are plain indexed ids (no foreign keys), so the ledger can be
used, tested and migrated on its own; the workflow layer links a run to its grant and audit event.
"""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from marketplace.models.columns import enum_field, json_field, utcnow
from marketplace.vocabulary import ComputeKind, ComputeUnit


class ComputeAllowance(SQLModel, table=True):
    """One budget: `used` of `cap` for a (scope, key, period), e.g. ε of grant 7, or calls of grant 7 a day.

    Spending is a single conditional UPDATE (`used + amount <= cap`), atomic on SQLite and PostgreSQL alike,
    so concurrent computations can never overspend; the unique key makes creating the row race-free.
    """

    __table_args__ = (sa.UniqueConstraint("scope", "key", "period", name="uq_compute_allowance"),)

    id: int | None = Field(default=None, primary_key=True)
    scope: str = Field(max_length=32)
    key: str = Field(max_length=64)
    period: str = Field(default="", max_length=16)
    cap: float
    used: float = Field(default=0.0)


class ComputeRun(SQLModel, table=True):
    """One computation asked of a holder's environment: accepted or refused, with what it cost.

    `fingerprint` is a SHA-256 of the normalised computation (never of its result); `rule` names the rule that
    refused it; `unit` and `units` are what it is billed (the policy's unit for its kind); `answer` is kept
    only for verification (a yes/no that must be auditable).
    """

    id: int | None = Field(default=None, primary_key=True)
    grant_id: int = Field(index=True)
    requester_id: int = Field(index=True)
    resource_id: int = Field(index=True)
    kind: ComputeKind = enum_field(ComputeKind)
    fingerprint: str = Field(max_length=64, index=True)
    accepted: bool
    rule: str = Field(default="", max_length=64)
    epsilon: float = Field(default=0.0)
    delta: float = Field(default=0.0)
    unit: ComputeUnit | None = enum_field(ComputeUnit, default=None, index=False, nullable=True)
    units: int = Field(default=0)
    cells_suppressed: int = Field(default=0)
    answer: bool | None = Field(default=None)
    detail: dict = json_field()
    at: datetime = Field(default_factory=utcnow)
