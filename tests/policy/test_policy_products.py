"""One rule derives a product's policy facts from its sources (workflows, quote command, simulator)."""

from __future__ import annotations

from datetime import date

from marketplace.policy import (
    Requester,
    RequestFacts,
    SourceFacts,
    load_policy,
    product_target,
    route,
)
from marketplace.vocabulary import (
    BillingUnit,
    Grade,
    OpeningAttribute,
    OrganizationKind,
    Purpose,
    SharingAttribute,
)

GENERAL = SourceFacts(Grade.general, SharingAttribute.unconditional, OpeningAttribute.conditional, 1,
                      published=True, field_names=("a", "age"), personal_fields=("age",))
IMPORTANT = SourceFacts(Grade.important, SharingAttribute.conditional, OpeningAttribute.not_open, 2,
                        published=False, field_names=("b", "diagnosis"), personal_fields=("diagnosis",))


def test_a_product_is_as_sensitive_as_its_most_sensitive_source() -> None:
    t = product_target([GENERAL, IMPORTANT], transformation="deidentified",
                       billing_unit=BillingUnit.per_record)
    assert t.grade is Grade.important
    assert t.sharing_attribute is SharingAttribute.conditional
    assert t.opening_attribute is OpeningAttribute.not_open
    assert t.personal_fields == ("age", "diagnosis") and t.contains_personal_info
    assert t.published is False and t.holder_id == 1 and t.is_product


def test_transformations_map_to_what_the_policy_checks() -> None:
    kinds = {k: product_target([GENERAL], transformation=k, billing_unit=BillingUnit.per_call)
             for k in ("deidentified", "aggregated", "model", "raw")}
    assert kinds["deidentified"].deidentified and not kinds["deidentified"].aggregated
    assert kinds["aggregated"].aggregated and kinds["model"].aggregated
    assert kinds["raw"].raw and not kinds["raw"].deidentified


def test_a_product_without_sources_or_with_raw_rows_is_refused_by_routing() -> None:
    policy = load_policy("national-2025")
    req = Requester(9, OrganizationKind.enterprise)
    facts = RequestFacts(Purpose.industry_development)
    for target in (product_target([], transformation="deidentified", billing_unit=BillingUnit.per_call),
                   product_target([GENERAL], transformation="raw", billing_unit=BillingUnit.per_call)):
        routing = route(policy, facts, target, req, start=date(2025, 3, 3))
        assert not routing.allowed
    ok = route(policy, facts, product_target([GENERAL], transformation="aggregated",
                                             billing_unit=BillingUnit.per_call), req, start=date(2025, 3, 3))
    assert ok.allowed
