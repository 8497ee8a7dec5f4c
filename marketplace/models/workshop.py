"""Workshop mode: participants bound to accounts by join codes, released exercises, checkpoints."""

from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from marketplace.models.columns import fk, json_field, utcnow


class Participant(SQLModel, table=True):
    """One seat of a workshop: the account a join code binds to.

    Only digests of the join code are stored, so a database dump or a checkpoint does not reveal the codes
    handed out on the roster: a SHA-256 digest that finds the seat, and a salted, slow argon2id digest
    (`join_code_kdf`) that the workshop server checks before it issues a session token (seats made before it
    existed have none until their first join through the server).
    """

    id: int | None = Field(default=None, primary_key=True)
    account_id: int = Field(foreign_key="account.id", unique=True, index=True)
    join_code_hash: str = Field(index=True, unique=True, max_length=64)
    join_code_kdf: str = Field(default="", max_length=200)
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


class SessionToken(SQLModel, table=True):
    """A session the workshop server issued for a join code: only the token's SHA-256 digest is stored.

    The token is 256 random bits (`secrets`), so a plain digest suffices; it is bound to the code digest
    it was issued for (a reissued code ends its sessions), expires, and the trainer can revoke it. No
    foreign keys, and outside checkpoints: a restore neither revives a revoked session nor drops a record.
    """

    id: int | None = Field(default=None, primary_key=True)
    token_hash: str = Field(index=True, unique=True, max_length=64)
    account_id: int = Field(index=True)
    code_hash: str = Field(max_length=64)
    client: str = Field(default="", max_length=64, description="the client address that joined")
    issued_at: datetime = Field(default_factory=utcnow)
    expires_at: datetime
    revoked_at: datetime | None = None
    revoked_by_id: int | None = None
