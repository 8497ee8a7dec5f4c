"""The `report_usage` duty: the grantee files a usage report each period; while one is overdue, nothing
more is delivered under the grant."""

from __future__ import annotations

from datetime import timedelta

import pytest

from marketplace import workflows as wf
from marketplace.errors import InvalidInput, PermissionDenied, TransitionError
from marketplace.models import AccessRequest, AuditEvent, UsageReport
from marketplace.vocabulary import Grade, OrganizationKind, Role


def _granted(world, conditions: list[str]) -> int:
    """A research institute's conditional-open request, approved by the holder with `conditions`."""
    with world.step() as s:
        res = world.resource(
            s, lambda r: r.opening_attribute.value == "conditional" and r.grade is Grade.general
        )
        rsr = world.requester(s, OrganizationKind.research)
        req = wf.create_request(s, rsr, resource=res, channel="opening", purpose="research")
        wf.submit_request(s, rsr, req)
        rid = req.id
    world.approve_all(rid, {"holder": conditions})
    return rid


def _deliver(world, rid: int):
    with world.step() as s:
        req = s.get(AccessRequest, rid)
        return wf.deliver(s, world.role(s, Role.steward, req.resource.holder_id), req, rows=30)


def _advance(world, days: int) -> None:
    with world.step() as s:
        wf.advance_clock(s, world.role(s, Role.trainer), days)


def _report(world, rid: int, summary: str = "Used for the annual mobility study; no onward transfer."):
    with world.step() as s:
        req = s.get(AccessRequest, rid)
        report = wf.report_usage(s, req.requester, req, summary)
        return report.period_due, report.late, req.grant.usage_report_due


def test_reports_each_period_and_no_delivery_while_one_is_overdue(world):
    rid = _granted(world, ["report_usage(days=30)"])
    with world.step() as s:
        grant = s.get(AccessRequest, rid).grant
        first_due = grant.usage_report_due
        assert first_due == grant.valid_from + timedelta(days=30)
        assert any(d["action"] == "inform" for d in grant.terms["duty"])
    _deliver(world, rid)
    _advance(world, 31)
    refused_before = len(world.refused_events("request.deliver"))
    with pytest.raises(TransitionError, match=f"usage report overdue since {first_due}"):
        _deliver(world, rid)
    assert len(world.refused_events("request.deliver")) == refused_before + 1
    period_due, late, next_due = _report(world, rid)
    assert (period_due, late, next_due) == (first_due, True, first_due + timedelta(days=30))
    assert _deliver(world, rid).delivery.row_count == 30  # released again once the report is in
    period_due, late, next_due = _report(world, rid)  # the next period has begun: filed early, on time
    month = timedelta(days=30)
    assert (period_due, late, next_due) == (first_due + month, False, first_due + 2 * month)
    with pytest.raises(TransitionError, match="period not begun"):
        _report(world, rid)  # a third report would answer a period that has not begun
    with world.step() as s:
        reports = s.get(AccessRequest, rid).grant.usage_reports
        assert [r.late for r in reports] == [True, False]
        events = wf.audit_events(s, subject=s.get(AccessRequest, rid))
        events = [e for e in events if e.action == "grant.report_usage"]
    assert [e.payload["late"] for e in events if e.outcome.value == "ok"] == [True, False]
    assert world.verify().ok


def test_the_last_report_is_due_at_the_end_of_the_grant(world):
    rid = _granted(world, ["report_usage(days=30)", "expires_after(days=45)"])
    with world.step() as s:
        grant = s.get(AccessRequest, rid).grant
        start, end = grant.valid_from, grant.valid_until
    assert end == start + timedelta(days=45)
    assert _report(world, rid)[2] == end  # the second period is cut at the grant's end
    with pytest.raises(TransitionError, match="period not begun"):
        _report(world, rid)  # the second period starts on day 30
    _advance(world, 30)
    assert _report(world, rid) == (end, False, None)  # nothing falls due after the grant ends


def test_only_the_requesting_organization_reports_and_refusals_are_logged(world):
    rid = _granted(world, ["report_usage"])
    with pytest.raises(PermissionDenied, match="needs the requester role"), world.step() as s:
        req = s.get(AccessRequest, rid)
        wf.report_usage(s, world.role(s, Role.steward, req.resource.holder_id), req, "I hold the data")
    with pytest.raises(PermissionDenied, match="another organization"), world.step() as s:
        req = s.get(AccessRequest, rid)
        other = world.requester(s, OrganizationKind.department, not_org=req.requester_org_id)
        wf.report_usage(s, other, req, "I am not the grantee")
    assert len(world.refused_events("grant.report_usage")) == 2
    with world.step() as s:
        grant = s.get(AccessRequest, rid).grant
        assert grant.usage_report_due is not None and not grant.usage_reports


@pytest.mark.parametrize("summary", ["", "   ", "x" * 2001])
def test_a_report_needs_a_summary_and_bad_input_changes_nothing(world, summary):
    rid = _granted(world, ["report_usage"])
    before = world.count(UsageReport), world.count(AuditEvent)
    with pytest.raises(InvalidInput, match="summary"):
        _report(world, rid, summary)
    assert (world.count(UsageReport), world.count(AuditEvent)) == before


def test_without_the_duty_there_is_nothing_to_report(world):
    rid = _granted(world, [])
    with pytest.raises(TransitionError, match="without a usage report"):
        _report(world, rid)
    assert _deliver(world, rid).delivery.row_count == 30

