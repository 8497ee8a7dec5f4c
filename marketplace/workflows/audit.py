"""The append-only, hash-chained audit log, written by one session hook.

Steps only say what happened: `record` queues an `ok` event, `refuse` a `refused` one, on the session.
The hook (`AuditTrail`, listening to SQLAlchemy's session events) numbers, hashes and inserts the queued
events just before the transaction commits, under one lock for the whole chain, and moves the log head.
So a step never writes audit rows itself, and every event of a step commits or rolls back with the step.

Each event's `hash` is SHA-256 over a canonical JSON of its fields and the previous event's hash, so
changing, deleting or reordering any row breaks the chain at that row and `verify_chain` names it; the head
(last seq and hash, kept in the `audit_head` setting) shows deleted newest events.

Refused attempts must be recorded even though the refused step rolls back: when the transaction ends without a
commit, the hook writes the queued refusals in a fresh short transaction. Reads of the log inside the open
transaction (`events`, any ORM query, `verify_chain`) see the queued events: the hook writes them first.

Concurrent writers never fork the chain: PostgreSQL takes a transaction-scoped advisory lock, SQLite its
database write lock (a no-op UPDATE), before the head is read. `lock` takes it at the start of a step, so a
step reads what it decides on after any concurrent step has committed.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.orm import Session as OrmSession
from sqlmodel import Session, select

from marketplace.models import Account, AuditEvent, SandboxSetting
from marketplace.vocabulary import AuditOutcome
from marketplace.workflows import settings
from marketplace.workflows.clock import now

GENESIS = "0" * 64
HEAD_KEY = "audit_head"  # setting holding the last (seq, hash), so deleting the newest events shows
ADVISORY_KEY = 0x4D4B54415544  # "MKTAUD": one PostgreSQL advisory lock for the whole chain

QUEUE = "marketplace.audit.queue"  # events of the open transaction, not written yet
WRITTEN_REFUSALS = "marketplace.audit.written_refusals"  # refusals written in the open transaction
HEAD = "marketplace.audit.head"  # (seq, hash) after the events this transaction wrote
LOCKED = "marketplace.audit.locked"

__all__ = [
    "GENESIS",
    "HEAD_KEY",
    "ChainCheck",
    "event_hash",
    "events",
    "forget_cached_state",
    "jsonable",
    "lock",
    "record",
    "refuse",
    "subject_of",
    "verify_chain",
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


def time_text(at: datetime) -> str:
    """UTC, no offset, microseconds: the form both SQLite and PostgreSQL give back for the `at` column."""
    if at.tzinfo is not None:
        at = at.astimezone(UTC).replace(tzinfo=None)
    return at.isoformat(timespec="microseconds")


_CANONICAL = json.JSONEncoder(sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)


def canonical(value: Any) -> str:
    """Sorted keys, no spaces, UTF-8 text, anything else as `str`."""
    return _CANONICAL.encode(value)


def jsonable(payload: dict[str, Any] | None) -> dict[str, Any]:
    """The payload exactly as it will be stored and read back (Decimals, dates and enums as strings)."""
    return json.loads(canonical(payload or {}))


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
        "at": time_text(at),
        "actor_id": actor_id,
        "action": action,
        "subject_type": subject_type,
        "subject_id": subject_id,
        "outcome": str(outcome),
        "payload": payload,
        "prev_hash": prev_hash,
    }
    return hashlib.sha256(canonical(body).encode()).hexdigest()


# ---------------------------------------------------------------- what steps call


def _actor_id(actor: Account | int | None) -> int | None:
    return actor if isinstance(actor, int) or actor is None else actor.id


def _event_time(session: Session) -> datetime:
    try:
        return now(session)
    except Exception:  # a session that already failed cannot read the clock: wall time is still ordered
        return datetime.now(UTC)


def record(
    session: Session,
    actor: Account | int | None,
    action: str,
    subject: Any = None,
    payload: dict[str, Any] | None = None,
    *,
    at: datetime | None = None,
) -> None:
    """Queue an `ok` event for a state change (at sandbox time `at`, default now); the hook writes it with
    the transaction's commit."""
    kind, ident, _ = subject_of(subject)
    _queue(session, _actor_id(actor), action, kind, ident, AuditOutcome.ok, jsonable(payload), at)


def refuse(
    session: Session,
    actor: Account | int | None,
    action: str,
    subject: Any,
    error: BaseException,
    payload: dict[str, Any] | None = None,
) -> BaseException:
    """Queue a `refused` event that survives the caller's rollback; returns `error` to raise."""
    kind, ident, _ = subject_of(subject)
    body = {"error": type(error).__name__, "reason": str(error), **(payload or {})}
    rule = getattr(error, "rule", None)
    if rule:
        body["rule"] = rule
    _queue(session, _actor_id(actor), action, kind, ident, AuditOutcome.refused, jsonable(body), None)
    error.audited = True  # type: ignore[attr-defined]  (a step that sees it again does not log it twice)
    return error


def _queue(
    session: Session,
    actor_id: int | None,
    action: str,
    subject_type: str,
    subject_id: int | None,
    outcome: AuditOutcome,
    payload: dict[str, Any],
    at: datetime | None,
) -> None:
    session.info.setdefault(QUEUE, []).append(
        {
            "actor_id": actor_id,
            "action": action,
            "subject_type": subject_type,
            "subject_id": subject_id,
            "outcome": outcome,
            "payload": payload,
            "at": at or _event_time(session),
        }
    )


def lock(session: Session | OrmSession) -> None:
    """Take the chain's lock for the rest of the transaction (once): writers of the log take turns."""
    if session.info.get(LOCKED):
        return
    conn = session.connection()
    if conn.dialect.name == "postgresql":
        conn.execute(sa.select(sa.func.pg_advisory_xact_lock(ADVISORY_KEY)))
    elif conn.dialect.name == "sqlite":
        # Any write statement makes SQLite take its write lock for the rest of the transaction.
        conn.execute(sa.update(AuditEvent.__table__).where(sa.false()).values(seq=AuditEvent.__table__.c.seq))
    session.info[LOCKED] = True


# ---------------------------------------------------------------- the hook


_LAST_EVENT = (
    sa.select(AuditEvent.__table__.c.seq, AuditEvent.__table__.c.hash)
    .order_by(AuditEvent.__table__.c.seq.desc())
    .limit(1)
)
_SETTING = SandboxSetting.__table__


def _write_queued(session: Session | OrmSession) -> None:
    """Number, hash and insert the queued events (one executemany), then move the log head."""
    queue = session.info.pop(QUEUE, None)
    if not queue:
        return
    lock(session)
    conn = session.connection()
    head = session.info.get(HEAD)
    if head is None:
        last = conn.execute(_LAST_EVENT).first()
        head = (last[0], last[1]) if last else (0, GENESIS)
    seq, prev = head
    rows = []
    recorded_at = datetime.now(UTC)
    for ev in queue:
        seq += 1
        digest = event_hash(seq=seq, prev_hash=prev, **{**ev, "outcome": ev["outcome"].value})
        rows.append({**ev, "seq": seq, "prev_hash": prev, "hash": digest, "recorded_at": recorded_at})
        prev = digest
    conn.execute(sa.insert(AuditEvent.__table__), rows)
    session.info[HEAD] = (seq, prev)
    value = {"seq": seq, "hash": prev}
    moved = conn.execute(
        sa.update(_SETTING)
        .where(_SETTING.c.key == HEAD_KEY)
        .values(value=value, version=_SETTING.c.version + 1, updated_at=recorded_at)
    )
    if moved.rowcount == 0:
        conn.execute(sa.insert(_SETTING).values(key=HEAD_KEY, value=value, version=1, updated_at=recorded_at))
    refused = [ev for ev in queue if ev["outcome"] is AuditOutcome.refused]
    if refused:
        session.info.setdefault(WRITTEN_REFUSALS, []).extend(refused)


def forget_cached_state(session: Session) -> None:
    """Drop the chain head and the settings cached for the open transaction (after replacing tables)."""
    for key in (HEAD, LOCKED):
        session.info.pop(key, None)
    settings.forget(session)


AUDIT_TABLE = AuditEvent.__table__


def reads_the_log(orm_execute_state: Any) -> bool:
    """Whether a statement run through the session reads the audit log (its entity or its table)."""
    if any(m.class_ is AuditEvent for m in orm_execute_state.all_mappers):
        return True
    statement = orm_execute_state.statement
    froms = list(statement.get_final_froms()) if isinstance(statement, sa.Select) else []
    while froms:
        f = froms.pop()
        if f is AUDIT_TABLE:
            return True
        if isinstance(f, sa.Join):
            froms += [f.left, f.right]
        elif isinstance(f, sa.Subquery | sa.Alias):
            inner = f.element
            froms += list(inner.get_final_froms()) if isinstance(inner, sa.Select) else [inner]
    return False


class AuditTrail:
    """The session hook that writes the log: queued events before each commit, refusals after a rollback."""

    @staticmethod
    @event.listens_for(OrmSession, "before_commit")
    def before_commit(session: OrmSession) -> None:
        _write_queued(session)

    @staticmethod
    @event.listens_for(OrmSession, "do_orm_execute")
    def before_orm_read(orm_execute_state: Any) -> None:
        """A query of the log in the same transaction sees the events queued so far, as it would any flushed
        row (other queries leave them queued: they are written together with the commit)."""
        session = orm_execute_state.session
        if session.info.get(QUEUE) and reads_the_log(orm_execute_state):
            _write_queued(session)

    @staticmethod
    @event.listens_for(OrmSession, "after_commit")
    def after_commit(session: OrmSession) -> None:
        session.info.pop(WRITTEN_REFUSALS, None)

    @staticmethod
    @event.listens_for(OrmSession, "after_transaction_end")
    def after_transaction_end(session: OrmSession, transaction: Any) -> None:
        if transaction.parent is not None:
            return
        info = session.info
        for key in (HEAD, LOCKED):
            info.pop(key, None)
        written = info.pop(WRITTEN_REFUSALS, [])
        queued = info.pop(QUEUE, [])
        # After a commit nothing is left here (`after_commit` kept the written refusals); after a rollback the
        # refusals, written ones included (they were rolled back with the step), are written on their own.
        refusals = [ev for ev in (*written, *queued) if ev["outcome"] is AuditOutcome.refused]
        if refusals:
            with Session(session.get_bind()) as fresh:
                fresh.info[QUEUE] = refusals
                fresh.commit()


# ---------------------------------------------------------------- reading and verifying


@dataclass(frozen=True)
class ChainCheck:
    """Result of `verify_chain`: `ok`, how many events were checked, and the first bad one with the reason."""

    ok: bool
    checked: int
    first_bad_seq: int | None = None
    reason: str = ""
    # the reason as a message key and params (`audit.reason.*`), so the command line words it in any language
    reason_key: str = ""
    reason_params: dict[str, Any] = field(default_factory=dict)

    def __str__(self) -> str:
        if self.ok:
            return f"audit chain intact: {self.checked} events"
        return f"audit chain broken at event seq={self.first_bad_seq}: {self.reason}"


def verify_chain(session: Session, *, batch: int = 5000) -> ChainCheck:
    """Walk the chain in seq order and recompute every hash; stop at the first event that does not fit."""
    _write_queued(session)  # events queued in this transaction are covered
    prev_hash, expected_seq, checked = GENESIS, 1, 0
    query = sa.select(AuditEvent.__table__).order_by(AuditEvent.__table__.c.seq)
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
                "audit.reason.seq_deleted" if seq > expected_seq else "audit.reason.seq_duplicated",
                {"expected": expected_seq, "found": seq},
            )
        if row["prev_hash"] != prev_hash:
            return ChainCheck(
                False,
                checked,
                seq,
                "prev_hash does not match the previous event's hash "
                "(an earlier event was deleted, reordered or changed)",
                "audit.reason.prev_hash",
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
            return ChainCheck(
                False,
                checked,
                seq,
                "hash does not match the event's content (event changed)",
                "audit.reason.hash",
            )
        prev_hash, expected_seq, checked = row["hash"], seq + 1, checked + 1
    head = session.connection().execute(sa.select(_SETTING.c.value).where(_SETTING.c.key == HEAD_KEY)).first()
    value = head[0] if head is not None else None
    if isinstance(value, str):
        value = json.loads(value)
    if isinstance(value, dict):
        h_seq, h_hash = int(value.get("seq", 0)), value.get("hash")
        last = expected_seq - 1
        if h_seq > last:
            return ChainCheck(
                False,
                checked,
                last + 1,
                f"the log head records {h_seq} events but the chain "
                f"ends at seq {last} (the newest events were deleted)",
                "audit.reason.head_ahead",
                {"recorded": h_seq, "last": last},
            )
        if h_seq < last:
            return ChainCheck(
                False,
                checked,
                h_seq + 1,
                f"events after seq {h_seq} are not covered by the log head (inserted directly)",
                "audit.reason.head_behind",
                {"recorded": h_seq},
            )
        if h_hash != prev_hash:
            return ChainCheck(
                False,
                checked,
                last,
                "the last event's hash differs from the recorded log head",
                "audit.reason.head_hash",
            )
    elif checked:
        return ChainCheck(
            False, checked, 1, "the log head record is missing (deleted)", "audit.reason.head_missing"
        )
    return ChainCheck(True, checked)


def events(session: Session, *, last: int | None = None, subject: Any = None) -> list[AuditEvent]:
    """Events in seq order (the last `last` of them; only those about `subject` when given).

    Events queued in the open transaction are included (the hook writes them before an ORM query).
    """
    query = select(AuditEvent)
    if subject is not None:
        kind, ident, _ = subject_of(subject)
        query = query.where(AuditEvent.subject_type == kind, AuditEvent.subject_id == ident)
    if last:
        rows = list(session.exec(query.order_by(AuditEvent.seq.desc()).limit(last)).all())
        return rows[::-1]
    return list(session.exec(query.order_by(AuditEvent.seq)).all())
