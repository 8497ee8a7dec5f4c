"""Price formation as a lifecycle: costs filed → MAR set by the regulator → caps filed within MAR → close.

Finding reproduced: caps were national constants and MAR was only computed afterwards, so every price could be
within its cap while the operator earned twice its MAR. Now the authorizing body files each cap within the MAR
set in advance, and revenue above MAR is deducted from the next period's MAR.
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime
from decimal import Decimal

import pytest
from sqlmodel import select

from marketplace import workflows as wf
from marketplace.disclosure import build_report
from marketplace.errors import InvalidInput, PermissionDenied, PolicyRefusal, TransitionError
from marketplace.i18n import error_text
from marketplace.models import (
    AccessRequest,
    Account,
    Authorization,
    CapFiling,
    CostFiling,
    Organization,
    Payment,
    Product,
    Quote,
    RevenuePeriod,
)
from marketplace.policy import load_policy
from marketplace.vocabulary import ProductStatus, Role
from marketplace.workflows import facts


def _worded_in_chinese(exc: Exception, *names: str) -> None:
    """A Chinese panel shows the refusal without English words, except names and codes (the actor's too)."""
    shown = error_text(exc, "zh")
    keep = (*names, getattr(exc, "actor", ""))
    english = [w for w in re.findall(r"[A-Za-z][A-Za-z-]{2,}", shown) if not any(w in k for k in keep)]
    assert not english, shown

def _listed(s):
    prod = s.exec(select(Product).where(Product.status == ProductStatus.listed).order_by(Product.id)).first()
    auth = s.get(Authorization, prod.authorization_id)
    agency = wf.accounts_with_role(s, Role.registrar, org_id=auth.agency_id) or wf.accounts_with_role(
        s, Role.steward, org_id=auth.agency_id
    )
    return prod, agency[0]


def _period(s, op_id: int, year: int) -> RevenuePeriod:
    return s.exec(
        select(RevenuePeriod).where(RevenuePeriod.operator_id == op_id, RevenuePeriod.year == year)
    ).one()


def _charge(s, prod: Product, amount: str, when: datetime) -> None:
    """A fee paid to the operator (the request's own lifecycle is tested elsewhere)."""
    req = s.exec(select(AccessRequest).order_by(AccessRequest.id)).first()
    if req is None:
        res = prod.resources[0]
        dept = wf.accounts_with_role(s, Role.requester)[0]
        req = wf.create_request(s, dept, resource=res, channel="opening", purpose="research")
    q = Quote(request_id=req.id, policy_name="national-2025", total=Decimal(amount))
    s.add(q)
    s.flush()
    s.add(Payment(request_id=req.id, quote_id=q.id, operator_id=prod.operator_id, amount=Decimal(amount),
                  paid_at=when))
    s.flush()


def test_cap_is_filed_within_the_mar_set_in_advance(world):
    with world.step() as s:
        prod, agency = _listed(s)
        period = _period(s, prod.operator_id, 2025)
        assert period.determined_at is not None and period.mar > 0  # the seeded world set MAR in advance
        mar = Decimal(period.mar)
        # the seeded world filed every shelf product's cap within that MAR too
        seeded = wf.cap_filing_of(s, prod, 2025)
        assert seeded is not None and seeded.cap == prod.price_cap and not seeded.provisional
        in_force = s.exec(
            select(CapFiling).where(CapFiling.operator_id == prod.operator_id, CapFiling.status == "in_force")
        ).all()
        assert sum(Decimal(f.forecast_revenue) for f in in_force) <= mar
        others = sum(Decimal(f.forecast_revenue) for f in in_force if f.product_id != prod.id)
        volume = 1000
        too_high = ((mar - others) / volume + Decimal("1")).quantize(Decimal("0.01"))
        prod_id, agency_id, mar_value, headroom = prod.id, agency.id, mar, mar - others
        filings_before = world.count(CapFiling)
    with pytest.raises(PolicyRefusal) as exc, world.step() as s:
        wf.file_cap(s, s.get(Account, agency_id), s.get(Product, prod_id), cap=too_high,
                    forecast_volume=volume, basis="cost study")
    assert exc.value.rule == "mar.cap_above_mar" and str(mar_value) in str(exc.value)
    assert world.count(CapFiling) == filings_before
    assert [e.action for e in world.refused_events("cap.file")] == ["cap.file"]
    within = (headroom / volume / 2).quantize(Decimal("0.01"))
    with world.step() as s:
        prod = s.get(Product, prod_id)
        op = wf.accounts_with_role(s, Role.operator, org_id=prod.operator_id)[0]
        with pytest.raises(PermissionDenied) as refused:
            wf.file_cap(s, op, prod, cap=within, forecast_volume=volume)
        _worded_in_chinese(refused.value, prod.code)
    with world.step() as s:
        prod = s.get(Product, prod_id)
        filing = wf.file_cap(s, s.get(Account, agency_id), prod, cap=within, forecast_volume=volume,
                             basis="cost study 2025")
        assert filing.code.startswith("CAP-2025-") and not filing.provisional
        assert filing.forecast_revenue == within * volume <= headroom
        assert wf.cap_filing_of(s, prod, 2025).code == filing.code  # the seeded filing is superseded
        assert prod.price_cap == within
        # the listed price was above the new cap: taken off the shelf
        assert prod.status is ProductStatus.withdrawn or prod.actual_price <= within
        assert wf.cap_filing_of(s, prod).code == filing.code
        code = filing.code
    with world.step() as s:  # the filing (date, basis) is published with the product
        products = build_report(s, 2025).products.set_index("code")
        assert products.loc[s.get(Product, prod_id).code, "cap_filing"].startswith(code)
        assert "cost study 2025" in products.loc[s.get(Product, prod_id).code, "cap_filing"]
    with pytest.raises(InvalidInput) as bad, world.step() as s:
        wf.file_cap(s, s.get(Account, agency_id), s.get(Product, prod_id), cap="1", forecast_volume=0)
    assert bad.value.field == "forecast_volume"


def test_period_close_carries_the_excess_into_the_next_mar(world):
    with world.step() as s:
        prod, _ = _listed(s)
        op_id = prod.operator_id
        period = _period(s, op_id, 2025)
        over = Decimal(period.mar) + Decimal("1234.00")
        _charge(s, prod, str(over), datetime(2025, 6, 1, tzinfo=UTC))
        operator = wf.accounts_with_role(s, Role.operator, org_id=op_id)[0]
        filing = wf.file_costs(s, operator, year=2026, costs={"platform": "10000", "staff": "5000"},
                               subsidy="1000", taxes="900", basis="budget 2026")
        assert filing.operating_cost == Decimal("14000.00") and filing.code.startswith("CST-2026-")
        with pytest.raises(TransitionError):
            wf.file_costs(s, operator, year=2026, costs={"platform": "1"})
        with pytest.raises(InvalidInput) as bad:
            wf.file_costs(s, operator, year=2027, costs={"marketing": "1"})
        assert bad.value.field == "costs"
        filing_id, operator_id, excess = filing.id, operator.id, over - Decimal(period.mar)
    with pytest.raises(TransitionError), world.step() as s:  # 2025 is still open
        wf.determine_mar(s, world.role(s, Role.regulator), s.get(CostFiling, filing_id))
    with pytest.raises(TransitionError), world.step() as s:  # a period closes after its end
        wf.close_period(s, world.role(s, Role.regulator), s.get(Organization, op_id), 2025)
    with world.step() as s:
        wf.set_clock(s, world.role(s, Role.trainer), start=date(2026, 1, 5))
    with pytest.raises(PermissionDenied) as refused, world.step() as s:
        operator_name = s.get(Organization, op_id).name
        wf.close_period(s, s.get(Account, operator_id), s.get(Organization, op_id), 2025)
    _worded_in_chinese(refused.value, operator_name)
    with world.step() as s:
        regulator = world.role(s, Role.regulator)
        closed = wf.close_period(s, regulator, s.get(Organization, op_id), 2025)
        assert closed.excess == excess and closed.revenue == over
        nxt = wf.determine_mar(s, regulator, s.get(CostFiling, filing_id))
        base = (Decimal("14000") * (1 + Decimal("0.077")) + Decimal("900")).quantize(Decimal("0.01"))
        assert nxt.base_mar == base
        assert nxt.deduction == excess and nxt.mar == max(base - excess, Decimal(0))
        positions = {p.operator_id: p.position for p in wf.mar_positions(s, 2025, wf.current_policy(s))}
        assert not positions[op_id].compliant and positions[op_id].excess == excess


def test_trial_cap_is_provisional_without_a_mar(world):
    with world.step() as s:
        wf.set_clock(s, world.role(s, Role.trainer), start=date(2027, 3, 1))
        prod, agency = _listed(s)
        filing = wf.file_cap(s, agency, prod, cap="0.02", forecast_volume=10, basis="trial fee")
        assert filing.provisional and filing.year == 2027


def test_caps_are_reset_after_an_over_mar_period_when_the_policy_says_so(world, monkeypatch):
    reset = load_policy("national-2025", {"mar.reset_caps_on_close": True})
    monkeypatch.setattr(facts, "policy_named", lambda name: reset)
    with world.step() as s:
        prod, agency = _listed(s)
        period = _period(s, prod.operator_id, 2025)
        _charge(s, prod, str(Decimal(period.mar) + 1), datetime(2025, 9, 1, tzinfo=UTC))
        wf.set_clock(s, world.role(s, Role.trainer), start=date(2026, 1, 5))
        trial = wf.file_cap(s, agency, prod, cap="0.02", forecast_volume=10, basis="trial 2026")
        assert trial.provisional and trial.year == 2026
        op_org, trial_id = s.get(Organization, prod.operator_id), trial.id
        closed = wf.close_period(s, world.role(s, Role.regulator), op_org, 2025)
        assert closed.excess == Decimal("1.00")
        assert s.get(CapFiling, trial_id).status == "superseded"
        assert wf.cap_filing_of(s, prod) is None or wf.cap_filing_of(s, prod).year == 2025
