"""The ε ledger: every differentially private release of a resource, whoever asks, draws on one budget set.

A release is charged, all or nothing, to the resource's budget (the total privacy loss its data subjects may
bear across every grant and requester: `Resource.epsilon_budget`, else the policy's
`privacy.epsilon_budget_per_resource`) and, for a release under a grant, to the grant's and to the requester's
budget on that resource (`compute.epsilon_per_grant`, `compute.epsilon_per_requester`). Each charge is one
conditional UPDATE of a `ComputeAllowance` row (`privacy.budget`), so concurrent releases can never overspend;
the release itself is recorded by its caller as a `ComputeRun` with its ε. Nothing else spends ε: deliveries
of rows and aggregates without noise cost none, and the labs in the notebooks release nothing.
"""

from __future__ import annotations

import math

from sqlmodel import Session

from marketplace.errors import InvalidInput
from marketplace.privacy.budget import consume, used

__all__ = ["RESOURCE_SCOPE", "epsilon_spent", "resource_budget", "spend_epsilon"]

RESOURCE_SCOPE = "epsilon_resource"
GRANT_SCOPE = "epsilon_grant"
REQUESTER_SCOPE = "epsilon_requester"


def _finite(name: str, value: object, *, positive: bool) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise InvalidInput(name, value, "a positive finite number" if positive else "a finite number >= 0")
    if (value <= 0) if positive else (value < 0):
        raise InvalidInput(name, value, "a positive finite number" if positive else "a finite number >= 0")
    return float(value)


def resource_budget(own: float | None, policy_default: object) -> float:
    """The resource's ε budget: its own when set, else the policy's `privacy.epsilon_budget_per_resource`."""
    return _finite("epsilon_budget", own if own is not None else float(policy_default), positive=False)


def spend_epsilon(
    session: Session,
    *,
    resource_id: int,
    epsilon: float,
    resource_budget: float,
    grant_id: int | None = None,
    grant_budget: float | None = None,
    requester_id: int | None = None,
    requester_budget: float | None = None,
) -> None:
    """Charge one release's ε to every budget it draws on, or raise PrivacyError naming the exhausted one.

    Runs in the caller's transaction: if any budget refuses, the caller rolls back and nothing is spent.
    """
    eps = _finite("epsilon", epsilon, positive=True)
    consume(session, RESOURCE_SCOPE, str(resource_id), eps, _finite("epsilon_budget", resource_budget,
            positive=False), what="ε budget of the resource")
    if grant_id is not None:
        if grant_budget is None:
            raise InvalidInput("grant_budget", None, "the grant's ε budget")
        consume(session, GRANT_SCOPE, str(grant_id), eps, grant_budget, what="ε budget of the grant")
    if requester_id is not None:
        if requester_budget is None:
            raise InvalidInput("requester_budget", None, "the requester's ε budget on this resource")
        consume(session, REQUESTER_SCOPE, f"{requester_id}:{resource_id}", eps, requester_budget,
                what="ε budget of the requester")


def epsilon_spent(session: Session, resource_id: int) -> float:
    """Total ε released from the resource so far (every grant and requester together)."""
    return used(session, RESOURCE_SCOPE, str(resource_id))
