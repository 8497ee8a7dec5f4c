"""Disclosure duties: each implementing institution and operator publishes its yearly disclosure by the
policy's deadline; the clock passing the deadline without one records a breach that the operator's
evaluation counts; a late publication is kept and marked late."""

from __future__ import annotations

from datetime import date

import pytest
from sqlmodel import select

from marketplace import workflows as wf
from marketplace.errors import PermissionDenied, TransitionError
from marketplace.models import Authorization, Organization, Publication
from marketplace.vocabulary import AuthorizationStatus, OrganizationKind, Role
from marketplace.workflows import clock


def _set_today(world, day: date) -> None:
    with world.step() as s:
        wf.set_clock(s, world.role(s, Role.trainer), start=day)


def test_each_party_publishes_what_the_notice_asks(world):
    _set_today(world, date(2026, 2, 2))
    with world.step() as s:
        holders = wf.duty_holders(s, 2025)
        roles = {role for _, role in holders}
        assert roles == {"institution", "operator"}
        inst = next(o for o, r in holders if r == "institution")
        op = next(o for o, r in holders if r == "operator")
        pub = wf.publish_disclosure(s, world.role(s, Role.registrar, inst.id), inst, 2025)
        assert pub.status == "published" and pub.due == date(2026, 3, 31)
        assert pub.content["authorizations"] and "caps" in pub.content
        with pytest.raises(PermissionDenied):
            wf.publish_disclosure(s, world.role(s, Role.registrar, inst.id), op, 2025)
        opub = wf.publish_disclosure(s, world.role(s, Role.operator, op.id), op, 2025)
        assert opub.content["resources"] and opub.content["products"]
        with pytest.raises(TransitionError):
            wf.publish_disclosure(s, world.role(s, Role.operator, op.id), op, 2025)


def test_the_clock_past_the_deadline_records_a_breach_the_evaluation_counts(world):
    _set_today(world, date(2026, 3, 20))
    with world.step() as s:
        wf.advance_clock(s, world.role(s, Role.trainer), 15)  # past 31 March 2026
    with world.step() as s:
        missed = s.exec(select(Publication).where(Publication.status == "missed")).all()
        assert {p.role for p in missed} == {"institution", "operator"} and all(p.year == 2025 for p in missed)
        op = s.get(Organization, next(p.party_id for p in missed if p.role == "operator"))
        pub = wf.publish_disclosure(s, world.role(s, Role.operator, op.id), op, 2025)
        assert pub.status == "late"
        ev = wf.evaluate(s, world.role(s, Role.regulator), op, clock.today(s).year)
        assert ev.facts["disclosure_breach"] == 1
    with world.step() as s:  # a second clock move records nothing twice
        wf.advance_clock(s, world.role(s, Role.trainer), 5)
        assert len(s.exec(select(Publication).where(Publication.year == 2025)).all()) == len(missed)


def test_no_duty_before_the_first_year_the_notice_covers(world):
    with world.step() as s:
        assert s.exec(select(Authorization).where(Authorization.status == AuthorizationStatus.active)).all()
        wf.advance_clock(s, world.role(s, Role.trainer), 120)  # past 31 March 2025: 2024 is not covered
        assert s.exec(select(Publication)).all() == []
        assert all(o.kind is not OrganizationKind.government for o, _ in wf.duty_holders(s, 2025))


def test_marketplace_disclose_party_publishes_its_own_disclosure(tmp_path, monkeypatch, capsys):
    import json

    from click.testing import CliRunner

    from marketplace import db
    from marketplace.cli import main, run

    monkeypatch.setenv("MARKETPLACE_HOME", str(tmp_path))
    monkeypatch.setenv("MARKETPLACE_DB_URL", f"sqlite:///{tmp_path / 'sandbox.db'}")
    db.dispose_engines()
    runner = CliRunner()
    assert runner.invoke(main, ["seed", "--seed", "7", "--size", "small"]).exit_code == 0
    ok = runner.invoke(main, ["disclose", "--party", "ORG-000001", "--year", "2025"])
    assert ok.exit_code == 0, ok.output
    doc = json.loads(ok.stdout)
    assert doc["role"] == "institution" and doc["content"]["authorizations"]
    capsys.readouterr()
    for args, needle in (
        (["disclose", "--party", "ORG-000001", "--year", "2025"], "cannot publish again"),
        (["disclose", "--party", "ORG-999999"], "--party"),
    ):
        with pytest.raises(SystemExit) as exc:
            run(args)
        err = capsys.readouterr().err
        assert exc.value.code == 2 and needle in err and "Traceback" not in err
    # in Chinese: the refusal, what was published and the audit log's subject and outcome read in words
    from marketplace import i18n

    monkeypatch.setenv("MARKETPLACE_LANG", "zh")
    i18n.reset_language()
    try:
        with pytest.raises(SystemExit):
            run(["disclose", "--party", "ORG-000001", "--year", "2025"])
        err = capsys.readouterr().err
        assert "不能再次发布" in err and "published" not in err and "publish again" not in err, err
        with pytest.raises(SystemExit) as done:
            run(["audit", "log", "--last", "1"])
        assert done.value.code in (0, None)
        line = capsys.readouterr().out.splitlines()[-1]
        assert "disclosure.publish" in line and "机构" in line and "被拒绝" in line, line
        assert "organization" not in line and " refused " not in line, line
    finally:
        monkeypatch.delenv("MARKETPLACE_LANG")
        i18n.reset_language()
    db.dispose_engines()
