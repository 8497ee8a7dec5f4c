"""Maximum allowed revenue and the period ledger that deducts over-MAR revenue from the next period."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from marketplace.errors import InvalidInput, NotFound
from marketplace.policy import MarLedger, load_policy, max_allowed_revenue

D = Decimal
NATIONAL = load_policy("national-2025")


def test_mar_is_cost_plus_profit_plus_taxes() -> None:
    assert max_allowed_revenue(D("1000"), D("0.05"), D("60")) == D("1110.00")


def test_policy_caps_the_profit_rate() -> None:
    # national: 1.70% treasury yield + 6 pp = 7.70%
    assert max_allowed_revenue(D("1000"), D("0.20"), D("60"), policy=NATIONAL) == D("1137.00")
    assert max_allowed_revenue(D("1000"), D("0.05"), D("60"), policy=NATIONAL) == D("1110.00")
    higher = load_policy("national-2025", {"mar.treasury_yield": "0.03"})
    assert max_allowed_revenue(D("1000"), D("0.20"), D("0"), policy=higher) == D("1090.00")


@pytest.mark.parametrize("field", ["costs", "profit_rate", "taxes"])
def test_negative_inputs_are_named(field) -> None:
    args = {"costs": D("1"), "profit_rate": D("0.1"), "taxes": D("0")}
    args[field] = D("-1")
    with pytest.raises(InvalidInput) as info:
        max_allowed_revenue(**args)
    assert info.value.field == field


def test_over_mar_revenue_is_deducted_next_period() -> None:
    ledger = MarLedger.for_policy(NATIONAL).open_period("2025", D("1000")).record_revenue(D("1200"))
    assert ledger.period("2025").excess == D("200")
    assert not ledger.compliant
    nxt = ledger.open_period("2026", D("1000"))
    p = nxt.period("2026")
    assert (p.base_mar, p.deduction, p.mar) == (D("1000"), D("200"), D("800"))
    # the ledger is immutable: the earlier value is unchanged
    assert len(ledger.periods) == 1


def test_a_deduction_larger_than_the_next_mar_carries_on() -> None:
    ledger = MarLedger().open_period("p1", D("1000")).record_revenue(D("2500"))
    ledger = ledger.open_period("p2", D("1000"))
    assert ledger.period("p2").mar == 0
    ledger = ledger.open_period("p3", D("1000"))
    assert ledger.period("p3").deduction == D("500")
    assert ledger.period("p3").mar == D("500")


def test_market_pricing_records_but_does_not_deduct() -> None:
    ledger = (
        MarLedger.for_policy(load_policy("market-pricing"))
        .open_period("a", D("100"))
        .record_revenue(D("150"))
    )
    assert ledger.open_period("b", D("100")).period("b").mar == D("100")


def test_ledger_input_errors() -> None:
    with pytest.raises(NotFound):
        MarLedger().record_revenue(D("1"))
    ledger = MarLedger().open_period("a", D("10")).open_period("b", D("10"))
    with pytest.raises(InvalidInput):
        ledger.record_revenue(D("1"), "a")  # closed
    with pytest.raises(NotFound):
        ledger.record_revenue(D("1"), "zz")
    with pytest.raises(InvalidInput):
        ledger.open_period("a", D("1"))
    with pytest.raises(InvalidInput):
        ledger.record_revenue(D("-1"))


amounts = st.integers(min_value=0, max_value=10_000).map(D)


@settings(max_examples=200, deadline=None)
@given(st.lists(st.tuples(amounts, amounts), min_size=1, max_size=8))
def test_ledger_takes_back_exactly_the_excess(periods) -> None:
    ledger = MarLedger()
    for i, (base, revenue) in enumerate(periods):
        ledger = ledger.open_period(str(i), base).record_revenue(revenue)
    total_excess = sum((p.excess for p in ledger.periods), D("0"))
    taken = sum((p.base_mar - p.mar for p in ledger.periods), D("0"))
    # everything taken back was earlier excess; what is not yet taken back is carried
    assert taken + ledger.carried == total_excess
    assert all(p.mar >= 0 for p in ledger.periods)
    if all(rev <= base for base, rev in periods):
        assert taken == 0 and ledger.compliant
