"""Pricing: quote lines and reasons, caps, discounts, taxes, the revenue split, and the properties of §4."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from marketplace.errors import InvalidInput, PolicyRefusal
from marketplace.policy import (
    Requester,
    RequestFacts,
    Target,
    check_actual_price,
    effective_cap,
    load_policy,
    quote,
    split,
)
from marketplace.vocabulary import (
    BillingUnit,
    Channel,
    EnterpriseSize,
    Grade,
    OpeningAttribute,
    OrganizationKind,
    ProductKind,
    Purpose,
    SharingAttribute,
)

NATIONAL = load_policy("national-2025")
ENTERPRISE = Requester(2, OrganizationKind.enterprise, EnterpriseSize.large)
MICRO = Requester(3, OrganizationKind.enterprise, EnterpriseSize.micro)
RESEARCH = Requester(4, OrganizationKind.research)
COMPONENTS = ["purpose", "base", "tiers", "discount", "cap", "tax"]
D = Decimal


def product(**kw) -> Target:
    base = dict(
        channel=Channel.authorized_operation,
        grade=Grade.general,
        sharing_attribute=SharingAttribute.conditional,
        opening_attribute=OpeningAttribute.conditional,
        holder_id=7,
        contains_personal_info=True,
        is_product=True,
        deidentified=True,
        billing_unit=BillingUnit.per_call,
        price_cap=D("0.40"),
        actual_price=D("0.35"),
    )
    base.update(kw)
    return Target(**base)


def q(
    target: Target,
    volume: int = 1,
    purpose: Purpose = Purpose.industry_development,
    requester: Requester = ENTERPRISE,
    policy=NATIONAL,
):
    return quote(policy, target, RequestFacts(purpose, volume=volume), requester)


def test_free_purpose_costs_nothing_and_says_why() -> None:
    r = q(product(), 5000, Purpose.public_welfare)
    assert r.free and r.total == D("0.00") and r.currency == "CNY"
    (line,) = r.lines
    assert line.component == "purpose"
    assert line.reason == "Free: purpose public_welfare is in the free list of national-2025"
    assert split(NATIONAL, r).operator == 0


def test_sharing_and_opening_are_free() -> None:
    for ch in (Channel.sharing, Channel.opening):
        r = q(product(channel=ch), 10)
        assert r.free and r.total == 0
        assert r.lines[0].reason == f"Free: {ch.value} is free of charge under national-2025"


def test_paid_quote_lines_in_order_with_reasons() -> None:
    r = q(product(), 1000)
    assert [ln.component for ln in r.lines] == COMPONENTS
    assert not r.free
    assert r.total == D("350.00")
    assert sum(ln.amount for ln in r.lines) == r.unrounded == D("350.00")
    reasons = [ln.reason for ln in r.lines]
    assert reasons[0] == "Paid: purpose industry_development is in the paid list of national-2025"
    assert reasons[1] == "Base: 1,000 calls x 0.35 CNY per call (the operator's actual price) = 350.00"
    assert reasons[2] == "Tiers: 1,000 calls is below the first volume tier of national-2025"
    assert reasons[3] == "Discount: none for a large enterprise under national-2025"
    assert reasons[4] == "Cap: 350.00 is within the cap of 0.40 CNY per call x 1,000 = 400.00"
    assert reasons[5] == "Tax: VAT 6% is included in the price (19.81 CNY)"
    assert r.taxes == D("19.81")


def test_progressive_tiers_are_marginal() -> None:
    r = q(product(), 120_000)
    tiers = r.lines[2]
    # 90,000 units at 10% off and 20,000 units at 20% off
    assert tiers.amount == -(D("0.35") * 90_000 * D("0.10") + D("0.35") * 20_000 * D("0.20"))
    assert "90,000 calls from no. 10,001 at x0.90" in tiers.reason
    assert r.total == D("0.35") * 120_000 + tiers.amount


def test_sme_discount_by_size_and_kind() -> None:
    sme = load_policy("sme-discount")
    micro = q(product(), 100, requester=MICRO, policy=sme)
    assert micro.lines[3].amount == D("-17.5")
    assert micro.lines[3].reason == "Discount: 50% for a micro enterprise under sme-discount = -17.50"
    assert micro.total == D("17.50")
    research = q(product(), 100, Purpose.research, RESEARCH, policy=sme)
    assert research.total == D("24.50")
    assert q(product(), 100, requester=MICRO).total == D("35.00")  # none nationally


def test_cap_limits_a_price_above_it() -> None:
    r = q(product(actual_price=D("0.60")), 100)
    assert r.lines[4].amount == D("-20.00")
    assert r.lines[4].reason == "Cap: 0.40 CNY per call x 100 = 40.00; the price is reduced to the cap"
    assert r.total == D("40.00")


def test_policy_caps_by_unit_and_kind() -> None:
    report = product(
        billing_unit=BillingUnit.per_product,
        product_kind=ProductKind.report,
        price_cap=None,
        actual_price=None,
    )
    assert effective_cap(NATIONAL, report) == D("5000.00")
    assert q(report).lines[1].reason.endswith("(the cap, as no actual price is set) = 5,000.00")
    dataset = product(billing_unit=BillingUnit.per_product, product_kind=ProductKind.dataset, price_cap=None)
    assert effective_cap(NATIONAL, dataset) == D("20000.00")
    assert effective_cap(NATIONAL, product(price_cap=D("0.90"))) == D("0.50")  # the policy cap is lower


def test_market_pricing_has_no_cap_and_needs_a_price() -> None:
    market = load_policy("market-pricing")
    r = q(product(actual_price=D("2.00")), 10, policy=market)
    assert r.total == D("20.00")
    assert r.lines[4].reason == "Cap: none under market-pricing; the operator sets the price"
    with pytest.raises(InvalidInput) as info:
        q(product(actual_price=None), 10, policy=market)
    assert info.value.field == "actual_price"


def test_tax_added_when_prices_exclude_it() -> None:
    excl = load_policy("national-2025", {"pricing.tax.included_in_price": False})
    r = q(product(), 1000, policy=excl)
    assert r.lines[5].amount == D("21.0000")
    assert r.total == D("371.00") and r.taxes == D("21.00")
    s = split(excl, r)
    assert s.operator + s.holder + s.taxes == r.total


def test_split_shares() -> None:
    r = q(product(), 1000)
    s = split(NATIONAL, r)
    assert s.taxes == D("19.81")
    assert s.holder == ((D("350.00") - D("19.81")) * D("0.30")).quantize(D("0.01"))
    assert s.operator + s.holder + s.taxes == r.total


def test_purpose_not_in_either_list_is_refused() -> None:
    pol = load_policy(
        "national-2025",
        {
            "purposes.paid": ["industry_development", "sector_development"],
            "purposes.allowed.authorized_operation": [
                "public_governance",
                "public_welfare",
                "industry_development",
                "sector_development",
            ],
        },
    )
    with pytest.raises(PolicyRefusal) as info:
        q(product(), 1, Purpose.research, policy=pol)
    assert info.value.rule == "purpose.not_allowed"


def test_bad_quote_inputs_are_named() -> None:
    with pytest.raises(InvalidInput) as info:
        q(product(), 0)
    assert info.value.field == "volume"
    with pytest.raises(InvalidInput) as info:
        q(product(billing_unit=None), 1)
    assert info.value.field == "billing_unit"


def test_actual_price_above_cap_is_refused_naming_the_cap() -> None:
    assert check_actual_price(NATIONAL, D("0.40"), D("0.40"), product_code="P-1") == D("0.40")
    with pytest.raises(PolicyRefusal) as info:
        check_actual_price(NATIONAL, D("0.40"), D("0.41"), product_code="P-1")
    assert info.value.rule == "pricing.above_cap"
    assert "cap 0.40 CNY" in str(info.value) and "P-1" in str(info.value)
    with pytest.raises(PolicyRefusal) as info:
        check_actual_price(NATIONAL, D("0.40"), D("0.30"), unit_cost=D("0.50"))
    assert info.value.rule == "pricing.cap_below_cost"
    with pytest.raises(InvalidInput):
        check_actual_price(NATIONAL, D("0.40"), D("-1"))
    assert check_actual_price(load_policy("market-pricing"), D("0.40"), D("9.99")) == D("9.99")


# ---------------------------------------------------------------- properties

SHIPPED = [
    "national-2025",
    "market-pricing",
    "open-by-default",
    "sme-discount",
    "strict-privacy",
    "deemed-approval",
    "direct-award",
]
cents = st.integers(min_value=1, max_value=100_000).map(lambda c: Decimal(c) / 100)
requesters = st.builds(
    Requester,
    org_id=st.just(1),
    kind=st.sampled_from(OrganizationKind),
    size=st.none() | st.sampled_from(EnterpriseSize),
)
products = st.builds(
    product,
    billing_unit=st.sampled_from(BillingUnit),
    product_kind=st.none() | st.sampled_from(ProductKind),
    price_cap=st.none() | cents,
    actual_price=cents,
)
volumes = st.integers(min_value=1, max_value=250_000)
paid = st.sampled_from([Purpose.industry_development, Purpose.sector_development, Purpose.research])
policies = st.sampled_from(SHIPPED)


@settings(max_examples=200, deadline=None)
@given(
    policies,
    products,
    volumes,
    st.sampled_from([Purpose.public_governance, Purpose.public_welfare]),
    requesters,
)
def test_free_purposes_always_cost_zero(name, target, volume, purpose, requester) -> None:
    r = quote(load_policy(name), target, RequestFacts(purpose, volume=volume), requester)
    assert r.free and r.total == 0


@settings(max_examples=300, deadline=None)
@given(policies, products, volumes, paid, requesters)
def test_paid_quote_never_exceeds_cap_times_volume(name, target, volume, purpose, requester) -> None:
    policy = load_policy(name)
    r = quote(policy, target, RequestFacts(purpose, volume=volume), requester)
    cap = effective_cap(policy, target)
    assume(cap is not None)
    assert r.total <= cap * volume
    assert r.total >= 0


@settings(max_examples=300, deadline=None)
@given(policies, products, volumes, st.integers(min_value=1, max_value=50_000), paid, requesters)
def test_price_is_monotone_in_volume(name, target, volume, more, purpose, requester) -> None:
    policy = load_policy(name)
    small = quote(policy, target, RequestFacts(purpose, volume=volume), requester)
    large = quote(policy, target, RequestFacts(purpose, volume=volume + more), requester)
    assert small.total <= large.total


@settings(max_examples=300, deadline=None)
@given(policies, products, volumes, volumes, paid, requesters)
def test_buying_in_two_parts_never_costs_less(name, target, a, b, purpose, requester) -> None:
    policy = load_policy(name)

    def price(v: int):
        return quote(policy, target, RequestFacts(purpose, volume=v), requester)

    once = price(a + b)
    assert price(a).total + price(b).total >= once.total
    assert price(a).unrounded + price(b).unrounded >= once.unrounded


@settings(max_examples=200, deadline=None)
@given(products, volumes, volumes, paid, requesters)
def test_half_up_rounding_is_arbitrage_free_to_within_a_cent(target, a, b, purpose, requester) -> None:
    policy = load_policy("sme-discount", {"pricing.rounding": "half_up"})

    def price(v: int):
        return quote(policy, target, RequestFacts(purpose, volume=v), requester)

    once, pa, pb = price(a + b), price(a), price(b)
    assert pa.unrounded + pb.unrounded >= once.unrounded
    assert pa.total + pb.total >= once.total - D("0.01")


@settings(max_examples=200, deadline=None)
@given(policies, products, volumes, paid, requesters)
def test_quotes_are_deterministic_and_split_exactly(name, target, volume, purpose, requester) -> None:
    policy = load_policy(name)
    first = quote(policy, target, RequestFacts(purpose, volume=volume), requester)
    fresh = load_policy(name, {"version": "copy"})  # a distinct object with the same rules
    assert quote(fresh, target, RequestFacts(purpose, volume=volume), requester) == first
    assert first.total == first.total.quantize(D("0.01"))
    s = split(policy, first)
    assert s.operator + s.holder + s.taxes == first.total
    assert min(s.operator, s.holder, s.taxes) >= 0


def test_rounding_up_closes_the_one_cent_split_arbitrage() -> None:
    """0.12 less 30% is 0.084 per call: half-up would sell 1 + 1 calls for 0.16 but 2 at once for 0.17."""
    small = Requester(5, OrganizationKind.enterprise, EnterpriseSize.small)
    target = product(actual_price=D("0.12"))
    up = load_policy("sme-discount")
    assert q(target, 1, requester=small, policy=up).total == D("0.09")
    assert q(target, 2, requester=small, policy=up).total == D("0.17")
    half_up = load_policy("sme-discount", {"pricing.rounding": "half_up"})
    assert q(target, 1, requester=small, policy=half_up).total == D("0.08")
    assert q(target, 2, requester=small, policy=half_up).total == D("0.17")


def test_discount_reasons_read_aloud_with_the_right_article() -> None:
    unsized = Requester(5, OrganizationKind.enterprise)
    line = quote(NATIONAL, product(), RequestFacts(Purpose.industry_development, volume=10), unsized).lines[3]
    assert line.reason == "Discount: none for an enterprise under national-2025"
