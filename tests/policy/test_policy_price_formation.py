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


# ---------------------------------------------------------------- conditional free use

from marketplace.policy import FreeClaim, check_free_claim, free_use_rule  # noqa: E402
from marketplace.vocabulary import OrganizationKind, Purpose  # noqa: E402

claims = st.builds(
    FreeClaim,
    purpose=st.sampled_from([Purpose.public_welfare, Purpose.public_governance]),
    requester_kind=st.sampled_from(list(OrganizationKind)),
    use_statement=st.text(max_size=80),
    project_reference=st.sampled_from(["", "PHP-2025-017"]),
    sponsor_is_department=st.booleans(),
    volume=st.integers(1, 1000),
    prior_free_requests=st.integers(0, 20),
)


@given(claims)
def test_free_claims_stand_only_for_eligible_requesters_with_the_evidence(claim) -> None:
    refusal = check_free_claim(NATIONAL, claim)
    rule = free_use_rule(NATIONAL, claim.purpose)
    assert rule is not None
    if refusal is None:
        enterprise = claim.requester_kind is OrganizationKind.enterprise
        assert claim.requester_kind in rule.requester_kinds or (
            enterprise and rule.enterprises == "named_public_project"
        )
        assert len(" ".join(claim.use_statement.split())) >= rule.min_statement_chars
        if enterprise:
            assert claim.project_reference and claim.sponsor_is_department
        if rule.max_free_requests is not None:
            assert claim.prior_free_requests < rule.max_free_requests
    else:
        assert refusal.rule.startswith("free_use.") and NATIONAL.name in refusal.message


def test_large_enterprise_with_empty_statement_is_refused() -> None:
    claim = FreeClaim(Purpose.public_welfare, OrganizationKind.enterprise)
    assert check_free_claim(NATIONAL, claim).rule == "free_use.statement"
    governance = FreeClaim(Purpose.public_governance, OrganizationKind.enterprise)
    assert check_free_claim(NATIONAL, governance).rule == "free_use.requester"
