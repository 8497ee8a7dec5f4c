"""The simulator against results known from theory (issue 21, point 4; docs/simulator-validation.md).

1. A review stage with Poisson arrivals and exponential service (an M/M/c stage, `review.service_mean_days`)
   reproduces the Erlang C mean wait in queue within the 95 % interval of 20 seeds.
2. Under a posted price, revenue is price x accepted demand, to the cent.
3. Under deemed approval with no review capacity at all, every request is approved on its deadline.
All checks read the run's public results (metrics, money, the requests and reviews tables).
"""

from __future__ import annotations

import math
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from marketplace.sim import ScenarioFileError, apply_overrides, load_scenario, run
from marketplace.sim.theory import erlang_c, mmc_mean_wait, mmc_scenario, mmc_world, waiting_curve
from marketplace.vocabulary import OrganizationKind

from .conftest import single_target_world
from .test_sim_validity import CONDITIONAL_OPEN, START, _product

# ---------------------------------------------------------------- the formula


def test_erlang_c_matches_closed_forms_and_a_table_value() -> None:
    # one server: the chance of waiting is the utilisation, and Wq = rho / (mu - lambda)
    assert erlang_c(1, 0.7) == pytest.approx(0.7)
    assert mmc_mean_wait(1.4, 1, 0.5) == pytest.approx(0.7 / (2.0 - 1.4))
    # two servers: C = a^2 / (2 + a) ... written out: a^2/(2-a) / (1 + a + a^2/(2-a))
    a = 1.2
    assert erlang_c(2, a) == pytest.approx((a * a / (2 - a)) / (1 + a + a * a / (2 - a)))
    # the textbook sum for c = 10, a = 8 (computed from the definition, not the recursion)
    c, a = 10, 8.0
    top = a**c / math.factorial(c) * c / (c - a)
    direct = top / (sum(a**k / math.factorial(k) for k in range(c)) + top)
    assert erlang_c(c, a) == pytest.approx(direct, rel=1e-12)
    # no steady state at or beyond full load
    assert erlang_c(3, 3.0) == 1.0 and mmc_mean_wait(15.0, 3, 0.2) == math.inf


@given(c=st.integers(1, 400), rho=st.floats(0.0, 0.999))
@settings(max_examples=80, deadline=None)
def test_erlang_c_is_a_probability_rising_with_load(c: int, rho: float) -> None:
    p = erlang_c(c, rho * c)
    assert 0.0 <= p <= 1.0
    assert erlang_c(c, min(rho + 0.001, 0.9999) * c) >= p - 1e-12
    if c > 1:  # pooling: more servers at the same utilisation wait less often
        assert erlang_c(c, rho * c) <= erlang_c(c - 1, rho * (c - 1)) + 1e-12


@pytest.mark.parametrize("bad", [(0, 1.0), (True, 1.0), (2, -1.0), (2, math.nan), (2, math.inf)])
def test_erlang_c_refuses_nonsense(bad: tuple) -> None:
    with pytest.raises(ValueError):
        erlang_c(*bad)


# ---------------------------------------------------------------- 1. M/M/c against Erlang C


@pytest.mark.timeout(300)
@pytest.mark.parametrize(
    ("servers", "mean_days", "loads"),
    [(3, 0.2, (0.7, 0.8, 0.9)), (1, 0.5, (0.5, 0.8))],
)
def test_mmc_review_stage_reproduces_erlang_c_within_the_interval_of_20_seeds(
    servers: int, mean_days: float, loads: tuple[float, ...]
) -> None:
    curve = waiting_curve(loads, servers=servers, mean_service_days=mean_days, seeds=20)
    for row in curve.itertuples():
        assert row.low <= row.analytic <= row.high, row
        assert row.simulated == pytest.approx(row.analytic, rel=0.15)


def test_mmc_stage_serves_every_request_and_is_reproducible() -> None:
    sc = mmc_scenario(12.0, 3, 0.2, days=60)
    a, b = run(sc, 4, world=mmc_world()), run(sc, 4, world=mmc_world())
    assert a.metrics_json() == b.metrics_json()
    m = a.metrics
    assert m["filed"] == m["arrivals"] > 500 and m["rejected"] == 0
    # the sojourn (filing day -> decision day) is the wait plus one service on average: E[floor] telescopes
    assert m["waiting_days_mean"] >= m["review_wait_days_mean.holder"]
    assert m["pending"] + m["delivered"] == m["filed"]


def test_daily_quota_stage_reports_its_queue_wait_too() -> None:
    sc = apply_overrides(mmc_scenario(20.0, 3, 0.2, days=56), {"review.service_mean_days": {}})
    sc = apply_overrides(sc, {"review.capacity": {"compliance": 1000, "holder": 1000, "security": 1000}})
    res = run(sc, 3, world=mmc_world(), events=True)
    rv = res.reviews
    assert res.metrics["review_wait_days_mean.holder"] == pytest.approx(
        (rv["decided_day"] - rv["opened_day"]).mean(), abs=1e-6
    )


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ({"holder": 0.0}, "greater than 0"),
        ({"holder": -1.0}, "greater than 0"),
        ({"holder": "1"}, "number"),
        ({"holder": math.inf}, "finite"),
        ({"holder": 4000.0}, "less than or equal to 3660"),
        ({"cashier": 1.0}, "cashier"),
    ],
)
def test_service_times_are_validated_strictly(value: dict, expected: str) -> None:
    with pytest.raises(ScenarioFileError) as err:
        apply_overrides(load_scenario("national-2025"), {"review.service_mean_days": value})
    text = str(err.value)
    assert "review.service_mean_days" in text and expected in text


# ---------------------------------------------------------------- 2. posted price


@given(cents=st.integers(100, 1_500_000), seed=st.integers(0, 2**32 - 1), rate=st.floats(1.0, 30.0))
@settings(max_examples=12, deadline=None)
def test_revenue_under_a_posted_price_is_price_times_accepted_demand_exactly(
    cents: int, seed: int, rate: float
) -> None:
    price = Decimal(cents) / 100
    world = single_target_world(_product(str(price)), kind=OrganizationKind.enterprise, size="large")
    sc = apply_overrides(
        load_scenario("national-2025"),
        {
            "horizon.start": START,
            "horizon.days": 40,
            "demand.arrivals": {"enterprise_large": rate},
            "demand.purposes": {"default": {"industry_development": 1.0}},
            "demand.channels": {"default": {"authorized_operation": 1.0}},
            "demand.values": {"default": {"dist": "uniform", "low": 0.0, "high": 20_000.0}},
            "demand.waiting_cost_per_day": {"default": 0.0},
            "review.reject_rate": {},  # a requester files when value > price (no risk of refusal)
            "operators.price_markup": 1.0,
        },
    )
    res = run(sc, seed, world=world, events=True)
    m = res.metrics
    accepted = m["delivered"]
    assert m["paid_deliveries"] == accepted
    assert res.money["payments"] == price * accepted
    assert m["payments"] == pytest.approx(float(price) * accepted, abs=1e-6)
    # demand is those who value it above the price: nobody filed who valued it less
    req = res.requests
    filed = req[req["filed_day"] >= 0]
    assert (filed["value"] > float(price)).all()
    assert ((req["value"] > float(price)) == (req["filed_day"] >= 0)).all()


# ---------------------------------------------------------------- 3. deemed approval, no capacity


@given(seed=st.integers(0, 2**32 - 1), rate=st.floats(0.5, 40.0))
@settings(max_examples=8, deadline=None)
def test_deemed_approval_with_zero_capacity_approves_every_request_at_its_deadline(
    seed: int, rate: float
) -> None:
    days = 60
    sc = apply_overrides(
        load_scenario("deemed-approval"),
        {
            "horizon.start": START,
            "horizon.days": days,
            "demand.arrivals": {"research": rate},
            "demand.purposes": {"default": {"research": 1.0}},
            "demand.channels": {"default": {"opening": 1.0}},
            "demand.waiting_cost_per_day": {"default": 0.0},
            "review.capacity": {"compliance": 0, "holder": 0, "security": 0},
        },
    )
    res = run(sc, seed, world=single_target_world(CONDITIONAL_OPEN), events=True)
    m = res.metrics
    rv = res.reviews
    assert m["filed"] == m["arrivals"]
    assert m["rejected"] == 0 and m["escalations"] == 0
    # every stage was decided by silence, as an approval, on its due day
    assert (rv["status"] == "deemed").all() and (rv["decision"] != "reject").all()
    assert (rv["decided_day"] == rv["due_day"]).all()
    req = res.requests.set_index("request")
    last_due = rv.groupby("request")["due_day"].max()
    approved = req[req["status"] == "delivered"]
    assert len(approved) == m["approved"] == m["deemed_decisions"] > 0
    assert (approved["decided_day"] == last_due.reindex(approved.index)).all()
    # the rest are those whose deadline falls after the horizon: nothing is overdue
    waiting = req[req["status"] == "in_review"]
    assert len(waiting) == m["pending"] and m["pending_overdue"] == 0
    assert m["approved"] + m["pending"] == m["filed"]


def test_queue_wait_reads_as_days_and_lower_is_better() -> None:
    from marketplace.sim.figures import direction, metric_name, unit_of

    assert direction("review_wait_days_mean.holder") == -1
    assert unit_of("review_wait_days_mean.holder", "en") == unit_of("waiting_days_mean", "en")
    assert metric_name("review_wait_days_mean.holder", "en").startswith("Days in the review queue (mean)")
    assert metric_name("review_wait_days_mean.holder", "zh").startswith("审核排队天数")
