"""The append-only, hash-chained audit log, written by one session hook.

Steps only say what happened: `record` queues an `ok` event, `refuse` a `refused` one, on the session.
The hook (`AuditTrail`, listening to SQLAlchemy's session events) numbers, hashes and inserts the queued
events just before the transaction commits, under one lock for the whole chain, and moves the log head.
So a step never writes audit rows itself, and every event of a step commits or rolls back with the step.

Each event's `hash` is an HMAC-SHA-256, under the audit key (`marketplace.auditkey`, kept outside the
database), of a canonical JSON of its fields (sandbox time `at` and wall-clock `recorded_at` included) and the
previous event's hash. So changing, deleting, renumbering or reordering any row breaks the chain at that row
and `verify_chain` names it, and someone who can write to the database but does not hold the key cannot
re-hash the chain to hide it. The head (last seq and hash, the key's id, where keying began, and a MAC of all
of these, kept in the `audit_head` setting) shows deleted newest events. `anchor` copies the head out of the
database (a file the trainer keeps, at every checkpoint and on demand); `verify_chain(anchor=...)` then proves
that nothing up to the anchored event changed, even if the head itself was rolled back.

Logs written before keying (plain SHA-256, no `recorded_at`) are upgraded in place without rewriting a row:
the first keyed write records `keyed_from` (the next seq) in the head and appends an `audit.keyed` event; the
events before it are verified as plain SHA-256 ("legacy"), and the first keyed event's MAC covers the last
legacy hash, so the legacy prefix cannot change afterwards either.

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
import math
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.orm import Session as OrmSession
from sqlalchemy.sql import visitors
from sqlmodel import Session, select

from marketplace.auditkey import AuditKey, load_key
from marketplace.errors import AuditKeyError
from marketplace.models import Account, AuditEvent, SandboxSetting
from marketplace.vocabulary import AuditOutcome
from marketplace.workflows import settings
from marketplace.workflows.clock import now

GENESIS = "0" * 64
HEAD_KEY = "audit_head"  # setting holding the last (seq, hash), so deleting the newest events shows
ADVISORY_KEY = 0x4D4B54415544  # "MKTAUD": one PostgreSQL advisory lock for the whole chain

QUEUE = "marketplace.audit.queue"  # events of the open transaction, not written yet
WRITTEN_REFUSALS = "marketplace.audit.written_refusals"  # refusals written in the open transaction
HEAD = "marketplace.audit.head"  # ChainHead after the events this transaction wrote
LOCKED = "marketplace.audit.locked"
INSERTED = "marketplace.audit.inserted"  # (type, id) of rows inserted in the open transaction
ATTEMPT = "marketplace.audit.attempt"  # what the caller asked for, named by a refused event
ANCHOR_FORMAT = "marketplace-audit-anchor/1"

__all__ = [
    "ANCHOR_FORMAT",
    "GENESIS",
    "HEAD_KEY",
    "ChainCheck",
    "anchor",
    "attempting",
    "event_hash",
    "event_mac",
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


def event_body(
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
    recorded_at: datetime | None = None,
) -> bytes:
    """The canonical bytes an event's hash (before keying) or MAC (with `recorded_at`) covers: one definition
    for writing and verifying."""
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
    if recorded_at is not None:
        body["recorded_at"] = time_text(recorded_at)
    return canonical(body).encode()


def event_hash(**fields: Any) -> str:
    """The plain SHA-256 of an event, as logs written before keying hold it."""
    return hashlib.sha256(event_body(**fields)).hexdigest()


def event_mac(key: AuditKey, *, recorded_at: datetime, **fields: Any) -> str:
    """The keyed MAC of one event (what `hash` holds from `keyed_from` on)."""
    return key.mac(event_body(recorded_at=recorded_at, **fields))


@dataclass(frozen=True)
class ChainHead:
    """The newest event (seq, hash), the key that writes the log, and the first keyed seq."""

    seq: int
    hash: str
    key_id: str
    keyed_from: int

    def body(self) -> dict[str, Any]:
        return {"seq": self.seq, "hash": self.hash, "key_id": self.key_id, "keyed_from": self.keyed_from}

    def value(self, key: AuditKey) -> dict[str, Any]:
        """The head as stored in the `audit_head` setting, with its MAC (a moved head no longer verifies)."""
        return {**self.body(), "mac": key.mac(canonical(self.body()).encode(), "head")}


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
    attempt = session.info.get(ATTEMPT)
    if attempt is not None and "input" not in body:
        body["input"] = attempt
    _queue(session, _actor_id(actor), action, kind, ident, AuditOutcome.refused, jsonable(body), None)
    error.audited = True  # type: ignore[attr-defined]  (a step that sees it again does not log it twice)
    return error


def attempting(session: Session, action: str, given: dict[str, Any]) -> None:
    """Name what the caller asked for in this transaction: a refused event then carries it as `input`
    (a refused step's own rows are rolled back, so their ids name nothing)."""
    session.info[ATTEMPT] = jsonable({"action": action, **given})


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


def read_head(conn: sa.Connection) -> dict[str, Any] | None:
    """The stored `audit_head` value (None when there is none)."""
    row = conn.execute(sa.select(_SETTING.c.value).where(_SETTING.c.key == HEAD_KEY)).first()
    value = row[0] if row is not None else None
    if isinstance(value, str):
        value = json.loads(value)
    return value if isinstance(value, dict) else None


def _current_head(session: Session | OrmSession, key: AuditKey) -> tuple[ChainHead, bool]:
    """The head to write after, and whether this write keys a log for the first time."""
    cached = session.info.get(HEAD)
    if cached is not None:
        return cached, False
    conn = session.connection()
    stored = read_head(conn)
    if stored is not None and stored.get("key_id"):
        if stored["key_id"] != key.key_id:
            raise AuditKeyError(
                f"{key.source}: not the key this database's audit log is written with (key id "
                f"{stored['key_id']}, this key {key.key_id}); restore that key file or set "
                "MARKETPLACE_AUDIT_KEY"
            )
        return ChainHead(
            int(stored["seq"]), str(stored["hash"]), key.key_id, int(stored["keyed_from"])
        ), False
    last = conn.execute(_LAST_EVENT).first()
    seq, digest = (last[0], last[1]) if last else (0, GENESIS)
    return ChainHead(seq, digest, key.key_id, seq + 1), True


def _write_queued(session: Session | OrmSession) -> None:
    """Number, MAC and insert the queued events (one executemany), then move the log head."""
    queue = session.info.pop(QUEUE, None)
    if not queue:
        return
    lock(session)
    key = load_key()
    head, first_keyed = _current_head(session, key)
    conn = session.connection()
    recorded_at = datetime.now(UTC)
    if first_keyed and head.seq:
        # A log written before keying: from here on every event is keyed.
        marker = {"legacy_events": head.seq, "key_id": key.key_id}
        queue = [
            {
                "actor_id": None,
                "action": "audit.keyed",
                "subject_type": "",
                "subject_id": None,
                "outcome": AuditOutcome.ok,
                "payload": marker,
                "at": queue[0]["at"],
            },
            *queue,
        ]
    seq, prev = head.seq, head.hash
    rows = []
    for ev in queue:
        seq += 1
        digest = event_mac(
            key, seq=seq, prev_hash=prev, recorded_at=recorded_at, **{**ev, "outcome": ev["outcome"].value}
        )
        rows.append({**ev, "seq": seq, "prev_hash": prev, "hash": digest, "recorded_at": recorded_at})
        prev = digest
    conn.execute(sa.insert(AuditEvent.__table__), rows)
    new_head = ChainHead(seq, prev, key.key_id, head.keyed_from)
    session.info[HEAD] = new_head
    value = new_head.value(key)
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
    for key in (HEAD, LOCKED, INSERTED):
        session.info.pop(key, None)
    settings.forget(session)


AUDIT_TABLE = AuditEvent.__table__


def reads_the_log(orm_execute_state: Any) -> bool:
    """Whether a statement run through the session reads the audit log (its entity or its table).

    Runs before every ORM statement of a transaction with queued events, so it must stay cheap: a load of a
    relationship or of expired columns names its entity (`bind_mapper`); any other select is searched for the
    log's table by walking its expression tree (`visitors.iterate`), which compiles nothing — asking an ORM
    select for its FROM list builds its whole compile state, and cost more than the statement itself."""
    if orm_execute_state.is_relationship_load or orm_execute_state.is_column_load:
        mapper = orm_execute_state.bind_mapper
        return mapper is not None and mapper.class_ is AuditEvent
    if not orm_execute_state.is_select:
        return any(m.class_ is AuditEvent for m in orm_execute_state.all_mappers)
    return any(
        isinstance(el, sa.Table) and el.name == AUDIT_TABLE.name  # an entity's table comes annotated: a copy
        for el in visitors.iterate(orm_execute_state.statement)
    )


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
    @event.listens_for(OrmSession, "after_flush")
    def after_flush(session: OrmSession, _context: Any) -> None:
        """Remember the rows this transaction inserts: a refused event written after the rollback must not
        name them (their ids then name nothing, or later someone else's row)."""
        if session.new:
            inserted = session.info.setdefault(INSERTED, set())
            for obj in session.new:
                kind, ident, _ = subject_of(obj)
                inserted.add((kind, ident))

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
        for key in (HEAD, LOCKED, ATTEMPT):
            info.pop(key, None)
        inserted = info.pop(INSERTED, set())
        written = info.pop(WRITTEN_REFUSALS, [])
        queued = info.pop(QUEUE, [])
        # After a commit nothing is left here (`after_commit` kept the written refusals); after a rollback the
        # refusals, written ones included (they were rolled back with the step), are written on their own,
        # without the ids of rows that went with the rollback.
        refusals = [
            {**ev, "subject_id": None} if (ev["subject_type"], ev["subject_id"]) in inserted else ev
            for ev in (*written, *queued)
            if ev["outcome"] is AuditOutcome.refused
        ]
        if refusals:
            with Session(session.get_bind()) as fresh:
                fresh.info[QUEUE] = refusals
                fresh.commit()


# ---------------------------------------------------------------- reading and verifying


@dataclass(frozen=True)
class ChainCheck:
    """Result of `verify_chain`: `ok`, how many events were checked (`legacy` of them from before keying),
    the first bad one with the reason, and the anchored seq that was matched (if an anchor was given)."""

    ok: bool
    checked: int
    first_bad_seq: int | None = None
    reason: str = ""
    # the reason as a message key and params (`audit.reason.*`), so the command line words it in any language
    reason_key: str = ""
    reason_params: dict[str, Any] = field(default_factory=dict)
    legacy: int = 0
    anchored: int | None = None

    def __str__(self) -> str:
        if self.ok:
            text = f"audit chain intact: {self.checked} events"
            if self.legacy:
                text += f" (the first {self.legacy} written before keying, checked as plain SHA-256)"
            if self.anchored is not None:
                text += f"; matches the anchor at seq {self.anchored}"
            return text
        return f"audit chain broken at event seq={self.first_bad_seq}: {self.reason}"


def _stored_mac_ok(key: AuditKey, value: dict[str, Any]) -> bool:
    try:
        head = ChainHead(
            int(value["seq"]), str(value["hash"]), str(value["key_id"]), int(value["keyed_from"])
        )
    except (KeyError, TypeError, ValueError):
        return False
    return key.matches(canonical(head.body()).encode(), value.get("mac", ""), "head")


def verify_chain(
    session: Session, *, batch: int = 5000, anchor: dict[str, Any] | None = None, key: AuditKey | None = None
) -> ChainCheck:
    """Walk the chain in seq order and recompute every MAC with the audit key; stop at the first event that
    does not fit. With `anchor` (see `anchor`), the anchored event must still be there, unchanged."""
    _write_queued(session)  # events queued in this transaction are covered
    conn = session.connection()
    head = read_head(conn)
    keyed = head is not None and bool(head.get("key_id"))
    if key is None and (keyed or anchor is not None):
        key = load_key(create=False)
    elif key is None:  # a log from before keying (or an empty one) is checked without a key, if none exists
        try:
            key = load_key(create=False)
        except AuditKeyError:
            key = AuditKey(b"", "none")
    if anchor is not None:
        problem = _anchor_problem(key, anchor)
        if problem:
            return ChainCheck(False, 0, None, problem)
    if keyed and head.get("key_id") != key.key_id:
        return ChainCheck(
            False,
            0,
            None,
            f"the log is keyed with key id {head.get('key_id')}, but the key "
            f"given ({key.source}) has id {key.key_id}: verify with the key the log was written with",
            "audit.reason.key_mismatch",
            {"logged": head.get("key_id"), "given": key.key_id},
        )
    keyed_from = int(head["keyed_from"]) if keyed else math.inf
    if anchor is not None and anchor["keyed_from"] != (keyed_from if keyed else None):
        return ChainCheck(
            False,
            0,
            anchor["keyed_from"],
            f"the anchor records keying from seq {anchor['keyed_from']}, "
            f"the log now {keyed_from if keyed else 'not at all'} (the log was rewritten)",
            "audit.reason.anchor_keying",
            {"anchored": anchor["keyed_from"]},
        )
    prev_hash, expected_seq, checked, legacy = GENESIS, 1, 0, 0
    anchored: int | None = None
    query = sa.select(AuditEvent.__table__).order_by(AuditEvent.__table__.c.seq)
    # Per-statement option: Connection.execution_options() would change the session's connection for the
    # rest of its transaction (server-side cursors for every later statement on PostgreSQL).
    rows = conn.execute(query, execution_options={"yield_per": batch})
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
        fields = dict(
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
        if seq >= keyed_from:
            good = key.matches(event_body(recorded_at=row["recorded_at"], **fields), row["hash"])
        else:
            good, legacy = event_hash(**fields) == row["hash"], legacy + 1
        if not good:
            return ChainCheck(
                False,
                checked,
                seq,
                "MAC does not match the event's content (event changed or re-hashed without the key)",
                "audit.reason.mac",
            )
        if anchor is not None and seq == anchor["seq"]:
            if row["hash"] != anchor["hash"]:
                return ChainCheck(
                    False,
                    checked,
                    seq,
                    "the event at the anchored seq is not the anchored one "
                    "(the log up to the anchor was rewritten)",
                    "audit.reason.anchor_rewritten",
                )
            anchored = seq
        prev_hash, expected_seq, checked = row["hash"], seq + 1, checked + 1
    last = expected_seq - 1
    if anchor is not None and anchored is None and anchor["seq"] > 0:
        return ChainCheck(
            False,
            checked,
            last + 1,
            f"the log ends at seq {last}, before the anchored seq {anchor['seq']} (events were deleted)",
            "audit.reason.anchor_missing",
            {"last": last, "anchored": anchor["seq"]},
        )
    if head is not None:
        h_seq = int(head.get("seq", 0) or 0)
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
        if head.get("hash") != prev_hash:
            return ChainCheck(
                False,
                checked,
                last,
                "the last event's hash differs from the recorded log head",
                "audit.reason.head_hash",
            )
        if keyed and not _stored_mac_ok(key, head):
            return ChainCheck(
                False,
                checked,
                last,
                "the log head's MAC does not match (the head was moved "
                "or rewritten: the newest events may have been deleted)",
                "audit.reason.head_mac",
            )
    elif checked:
        return ChainCheck(
            False, checked, 1, "the log head record is missing (deleted)", "audit.reason.head_missing"
        )
    return ChainCheck(True, checked, legacy=legacy, anchored=anchored)


# ---------------------------------------------------------------- anchors


def _anchor_body(anchor: dict[str, Any]) -> dict[str, Any]:
    return {k: anchor[k] for k in ("format", "seq", "hash", "key_id", "keyed_from", "taken_at")}


def anchor(session: Session, *, key: AuditKey | None = None) -> dict[str, Any]:
    """The log head as a MAC'd record to keep outside the database (a file the trainer keeps).

    Later, `verify_chain(anchor=...)` shows whether the log up to this event is still the same: the
    anchored MAC pins every event before it, and the database does not hold it to roll back.
    """
    _write_queued(session)
    key = key or load_key(create=False)
    head = read_head(session.connection())
    keyed = head is not None and bool(head.get("key_id"))
    if head is not None and not keyed:
        raise AuditKeyError(
            "the audit log is not keyed yet (written by an earlier release): record any "
            "action first, then anchor it"
        )
    body = {
        "format": ANCHOR_FORMAT,
        "seq": int(head["seq"]) if head else 0,
        "hash": str(head["hash"]) if head else GENESIS,
        "key_id": key.key_id,
        "keyed_from": int(head["keyed_from"]) if head else None,
        "taken_at": time_text(datetime.now(UTC)),
    }
    return {**body, "mac": key.mac(canonical(body).encode(), "anchor")}


def _anchor_problem(key: AuditKey, value: Any) -> str:
    """Why `value` is not an anchor made with `key` ('' when it is)."""
    if not isinstance(value, dict) or value.get("format") != ANCHOR_FORMAT:
        return f"not an audit anchor (expected format {ANCHOR_FORMAT!r})"
    try:
        body = _anchor_body(value)
    except KeyError as exc:
        return f"the anchor has no {exc.args[0]!r}"
    if not (isinstance(body["seq"], int) and body["seq"] >= 0 and isinstance(body["hash"], str)):
        return "the anchor's seq and hash are not a whole number and a MAC"
    if body["key_id"] != key.key_id:
        return f"the anchor was made with key id {body['key_id']}, not this key ({key.key_id})"
    if not key.matches(canonical(body).encode(), value.get("mac", ""), "anchor"):
        return "the anchor's own MAC does not match (the anchor file was changed)"
    return ""


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
