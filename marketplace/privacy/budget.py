"""Budgets that concurrent computations draw on: ε per grant and per requester, queries and checks per day.

One conditional UPDATE spends (`used + amount <= cap`), so two computations racing for the last of a budget
cannot both win, on SQLite (one writer at a time) and PostgreSQL (the row lock of the UPDATE) alike. The row
is
created first with INSERT ... ON CONFLICT DO NOTHING, so creating it races safely too. Everything happens in
the caller's transaction: a computation refused later in the same step rolls its spending back.
"""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel import Session

from marketplace.errors import InvalidInput, PrivacyError
from marketplace.models.compute import ComputeAllowance

__all__ = ["TOLERANCE", "consume", "remaining", "used"]

TOLERANCE = 1e-9  # float sums of ε (0.1 + 0.2) must not refuse a spend that exactly fills the budget
_KEYS = ("scope", "key", "period")


def _create(session: Session, scope: str, key: str, period: str, cap: float) -> None:
    values = {"scope": scope, "key": key, "period": period, "cap": cap, "used": 0.0}
    dialect = session.get_bind().dialect.name
    if dialect == "postgresql":
        stmt = postgresql.insert(ComputeAllowance).values(values).on_conflict_do_nothing(index_elements=_KEYS)
    elif dialect == "sqlite":
        stmt = sqlite.insert(ComputeAllowance).values(values).on_conflict_do_nothing(index_elements=_KEYS)
    else:
        raise InvalidInput("database", dialect, "SQLite or PostgreSQL")
    session.connection().execute(stmt)


def _where(scope: str, key: str, period: str) -> sa.ColumnElement[bool]:
    t = ComputeAllowance.__table__.c
    return sa.and_(t.scope == scope, t.key == key, t.period == period)


def used(session: Session, scope: str, key: str, period: str = "") -> float:
    t = ComputeAllowance.__table__.c
    value = session.connection().execute(sa.select(t.used).where(_where(scope, key, period))).scalar()
    return float(value or 0.0)


def remaining(session: Session, scope: str, key: str, cap: float, period: str = "") -> float:
    return max(cap - used(session, scope, key, period), 0.0)


def consume(session: Session, scope: str, key: str, amount: float, cap: float, *, period: str = "",
            what: str = "budget") -> float:
    """Spend `amount` of the (scope, key, period) allowance capped at `cap`; the amount used afterwards.

    Raises PrivacyError naming used, asked and cap when it would overspend; nothing is spent then.
    """
    if not (amount > 0 and cap >= 0):
        raise InvalidInput("amount", amount, "a positive amount within a cap >= 0")
    _create(session, scope, key, period, cap)
    t = ComputeAllowance.__table__.c
    stmt = (
        sa.update(ComputeAllowance.__table__)
        .where(_where(scope, key, period), t.used + amount <= cap + TOLERANCE)
        .values(used=t.used + amount, cap=cap)
        .returning(t.used)
    )
    after = session.connection().execute(stmt).scalar()
    if after is None:
        spent = used(session, scope, key, period)
        raise PrivacyError(
            f"{what} exhausted: used {spent:g} of {cap:g}, asked {amount:g} "
            f"(remaining {max(cap - spent, 0.0):g}); nothing computed"
        )
    return float(after)
