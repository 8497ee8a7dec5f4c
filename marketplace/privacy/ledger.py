"""The per-resource ε ledger: every noisy release spends privacy budget, and none may overspend it.

Functions only add rows to the caller's session; the caller's transaction (one workflow step) commits, so a
refused release leaves no trace and an accepted one is recorded together with its delivery.
"""

from __future__ import annotations

import math
from datetime import datetime

import sqlalchemy as sa
from sqlmodel import Session, select

from marketplace.errors import InvalidInput, PrivacyError
from marketplace.models.catalog import NoiseLedgerEntry

TOLERANCE = 1e-9  # float sums of ε (0.1 + 0.2) must not refuse a release that exactly fills the budget


def check_budget(spent: float, asked: float, budget: float | None) -> None:
    """Pure rule: refuse when spent + asked would exceed the budget."""
    if (
        isinstance(asked, bool)
        or not isinstance(asked, int | float)
        or not math.isfinite(asked)
        or asked <= 0
    ):
        raise InvalidInput("epsilon", asked, "a positive finite number")
    if (
        budget is None
        or isinstance(budget, bool)
        or not isinstance(budget, int | float)
        or budget < 0
        or not math.isfinite(budget)
    ):
        raise InvalidInput(
            "epsilon_budget", budget, "a finite ε budget >= 0 set on the resource or by the policy"
        )
    if spent + asked > budget + TOLERANCE:
        raise PrivacyError(
            f"ε budget exceeded: spent {spent:g}, asked {asked:g}, budget {budget:g} "
            f"(remaining {max(budget - spent, 0.0):g}); nothing released"
        )


def epsilon_spent(session: Session, resource_id: int) -> float:
    """Total ε recorded for the resource (pending rows of this session included, via autoflush)."""
    total = session.exec(
        select(sa.func.coalesce(sa.func.sum(NoiseLedgerEntry.epsilon), 0.0)).where(
            NoiseLedgerEntry.resource_id == resource_id
        )
    ).one()
    return float(total)


def spend_epsilon(
    session: Session,
    resource_id: int,
    epsilon: float,
    budget: float | None,
    *,
    mechanism: str = "laplace",
    query: str = "",
    at: datetime | None = None,
    delivery_id: int | None = None,
) -> NoiseLedgerEntry:
    """Record ε for one release, or raise PrivacyError (naming spent, asked, budget) and record nothing."""
    if at is not None and at.utcoffset() is None:
        raise InvalidInput("at", at, "a timezone-aware datetime (every datetime column stores UTC)")
    check_budget(epsilon_spent(session, resource_id), epsilon, budget)
    entry = NoiseLedgerEntry(
        resource_id=resource_id,
        epsilon=float(epsilon),
        mechanism=mechanism,
        query=query,
        delivery_id=delivery_id,
    )
    if at is not None:
        entry.at = at
    session.add(entry)
    return entry
