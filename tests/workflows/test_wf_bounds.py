"""Values a reviewer or requester gives are bounded before anything is stored (issue #19, point 2): a
condition that could never be met, a usage-report period beyond any date, megabyte texts."""

from __future__ import annotations

import pytest

import marketplace.workflows as wf
from marketplace.errors import InvalidInput
from marketplace.models import AccessRequest, AuditEvent, Condition
from marketplace.policy.schema import MAX_K
from marketplace.vocabulary import OrganizationKind


@pytest.mark.parametrize(
    ("condition", "field"),
    [
        ("deidentify(k=100000000000000000000000)", "deidentify.k"),
        ("deidentify(k=10^23)", "deidentify.k"),
        (f"deidentify(k={MAX_K + 1})", "deidentify.k"),
        ("deidentify(k=1)", "deidentify.k"),  # below the policy's minimum
        ("deidentify(k=10, l=1000000)", "deidentify.l"),
        ("report_usage(days=99999999999999)", "report_usage.days"),
        ("aggregate(min_cell=10000000000)", "aggregate.min_cell"),
        ("expires_after(days=99999999999999)", "expires_after.days"),
        ("report_usage(days=" + "9" * 600 + ")", "conditions"),
    ],
)
def test_impossible_conditions_are_refused_and_change_nothing(sqlite_world, condition: str,
                                                             field: str) -> None:
    rid = sqlite_world.conditional_sharing()
    events, conditions = sqlite_world.count(AuditEvent), sqlite_world.count(Condition)
    with sqlite_world.step() as s:
        review = wf.open_review(s.get(AccessRequest, rid))
        with pytest.raises(InvalidInput) as info:
            wf.decide(s, sqlite_world.reviewer(s, review), review, "approve_with_conditions",
                      conditions=[condition])
        assert info.value.field == field
    assert (sqlite_world.count(AuditEvent), sqlite_world.count(Condition)) == (events, conditions)


def test_a_condition_at_the_bounds_is_accepted(sqlite_world) -> None:
    rid = sqlite_world.conditional_sharing()
    sqlite_world.approve_all(rid, {"holder": [f"deidentify(k={MAX_K})", "report_usage(days=90)"],
                                   "compliance": ["report_usage(days=30)"]})
    with sqlite_world.step() as s:
        assert s.get(AccessRequest, rid).status.value in ("approved", "granted", "delivered")


def test_a_five_megabyte_reason_is_refused_before_storage(sqlite_world) -> None:
    rid = sqlite_world.conditional_sharing()
    events = sqlite_world.count(AuditEvent)
    with sqlite_world.step() as s:
        review = wf.open_review(s.get(AccessRequest, rid))
        with pytest.raises(InvalidInput) as info:
            wf.decide(s, sqlite_world.reviewer(s, review), review, "reject", reason="r" * 5_000_000)
        assert info.value.field == "reason" and len(str(info.value)) < 300
    assert sqlite_world.count(AuditEvent) == events


def test_a_ten_megabyte_use_statement_is_refused_before_storage(sqlite_world) -> None:
    events = sqlite_world.count(AuditEvent)
    requests = sqlite_world.count(AccessRequest)
    with sqlite_world.step() as s:
        res = sqlite_world.resource(s, lambda r: r.sharing_attribute.value == "conditional")
        dept = sqlite_world.requester(s, OrganizationKind.department, not_org=res.holder_id)
        with pytest.raises(InvalidInput) as info:
            wf.create_request(s, dept, resource=res, channel="sharing", purpose="public_governance",
                              use_statement="u" * 10_000_000)
        assert info.value.field == "use_statement" and len(str(info.value)) < 300
    assert (sqlite_world.count(AuditEvent), sqlite_world.count(AccessRequest)) == (events, requests)
