"""The central disclosure report aggregates what each implementing institution and operator published for the
year: published or not, when, the deadline, on time / late / missing with the working days late, in both
languages; the JSON and DCAT outputs carry the same rows."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

from rdflib import Graph, Literal, Namespace
from sqlmodel import Session

from marketplace import disclosure
from marketplace import workflows as wf
from marketplace.policy import load_policy, publication_timeliness
from marketplace.synth import seed_sandbox
from marketplace.vocabulary import Role

MP = Namespace("https://marketplace.example/ns#")


def _story(engine) -> dict[str, str]:
    """Seeded world; on 20 Mar 2026 the institution publishes on time, the clock passes the deadline, one
    operator publishes late on 3 Apr 2026 (3 working days: 1-3 April), the other stays missing."""
    seed_sandbox(engine, 7, "small")
    with Session(engine) as s:
        wf.set_clock(s, wf.accounts_with_role(s, Role.trainer)[0], start=date(2026, 3, 20))
        holders = wf.duty_holders(s, 2025)
        inst = next(o for o, r in holders if r == "institution")
        ops = [o for o, r in holders if r == "operator"]
        wf.publish_disclosure(s, wf.accounts_with_role(s, Role.registrar, org_id=inst.id)[0], inst, 2025)
        wf.advance_clock(s, wf.accounts_with_role(s, Role.trainer)[0], 14)  # 3 April 2026
        wf.publish_disclosure(s, wf.accounts_with_role(s, Role.operator, org_id=ops[0].id)[0], ops[0], 2025)
        s.commit()
        codes = {"institution": inst.code, "late": ops[0].code}
        codes.update({f"missing{i}": o.code for i, o in enumerate(ops[1:])})
        return codes


def test_the_report_shows_each_partys_publication_and_timeliness(engine):
    codes = _story(engine)
    with Session(engine) as s:
        report = disclosure.build_report(s, 2025)
    pubs = report.publications.set_index("party_code")
    assert pubs.loc[codes["institution"], "timeliness"] == "on_time"
    assert pubs.loc[codes["institution"], "published_on"] == date(2026, 3, 20)
    assert pubs.loc[codes["late"], "timeliness"] == "late"
    assert pubs.loc[codes["late"], "working_days_late"] == 3
    assert pubs.loc[codes["late"], "due"] == date(2026, 3, 31)
    for key in (k for k in codes if k.startswith("missing")):
        row = pubs.loc[codes[key]]
        assert row["timeliness"] == "missing" and not row["published"] and row["working_days_late"] == 3
    summary = report.summary()
    assert summary["disclosures_on_time"] == 1
    assert summary["disclosures_late_or_missing"] == len(codes) - 1

    doc = json.loads(disclosure.to_json(report))
    rows = {r["party_code"]: r for r in doc["tables"]["publications"]}
    assert rows[codes["late"]]["timeliness"] == "late" and rows[codes["late"]]["published_on"] == "2026-04-03"
    assert rows[codes["late"]]["working_days_late"] == 3

    english = disclosure.render_html(report, lang="en", charts=False)
    chinese = disclosure.render_html(report, lang="zh", charts=False)
    for text in ("What each party published, and when", "on time", "late", "missing", "Working days late",
                 "implementing institution"):
        assert text in english
    for text in ("各方披露情况及其时效", "按时", "逾期披露", "未披露", "逾期工作日", "实施机构"):
        assert text in chinese
    assert "on_time" not in english and "not_yet_due" not in english

    with Session(engine) as s:
        g = Graph().parse(data=disclosure.export_dcat(s, "turtle"), format="turtle")
    duties = list(g.subjects(MP.timeliness, None))
    assert len(duties) == len(codes)
    late = next(n for n in duties if str(n).endswith(codes["late"]))
    assert g.value(late, MP.timeliness) == Literal("late")
    assert int(g.value(late, MP.workingDaysLate)) == 3
    shapes = Path(__file__).resolve().parents[1] / "data" / "dcat-ap-3.0.0-SHACL.ttl"
    conforms, text = disclosure.dcat.validate_dcat(g, shapes)
    assert conforms, text[:2000]


def test_timeliness_counts_working_days_on_the_policys_calendar():
    policy = load_policy("national-2025")
    due = date(2026, 3, 31)
    on_time = publication_timeliness(policy, due=due, published_on=due, today=date(2026, 5, 1))
    assert on_time.status == "on_time"
    # 1-3 April are working days, 4-6 April the Qingming holiday, 7-8 April working days
    missing = publication_timeliness(policy, due=due, published_on=None, today=date(2026, 4, 8))
    assert (missing.status, missing.working_days_late) == ("missing", 5)
    early = publication_timeliness(policy, due=due, published_on=None, today=date(2026, 3, 1))
    assert (early.status, early.working_days_late) == ("not_yet_due", 0)


def test_marketplace_disclose_for_a_year_aggregates_the_parties_publications(tmp_path, monkeypatch):
    from click.testing import CliRunner

    from marketplace import db
    from marketplace.cli import main

    monkeypatch.setenv("MARKETPLACE_HOME", str(tmp_path))
    monkeypatch.setenv("MARKETPLACE_DB_URL", f"sqlite:///{tmp_path / 'sandbox.db'}")
    db.dispose_engines()
    runner = CliRunner()
    try:
        assert runner.invoke(main, ["seed", "--seed", "7", "--size", "small"]).exit_code == 0
        with db.session_scope() as s:
            wf.set_clock(s, wf.accounts_with_role(s, Role.trainer)[0], start=date(2026, 2, 25))
        ok = runner.invoke(main, ["disclose", "--party", "ORG-000001", "--year", "2025"])
        assert ok.exit_code == 0, ok.output
        out = tmp_path / "report.json"
        done = runner.invoke(main, ["disclose", "--year", "2025", "--format", "json", "--out", str(out)])
        assert done.exit_code == 0, done.output
        rows = {r["party_code"]: r for r in json.loads(out.read_text())["tables"]["publications"]}
        assert rows["ORG-000001"]["timeliness"] == "on_time" and rows["ORG-000001"]["role"] == "institution"
        others = [r for code, r in rows.items() if code != "ORG-000001"]
        assert others and all(r["timeliness"] == "not_yet_due" and not r["published"] for r in others)
        md = tmp_path / "report.md"
        args = ["disclose", "--year", "2025", "--format", "md", "--out", str(md)]
        assert runner.invoke(main, args).exit_code == 0
        assert "| on time |" in md.read_text()
    finally:
        db.dispose_engines()
