"""The append-only, hash-chained audit log.

Every state change and every refused attempt appends one `AuditEvent`; its `hash` is SHA-256 over a canonical
JSON of the event's fields and the previous event's hash, so changing, deleting or reordering any row breaks
the chain at that row and `verify_chain` names it.

Appends are serialised so that concurrent writers never fork the chain: PostgreSQL takes a transaction-scoped
advisory lock, SQLite takes its database write lock (a no-op UPDATE) before reading the chain head. Events are
numbered and hashed as they happen and written together (one executemany) just before the transaction
commits, with the log head; reads of the log in the same transaction write them first.

Refused attempts must be recorded even though the step that was refused rolls back: `refuse()` queues the
event on the session; it is written inside the same transaction if the caller commits anyway, or in a fresh
short transaction right after the session's transaction ends without a commit (rollback or close)."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.orm import Session as OrmSession
from sqlalchemy.orm.attributes import instance_state
from sqlmodel import Session, select

from marketplace.fastsql import Statement
from marketplace.models import Account, AuditEvent, SandboxSetting
from marketplace.vocabulary import AuditOutcome, Role

GENESIS = "0" * 64
_ADVISORY_KEY = 0x4D4B54415544  # "MKTAUD": one lock for the whole chain
_PENDING = "marketplace.audit.pending"  # refused events not written yet
_INLINE = "marketplace.audit.inline"  # refused events written in the open transaction (redone on rollback)
_HEAD = "marketplace.audit.head"
_BUFFER = "marketplace.audit.buffer"  # events of the open transaction, written together before it commits
_MOVED = "marketplace.audit.head_moved"
_TRANSACTION_CACHES = (
    "marketplace.clock",
    "marketplace.policy",
    "marketplace.settings",
    "marketplace.settings.values",
    "marketplace.roles.read",
)
HEAD_KEY = "audit_head"  # setting anchoring the last (seq, hash), so deleting the newest events shows

__all__ = [
    "GENESIS",
    "ChainCheck",
    "event_hash",
    "events",
    "forget_cached_state",
    "record",
    "refuse",
    "subject_of",
    "verify_chain",
    "write_buffered",
]


# ---------------------------------------------------------------- subjects


def subject_of(obj: Any) -> tuple[str, int | None, str]:
    """(type, id, label) of a row for the log: label is what a person reads ("request REQ-2025-000003")."""
    if obj is None:
        return "", None, "sandbox"
    if isinstance(obj, tuple):
        kind, ident = obj
        return kind, ident, f"{kind} {ident}"
    kind = type(obj).__name__.lower()
    kind = {"accessrequest": "request", "sandboxsetting": "setting"}.get(kind, kind)
    ident = getattr(obj, "id", None)
    code = getattr(obj, "code", None) or getattr(obj, "key", None) or ident
    return kind, ident if isinstance(ident, int) else None, f"{kind} {code}"


# ---------------------------------------------------------------- hashing


def _time_text(at: datetime) -> str:
    """UTC, no offset, microseconds: the form both SQLite and PostgreSQL give back for the `at` column."""
    if at.tzinfo is not None:
        at = at.astimezone(UTC).replace(tzinfo=None)
    return at.isoformat(timespec="microseconds")


_CANONICAL = json.JSONEncoder(sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)


def _canonical(value: Any) -> str:
    """Sorted keys, no spaces, UTF-8 text, anything else as `str` (one encoder, made once)."""
    return _CANONICAL.encode(value)


def jsonable(payload: dict[str, Any] | None) -> dict[str, Any]:
    """The payload exactly as it will be stored and read back (Decimals, dates and enums as strings)."""
    return json.loads(_canonical(payload or {}))


def event_hash(
    *,
    seq: int,
    at: datetime,
    actor_id: int | None,
    action: str,
    subject_type: str,
    subject_id: int | None,
    outcome: str,
    payload: dict[str, Any],
    prev_hash: str,
) -> str:
    body = {
        "seq": seq,
        "at": _time_text(at),
        "actor_id": actor_id,
        "action": action,
        "subject_type": subject_type,
        "subject_id": subject_id,
        "outcome": str(outcome),
        "payload": payload,
        "prev_hash": prev_hash,
    }
    return hashlib.sha256(_canonical(body).encode()).hexdigest()


# ---------------------------------------------------------------- appending


_INSERT_EVENT = Statement(sa.insert(AuditEvent.__table__))
_SQLITE_HEAD = sa.text("UPDATE sandboxsetting SET version = version WHERE key = :k RETURNING value")
_SQLITE_LOCK = sa.text("UPDATE auditevent SET seq = seq WHERE 1 = 0")
_PG_LOCK = sa.text("SELECT pg_advisory_xact_lock(:k)")
_LAST_EVENT = sa.select(AuditEvent.seq, AuditEvent.hash).order_by(AuditEvent.seq.desc()).limit(1)
_SETTING = SandboxSetting.__table__
_MOVE_HEAD = Statement(
    sa.update(_SETTING).where(_SETTING.c.key == sa.bindparam("k")).values(version=_SETTING.c.version + 1)
)
_NEW_HEAD = sa.insert(_SETTING)


_SQLITE_OPEN = Statement(sa.text(
    "UPDATE sandboxsetting SET version = version WHERE key IN (:h, :c, :p) RETURNING key, value, "
    "(SELECT group_concat(role, ',') FROM accountrole WHERE account_id = :a)"
))


_READ_OPEN = sa.text(
    "SELECT key, value, (SELECT string_agg(role, ',') FROM accountrole WHERE account_id = :a) "
    "FROM sandboxsetting WHERE key IN (:h, :c, :p)"
)
ROLES_READ = "marketplace.roles.read"  # (account id, roles) read by open_step for the step's own role check


def open_step(session: Session, actor: Account | None = None) -> None:
    """Start a writing step by taking the chain lock and reading the chain head, clock and policy at once.

    Every step that calls this writes (or, when refused, logs its refusal), so it needs the chain lock anyway;
    taking it first lets one statement return the settings the step reads as well as the chain head (SQLite:
    the write lock and the reads in one UPDATE ... RETURNING; PostgreSQL: the advisory lock, then one query),
    instead of separate queries for the settings, the lock and the head. Once anything was read, a no-op.
    With `actor`, the same statement reads the actor's roles, for the role check that follows at once
    (`roles.roles_of` takes them, once).
    """
    from marketplace.models import AccountRole
    from marketplace.workflows._core import _SETTING_VALUES, SETTING_KEYS, quiet_connection

    info = session.info
    if _HEAD in info or _SETTING_VALUES in info or "marketplace.settings" in info:
        return
    actor_id = actor.id if actor is not None and "roles" not in instance_state(actor).dict else None
    conn = quiet_connection(session, AccountRole) if actor_id is not None else session.connection()
    clock_key, policy_key = SETTING_KEYS
    keys = {"h": HEAD_KEY, "c": clock_key, "p": policy_key, "a": -1 if actor_id is None else actor_id}
    if conn.dialect.name == "sqlite":
        rows = list(_SQLITE_OPEN.execute(conn, keys).all())
    elif conn.dialect.name == "postgresql":
        # The chain lock first, then (in a later statement, so a fresh snapshot) the head and settings.
        conn.execute(_PG_LOCK, {"k": _ADVISORY_KEY})
        rows = list(conn.execute(_READ_OPEN, keys).all())
    else:
        return
    if actor_id is not None and rows:
        info[ROLES_READ] = (actor_id, {Role(r) for r in (rows[0][2] or "").split(",") if r})
    if conn.dialect.name == "sqlite":  # SQLite gives the JSON text back; psycopg has decoded it already
        rows = [(k, json.loads(v) if isinstance(v, str) else v, r) for k, v, r in rows]
    values = {k: v for k, v, _ in rows}
    info[_SETTING_VALUES] = {clock_key: values.get(clock_key), policy_key: values.get(policy_key)}
    head = values.get(HEAD_KEY)
    if isinstance(head, dict):
        info[_HEAD] = (int(head["seq"]), head["hash"])


def _lock_chain(session: Session) -> None:
    conn = session.connection()
    if conn.dialect.name == "postgresql":
        conn.execute(_PG_LOCK, {"k": _ADVISORY_KEY})
    elif conn.dialect.name == "sqlite":
        # Any write statement makes SQLite take its RESERVED lock for the rest of the transaction.
        conn.execute(_SQLITE_LOCK)


def _append(
    session: Session,
    *,
    actor_id: int | None,
    action: str,
    subject_type: str,
    subject_id: int | None,
    outcome: AuditOutcome,
    payload: dict[str, Any],
    at: datetime,
) -> int:
    head = session.info.get(_HEAD)
    conn = session.connection()
    if head is None and conn.dialect.name == "sqlite":
        # One statement takes SQLite's write lock and reads the recorded head of the chain.
        anchor = conn.execute(_SQLITE_HEAD, {"k": HEAD_KEY}).first()
        if anchor is not None:
            value = anchor[0] if isinstance(anchor[0], dict) else json.loads(anchor[0])
            head = (int(value["seq"]), value["hash"])
    if head is None:
        _lock_chain(session)
        row = conn.execute(_LAST_EVENT).first()
        head = (row[0], row[1]) if row else (0, GENESIS)
    seq, prev = head[0] + 1, head[1]
    digest = event_hash(
        seq=seq,
        at=at,
        actor_id=actor_id,
        action=action,
        subject_type=subject_type,
        subject_id=subject_id,
        outcome=outcome.value,
        payload=payload,
        prev_hash=prev,
    )
    row = {
        "seq": seq,
        "at": at,
        "recorded_at": datetime.now(UTC),
        "actor_id": actor_id,
        "action": action,
        "subject_type": subject_type,
        "subject_id": subject_id,
        "outcome": outcome.value,
        "payload": payload,
        "prev_hash": prev,
        "hash": digest,
    }
    info = session.info
    buffer = info.get(_BUFFER)
    if buffer is None:
        info[_BUFFER] = [row]
    else:
        buffer.append(row)
    info[_HEAD] = (seq, digest)  # we hold the lock until the transaction ends
    info[_MOVED] = True
    return seq


def write_buffered(session: Session | OrmSession) -> None:
    """INSERT the events appended in the open transaction (one executemany); reads of the log call it first.

    Events are hashed and numbered when they happen (under the chain lock) and written together: a step
    that records several events (a decision that approves and grants) makes one round trip for them.
    They are written before the transaction commits, so they commit or roll back with the step's changes.
    """
    rows = session.info.pop(_BUFFER, None)
    if rows:
        _INSERT_EVENT.execute(session.connection(), rows)


def _anchor_head(session: Session) -> None:
    """Record the chain head in the `audit_head` setting (once per transaction, under the chain lock)."""
    if not session.info.pop(_MOVED, False):
        return
    seq, digest = session.info[_HEAD]
    value = {"seq": seq, "hash": digest}
    conn = session.connection()
    now = datetime.now(UTC)
    done = _MOVE_HEAD.execute(conn, {"k": HEAD_KEY, "value": value, "updated_at": now})
    if done.rowcount == 0:
        conn.execute(_NEW_HEAD, {"key": HEAD_KEY, "value": value, "version": 1, "updated_at": now})


def _actor_id(actor: Account | int | None) -> int | None:
    return actor if isinstance(actor, int) or actor is None else actor.id


def record(
    session: Session,
    actor: Account | int | None,
    action: str,
    subject: Any = None,
    payload: dict[str, Any] | None = None,
) -> int:
    """Append an `ok` event for a state change, in the caller's transaction; returns its sequence number."""
    from marketplace.workflows.clock import now

    kind, ident, _ = subject_of(subject)
    _write_pending(session)  # earlier refusals first, so the log keeps the order things happened in
    return _append(
        session,
        actor_id=_actor_id(actor),
        action=action,
        subject_type=kind,
        subject_id=ident,
        outcome=AuditOutcome.ok,
        payload=jsonable(payload),
        at=now(session),
    )


def refuse(
    session: Session,
    actor: Account | int | None,
    action: str,
    subject: Any,
    error: BaseException,
    payload: dict[str, Any] | None = None,
) -> BaseException:
    """Queue a `refused` event that survives the caller's rollback; returns `error` to raise."""
    from marketplace.workflows.clock import now

    kind, ident, _ = subject_of(subject)
    try:
        at = now(session)
    except Exception:  # a session that already failed cannot read the clock: wall time is still ordered
        at = datetime.now(UTC)
    body = {"error": type(error).__name__, "reason": str(error), **(payload or {})}
    rule = getattr(error, "rule", None)
    if rule:
        body["rule"] = rule
    session.info.setdefault(_PENDING, []).append(
        dict(
            actor_id=_actor_id(actor),
            action=action,
            subject_type=kind,
            subject_id=ident,
            outcome=AuditOutcome.refused,
            payload=jsonable(body),
            at=at,
        )
    )
    return error


def _write_pending(session: OrmSession) -> None:
    pending = session.info.pop(_PENDING, None)
    if pending:
        for ev in pending:
            _append(session, **ev)  # type: ignore[arg-type]
        session.info.setdefault(_INLINE, []).extend(pending)


def forget_cached_state(session: Session) -> None:
    """Drop the chain head, clock, policy and settings cached on the session for the open transaction.

    Call it after replacing tables wholesale inside a transaction (e.g. restoring a snapshot).
    """
    for key in (_HEAD, _MOVED, _BUFFER, *_TRANSACTION_CACHES):
        session.info.pop(key, None)


@event.listens_for(OrmSession, "before_commit")
def _write_pending_in_transaction(session: OrmSession) -> None:
    _write_pending(session)
    write_buffered(session)
    _anchor_head(session)  # type: ignore[arg-type]


@event.listens_for(OrmSession, "do_orm_execute")
def _write_before_reading(orm_execute_state: Any) -> None:
    """An ORM query in the same transaction sees the events appended so far, as it would any flushed row."""
    session = orm_execute_state.session
    if _BUFFER in session.info:
        write_buffered(session)


@event.listens_for(OrmSession, "after_commit")
def _committed(session: OrmSession) -> None:
    session.info.pop(_INLINE, None)


@event.listens_for(OrmSession, "after_transaction_end")
def _write_pending_after_rollback(session: OrmSession, transaction: Any) -> None:
    if transaction.parent is not None:
        return
    for key in _TRANSACTION_CACHES:  # clock, policy and settings are read again by the next transaction
        session.info.pop(key, None)
    session.info.pop(_HEAD, None)
    session.info.pop(_MOVED, None)
    session.info.pop(_BUFFER, None)  # written before a commit; after a rollback they never happened
    pending = session.info.pop(_INLINE, []) + session.info.pop(_PENDING, [])
    if not pending:
        return
    with Session(session.get_bind()) as fresh:
        for ev in pending:
            _append(fresh, **ev)  # type: ignore[arg-type]
        fresh.commit()


# ---------------------------------------------------------------- reading and verifying


@dataclass(frozen=True)
class ChainCheck:
    """Result of `verify_chain`: `ok`, how many events were checked, and the first bad one with the reason."""

    ok: bool
    checked: int
    first_bad_seq: int | None = None
    reason: str = ""

    def __str__(self) -> str:
        if self.ok:
            return f"audit chain intact: {self.checked} events"
        return f"audit chain broken at event seq={self.first_bad_seq}: {self.reason}"


def verify_chain(session: Session, *, batch: int = 5000) -> ChainCheck:
    """Walk the chain in seq order and recompute every hash; stop at the first event that does not fit."""
    write_buffered(session)
    _anchor_head(session)  # type: ignore[arg-type]  (events appended in this transaction are covered)
    prev_hash, expected_seq, checked = GENESIS, 1, 0
    query = sa.select(AuditEvent.__table__).order_by(AuditEvent.seq)
    # Per-statement option: Connection.execution_options() would change the session's connection for the
    # rest of its transaction (server-side cursors for every later statement on PostgreSQL).
    rows = session.connection().execute(query, execution_options={"yield_per": batch})
    for row in rows.mappings():
        seq = row["seq"]
        if seq != expected_seq:
            missing = "deleted or renumbered" if seq > expected_seq else "duplicated or renumbered"
            return ChainCheck(
                False,
                checked,
                expected_seq if seq > expected_seq else seq,
                f"expected seq {expected_seq} next but found {seq} (event {missing})",
            )
        if row["prev_hash"] != prev_hash:
            return ChainCheck(
                False,
                checked,
                seq,
                "prev_hash does not match the previous event's hash "
                "(an earlier event was deleted, reordered or changed)",
            )
        digest = event_hash(
            seq=seq,
            at=row["at"],
            actor_id=row["actor_id"],
            action=row["action"],
            subject_type=row["subject_type"],
            subject_id=row["subject_id"],
            outcome=str(row["outcome"]),
            payload=row["payload"],
            prev_hash=row["prev_hash"],
        )
        if digest != row["hash"]:
            return ChainCheck(False, checked, seq, "hash does not match the event's content (event changed)")
        prev_hash, expected_seq, checked = row["hash"], seq + 1, checked + 1
    head = session.get(SandboxSetting, HEAD_KEY)
    if head is not None and isinstance(head.value, dict):
        h_seq, h_hash = int(head.value.get("seq", 0)), head.value.get("hash")
        last = expected_seq - 1
        if h_seq > last:
            return ChainCheck(
                False,
                checked,
                last + 1,
                f"the log head records {h_seq} events but the chain "
                f"ends at seq {last} (the newest events were deleted)",
            )
        if h_seq < last:
            return ChainCheck(
                False,
                checked,
                h_seq + 1,
                f"events after seq {h_seq} are not covered by the log head (inserted directly)",
            )
        if h_hash != prev_hash:
            return ChainCheck(
                False, checked, last, "the last event's hash differs from the recorded log head"
            )
    elif checked:
        return ChainCheck(False, checked, 1, "the log head record is missing (deleted)")
    return ChainCheck(True, checked)


def events(session: Session, *, last: int | None = None, subject: Any = None) -> list[AuditEvent]:
    """Events in seq order (the last `last` of them; only those about `subject` when given).

    Events appended in the open transaction are included (an ORM query writes them first).
    """
    query = select(AuditEvent)
    if subject is not None:
        kind, ident, _ = subject_of(subject)
        query = query.where(AuditEvent.subject_type == kind, AuditEvent.subject_id == ident)
    if last:
        rows = list(session.exec(query.order_by(AuditEvent.seq.desc()).limit(last)).all())
        return rows[::-1]
    return list(session.exec(query.order_by(AuditEvent.seq)).all())
