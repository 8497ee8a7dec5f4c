"""Properties of the price-formation rules: caps within MAR, the clawback, the one MAR definition."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from marketplace.errors import InvalidInput, PolicyRefusal
from marketplace.policy import (
    cap_within_mar,
    carried_deduction,
    check_cap_filing,
    filed_operating_cost,
    load_policy,
    mar_position,
)

NATIONAL = load_policy("national-2025")
money = st.decimals(min_value=0, max_value=10_000_000, places=2, allow_nan=False, allow_infinity=False)
volumes = st.integers(min_value=1, max_value=5_000_000)


@given(mar=money, committed=money, volume=volumes)
def test_caps_set_by_the_rule_keep_forecast_revenue_within_mar(mar, committed, volume) -> None:
    cap = cap_within_mar(mar - committed, volume)
    if committed <= mar:
        ok = check_cap_filing(NATIONAL, cap=cap, forecast_volume=volume, mar=mar, committed=committed)
        assert ok is False
        assert committed + cap * volume <= mar
        higher = cap + Decimal("0.01")
        if committed + higher * volume > mar:
            with pytest.raises(PolicyRefusal) as exc:
                check_cap_filing(NATIONAL, cap=higher, forecast_volume=volume, mar=mar, committed=committed)
            assert exc.value.rule == "mar.cap_above_mar"
    else:
        assert cap == 0


@given(cost=money, taxes=money, revenues=st.lists(money, min_size=1, max_size=6))
def test_revenue_never_exceeds_mar_plus_the_clawback_carried_forward(cost, taxes, revenues) -> None:
    carried = Decimal(0)
    for i, revenue in enumerate(revenues):
        pos = mar_position(NATIONAL, period=str(i), operating_cost=cost, taxes=taxes, deduction=carried,
                           revenue=revenue)
        carried = carried_deduction(NATIONAL, pos)
        assert pos.revenue <= pos.mar + carried
        assert pos.mar == max(pos.base_mar - pos.deduction, Decimal(0))
        assert pos.compliant == (pos.excess == 0)


def test_no_deduction_when_the_policy_keeps_no_clawback() -> None:
    lax = load_policy("national-2025", {"mar.over_mar": "none"})
    pos = mar_position(lax, period="1", operating_cost=Decimal(100), taxes=Decimal(0), revenue=Decimal(500))
    assert pos.excess > 0 and carried_deduction(lax, pos) == 0


def test_trial_caps_are_provisional_or_refused_by_policy() -> None:
    assert check_cap_filing(NATIONAL, cap=Decimal("1"), forecast_volume=10, mar=None, committed=Decimal(0))
    strict = load_policy("national-2025", {"mar.trial_caps": False})
    with pytest.raises(PolicyRefusal) as exc:
        check_cap_filing(strict, cap=Decimal("1"), forecast_volume=10, mar=None, committed=Decimal(0))
    assert exc.value.rule == "mar.not_determined"


def test_profit_rule_fixed_rate() -> None:
    fixed = load_policy("national-2025", {"mar.profit_rule": "fixed", "mar.fixed_profit_rate": "0.05"})
    pos = mar_position(fixed, period="1", operating_cost=Decimal(1000), taxes=Decimal(60))
    assert pos.base_mar == Decimal("1110.00") and pos.profit_rate == Decimal("0.05")


def test_cost_filing_categories_and_subsidy() -> None:
    total = filed_operating_cost(NATIONAL, {"platform": Decimal(700), "staff": Decimal(300)}, Decimal(200))
    assert total == Decimal("800.00")
    with pytest.raises(InvalidInput) as exc:
        filed_operating_cost(NATIONAL, {"lobbying": Decimal(1)})
    assert exc.value.field == "costs"
