"""The append-only, hash-chained audit log."""

from datetime import datetime
from typing import Any

from sqlmodel import Field, SQLModel

from marketplace.models.columns import enum_field, json_field, utcnow
from marketplace.vocabulary import AuditOutcome


class AuditEvent(SQLModel, table=True):
    """One state change or refused attempt; `hash` covers the event and the previous event's hash."""

    id: int | None = Field(default=None, primary_key=True)
    seq: int = Field(index=True, unique=True)
    at: datetime = Field(default_factory=utcnow, description="sandbox time")
    recorded_at: datetime = Field(default_factory=utcnow, description="wall-clock time")
    # No foreign key: history outlives the rows it names (a restore takes accounts back, never events).
    actor_id: int | None = Field(default=None, index=True)
    action: str = Field(max_length=64, index=True)
    subject_type: str = Field(default="", max_length=32)
    subject_id: int | None = Field(default=None, index=True)
    outcome: AuditOutcome = enum_field(AuditOutcome, default=AuditOutcome.ok)
    payload: dict[str, Any] = json_field(dict)
    prev_hash: str = Field(max_length=64)
    hash: str = Field(max_length=64)
