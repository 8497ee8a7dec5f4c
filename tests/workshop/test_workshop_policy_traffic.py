"""Switching the policy mid-session, and background traffic that goes through the workflows."""

from __future__ import annotations

from collections import Counter

import pytest
from sqlmodel import select

from marketplace import db
from marketplace.errors import InvalidInput
from marketplace.models import AccessRequest, AuditEvent, Participant
from marketplace.workflows import audit, facts
from marketplace.workshop import join

from .conftest import make_workshop


def test_policy_switch_takes_effect_and_shows_the_difference(workshop) -> None:
    ent = join(workshop.seat("enterprise").join_code, workshop.engine)
    product = next(c for c in ent.catalog() if c["kind"] == "product")
    before = ent.file_request(purpose="industry_development", product=product["code"], volume=1000)
    effect = workshop.fac.switch_policy("open-by-default")
    assert (effect.old, effect.new) == ("national-2025", "open-by-default")
    assert effect.samples["request"].tolist() == [before.result["code"]]
    assert any("open-by-default" in line for line in effect.lines())
    with db.session_scope(workshop.engine) as s:
        assert facts.current_policy(s).name == "open-by-default"
    after = ent.file_request(purpose="industry_development", product=product["code"], volume=1000)
    with db.session_scope(workshop.engine) as s:
        names = dict(s.exec(select(AccessRequest.id, AccessRequest.policy_name)).all())
        switch = s.exec(select(AuditEvent).where(AuditEvent.action == "policy.set")).one()
    assert names == {before.subject_id: "national-2025", after.subject_id: "open-by-default"}
    assert switch.actor_id == workshop.trainer.account_id and switch.payload["new"] == "open-by-default"
    assert workshop.fac.dashboard().policy == "open-by-default"


def test_policy_switch_shows_a_price_change(workshop) -> None:
    ent = join(workshop.seat("enterprise").join_code, workshop.engine)
    product = next(c for c in ent.catalog() if c["kind"] == "product")
    ent.file_request(purpose="research", product=product["code"], volume=5000)
    compared = workshop.fac.compare_policies("sme-discount")
    row = compared.iloc[0]
    assert row["old_total"] != row["new_total"] or row["old_stages"] != row["new_stages"]
    with db.session_scope(workshop.engine) as s:
        assert facts.current_policy(s).name == "national-2025"  # comparing does not switch


def test_unknown_policy_is_refused_naming_the_choices(workshop) -> None:
    with pytest.raises(InvalidInput, match="market-pricing"):
        workshop.fac.switch_policy("no-such-policy")


def _traffic_trace(engine, seed: int) -> list[tuple[str, str]]:
    ws = make_workshop(engine, seed=1)
    traffic = ws.fac.traffic(agents=6, seed=seed)
    for _ in range(4):
        traffic.step()
    with db.session_scope(engine) as s:
        agents = set(s.exec(select(Participant.account_id).where(Participant.group == "background")).all())
        events = s.exec(
            select(AuditEvent.actor_id, AuditEvent.action, AuditEvent.outcome).order_by(AuditEvent.seq)
        ).all()
        assert audit.verify_chain(s).ok
    assert len(agents) == 6 and set(a.session.account_id for a in traffic.agents) == agents
    return [(action, outcome) for actor, action, outcome in events if actor in agents]


def test_background_traffic_acts_through_the_workflows(tmp_path) -> None:
    engines = [db.make_engine(f"sqlite:///{tmp_path / f'bg{i}.db'}") for i in range(2)]
    try:
        first, second = (_traffic_trace(e, seed=7) for e in engines)
    finally:
        for e in engines:
            e.dispose()
    actions = Counter(a for a, _ in first)
    assert actions["request.create"] >= 1 and actions["request.submit"] >= 1
    assert actions["review.decide"] >= 1
    assert first == second  # same seed, same world: same traffic


def test_background_traffic_thread_starts_and_stops(workshop) -> None:
    traffic = workshop.fac.traffic(agents=3, seed=2)
    traffic.start(interval_s=0.05)
    assert traffic.running
    import time

    deadline = time.time() + 20
    while sum(traffic.counts.values()) < 3 and time.time() < deadline:
        time.sleep(0.05)
    traffic.stop()
    assert not traffic.running and sum(traffic.counts.values()) >= 3
    # the agents are background seats, not shown as participants on the dashboard
    assert len(workshop.fac.dashboard().completion) == len(workshop.seats)
