"""The disclosure report as data: every section on the small world, year selection, what stays secret."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import pytest
from disclosure_world import SECRET_EMAIL, SECRET_PERSON, SECRET_USE
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from marketplace.disclosure import build_report, default_year, render_html, render_markdown, to_json
from marketplace.disclosure.render import csv_files
from marketplace.models import AccessRequest, Organization, RevenuePeriod, SandboxSetting
from marketplace.policy import load_policy


def _report(engine: Engine, year: int | None = 2025, **kw):
    with Session(engine) as session:
        return build_report(session, year, **kw)


def test_registrations_section(world_engine: Engine) -> None:
    regs = _report(world_engine).registrations
    assert list(regs["code"]) == ["REG-2025-R-000001", "REG-2025-R-000002", "", "REG-2025-P-000001"]
    row = regs.set_index("subject_code").loc["RES-000001"]
    assert (row["holder"], row["type"], row["status"]) == ("Transport Bureau", "initial", "registered")
    assert str(row["valid_until"]) == "2028-01-20"
    assert regs.set_index("subject_code").loc["PRD-000001", "holder"] == "Data Ops Co"
    # The 2020 registration expired in 2023: not part of 2025, but part of 2021.
    assert "REG-2020-R-000009" not in set(regs["code"])
    assert "REG-2020-R-000009" in set(_report(world_engine, 2021).registrations["code"])


def test_authorizations_section(world_engine: Engine) -> None:
    auths = _report(world_engine).authorizations
    assert len(auths) == 1
    row = auths.iloc[0]
    assert (row["agency"], row["operator"], row["model"], row["scope"]) == (
        "Transport Bureau",
        "Data Ops Co",
        "overall",
        "RES-000002",
    )
    assert row["term_years"] == pytest.approx(5.0, abs=0.1)
    assert _report(world_engine, 2031).authorizations.empty


def test_products_section_lists_caps_and_prices_not_drafts(world_engine: Engine) -> None:
    prods = _report(world_engine).products.set_index("code")
    assert set(prods.index) == {"PRD-000001", "PRD-000002"}
    assert prods.loc["PRD-000001", "price_cap"] == 1.0
    assert prods.loc["PRD-000001", "actual_price"] == 0.8
    assert prods.loc["PRD-000002", "actual_price"] == 4000.0
    assert prods.loc["PRD-000001", "registration"] == "REG-2025-P-000001"
    assert (prods["actual_price"] <= prods["price_cap"]).all()


def test_request_statistics_per_channel_and_kind(world_engine: Engine) -> None:
    req = _report(world_engine).requests.set_index(["channel", "requester_kind"])
    sharing = req.loc[("sharing", "department")]
    assert (sharing["filed"], sharing["approved"], sharing["rejected"]) == (2, 1, 1)
    # decided after 7 and 20 days: median 13.5, p90 = 7 + 0.9 * 13 = 18.7
    assert sharing["median_days"] == pytest.approx(13.5)
    assert sharing["p90_days"] == pytest.approx(18.7)
    assert sharing["deadline_breaches"] == 1
    opening = req.loc[("opening", "all")]
    assert (opening["filed"], opening["approved"], opening["withdrawn"], opening["pending"]) == (4, 2, 1, 1)
    assert opening["deadline_breaches"] == 1
    assert req.loc[("opening", "research"), "median_days"] == pytest.approx(10.0)
    ao = req.loc[("authorized_operation", "enterprise")]
    assert (ao["filed"], ao["approved"]) == (2, 2)
    # The 2024 request is in 2024's report only.
    assert int(req.xs("all", level="requester_kind")["filed"].sum()) == 8
    old = _report(world_engine, 2024).requests.set_index(["channel", "requester_kind"])
    assert old.loc[("opening", "all"), "filed"] == 1 and old.loc[("opening", "all"), "rejected"] == 1


def test_revenue_against_the_mar_set_in_advance(world_engine: Engine) -> None:
    report = _report(world_engine)
    rev = report.revenue.set_index("operator")
    ops = rev.loc["Data Ops Co"]
    # 800 of fees charged against the MAR of 500 the regulator set for 2025 (policy.mar_position)
    assert ops["revenue"] == pytest.approx(800.0)
    assert ops["mar"] == pytest.approx(500.0)
    assert ops["share_of_mar"] == pytest.approx(160.0)
    assert not ops["compliant"] and ops["basis"].startswith("MAR set from")
    # an operator without a MAR for the year is named in a note, never given a MAR computed afterwards
    assert "Second Operator" not in rev.index
    assert any("without a maximum allowed revenue" in n for n in report.notes)


def test_nothing_confidential_in_any_rendering(world_sqlite: Engine) -> None:
    report = _report(world_sqlite)
    assert report.use_statements is None
    texts = [render_html(report), render_markdown(report), to_json(report)]
    texts += [b.decode() for b in csv_files(report).values()]
    for text in texts:
        for secret in (SECRET_USE, SECRET_EMAIL, SECRET_PERSON, "user-ORG", "id_card"):
            assert secret not in text


def test_use_statements_published_only_when_policy_says_so(world_sqlite: Engine) -> None:
    public = load_policy("national-2025", overrides={"disclosure.publish.use_statements": True})
    report = _report(world_sqlite, policy=public)
    assert report.use_statements is not None
    assert len(report.use_statements) == 8
    assert report.use_statements["use_statement"].str.contains(SECRET_USE).all()
    assert SECRET_USE in render_html(report)
    # Still no accounts or e-mails.
    assert SECRET_EMAIL not in render_html(report)


def test_viewer_sees_only_its_own_use_statements(world_sqlite: Engine) -> None:
    with Session(world_sqlite) as session:
        uni = session.exec(select(Organization).where(Organization.name == "Eastern University")).one()
        report = build_report(session, 2025, own_org_id=uni.id)
        own = set(
            session.exec(select(AccessRequest.code).where(AccessRequest.requester_org_id == uni.id)).all()
        )
    assert set(report.use_statements["request"]) == own == {"REQ-4", "REQ-5"}
    assert set(report.use_statements["requester"]) == {"Eastern University"}


def test_policy_flags_withhold_sections(world_sqlite: Engine) -> None:
    policy = load_policy(
        "national-2025",
        overrides={"disclosure.publish.prices": False, "disclosure.publish.mar_compliance": False},
    )
    report = _report(world_sqlite, policy=policy)
    assert "actual_price" not in report.products.columns and "price_cap" in report.products.columns
    assert report.revenue.empty
    assert any("Actual prices are not published" in n for n in report.notes)


def test_default_year_is_the_clock_year_else_latest_data(world_engine: Engine) -> None:
    with Session(world_engine) as session:
        assert default_year(session) == 2025
        session.get(SandboxSetting, "clock").value = {
            "start": "2027-02-01",
            "offset_days": 400,
            "paused": True,
            "anchor": "2027-02-01",
        }
        session.commit()
    with Session(world_engine) as session:
        assert default_year(session) == 2028
        session.delete(session.get(SandboxSetting, "clock"))
        session.commit()
    with Session(world_engine) as session:
        assert default_year(session) == 2025  # latest payment / request / registration year
        assert build_report(session).year == 2025


def test_empty_sandbox_gives_an_empty_report(sqlite_engine: Engine) -> None:
    with Session(sqlite_engine) as session:
        report = build_report(session)
    assert report.year == datetime.now(UTC).year
    assert all(frame.empty for frame in report.tables().values())
    assert report.summary()["requests_filed"] == 0
    assert "Nothing to publish" in render_html(report)
    assert "_Nothing to publish for this year._" in render_markdown(report)


def test_revenue_period_without_payments_reports_its_recorded_revenue(world_sqlite: Engine) -> None:
    with Session(world_sqlite) as session:
        op2 = session.exec(select(Organization).where(Organization.name == "Second Operator")).one()
        session.add(
            RevenuePeriod(
                operator_id=op2.id,
                year=2024,
                mar=Decimal("1000.00"),
                base_mar=Decimal("1000.00"),
                revenue=Decimal("1200.00"),
                deduction=Decimal("0"),
                determined_at=datetime(2024, 1, 2, tzinfo=UTC),
            )
        )
        session.commit()
    rev = _report(world_sqlite, 2024).revenue.set_index("operator")
    assert rev.loc["Second Operator", "revenue"] == pytest.approx(1200.0)
    assert not rev.loc["Second Operator", "compliant"]
