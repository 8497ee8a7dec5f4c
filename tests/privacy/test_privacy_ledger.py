"""The per-resource ε ledger on an in-memory database: spend, sum, refuse over budget."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlmodel import Session, select

from marketplace.errors import InvalidInput, PrivacyError
from marketplace.models import NoiseLedgerEntry, Organization, Resource
from marketplace.privacy.ledger import check_budget, epsilon_spent, spend_epsilon
from marketplace.vocabulary import Grade, OpeningAttribute, OrganizationKind, SharingAttribute


def _resource(session: Session, code: str) -> Resource:
    org = Organization(code=f"org-{code}", name="Health Bureau", kind=OrganizationKind.department)
    session.add(org)
    session.flush()
    res = Resource(
        code=code,
        title="Clinic visits",
        domain="health",
        holder_id=org.id,
        grade=Grade.important,
        sharing_attribute=SharingAttribute.conditional,
        opening_attribute=OpeningAttribute.not_open,
        epsilon_budget=1.0,
    )
    session.add(res)
    session.flush()
    return res


def test_pure_budget_rule() -> None:
    check_budget(0.7, 0.3, 1.0)
    check_budget(0.1 + 0.2, 0.7, 1.0)  # float sums may exactly fill the budget
    with pytest.raises(PrivacyError, match=r"spent 0\.8, asked 0\.3, budget 1"):
        check_budget(0.8, 0.3, 1.0)
    with pytest.raises(InvalidInput, match="epsilon_budget"):
        check_budget(0.0, 0.1, None)
    with pytest.raises(InvalidInput, match="epsilon"):
        check_budget(0.0, -1, 1.0)


def test_spend_until_refused(sqlite_engine) -> None:
    at = datetime(2025, 3, 1, 9, 0, tzinfo=UTC)
    with Session(sqlite_engine) as session:
        res = _resource(session, "R-1")
        other = _resource(session, "R-2")
        assert epsilon_spent(session, res.id) == 0.0
        spend_epsilon(
            session, res.id, 0.4, res.epsilon_budget, mechanism="laplace", query="count by district", at=at
        )
        spend_epsilon(
            session, res.id, 0.5, res.epsilon_budget, mechanism="laplace", query="sum income", at=at
        )
        spend_epsilon(session, other.id, 1.0, other.epsilon_budget, mechanism="laplace", query="q", at=at)
        assert epsilon_spent(session, res.id) == pytest.approx(0.9)
        with pytest.raises(PrivacyError, match=r"spent 0\.9, asked 0\.2, budget 1"):
            spend_epsilon(session, res.id, 0.2, res.epsilon_budget, mechanism="laplace", query="again", at=at)
        res_id = res.id
        session.commit()
    with Session(sqlite_engine) as session:
        rows = session.exec(select(NoiseLedgerEntry).where(NoiseLedgerEntry.resource_id == res_id)).all()
        assert [(r.epsilon, r.query, r.at) for r in rows] == [
            (0.4, "count by district", at),
            (0.5, "sum income", at),
        ]


def test_refusal_adds_nothing_and_caller_commits(sqlite_engine) -> None:
    with Session(sqlite_engine) as session:
        res = _resource(session, "R-3")
        session.commit()
        with pytest.raises(PrivacyError):
            spend_epsilon(
                session,
                res.id,
                1.5,
                1.0,
                mechanism="laplace",
                query="too much",
                at=datetime(2025, 1, 1, tzinfo=UTC),
            )
        assert len(session.new) == 0
        with pytest.raises(InvalidInput, match="at"):
            spend_epsilon(
                session, res.id, 0.1, 1.0, mechanism="laplace", query="naive", at=datetime(2025, 1, 1)
            )
        spend_epsilon(
            session, res.id, 0.5, 1.0, mechanism="laplace", query="ok", at=datetime(2025, 1, 1, tzinfo=UTC)
        )
        session.rollback()  # the caller's transaction decides
        assert epsilon_spent(session, res.id) == 0.0
