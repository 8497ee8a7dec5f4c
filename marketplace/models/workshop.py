"""Workshop mode: participants bound to accounts by join codes, released exercises, checkpoints."""

from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from marketplace.models.columns import fk, json_field, utcnow


class Participant(SQLModel, table=True):
    """One seat of a workshop: the account a join code binds to.

    Only a SHA-256 digest of the join code is stored, so a database dump or a checkpoint does not reveal the
    codes handed out on the roster.
    """

    id: int | None = Field(default=None, primary_key=True)
    account_id: int = Field(foreign_key="account.id", unique=True, index=True)
    join_code_hash: str = Field(index=True, unique=True, max_length=64)
    seat: int = Field(default=0, description="row number on the roster")
    group: str = Field(
        default="",
        max_length=32,
        index=True,
        description="department, enterprise, steward, operator, ... or trainer/background",
    )
    created_at: datetime = Field(default_factory=utcnow)
    last_seen_at: datetime | None = None


class ExerciseRelease(SQLModel, table=True):
    """An exercise the trainer has released to the participants, in release order."""

    id: int | None = Field(default=None, primary_key=True)
    exercise_id: str = Field(index=True, unique=True, max_length=64)
    position: int = Field(default=0)
    released_by_id: int | None = fk("account.id", nullable=True)
    released_at: datetime = Field(default_factory=utcnow, description="wall-clock time")


class Checkpoint(SQLModel, table=True):
    """A portable JSON snapshot of every marketplace table (all but this one), restorable on any backend."""

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(index=True, unique=True, max_length=100)
    created_by_id: int | None = Field(default=None, description="account id, no FK: survives restore")
    created_at: datetime = Field(default_factory=utcnow)
    counts: dict[str, Any] = json_field(dict)
    snapshot: dict[str, Any] = Field(default_factory=dict, sa_type=sa.JSON, nullable=False)


class ActionReceipt(SQLModel, table=True):
    """The outcome of one participant action, keyed by a client-chosen idempotency key.

    Written in the same transaction as the action itself, so after a lost connection the client can tell
    whether its action landed (receipt present) and a retry never performs it twice.
    """

    key: str = Field(primary_key=True, max_length=64)
    account_id: int = Field(index=True)
    action: str = Field(max_length=64)
    subject_type: str = Field(default="", max_length=32)
    subject_id: int | None = None
    result: dict[str, Any] = json_field(dict)
    at: datetime = Field(default_factory=utcnow)
