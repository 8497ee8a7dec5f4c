"""The one ε ledger: a release is charged to the resource's, the grant's and the requester's budgets, all or
none; the resource's budget is shared by every grant and requester; a refusal spends nothing."""

from __future__ import annotations

import pytest
from sqlmodel import Session, SQLModel, select

from marketplace.errors import InvalidInput, PrivacyError
from marketplace.models import ComputeAllowance, Organization, Resource
from marketplace.policy import load_policy
from marketplace.privacy.ledger import epsilon_spent, resource_budget, spend_epsilon
from marketplace.vocabulary import Grade, OpeningAttribute, OrganizationKind, SharingAttribute


def _resource(session: Session, code: str, budget: float | None = 1.0) -> Resource:
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
        epsilon_budget=budget,
    )
    session.add(res)
    session.flush()
    return res


def _grant_release(session: Session, res: Resource, eps: float, grant: int, requester: int) -> None:
    spend_epsilon(
        session,
        resource_id=res.id,
        epsilon=eps,
        resource_budget=res.epsilon_budget,
        grant_id=grant,
        grant_budget=0.8,
        requester_id=requester,
        requester_budget=0.9,
    )


def test_the_resource_budget_is_shared_by_every_grant_and_requester(sqlite_engine) -> None:
    with Session(sqlite_engine) as session:
        res, other = _resource(session, "R-1"), _resource(session, "R-2")
        assert epsilon_spent(session, res.id) == 0.0
        _grant_release(session, res, 0.4, grant=1, requester=10)
        _grant_release(session, res, 0.5, grant=2, requester=11)  # another requester, same subjects
        _grant_release(session, other, 0.8, grant=3, requester=10)
        assert epsilon_spent(session, res.id) == pytest.approx(0.9)
        with pytest.raises(
            PrivacyError, match=r"ε budget of the resource exhausted: used 0\.9 of 1, asked 0\.2"
        ):
            _grant_release(session, res, 0.2, grant=4, requester=12)
        with pytest.raises(PrivacyError, match="ε budget of the grant exhausted"):
            _grant_release(session, other, 0.1, grant=3, requester=13)
        res_id = res.id
        session.commit()
    with Session(sqlite_engine) as session:
        used = {(a.scope, a.key): a.used for a in session.exec(select(ComputeAllowance)).all()}
    assert used[("epsilon_resource", str(res_id))] == pytest.approx(0.9)
    assert used[("epsilon_grant", "1")] == pytest.approx(0.4)
    assert used[("epsilon_requester", f"10:{res_id}")] == pytest.approx(0.4)


def test_a_refused_release_spends_nothing_and_the_caller_commits(sqlite_engine) -> None:
    SQLModel.metadata.create_all(sqlite_engine)
    with Session(sqlite_engine) as session:
        res = _resource(session, "R-3")
        session.commit()
        with pytest.raises(PrivacyError):
            spend_epsilon(session, resource_id=res.id, epsilon=1.5, resource_budget=1.0)
        session.rollback()
        assert epsilon_spent(session, res.id) == 0.0
        for bad in (float("nan"), -1, 0, True, "0.1"):
            with pytest.raises(InvalidInput, match="epsilon"):
                spend_epsilon(session, resource_id=res.id, epsilon=bad, resource_budget=1.0)
        with pytest.raises(InvalidInput, match="grant_budget"):
            spend_epsilon(session, resource_id=res.id, epsilon=0.1, resource_budget=1.0, grant_id=1)
        spend_epsilon(session, resource_id=res.id, epsilon=0.5, resource_budget=1.0)
        session.rollback()  # the caller's transaction decides
        assert epsilon_spent(session, res.id) == 0.0


def test_a_resource_without_its_own_budget_uses_the_policy(sqlite_engine) -> None:
    policy = load_policy("national-2025")
    assert resource_budget(None, policy.privacy.epsilon_budget_per_resource) == 10.0
    assert resource_budget(2.5, policy.privacy.epsilon_budget_per_resource) == 2.5
    with pytest.raises(InvalidInput, match="epsilon_budget"):
        resource_budget(float("inf"), policy.privacy.epsilon_budget_per_resource)
    # the policy's total covers what its grants and requesters may spend
    assert policy.privacy.epsilon_budget_per_resource >= policy.compute.epsilon_per_requester
    strict = load_policy("strict-privacy")
    assert strict.privacy.epsilon_budget_per_resource >= strict.compute.epsilon_per_requester
