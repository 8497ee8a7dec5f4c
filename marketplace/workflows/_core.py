"""Shared mechanics of every step: lifecycle tables, guarded transitions, conflict-mapped flushes, codes.

The lifecycles of DESIGN.md §2 are written once here as {state: {action: next state}}; every step checks its
transition against them before it writes anything, so an illegal action raises TransitionError, writes nothing
but its `refused` audit event, and names the object, its state and what is allowed from there.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm.attributes import instance_state
from sqlalchemy.orm.exc import StaleDataError
from sqlmodel import Session, select

from marketplace.codes import make_code
from marketplace.errors import ConflictError, TransitionError
from marketplace.fastsql import Statement
from marketplace.models import Account
from marketplace.session import persistent_instance
from marketplace.vocabulary import (
    AuthorizationStatus as A,
)
from marketplace.vocabulary import (
    GrantStatus as G,
)
from marketplace.vocabulary import (
    ProductStatus as P,
)
from marketplace.vocabulary import (
    RegistrationStatus as RS,
)
from marketplace.vocabulary import (
    RequestStatus as R,
)
from marketplace.vocabulary import (
    ReviewStatus as V,
)
from marketplace.workflows import audit

REGISTRATION: dict[Any, dict[str, Any]] = {
    RS.submitted: {"accept": RS.accepted, "reject": RS.rejected},
    RS.accepted: {"start_review": RS.under_review, "reject": RS.rejected},
    RS.under_review: {"publish_notice": RS.public_notice, "reject": RS.rejected},
    RS.public_notice: {"register": RS.registered, "reject": RS.rejected},
    RS.registered: {
        "change": RS.changed,
        "correct": RS.corrected,
        "deregister": RS.deregistered,
        "expire": RS.expired,
    },
}

_BEFORE_DECISION = {"withdraw": R.withdrawn}
REQUEST: dict[Any, dict[str, Any]] = {
    R.draft: {"edit": R.draft, "submit": R.submitted, **_BEFORE_DECISION},
    R.submitted: {
        "open_review": R.in_review,
        "approve": R.approved,
        "accept_quote": R.submitted,
        **_BEFORE_DECISION,
    },
    R.in_review: {
        "decide": R.in_review,
        "approve": R.approved,
        "approve_with_conditions": R.approved_with_conditions,
        "reject": R.rejected,
        "return": R.returned,
        "accept_quote": R.in_review,
        **_BEFORE_DECISION,
    },
    R.returned: {"edit": R.returned, "resubmit": R.submitted, **_BEFORE_DECISION},
    R.approved: {"accept_quote": R.approved, "grant": R.granted},
    R.approved_with_conditions: {"accept_quote": R.approved_with_conditions, "grant": R.granted},
    R.granted: {"deliver": R.delivered, "revoke": R.revoked, "expire": R.expired},
    R.delivered: {"deliver": R.delivered, "revoke": R.revoked, "expire": R.expired},
}

REVIEW: dict[Any, dict[str, Any]] = {
    V.pending: {"decide": V.decided, "escalate": V.escalated, "deem": V.deemed, "cancel": V.cancelled},
    V.escalated: {"decide": V.decided, "deem": V.deemed, "cancel": V.cancelled},
}

AUTHORIZATION: dict[Any, dict[str, Any]] = {
    A.proposed: {"agree": A.agreed},
    A.agreed: {"activate": A.active},
    A.active: {"expire": A.expired, "terminate": A.terminated},
}

PRODUCT: dict[Any, dict[str, Any]] = {
    P.draft: {"register": P.registered},
    P.registered: {"price": P.priced},
    P.priced: {"price": P.priced, "list": P.listed},
    P.listed: {"withdraw": P.withdrawn},
}

GRANT: dict[Any, dict[str, Any]] = {G.active: {"revoke": G.revoked, "expire": G.expired}}

LIFECYCLES = {
    "registration": REGISTRATION,
    "request": REQUEST,
    "review": REVIEW,
    "authorization": AUTHORIZATION,
    "product": PRODUCT,
    "grant": GRANT,
}


def next_state(kind: str, state: Any, action: str) -> Any | None:
    return LIFECYCLES[kind].get(state, {}).get(action)


def allowed_actions(kind: str, state: Any) -> list[str]:
    return sorted(LIFECYCLES[kind].get(state, {}))


def transition(
    session: Session, actor: Account | None, obj: Any, action: str, *, audit_action: str = ""
) -> Any:
    """The state `action` leads to from `obj`'s status, or raise (and log) TransitionError; writes nothing."""
    kind, _, label = audit.subject_of(obj)
    state = obj.status
    nxt = next_state(kind, state, action)
    if nxt is None:
        raise audit.refuse(
            session,
            actor,
            audit_action or f"{kind}.{action}",
            obj,
            TransitionError(label, str(state), action, allowed_actions(kind, state)),
        )
    return nxt


def refuse_transition(
    session: Session, actor: Account | None, obj: Any, action: str, why: str
) -> TransitionError:
    """A TransitionError for a timing or precondition rule of the lifecycle (e.g. notice period not over)."""
    kind, _, label = audit.subject_of(obj)
    err = TransitionError(label, str(obj.status), f"{action} ({why})")
    return audit.refuse(session, actor, f"{kind}.{action}", obj, err)  # type: ignore[return-value]


_SETTINGS = "marketplace.settings"
_SETTING_VALUES = "marketplace.settings.values"
SETTING_KEYS = ("clock", "policy")
_READ_SETTINGS: Any = None


def setting_row(session: Session, key: str) -> Any:
    """A sandbox setting row (or None); the clock and policy rows are read together, once per transaction."""
    from marketplace.models import SandboxSetting

    cache = session.info.get(_SETTINGS)
    if cache is None:
        rows = session.exec(select(SandboxSetting).where(SandboxSetting.key.in_(SETTING_KEYS))).all()
        cache = session.info[_SETTINGS] = {key: None for key in SETTING_KEYS} | {r.key: r for r in rows}
    if key in cache:
        return cache[key]
    return session.get(SandboxSetting, key)


def setting_value(session: Session, key: str) -> Any:
    """The clock or policy setting's value (or None), both read with one Core query per transaction.

    Readers need only the value, so no ORM row is built; a row a writer loaded or changed in this transaction
    (`setting_row`) wins over the value read before.
    """
    global _READ_SETTINGS
    rows = session.info.get(_SETTINGS)
    if rows is not None and key in rows:
        row = rows[key]
        return None if row is None else row.value
    values = session.info.get(_SETTING_VALUES)
    if values is None:
        from marketplace.models import SandboxSetting

        if _READ_SETTINGS is None:
            table = SandboxSetting.__table__
            _READ_SETTINGS = sa.select(table.c.key, table.c.value).where(table.c.key.in_(SETTING_KEYS))
        values = session.info[_SETTING_VALUES] = dict(
            quiet_connection(session, SandboxSetting).execute(_READ_SETTINGS).all()
        )
    return values.get(key)


def remember_setting(session: Session, row: Any) -> None:
    session.info.setdefault(_SETTINGS, {})[row.key] = row


def quiet_connection(session: Session, *models: Any) -> Any:
    """The session's connection for Core statements, after writing pending ORM changes they could depend on.

    Core statements skip autoflush. Pending new or deleted rows, and changed rows of the `models` read, are
    flushed first, so the statement sees what an ORM query would; changes to other rows stay pending (the hot
    steps write those themselves with `save`).
    """
    if (
        session._new
        or session._deleted
        or (models and any(st.class_ in models for st in session.identity_map._modified))
    ):
        session.flush()
    return session.connection()


def flush(
    session: Session,
    what: str = "the record",
    *,
    actor: Account | None = None,
    action: str = "",
    subject: Any = None,
) -> None:
    """Flush, turning a failed optimistic version check into ConflictError (and logging the refused attempt).

    The caller must then roll back (`session_scope` does); the refused event survives that.
    """
    # Read who and what before flushing: after a failed flush the rows cannot be read until rollback.
    who = actor.id if actor is not None else None
    kind, ident, _ = audit.subject_of(subject) if action else ("", None, "")
    try:
        session.flush()
    except StaleDataError as exc:
        raise _conflict(session, what, action, who, (kind, ident)) from exc


def _conflict(session: Session, what: str, action: str, who: int | None, subject: Any) -> ConflictError:
    """The error of a failed optimistic version check; with `action`, the refused attempt is logged."""
    err = ConflictError(
        f"{what} was changed by someone else at the same time; nothing was saved — reload it and try again"
    )
    if action:
        audit.refuse(session, who, action, subject, err)
    return err


def temp_code() -> str:
    """A unique placeholder until the row has an id (codes are derived from ids, so they never collide)."""
    return f"tmp-{uuid.uuid4().hex}"


def assign_code(obj: Any, kind: str, year: int, tag: str = "") -> None:
    obj.code = make_code(kind, obj.id, year=year, tag=tag)


# ---------------------------------------------------------------- Core writes of ORM rows
#
# A step changes a handful of rows. Writing them through the unit of work (session.flush) costs far more than
# the statements themselves, so the hot steps write each changed row with one Core UPDATE/INSERT and then mark
# the ORM object as in step with the database. The optimistic version check is the same as the ORM's: the
# UPDATE matches the id and the version read, bumps the version, and finding no row raises ConflictError.
# Marking the object clean uses SQLAlchemy's InstanceState._commit/_commit_all and the session's pending sets
# (`_new`, `_deleted`, `identity_map._modified`), the same internals its own flush uses (stable through 2.x);
# tests/workflows check the rows, versions and conflicts that result on SQLite and PostgreSQL.

_UPDATES: dict[Any, Any] = {}
_INSERTS: dict[Any, Any] = {}


def _update_stmt(table: Any, versioned: bool) -> Any:
    stmt = _UPDATES.get(table)
    if stmt is None:
        cond = table.c.id == sa.bindparam("w_id")
        if versioned:
            cond = sa.and_(cond, table.c.version == sa.bindparam("w_version"))
        stmt = _UPDATES[table] = Statement(sa.update(table).where(cond))
    return stmt


def save(
    session: Session,
    *objs: Any,
    what: str = "the record",
    actor: Account | None = None,
    action: str = "",
    subject: Any = None,
) -> None:
    """Write the changed columns of persistent rows (one Core UPDATE each, version checked and bumped).

    A failed version check logs the refused attempt (when `action` is given) and raises ConflictError; the
    caller must then roll back, as after `flush`.
    """
    for obj in objs:
        if obj is None:
            continue
        state = instance_state(obj)
        if state.key is None:  # not in the database yet: the unit of work inserts it
            flush(session, what, actor=actor, action=action, subject=subject)
            continue
        committed = state.committed_state
        if not committed:
            continue
        mapper = state.mapper
        columns = mapper.column_attrs
        keys = [k for k in committed if k in columns]
        if not keys:
            continue
        dict_ = state.dict
        params = {k: dict_[k] for k in keys}
        params["w_id"] = dict_["id"]
        versioned = mapper.version_id_col is not None
        if versioned:
            version = dict_["version"]
            params["w_version"] = version
            params["version"] = version + 1
        conn = session.connection()
        done = _update_stmt(mapper.local_table, versioned).execute(conn, params)
        if done.rowcount != 1:
            who = actor.id if actor is not None else None
            raise _conflict(session, what, action, who, audit.subject_of(subject)[:2] if action else None)
        if versioned:
            dict_["version"] = version + 1
        if len(keys) == len(committed):
            state._commit_all(dict_, session.identity_map)
        else:
            state._commit(dict_, keys)


@dataclass(frozen=True)
class _NewRow:
    mapper: Any
    columns: tuple[tuple[str, str, Any], ...]  # (attribute, column key, pydantic field) but the id
    keys: frozenset[str]
    versioned: bool
    insert: Statement


_NEW_ROWS: dict[type, _NewRow] = {}


def _new_row(model: type) -> _NewRow:
    spec = _NEW_ROWS.get(model)
    if spec is None:
        mapper = sa.inspect(model)
        table = mapper.local_table
        columns = tuple(
            (prop.key, prop.columns[0].key, model.model_fields[prop.key])  # type: ignore[attr-defined]
            for prop in mapper.column_attrs
            if prop.key != "id"
        )
        spec = _NEW_ROWS[model] = _NewRow(
            mapper,
            columns,
            frozenset(key for key, _, _ in columns),
            mapper.version_id_col is not None,
            Statement(sa.insert(table).returning(table.c.id)),
        )
    return spec


def insert_new(session: Session, model: type, **values: Any) -> Any:
    """INSERT a new row from its field values (the model's defaults for the others) with one Core statement
    and return it as a persistent, clean instance in the session, as if it had been flushed.

    Why not `model(...)` and a flush: SQLModel's constructor sets each field through SQLModel's, pydantic's
    and SQLAlchemy's attribute machinery (~40 µs for a request row), and the unit of work then reads them all
    back. The instance is built as `Session.get` builds a loaded row (`session.persistent_instance`): new
    instance, identity key, identity map, no pending history. Unknown or missing required fields raise
    TypeError. A parent's already loaded collection of such rows is not updated: see `forget_loaded`.
    """
    spec = _new_row(model)
    unknown = values.keys() - spec.keys
    if unknown:
        raise TypeError(f"{model.__name__} has no field(s) {', '.join(sorted(unknown))}")
    missing = [key for key, _, field in spec.columns if key not in values and field.is_required()]
    if missing:
        raise TypeError(f"{model.__name__}: a value is required for {', '.join(map(repr, missing))}")
    row: dict[str, Any] = {}
    params: dict[str, Any] = {}
    for key, column, field in spec.columns:
        value = values[key] if key in values else field.get_default(call_default_factory=True)
        row[key] = params[column] = value
    if spec.versioned and row.get("version") is None:
        row["version"] = params["version"] = 1
    row["id"] = ident = spec.insert.execute(session.connection(), params).scalar_one()
    return persistent_instance(session, spec.mapper, spec.mapper.identity_key_from_primary_key((ident,)), row)


def forget_loaded(session: Session, obj: Any, collection: str) -> None:
    """After rows were added to `obj.<collection>` with Core statements: if the ORM had loaded that
    collection, expire it, so it is read back with the new rows when next asked for."""
    if loaded(obj, collection) is not NOT_LOADED:
        session.expire(obj, [collection])


def insert_rows(session: Session, model: Any, rows: list[dict[str, Any]]) -> None:
    """INSERT several new rows at once (one executemany); relationships read them back when asked."""
    if rows:
        table = model.__table__
        stmt = _INSERTS.get((table, "many"))
        if stmt is None:
            stmt = _INSERTS[(table, "many")] = Statement(sa.insert(table))
        stmt.execute(session.connection(), rows)


def loaded(obj: Any, attr: str) -> Any:
    """The value of `attr` if already loaded on `obj` (no SQL), else the `NOT_LOADED` marker."""
    return instance_state(obj).dict.get(attr, NOT_LOADED)


NOT_LOADED = object()
