"""A participant files the usage report their grant asks for, from the session API and from the panel."""

from __future__ import annotations

import pytest
from sqlmodel import select

from marketplace import db
from marketplace import workflows as wf
from marketplace.errors import PermissionDenied, TransitionError
from marketplace.models import AccessRequest, UsageReport
from marketplace.ui.workshop import ParticipantPanel
from marketplace.workshop import join


def _granted_sharing(workshop):
    """A department seat's sharing request, approved by the registrar seat and the holder's steward."""
    dep = join(workshop.seat("department", 0).join_code, workshop.engine)
    registrar = join(workshop.seat("registrar").join_code, workshop.engine)
    res = next(c for c in dep.catalog() if "sharing" in c["channels"])
    filed = dep.file_request(purpose="public_governance", resource=res["code"], channel="sharing")
    for item in registrar.review_queue():
        registrar.decide(item["review_id"], "approve")
    with db.session_scope(workshop.engine) as s:  # the holder's steward (not a seat in this workshop)
        req = s.get(AccessRequest, filed.subject_id)
        review = wf.open_review(req)
        steward = wf.accounts_with_role(s, review.reviewer_role, org_id=review.reviewer_org_id)[0]
        wf.decide(s, steward, review, "approve")
    return dep, filed.subject_id


def test_the_requester_reports_usage_and_nobody_else_can(workshop) -> None:
    dep, rid = _granted_sharing(workshop)
    assert "report_usage" in dep.allowed_actions()
    row = next(r for r in dep.my_requests() if r["id"] == rid)
    assert row["status"] == "granted" and row["usage_report_due"]  # sharing carries the policy's report duty
    stranger = join(workshop.seat("enterprise", 0).join_code, workshop.engine)
    with pytest.raises(PermissionDenied):
        stranger.report_usage(rid, "not my request")
    receipt = dep.report_usage(rid, "Checked benefit eligibility for the annual review", key="usage-report-1")
    assert receipt.result["period_due"] == row["usage_report_due"] and receipt.result["late"] is False
    again = dep.report_usage(rid, "Checked benefit eligibility for the annual review", key="usage-report-1")
    assert again.replayed and again.result == receipt.result
    with pytest.raises(TransitionError, match="period not begun"):
        dep.report_usage(rid, "a second report for a period not begun")
    with db.session_scope(workshop.engine) as s:
        assert len(s.get(AccessRequest, rid).grant.usage_reports) == 1  # the repeated key did not file twice
    row = next(r for r in dep.my_requests() if r["id"] == rid)
    assert row["usage_report_due"] == receipt.result["next_due"]


def test_the_participant_panel_files_it(workshop) -> None:
    dep, rid = _granted_sharing(workshop)
    panel = ParticipantPanel(dep)
    assert [v for _, v in panel.usage_pick.options] == [rid]
    panel.usage_pick.value = rid
    panel.usage_summary.value = "Used to check benefit eligibility"
    panel.report_button.click()
    assert panel.feedback.kind == "ok", panel.feedback.text
    assert "Usage report of" in panel.feedback.text and panel.usage_summary.value == ""
    with db.session_scope(workshop.engine) as s:
        assert len(s.exec(select(UsageReport)).all()) == 1
