"""Validity: the model against analytic expectations, and policy changes moving what they should."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import numpy as np

from marketplace.policy import RequestFacts, Target, route
from marketplace.sim import apply_overrides, load_scenario, run
from marketplace.sim.model import class_requester
from marketplace.vocabulary import (
    BillingUnit,
    Channel,
    Grade,
    OpeningAttribute,
    OrganizationKind,
    ProductKind,
    Purpose,
    SharingAttribute,
)

from .conftest import mixed_world, single_target_world

START = "2025-03-03"  # a Monday; no holiday in March 2025

CONDITIONAL_OPEN = Target(
    channel=Channel.opening,
    grade=Grade.general,
    sharing_attribute=SharingAttribute.conditional,
    opening_attribute=OpeningAttribute.conditional,
    holder_id=1,
    contains_personal_info=False,
)


def _single(rate: float, holder_capacity: int, days: int, **extra: object) -> object:
    over = {
        "horizon.start": START,
        "horizon.days": days,
        "demand.arrivals": {"research": rate},
        "demand.purposes": {"default": {"research": 1.0}},
        "demand.channels": {"default": {"opening": 1.0}},
        "demand.waiting_cost_per_day": {"default": 0.0},
        "review.capacity": {"compliance": 1000, "holder": holder_capacity, "security": 1000},
        "review.reject_rate": {},
        "operators.price_markup": 1.0,
        **extra,
    }
    return apply_overrides(load_scenario("national-2025"), over)


def test_queue_with_spare_capacity_waits_only_for_the_next_working_day() -> None:
    sc = _single(20.0, 1000, 56)  # 8 whole weeks
    res = run(sc, 3, world=single_target_world(CONDITIONAL_OPEN), events=True)
    req = res.requests
    assert res.metrics["filed"] == res.metrics["arrivals"] > 1000
    # analytic: arrivals spread evenly over the week; Mon-Fri decided the same day, Sat waits 2, Sun 1
    decided = req[req["decided_day"] >= 0]
    wait = (decided["decided_day"] - decided["filed_day"]).to_numpy()
    se = wait.std() / np.sqrt(wait.size)
    assert abs(wait.mean() - 3 / 7) < 4 * se + 0.01
    # utilisation = decisions / (capacity x working days)
    working = 40
    assert res.metrics["reviews"] / (1000 * working) < 0.03
    assert res.metrics["deadline_breaches"] == 0


def test_overloaded_queue_decides_exactly_capacity_per_working_day() -> None:
    sc = _single(50.0, 20, 28)
    res = run(sc, 5, world=single_target_world(CONDITIONAL_OPEN), events=True)
    daily = res.reviews.groupby("decided_day").size()
    # deterministic server: 20 decisions on each of the 20 working days (utilisation 1), none at weekends
    assert len(daily) == 20 and set(daily.tolist()) == {20}
    assert res.metrics["reviews"] == 20 * 20
    assert res.metrics["pending"] == res.metrics["filed"] - 400
    # the DataCollector's daily table: one row per day, the holder queue grows by arrivals minus capacity
    daily = res.daily
    assert len(daily) == 28 and daily["filed"].sum() == res.metrics["filed"]
    assert daily["queue_holder"].iloc[-1] == res.metrics["pending"]
    # FIFO: decisions follow filing order
    rv = res.reviews.sort_values(["decided_day", "request"])
    assert (np.diff(rv["request"].to_numpy()) > 0).all()


def _product(price: str) -> Target:
    return Target(
        channel=Channel.authorized_operation,
        grade=Grade.general,
        sharing_attribute=SharingAttribute.conditional,
        opening_attribute=OpeningAttribute.conditional,
        holder_id=1,
        contains_personal_info=False,
        is_product=True,
        deidentified=True,
        billing_unit=BillingUnit.per_product,
        price_cap=Decimal("20000"),
        actual_price=Decimal(price),
        unit_cost=Decimal("100"),
        product_kind=ProductKind.dataset,
    )


def test_posted_price_revenue_matches_p_times_one_minus_F() -> None:
    p, high = 1000.0, 4000.0
    sc = _single(
        40.0,
        1000,
        150,
        **{
            "demand.purposes": {"default": {"industry_development": 1.0}},
            "demand.channels": {"default": {"authorized_operation": 1.0}},
            "demand.values": {"default": {"dist": "uniform", "low": 0.0, "high": high}},
        },
    )
    w = single_target_world(_product("1000.00"), kind=OrganizationKind.enterprise, size="large")
    sc = apply_overrides(sc, {"demand.arrivals": {"enterprise_large": 40.0}})
    res = run(sc, 11, world=w)
    n = res.metrics["arrivals"]
    q = 1 - p / high
    per_arrival = res.metrics["filed"] * p / n
    se = p * np.sqrt(q * (1 - q) / n)
    assert abs(per_arrival - p * q) < 4 * se
    # every delivered request paid exactly the posted price, and the budget balances to the cent
    assert res.money["payments"] == Decimal("1000.00") * res.metrics["delivered"]
    m = res.money
    assert m["payments"] == m["operator_revenue"] + m["holder_share"] + m["taxes"]
    assert m["taxes"] > 0 and m["holder_share"] > 0


def test_free_purposes_give_zero_revenue(world: object) -> None:
    sc = apply_overrides(
        load_scenario("national-2025"),
        {
            "horizon.days": 60,
            # requesters the policy lets claim public welfare (enterprises need a named public project)
            "demand.arrivals": {"department": 20.0, "institution": 10.0, "research": 10.0, "nonprofit": 10.0},
            "demand.purposes": {"default": {"public_welfare": 1.0}},
        },
    )
    res = run(sc, 2, world=world)
    assert res.metrics["delivered.authorized_operation"] > 0
    assert res.metrics["payments"] == 0 and res.money["payments"] == 0
    assert res.metrics["free_use_share"] == 1.0 and res.metrics["free_claims_refused"] == 0


def _runs(policy_a: str, policy_b: str, world: object, **extra: object) -> tuple[object, object]:
    over = {
        "horizon.days": 90,
        "review.capacity": {"compliance": 5000, "holder": 5000, "security": 5000},
        **extra,
    }
    a = apply_overrides(load_scenario("national-2025"), {**over, "policy.name": policy_a})
    b = apply_overrides(load_scenario("national-2025"), {**over, "policy.name": policy_b})
    return run(a, 7, world=world), run(b, 7, world=world)


def _pair(policy_a: str, policy_b: str, world: object, **extra: object) -> tuple[dict, dict]:
    ra, rb = _runs(policy_a, policy_b, world, **extra)
    return ra.metrics, rb.metrics


def test_sme_discount_lowers_small_firm_prices_and_leaves_sharing_alone(world: object) -> None:
    ra, rb = _runs("national-2025", "sme-discount", world)
    # the same request (product, purpose, class, volume) never costs a micro or small firm more, often less
    key = ["target", "purpose", "requester_class", "volume"]
    both = ra.quotes.merge(rb.quotes, on=key, suffixes=("_a", "_b"))
    small = both[both["requester_class"].isin(["enterprise_micro", "enterprise_small"])]
    assert len(small) > 10
    assert (small["total_b"] <= small["total_a"]).all() and (small["total_b"] < small["total_a"]).mean() > 0.5
    a, b = ra.metrics, rb.metrics
    assert b["payments"] < a["payments"]
    assert b["filed.enterprise_micro"] >= a["filed.enterprise_micro"]
    for k in (
        "filed.sharing",
        "delivered.sharing",
        "rejected.sharing",
        "filed.opening",
        "delivered.opening",
        "filed.department",
        "release_k_min",
        "arrivals",
    ):
        assert a[k] == b[k], k


def test_strict_privacy_raises_release_k_and_lowers_risk(world: object) -> None:
    a, b = _pair("national-2025", "strict-privacy", world)
    assert (a["release_k_min"], b["release_k_min"]) == (5, 10)
    assert b["prosecutor_risk_max"] < a["prosecutor_risk_max"]
    assert a["filed.sharing"] == b["filed.sharing"]


def test_deemed_approval_turns_breaches_into_deemed_decisions(world: object) -> None:
    thin = {"review.capacity": {"compliance": 5000, "holder": 15, "security": 5000}}
    over = {"horizon.days": 90, **thin}
    a = run(apply_overrides(load_scenario("national-2025"), over), 4, world=world).metrics
    b = run(apply_overrides(load_scenario("deemed-approval"), over), 4, world=world).metrics
    assert a["deemed_decisions"] == 0 and a["escalations"] > 0
    assert b["deemed_decisions"] > 0
    # silence is consent: nothing waits past its deadline, and more requests are decided; under escalation the
    # overdue requests stay pending (so "reviewed" waits only count the quick ones)
    assert b["pending_overdue"] == 0 < a["pending_overdue"]
    assert b["approved"] > a["approved"]


def test_memoised_routing_equals_direct_policy_calls(world: object) -> None:
    sc = apply_overrides(load_scenario("national-2025"), {"horizon.days": 40})
    res = run(sc, 9, world=world, events=True)
    st = res.statics
    req = res.requests.set_index("request")
    rv = res.reviews
    rng = np.random.default_rng(0)
    filed = req.index[req["filed_day"].to_numpy() >= 0].to_numpy()
    for i in rng.choice(filed, size=200, replace=False).tolist():
        row = req.loc[i]
        tgt = world.targets[int(row["target"])].target
        start = date.fromordinal(st.start.toordinal() + int(row["filed_day"]))
        r = route(
            st.policy, RequestFacts(Purpose(row["purpose"])), tgt, class_requester(row["requester_class"]),
            start=start,
        )
        assert r.allowed and r.free == bool(row["free"])
        dues = tuple((s.due - st.start).days for s in r.stages)
        decided = rv[rv["request"] == i]
        assert len(decided) <= len(dues)
        for seq, due in zip(decided["sequence"].tolist(), decided["due_day"].tolist(), strict=True):
            assert due == dues[seq]


def test_budget_balances_exactly_on_a_mixed_world() -> None:
    w = mixed_world(seed=3)
    res = run(apply_overrides(load_scenario("sme-discount"), {"horizon.days": 60}), 1, world=w)
    m = res.money
    assert m["payments"] > 0
    assert m["payments"] == m["operator_revenue"] + m["holder_share"] + m["taxes"]
    q = res.quotes
    assert (q["total"] == q["operator"] + q["holder"] + q["taxes"]).all()
