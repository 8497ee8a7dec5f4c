"""Pricing of computation units (per query, per call, per model) under `[compute.caps]`, via policy.quote."""

from __future__ import annotations

from dataclasses import replace
from decimal import Decimal

from hypothesis import given, settings
from hypothesis import strategies as st

from marketplace.policy import load_policy
from marketplace.policy.compute import compute_billing_unit, compute_cap, compute_target
from marketplace.policy.pricing import quote
from marketplace.policy.types import Requester, RequestFacts, Target
from marketplace.vocabulary import (
    BillingUnit,
    Channel,
    ComputeKind,
    EnterpriseSize,
    Grade,
    OpeningAttribute,
    OrganizationKind,
    ProductKind,
    Purpose,
    SharingAttribute,
)

NATIONAL = load_policy("national-2025")
PRODUCT = Target(
    channel=Channel.authorized_operation, grade=Grade.important,
    sharing_attribute=SharingAttribute.conditional,
    opening_attribute=OpeningAttribute.conditional, holder_id=1, contains_personal_info=True,
    is_product=True, billing_unit=BillingUnit.per_record, product_kind=ProductKind.dataset,
    actual_price=Decimal("0.04"),
)
kinds = st.sampled_from(list(ComputeKind))
sizes = st.sampled_from([None, *EnterpriseSize])
units = st.integers(1, 5000)
prices = st.decimals(min_value=Decimal("0"), max_value=Decimal("5000"), places=2)


def _quote(kind, n, price=None, size=None, policy=NATIONAL):
    requester = Requester(org_id=1, kind=OrganizationKind.enterprise, size=size)
    target = compute_target(policy, PRODUCT, kind, price)
    return quote(policy, target, RequestFacts(Purpose.industry_development, n), requester)


def test_each_kind_is_billed_in_its_own_unit_at_the_compute_cap():
    assert {k: compute_billing_unit(NATIONAL, k).value for k in ComputeKind} == {
        "aggregate_query": "per_query", "dp_release": "per_query", "model_training": "per_model",
        "verification": "per_call"}
    q = _quote(ComputeKind.model_training, 1)
    assert q.total == Decimal("2000.00") and "per model" in q.lines[1].reason


@settings(max_examples=200, deadline=None)
@given(kind=kinds, n=units, price=prices, size=sizes)
def test_a_computation_never_costs_more_than_the_cap_times_its_units(kind, n, price, size):
    q = _quote(kind, n, price, size)
    assert Decimal("0") <= q.total <= (compute_cap(NATIONAL, kind) * n).quantize(Decimal("0.01"))
    assert sum((line.amount for line in q.lines), Decimal("0")) == q.unrounded


@settings(max_examples=200, deadline=None)
@given(kind=kinds, a=st.integers(1, 2000), b=st.integers(1, 2000), size=sizes)
def test_running_computations_one_by_one_never_costs_less_than_at_once(kind, a, b, size):
    """What a grant pays run by run is at least the price of the same units bought together (concave)."""
    apart = _quote(kind, a, size=size).total + _quote(kind, b, size=size).total
    assert apart >= _quote(kind, a + b, size=size).total


@settings(max_examples=50, deadline=None)
@given(kind=kinds, n=units)
def test_free_channels_and_purposes_price_computations_at_zero(kind, n):
    requester = Requester(org_id=1, kind=OrganizationKind.enterprise)
    shared = compute_target(NATIONAL, replace(PRODUCT, channel=Channel.sharing), kind)
    assert quote(NATIONAL, shared, RequestFacts(Purpose.public_governance, n), requester).total == 0
