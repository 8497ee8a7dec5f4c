"""The report over requests made through the workflows on a seeded sandbox (not hand-written rows)."""

from __future__ import annotations

from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from marketplace import workflows as wf
from marketplace.disclosure import build_report, render_html, to_json
from marketplace.models import Resource
from marketplace.synth import seed_sandbox
from marketplace.vocabulary import OpeningAttribute, OrganizationKind, Role, SharingAttribute


def test_report_counts_workflow_requests_and_missed_deadlines(engine: Engine) -> None:
    seed_sandbox(engine, 5, "small", "en_US")
    with Session(engine) as s:
        requesters = wf.accounts_with_role(s, Role.requester)
        ent = next(a for a in requesters if a.organization.kind == OrganizationKind.enterprise)
        dept = next(a for a in requesters if a.organization.kind == OrganizationKind.department)
        open_res = s.exec(
            select(Resource)
            .where(Resource.opening_attribute == OpeningAttribute.unconditional)
            .order_by(Resource.code)
        ).first()
        shared = s.exec(
            select(Resource)
            .where(
                Resource.sharing_attribute == SharingAttribute.conditional,
                Resource.holder_id != dept.organization_id,
            )
            .order_by(Resource.code)
        ).first()
        r1 = wf.create_request(
            s,
            ent,
            resource=open_res,
            channel="opening",
            purpose="research",
            use_statement="CONFIDENTIAL-PLAN-1",
        )
        wf.submit_request(s, ent, r1)
        r2 = wf.create_request(
            s,
            dept,
            resource=shared,
            channel="sharing",
            purpose="public_governance",
            use_statement="CONFIDENTIAL-PLAN-2",
        )
        wf.submit_request(s, dept, r2)
        s.commit()
        year = wf.clock.today(s).year
        trainer = wf.accounts_with_role(s, Role.trainer)[0]
        wf.advance_clock(s, trainer, 40)  # well past the sharing deadlines
        s.commit()
    with Session(engine) as s:
        report = build_report(s, year)
    req = report.requests.set_index(["channel", "requester_kind"])
    assert req.loc[("opening", "enterprise"), "filed"] == 1
    assert req.loc[("opening", "enterprise"), "approved"] == 1  # unconditional open: no review
    assert req.loc[("sharing", "department"), "filed"] == 1
    assert req.loc[("sharing", "all"), "deadline_breaches"] >= 1
    assert len(report.registrations) > 0 and len(report.products) > 0
    for text in (render_html(report), to_json(report)):
        assert "CONFIDENTIAL-PLAN" not in text
