"""Differentially private releases through OpenDP, charged against the grant's and the requester's ε."""

from __future__ import annotations

import threading
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy.engine import Engine
from sqlmodel import Session, SQLModel, select

from marketplace import db
from marketplace.compute import Environment, remaining, run_dp
from marketplace.errors import InvalidInput, PolicyRefusal, PrivacyError
from marketplace.models.compute import ComputeAllowance, ComputeRun


def test_count_sum_mean_quantile_histogram(session: Session, grant_factory, env: Environment) -> None:
    grant = grant_factory(epsilon_per_grant=300.0, epsilon_per_requester=300.0, epsilon_per_query_max=50.0,
                          epsilon_per_resource=300.0)
    f = env.frame
    count = run_dp(session, grant, env, "count", epsilon=50.0)
    assert abs(count.value - len(f)) < 2
    total = run_dp(session, grant, env, "sum", column="length_of_stay", bounds=(0, 60), epsilon=50.0)
    assert total.value == pytest.approx(f.length_of_stay.sum(), abs=30)
    mean = run_dp(session, grant, env, "mean", column="length_of_stay", bounds=(0, 60), epsilon=50.0)
    assert mean.value == pytest.approx(f.length_of_stay.mean(), abs=0.2)
    median = run_dp(session, grant, env, "quantile", column="age", bounds=(0, 100), epsilon=5.0)
    assert abs(median.value - f.age.median()) <= 3
    hist = run_dp(session, grant, env, "histogram", column="district", epsilon=50.0)
    assert list(hist.value["district"]) == ["East", "North", "South", "West"]
    exact = f.district.value_counts().sort_index().to_numpy()
    assert np.abs(hist.value["histogram"].to_numpy() - exact).max() < 2
    assert [r.epsilon for r in session.exec(select(ComputeRun)).all()] == pytest.approx([50, 50, 50, 5, 50],
                                                                                         rel=1e-3)


def test_grouped_mean_costs_epsilon_once(session: Session, grant: object, env: Environment) -> None:
    result = run_dp(session, grant, env, "mean", column="length_of_stay", bounds=(0, 60), epsilon=1.0,
                    by=["district", "sex"])
    assert len(result.value) == 8 and result.run.epsilon == pytest.approx(1.0, rel=1e-3)


def test_budget_refuses_once_spent(session: Session, grant_factory, env: Environment) -> None:
    grant = grant_factory(epsilon_per_grant=1.0, epsilon_per_requester=5.0, epsilon_per_query_max=1.0)
    for _ in range(4):
        run_dp(session, grant, env, "count", epsilon=0.25)
    with pytest.raises(PrivacyError, match="ε budget of the grant exhausted"):
        run_dp(session, grant, env, "count", epsilon=0.25)
    assert remaining(session, "epsilon_grant", "1", 1.0) == pytest.approx(0, abs=1e-6)


def test_requester_budget_spans_grants(session: Session, grant_factory, env: Environment) -> None:
    a = grant_factory(grant_id=1, epsilon_per_grant=1.0, epsilon_per_requester=1.5)
    b = grant_factory(grant_id=2, epsilon_per_grant=1.0, epsilon_per_requester=1.5)
    run_dp(session, a, env, "count", epsilon=1.0)
    with pytest.raises(PrivacyError, match="requester"):
        run_dp(session, b, env, "count", epsilon=1.0)


def test_the_resource_budget_spans_requesters(session: Session, grant_factory, env: Environment) -> None:
    """One ε ledger: two requesters' grants on the same resource draw on its one budget."""
    a = grant_factory(grant_id=1, requester_id=10, epsilon_per_resource=1.5)
    b = grant_factory(grant_id=2, requester_id=11, epsilon_per_resource=1.5)
    run_dp(session, a, env, "count", epsilon=1.0)
    with pytest.raises(PrivacyError, match="ε budget of the resource exhausted"):
        run_dp(session, b, env, "count", epsilon=1.0)
    run_dp(session, b, env, "count", epsilon=0.5)
    from marketplace.privacy.ledger import epsilon_spent

    assert epsilon_spent(session, a.resource_id) == pytest.approx(1.5)
    accepted = [r.epsilon for r in session.exec(select(ComputeRun)).all()]
    assert sum(accepted) == pytest.approx(epsilon_spent(session, a.resource_id))


def test_per_query_maximum_and_bad_input(session: Session, grant, env: Environment) -> None:
    with pytest.raises(PolicyRefusal) as info:
        run_dp(session, grant, env, "count", epsilon=5.0)
    assert info.value.rule == "dp.epsilon_per_query"
    with pytest.raises(InvalidInput, match="bounds"):
        run_dp(session, grant, env, "sum", column="cost", epsilon=0.5)
    with pytest.raises(InvalidInput, match="epsilon"):
        run_dp(session, grant, env, "count", epsilon=float("nan"))
    with pytest.raises(PolicyRefusal) as info:
        run_dp(session, grant, env, "sum", column="patient_id", bounds=(0, 1), epsilon=0.5)
    assert info.value.rule == "dp.column"
    assert session.exec(select(ComputeRun)).all() == []


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(asks=st.lists(st.sampled_from([0.05, 0.1, 0.2, 0.3, 0.5, 1.0]), min_size=1, max_size=25),
       budget=st.sampled_from([0.5, 1.0, 3.0]))
def test_spent_never_exceeds_the_budget(sqlite_engine: Engine, grant_factory, env: Environment,
                                        asks: list[float], budget: float) -> None:
    SQLModel.metadata.drop_all(sqlite_engine)
    SQLModel.metadata.create_all(sqlite_engine)
    grant = grant_factory(epsilon_per_grant=budget, epsilon_per_requester=budget)
    accepted = 0.0
    for ask in asks:
        with Session(sqlite_engine) as s:
            try:
                result = run_dp(s, grant, env, "count", epsilon=ask)
                s.commit()
                accepted += result.run.epsilon
            except PrivacyError:
                s.rollback()
    with Session(sqlite_engine) as s:
        rows = s.exec(select(ComputeAllowance)).all()
        spent = sum(r.epsilon for r in s.exec(select(ComputeRun)).all())
    assert spent == pytest.approx(accepted)
    assert spent <= budget + 1e-6
    assert all(r.used <= r.cap + 1e-6 for r in rows)


def _race(url: str, grant, env: Environment, workers: int, ask: float) -> tuple[int, int]:
    engine = db.make_engine(url)
    barrier = threading.Barrier(workers)
    won, lost = [], []

    def one() -> None:
        barrier.wait()
        try:
            with db.session_scope(engine) as s:
                run_dp(s, grant, env, "count", epsilon=ask)
            won.append(1)
        except PrivacyError:
            lost.append(1)

    threads = [threading.Thread(target=one) for _ in range(workers)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    engine.dispose()
    return len(won), len(lost)


@pytest.mark.parametrize("backend", ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def test_concurrent_releases_never_overspend(backend: str, tmp_path: Path, request: pytest.FixtureRequest,
                                             grant_factory, env: Environment) -> None:
    url = f"sqlite:///{tmp_path / 'race.db'}" if backend == "sqlite" else request.getfixturevalue("pg_url")
    engine = db.make_engine(url)
    SQLModel.metadata.create_all(engine)
    engine.dispose()
    grant = grant_factory(epsilon_per_grant=1.0, epsilon_per_requester=1.0, epsilon_per_query_max=1.0)
    won, lost = _race(url, grant, env, workers=8, ask=0.3)
    assert (won, lost) == (3, 5)  # 3 × 0.3 fits in 1.0, the fourth would not
    engine = db.make_engine(url)
    with Session(engine) as s:
        spent = sum(r.epsilon for r in s.exec(select(ComputeRun)).all())
        assert spent <= 1.0 + 1e-6 and len(s.exec(select(ComputeRun)).all()) == 3
    engine.dispose()


@settings(max_examples=6, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(asks=st.lists(st.sampled_from([0.1, 0.2, 0.25, 0.4, 0.7]), min_size=2, max_size=8),
       budget=st.sampled_from([0.5, 1.0]))
def test_concurrent_spending_never_exceeds_the_budget(tmp_path_factory: pytest.TempPathFactory, grant_factory,
                                                      env: Environment, asks: list[float],
                                                      budget: float) -> None:
    """Racing threads, one release each: what was accepted fits the budget and matches the ledger exactly."""
    url = f"sqlite:///{tmp_path_factory.mktemp('race') / 'race.db'}"
    engine = db.make_engine(url)
    SQLModel.metadata.create_all(engine)
    grant = grant_factory(epsilon_per_grant=budget, epsilon_per_requester=budget, epsilon_per_query_max=1.0)
    barrier = threading.Barrier(len(asks))
    accepted: list[float] = []
    unexpected: list[BaseException] = []

    def one(ask: float) -> None:
        barrier.wait()
        try:
            with db.session_scope(engine) as s:
                run = run_dp(s, grant, env, "count", epsilon=ask).run
            accepted.append(run.epsilon)
        except PrivacyError:
            pass
        except BaseException as exc:  # a lock timeout or any other failure must fail the test
            unexpected.append(exc)

    threads = [threading.Thread(target=one, args=(a,)) for a in asks]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    with Session(engine) as s:
        ledger = {(r.scope, r.key): r.used for r in s.exec(select(ComputeAllowance)).all()}
        recorded = sorted(r.epsilon for r in s.exec(select(ComputeRun)).all())
    engine.dispose()
    assert sum(accepted) <= budget + 1e-6
    assert recorded == sorted(accepted)
    assert ledger.get(("epsilon_grant", "1"), 0.0) == pytest.approx(sum(accepted))
    assert unexpected == []
    assert accepted or min(asks) > budget, "when one release fits the budget, one is accepted"
