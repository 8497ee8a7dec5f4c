"""Shared mechanics of every step: lifecycle tables, guarded transitions, conflict-mapped flushes, codes.

The lifecycles of DESIGN.md §2 are written once here as {state: {action: next state}}; every step checks its
transition against them before it writes anything, so an illegal action raises TransitionError, writes nothing
but its `refused` audit event, and names the object, its state and what is allowed from there.
"""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy.orm.exc import StaleDataError
from sqlmodel import Session, select

from marketplace.codes import make_code
from marketplace.errors import ConflictError, TransitionError
from marketplace.models import Account
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
SETTING_KEYS = ("clock", "policy")


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


def remember_setting(session: Session, row: Any) -> None:
    session.info.setdefault(_SETTINGS, {})[row.key] = row


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
        err = ConflictError(
            f"{what} was changed by someone else at the same time; nothing was saved — "
            "reload it and try again"
        )
        if action:
            audit.refuse(session, who, action, (kind, ident), err)
        raise err from exc


def temp_code() -> str:
    """A unique placeholder until the row has an id (codes are derived from ids, so they never collide)."""
    return f"tmp-{uuid.uuid4().hex}"


def assign_code(obj: Any, kind: str, year: int, tag: str = "") -> None:
    obj.code = make_code(kind, obj.id, year=year, tag=tag)
