"""Facts for the policy, the channels a resource can use, and the `demo` command."""

from __future__ import annotations

from click.testing import CliRunner
from sqlmodel import Session, SQLModel, select

from marketplace import db
from marketplace import workflows as wf
from marketplace.cli import main
from marketplace.models import Organization, Product, Resource
from marketplace.policy import load_policy
from marketplace.vocabulary import Channel, Grade, Role, SharingAttribute
from marketplace.workflows import facts


def test_resource_channels_follow_the_policy(world):
    with Session(world.engine) as s:
        resources = s.exec(select(Resource)).all()
        for r in resources:
            channels = wf.resource_channels(r)
            if r.grade is Grade.core:
                assert channels == []
            if r.sharing_attribute is SharingAttribute.not_shared:
                assert "sharing" not in channels
            if r.opening_attribute.value == "not_open":
                assert "opening" not in channels
        assert any("opening" in wf.resource_channels(r) for r in resources)
        strict = load_policy("strict-privacy")
        assert all(set(wf.resource_channels(r, strict)) <= {c.value for c in Channel} for r in resources)


def test_facts_describe_rows_for_the_policy(world):
    with Session(world.engine) as s:
        r = s.exec(select(Resource).where(Resource.grade == Grade.general)).first()
        t = facts.resource_target(r, "opening")
        assert t.channel is Channel.opening and t.holder_id == r.holder_id
        assert set(t.personal_fields) == {f.name for f in r.fields if f.marking.value != "other"}
        p = s.exec(select(Product)).first()
        pt = facts.product_target(p)
        assert pt.is_product and pt.billing_unit is p.billing_unit and pt.actual_price == p.actual_price
        org = s.exec(select(Organization)).first()
        assert facts.requester_facts(org).kind is org.kind


def test_current_policy_defaults_and_follows_the_setting(world):
    with world.step() as s:
        assert wf.current_policy(s).name == "national-2025"
        wf.set_policy(s, world.role(s, Role.trainer), "sme-discount")
        assert wf.current_policy(s).name == "sme-discount"
    with world.step() as s:
        assert wf.current_policy(s).name == "sme-discount"


def test_demo_tells_the_story_and_verifies_the_audit(tmp_path, monkeypatch):
    sandbox = f"sqlite:///{tmp_path / 'sandbox.db'}"
    monkeypatch.setenv("MARKETPLACE_HOME", str(tmp_path))
    monkeypatch.setenv("MARKETPLACE_DB_URL", sandbox)
    db.dispose_engines()
    SQLModel.metadata.create_all(db.get_engine(sandbox))
    result = CliRunner().invoke(main, ["demo"])
    assert result.exit_code == 0, result.output
    out = result.output
    assert f"database: sqlite:///{tmp_path / 'demo.db'}" in out
    assert not db.is_seeded(db.get_engine(sandbox)), "the demo must not touch the configured sandbox"
    for needle in (
        "database: sqlite:///",
        "Sharing",
        "Opening, unconditional",
        "privacy report: k=",
        "quote | Paid",
        "quote | Free",
        "paid ",
        "pricing above the cap is refused",
        "deadline missed",
        "reported the use due",
        "audit chain intact",
        "designated",
        "implementation plan PLN-",
        "not an implementing institution",
        "objection dismissed",
        "grants suspended",
        ": suspended",
        "delivery of 50 more rows refused",
        ": approved",  # a plan drafted by the institution, approved by its government
        "disqualified, selection.qualification.security_level",
        "scoring the disqualified applicant is refused",
        "weighted total",
        "decision: winner",
        "on public notice until",
        "a direct award on other grounds is refused",
        "resting on selection SEL-",
        "obligation exit",
        "renewal registered as",
    ):
        assert needle in out, needle
