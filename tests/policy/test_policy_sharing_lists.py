"""Sharing responsibility lists as rules: a holder bound by a cited entry may only approve (deadline only);
an entry covers only its resource, the departments it names, its purposes, while in force; only shareable
resources can be listed; disclosure timeliness counts working days and never goes backwards."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from marketplace.errors import PolicyRefusal
from marketplace.policy import (
    ListEntry,
    check_list_decision,
    check_list_request,
    check_listable,
    load_policy,
    publication_timeliness,
)
from marketplace.vocabulary import Channel, Decision, Grade, OrganizationKind, Purpose, SharingAttribute

POLICY = load_policy("national-2025")


@given(st.sampled_from(list(Decision)), st.booleans(), st.booleans())
def test_a_bound_holder_may_only_approve_without_conditions(decision, with_conditions, cited):
    code = "SCE-2025-000001" if cited else None
    allowed = not cited or (decision is Decision.approve and not with_conditions)
    if allowed:
        check_list_decision(POLICY, entry_code=code, decision=decision, with_conditions=with_conditions)
    else:
        with pytest.raises(PolicyRefusal) as err:
            check_list_decision(POLICY, entry_code=code, decision=decision, with_conditions=with_conditions)
        assert err.value.rule == "sharing_list.no_discretion"


@given(
    resource=st.integers(1, 3),
    requester=st.integers(10, 14),
    kind=st.sampled_from([OrganizationKind.department, OrganizationKind.institution,
                          OrganizationKind.enterprise]),
    purpose=st.sampled_from(list(Purpose)),
    channel=st.sampled_from(list(Channel)),
    in_force=st.booleans(),
    named=st.frozensets(st.integers(10, 14), max_size=3),
)
def test_an_entry_covers_exactly_its_resource_departments_purposes_while_in_force(
    resource, requester, kind, purpose, channel, in_force, named
):
    entry = ListEntry("SCE-1", 1, 2, named, frozenset({Purpose.public_governance}), in_force)
    covers = (
        in_force and channel is Channel.sharing and resource == 2 and kind is OrganizationKind.department
        and (not named or requester in named) and purpose is Purpose.public_governance
    )
    kw = dict(resource_id=resource, requester_org_id=requester, requester_kind=kind, purpose=purpose,
              channel=channel)
    if covers:
        check_list_request(POLICY, entry, **kw)
    else:
        with pytest.raises(PolicyRefusal) as err:
            check_list_request(POLICY, entry, **kw)
        assert err.value.rule == "sharing_list.entry"


def test_only_shareable_resources_can_be_listed():
    check_listable(
        POLICY, resource_code="R", grade=Grade.important, sharing_attribute=SharingAttribute.conditional
    )
    for grade, attribute in ((Grade.core, SharingAttribute.conditional),
                             (Grade.general, SharingAttribute.not_shared)):
        with pytest.raises(PolicyRefusal) as err:
            check_listable(POLICY, resource_code="R", grade=grade, sharing_attribute=attribute)
        assert err.value.rule == "sharing_list.listable"


def test_a_policy_may_leave_the_holder_its_discretion():
    loose = load_policy("national-2025", overrides={"sharing_lists.binds_holder": False})
    check_list_decision(loose, entry_code="SCE-1", decision=Decision.reject, with_conditions=False)


@given(st.integers(0, 120), st.integers(0, 120))
def test_lateness_counts_working_days_and_never_goes_backwards(a, b):
    due = date(2026, 3, 31)
    first, second = sorted((due + timedelta(days=a), due + timedelta(days=b)))
    x = publication_timeliness(POLICY, due=due, published_on=first, today=date(2026, 12, 31))
    y = publication_timeliness(POLICY, due=due, published_on=second, today=date(2026, 12, 31))
    assert x.working_days_late <= y.working_days_late <= (second - due).days
    assert x.status == ("on_time" if first == due else "late")
    assert x.status == "late" or x.working_days_late == 0


@given(st.sampled_from(["escalate", "deemed_approval", "deemed_rejection"]), st.booleans())
def test_a_bound_holders_silence_never_refuses(outcome, cited):
    from marketplace.policy import bound_breach_outcome

    got = bound_breach_outcome(POLICY, outcome, entry_code="SCE-1" if cited else None)
    assert got == ("deemed_approval" if cited and outcome == "deemed_rejection" else outcome)
