"""The lifecycles of registrations, requests, reviews, authorizations, products, grants, implementation plans,
exit duties and operator selection rounds.

Each is written once as {state: {action: next state}}; every step asks `next_state` before it writes anything,
so an illegal action is refused naming the object, its state and what is allowed from there.
"""

from __future__ import annotations

from typing import Any

from marketplace.vocabulary import AuthorizationStatus as A
from marketplace.vocabulary import ExitDutyStatus as X
from marketplace.vocabulary import GrantStatus as G
from marketplace.vocabulary import ObjectionStatus as O
from marketplace.vocabulary import PlanStatus as PL
from marketplace.vocabulary import ProductStatus as P
from marketplace.vocabulary import RegistrationStatus as RS
from marketplace.vocabulary import RequestStatus as R
from marketplace.vocabulary import ReviewStatus as V
from marketplace.vocabulary import SelectionStatus as SE

__all__ = ["LIFECYCLES", "allowed_actions", "kind_of", "next_state"]

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
        "renew": RS.renewed,
    },
}

BEFORE_DECISION = {"withdraw": R.withdrawn}
REQUEST: dict[Any, dict[str, Any]] = {
    R.draft: {"edit": R.draft, "submit": R.submitted, **BEFORE_DECISION},
    R.submitted: {
        "open_review": R.in_review,
        "approve": R.approved,
        "accept_quote": R.submitted,
        **BEFORE_DECISION,
    },
    R.in_review: {
        "decide": R.in_review,
        "approve": R.approved,
        "approve_with_conditions": R.approved_with_conditions,
        "reject": R.rejected,
        "return": R.returned,
        "accept_quote": R.in_review,
        **BEFORE_DECISION,
    },
    R.returned: {"edit": R.returned, "resubmit": R.submitted, **BEFORE_DECISION},
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
    P.draft: {"register": P.registered, "price": P.priced},  # pricing a draft: registration not mandatory
    P.registered: {"price": P.priced},
    P.priced: {"price": P.priced, "list": P.listed},
    P.listed: {"withdraw": P.withdrawn},
}

# A grant resting on an authorization that ended is suspended: nothing more is delivered under it.
GRANT: dict[Any, dict[str, Any]] = {
    G.active: {"revoke": G.revoked, "expire": G.expired, "suspend": G.suspended},
    G.suspended: {"revoke": G.revoked, "expire": G.expired},
}

PLAN: dict[Any, dict[str, Any]] = {PL.drafted: {"approve": PL.approved, "reject": PL.rejected}}

EXIT_DUTY: dict[Any, dict[str, Any]] = {X.open: {"complete": X.completed}}

OBJECTION: dict[Any, dict[str, Any]] = {
    O.open: {"uphold": O.upheld, "dismiss": O.dismissed, "deem": O.dismissed},
}

# A competitive round takes applications and scores while open; its decision names a winner or fails it.
SELECTION: dict[Any, dict[str, Any]] = {
    SE.open: {"apply": SE.open, "score": SE.open, "decide": SE.decided, "fail": SE.failed},
}

LIFECYCLES = {
    "registration": REGISTRATION,
    "request": REQUEST,
    "review": REVIEW,
    "authorization": AUTHORIZATION,
    "product": PRODUCT,
    "grant": GRANT,
    "plan": PLAN,
    "exitduty": EXIT_DUTY,
    "objection": OBJECTION,
    "selection": SELECTION,
}


def next_state(kind: str, state: Any, action: str) -> Any | None:
    return LIFECYCLES[kind].get(state, {}).get(action)


def allowed_actions(kind: str, state: Any) -> list[str]:
    return sorted(LIFECYCLES[kind].get(state, {}))


def kind_of(obj: Any) -> str:
    """The lifecycle a row follows ("request" for an AccessRequest)."""
    name = type(obj).__name__.lower()
    return {"accessrequest": "request", "implementationplan": "plan", "selectionround": "selection"}.get(
        name, name
    )
