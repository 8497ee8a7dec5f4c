"""Routing: each refusal rule, review stages with working-day due dates, and the conditions attached."""

from __future__ import annotations

from datetime import date

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from marketplace.errors import InvalidInput, PolicyRefusal
from marketplace.policy import (
    PolicyFileError,
    Requester,
    RequestFacts,
    Target,
    add_working_days,
    deadline_outcome,
    extend_stage,
    holidays_of,
    load_policy,
    raise_if_refused,
    route,
    working_calendar,
    working_day_after,
)
from marketplace.vocabulary import (
    BillingUnit,
    Channel,
    ConditionKind,
    EnterpriseSize,
    Grade,
    OpeningAttribute,
    OrganizationKind,
    ProductKind,
    Purpose,
    ReviewStage,
    Role,
    SharingAttribute,
)

NATIONAL = load_policy("national-2025")
DEPARTMENT = Requester(1, OrganizationKind.department)
ENTERPRISE = Requester(2, OrganizationKind.enterprise, EnterpriseSize.small)
FRIDAY = date(2026, 3, 6)


def resource(channel: Channel, **kw) -> Target:
    base = dict(
        channel=channel,
        grade=Grade.general,
        sharing_attribute=SharingAttribute.conditional,
        opening_attribute=OpeningAttribute.conditional,
        holder_id=3,
        contains_personal_info=False,
    )
    base.update(kw)
    return Target(**base)


def product(**kw) -> Target:
    base = dict(
        is_product=True, deidentified=True, billing_unit=BillingUnit.per_call, contains_personal_info=True
    )
    base.update(kw)
    return resource(Channel.authorized_operation, **base)


def go(
    target: Target,
    purpose: Purpose = Purpose.industry_development,
    requester: Requester = ENTERPRISE,
    policy=NATIONAL,
    start: date = FRIDAY,
    **kw,
):
    return route(policy, RequestFacts(purpose, **kw), target, requester, start=start)


# ---------------------------------------------------------------- refusals


@pytest.mark.parametrize(
    ("target", "purpose", "requester", "rule"),
    [
        (resource(Channel.sharing, grade=Grade.core), Purpose.public_governance, DEPARTMENT, "grade.core"),
        (product(grade=Grade.core), Purpose.industry_development, ENTERPRISE, "grade.core"),
        (resource(Channel.opening, grade=Grade.important), Purpose.research, ENTERPRISE, "grade.channel"),
        (
            resource(Channel.sharing, sharing_attribute=SharingAttribute.not_shared),
            Purpose.public_governance,
            DEPARTMENT,
            "sharing.not_shared",
        ),
        (
            resource(Channel.opening, opening_attribute=OpeningAttribute.not_open),
            Purpose.research,
            ENTERPRISE,
            "opening.not_open",
        ),
        (product(raw=True), Purpose.industry_development, ENTERPRISE, "market.raw_data"),
        (resource(Channel.authorized_operation), Purpose.industry_development, ENTERPRISE, "market.raw_data"),
        (
            product(grade=Grade.important, deidentified=False),
            Purpose.industry_development,
            ENTERPRISE,
            "grade.important_unprocessed",
        ),
        (resource(Channel.sharing), Purpose.public_governance, ENTERPRISE, "channel.requester_kind"),
        (resource(Channel.sharing), Purpose.industry_development, DEPARTMENT, "purpose.not_allowed"),
    ],
    ids=[
        "core-sharing",
        "core-product",
        "important-opening",
        "not-shared",
        "not-open",
        "raw-flag",
        "resource-to-market",
        "important-raw-product",
        "enterprise-sharing",
        "sharing-for-industry",
    ],
)
def test_each_refusal_names_its_rule(target, purpose, requester, rule) -> None:
    r = go(target, purpose, requester)
    assert not r.allowed
    assert r.refusal is not None and r.refusal.rule == rule
    assert r.refusal.message and "\n" not in r.refusal.message
    assert r.stages == () and r.conditions == ()
    with pytest.raises(PolicyRefusal) as info:
        raise_if_refused(r)
    assert info.value.rule == rule
    assert r.refusal.message in str(info.value)


def test_refusal_messages_read_aloud() -> None:
    r = go(resource(Channel.sharing, grade=Grade.core), Purpose.public_governance, DEPARTMENT)
    assert r.refusal.message == "Core data is not supplied on any channel under national-2025"
    r = go(resource(Channel.sharing), Purpose.industry_development, DEPARTMENT)
    assert r.refusal.message.startswith(
        "Purpose industry_development is not allowed for sharing under national-2025"
    )


def test_important_products_pass_when_processed_and_strict_privacy_wants_aggregates() -> None:
    assert go(product(grade=Grade.important)).allowed
    assert go(product(grade=Grade.important, deidentified=False, aggregated=True)).allowed
    strict = load_policy("strict-privacy")
    r = go(product(grade=Grade.important), policy=strict)
    assert r.refusal.rule == "privacy.aggregate_only"
    r = go(product(grade=Grade.important, deidentified=False, aggregated=True), policy=strict)
    assert r.allowed
    assert r.conditions[0].text == "aggregate(min_cell=20)"


def test_raw_data_rule_is_a_parameter() -> None:
    lax = load_policy("national-2025", {"routing.raw_data_to_market": True})
    assert go(product(raw=True), policy=lax).allowed


# ---------------------------------------------------------------- stages and due dates


def test_working_days_skip_weekends_and_given_holidays() -> None:
    assert add_working_days(FRIDAY, 0) == FRIDAY
    assert add_working_days(FRIDAY, 1) == date(2026, 3, 9)  # Monday
    assert add_working_days(FRIDAY, 5) == date(2026, 3, 13)
    assert add_working_days(FRIDAY, 1, frozenset({date(2026, 3, 9)})) == date(2026, 3, 10)
    assert add_working_days(date(2026, 3, 7), 1) == date(2026, 3, 9)  # from a Saturday
    with pytest.raises(InvalidInput):
        add_working_days(FRIDAY, -1)


def test_national_calendar_skips_golden_week_and_counts_make_up_days() -> None:
    hol = holidays_of(NATIONAL)
    assert date(2026, 10, 1) in hol
    # Oct 1-7 off (weekdays 1, 2, 5, 6, 7 are holidays), Oct 8-9 work, Sat Oct 10 is a make-up working day.
    assert working_day_after(NATIONAL, date(2026, 9, 30), 3) == date(2026, 10, 10)
    make_up = working_calendar(NATIONAL).make_up_days(2026)
    assert add_working_days(date(2026, 9, 30), 3, hol, make_up) == date(2026, 10, 10)
    assert add_working_days(date(2026, 9, 30), 3, hol) == date(2026, 10, 12)


def test_unconditional_open_is_granted_at_once() -> None:
    r = go(resource(Channel.opening, opening_attribute=OpeningAttribute.unconditional), Purpose.research)
    assert r.allowed and r.free
    assert r.stages == () and r.conditions == ()


def test_conditional_sharing_compliance_then_holder_reply() -> None:
    published = go(resource(Channel.sharing, published=True), Purpose.public_governance, DEPARTMENT)
    assert published.allowed and published.free
    assert [(s.stage, s.working_days, s.reviewer_role) for s in published.stages] == [
        (ReviewStage.compliance, 2, Role.registrar),
        (ReviewStage.holder, 5, Role.steward),
    ]
    assert [s.due for s in published.stages] == [date(2026, 3, 10), date(2026, 3, 17)]
    unpublished = go(resource(Channel.sharing), Purpose.public_governance, DEPARTMENT)
    assert unpublished.stages[1].working_days == 10
    assert unpublished.stages[1].due == date(2026, 3, 24)
    assert all(s.on_breach == "escalate" for s in unpublished.stages)
    # sharing keeps personal information inside government: no de-identification, but use is bounded
    kinds = [
        c.kind
        for c in go(
            resource(Channel.sharing, contains_personal_info=True), Purpose.public_governance, DEPARTMENT
        ).conditions
    ]
    assert ConditionKind.deidentify not in kinds
    assert ConditionKind.expires_after in kinds


def test_unconditional_sharing_has_no_stages() -> None:
    r = go(
        resource(Channel.sharing, sharing_attribute=SharingAttribute.unconditional),
        Purpose.public_governance,
        DEPARTMENT,
    )
    assert r.allowed and r.stages == ()


def test_conditional_open_holder_review_with_extension() -> None:
    r = go(resource(Channel.opening), Purpose.research)
    (plan,) = r.stages
    assert (plan.stage, plan.working_days, plan.extension_days) == (ReviewStage.holder, 15, 15)
    assert plan.due == date(2026, 3, 27)
    longer = extend_stage(NATIONAL, plan)
    assert longer.due == date(2026, 4, 20)  # Apr 17 without the Qingming holiday on Apr 6
    assert longer.working_days == 30 and longer.extension_days == 0
    with pytest.raises(PolicyRefusal) as info:
        extend_stage(NATIONAL, longer)
    assert info.value.rule == "deadline.no_extension"


def test_personal_information_makes_opening_conditional_and_deidentified() -> None:
    r = go(
        resource(
            Channel.opening, opening_attribute=OpeningAttribute.unconditional, contains_personal_info=True
        ),
        Purpose.research,
    )
    assert [s.stage for s in r.stages] == [ReviewStage.holder]
    assert r.conditions[0].text == "deidentify(k>=5, l>=2)"
    assert r.conditions[0].params == {"k": 5, "l": 2}


def test_open_by_default_opens_general_data_at_once() -> None:
    obd = load_policy("open-by-default")
    r = go(resource(Channel.opening), Purpose.research, policy=obd)
    assert r.allowed and r.stages == ()
    assert go(resource(Channel.opening, contains_personal_info=True), Purpose.research, policy=obd).stages


def test_product_sale_stages_come_from_the_policy_with_sources() -> None:
    # finding: every product sale had three stages (compliance, holder, security), the third without a source
    r = go(product())
    assert [s.stage for s in r.stages] == [ReviewStage.compliance]
    assert [s.due for s in r.stages] == [date(2026, 3, 10)]
    notes = NATIONAL.routing.stage_sources
    assert "发改价格〔2025〕65号" in notes.compliance
    assert notes.security.startswith("assumption") and "assumption" in notes.holder
    assert not r.free
    assert go(product(), Purpose.public_welfare).free
    strict = load_policy("strict-privacy")
    r = go(product(aggregated=True, deidentified=False), policy=strict)
    assert [s.stage for s in r.stages] == [ReviewStage.compliance, ReviewStage.security]
    assert [s.due for s in r.stages] == [date(2026, 3, 10), date(2026, 3, 24)]


def test_product_sale_stages_per_product_kind() -> None:
    per_kind = load_policy(
        "national-2025",
        {"routing.stages.authorized_operation_by_kind.api": ["compliance", "holder", "security"]},
    )
    api = go(product(product_kind=ProductKind.api), policy=per_kind)
    assert [s.stage for s in api.stages] == [ReviewStage.compliance, ReviewStage.holder, ReviewStage.security]
    assert [s.due for s in api.stages] == [date(2026, 3, 10), date(2026, 3, 24), date(2026, 4, 8)]
    report = go(product(product_kind=ProductKind.report), policy=per_kind)
    assert [s.stage for s in report.stages] == [ReviewStage.compliance]


def test_a_stage_without_a_source_note_is_a_policy_error() -> None:
    with pytest.raises(PolicyFileError) as exc:
        load_policy("national-2025", {"routing.stage_sources.security": "",
                                      "routing.stages.authorized_operation": ["compliance", "security"]})
    assert "routing.stage_sources.security" in str(exc.value)
    with pytest.raises(PolicyFileError) as exc:
        load_policy("national-2025", {"sources": {"pricing.nonsense": "x"}})
    assert "sources.pricing.nonsense" in str(exc.value)


def test_breach_outcomes_per_stage() -> None:
    deemed = load_policy("deemed-approval", {"routing.stages.authorized_operation": ["compliance", "holder",
                                                                                     "security"]})
    r = go(product(), policy=deemed)
    assert [s.on_breach for s in r.stages] == ["deemed_approval", "deemed_approval", "escalate"]
    assert deadline_outcome(deemed, "holder") == "deemed_approval"
    assert deadline_outcome(NATIONAL, ReviewStage.holder) == "escalate"
    with pytest.raises(InvalidInput):
        deadline_outcome(NATIONAL, "lunch")


# ---------------------------------------------------------------- conditions


def test_field_minimisation_and_expiry() -> None:
    target = product(field_names=("age", "district", "income"))
    r = go(target, fields=("income", "age"), duration_days=5000)
    texts = [c.text for c in r.conditions]
    assert "fields(only=[age, income])" in texts
    assert "expires_after(days=1095)" in texts  # capped at conditions.max_grant_days
    assert texts[0] == "deidentify(k>=5, l>=2)"
    whole = go(target, fields=("age", "district", "income"))
    assert not any(c.kind is ConditionKind.fields for c in whole.conditions)
    # asking only for fields without personal information needs no de-identification
    marked = product(field_names=("age", "district", "income"), personal_fields=("age",))
    assert go(marked, fields=("district",)).conditions[0].kind is ConditionKind.fields
    assert go(marked, fields=("district", "age")).conditions[0].kind is ConditionKind.deidentify
    with pytest.raises(InvalidInput) as info:
        go(target, fields=("salary",))
    assert info.value.field == "fields"


def test_bad_request_facts_are_named() -> None:
    with pytest.raises(InvalidInput) as info:
        go(product(), volume=0)
    assert info.value.field == "volume"
    with pytest.raises(InvalidInput) as info:
        go(product(), duration_days=0)
    assert info.value.field == "duration_days"


# ---------------------------------------------------------------- properties


targets = st.builds(
    Target,
    channel=st.sampled_from(Channel),
    grade=st.sampled_from(Grade),
    sharing_attribute=st.sampled_from(SharingAttribute),
    opening_attribute=st.sampled_from(OpeningAttribute),
    holder_id=st.just(1),
    contains_personal_info=st.booleans(),
    published=st.booleans(),
    is_product=st.booleans(),
    raw=st.booleans(),
    aggregated=st.booleans(),
    deidentified=st.booleans(),
)
requesters = st.builds(Requester, org_id=st.just(1), kind=st.sampled_from(OrganizationKind))
policies = st.sampled_from(["national-2025", "open-by-default", "strict-privacy", "deemed-approval"])


@settings(max_examples=300, deadline=None)
@given(
    targets,
    requesters,
    st.sampled_from(Purpose),
    policies,
    st.dates(min_value=date(2025, 1, 1), max_value=date(2026, 12, 31)),
)
def test_route_is_total_and_consistent(target, requester, purpose, name, start) -> None:
    policy = load_policy(name)
    r = route(policy, RequestFacts(purpose), target, requester, start=start)
    assert r == route(policy, RequestFacts(purpose), target, requester, start=start)
    assert r.allowed == (r.refusal is None)
    if target.grade is Grade.core:
        assert r.refusal.rule == "grade.core"
    if r.allowed:
        calendar = working_calendar(policy)
        prev = start
        for s in r.stages:
            assert s.due >= prev
            assert s.due == prev or calendar.is_working_day(s.due)
            prev = s.due
        if target.channel is Channel.authorized_operation:
            assert target.is_product and not target.raw
        if target.contains_personal_info and target.channel is not Channel.sharing:
            assert {c.kind for c in r.conditions} & {ConditionKind.deidentify, ConditionKind.aggregate}
