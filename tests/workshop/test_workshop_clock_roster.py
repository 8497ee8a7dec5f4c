"""The trainer's clock controls and dashboard figures, and the role mix of `workshop create`."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st
from sqlmodel import select

from marketplace import db
from marketplace.errors import InvalidInput
from marketplace.models import AuditEvent
from marketplace.workflows import clock
from marketplace.workshop import join, parse_mix
from marketplace.workshop.roster import DEFAULT_MIX, GROUPS


def test_pause_resume_advance_and_the_dashboard_sees_breaches(workshop) -> None:
    fac = workshop.fac
    dep = join(workshop.seat("department").join_code, workshop.engine)
    res = next(c for c in dep.catalog() if "sharing" in c["channels"])
    dep.file_request(purpose="public_governance", resource=res["code"], channel="sharing")
    board = fac.dashboard()
    assert (
        board.clock_paused
        and board.figures["pending_reviews"] == 1
        and board.figures["deadline_breaches"] == 0
    )
    assert fac.resume_clock().paused is False and fac.dashboard().clock_paused is False
    assert fac.pause_clock().paused is True
    start = fac.dashboard().today
    report = fac.advance_clock(10)
    assert (report.today - start).days == 10 and report.breached
    board = fac.dashboard()
    assert board.today == report.today and board.figures["deadline_breaches"] >= 1
    assert board.queues["overdue"].sum() >= 1 or board.figures["pending_reviews"] == 0
    with db.session_scope(workshop.engine) as s:
        actions = list(
            s.exec(select(AuditEvent.action).where(AuditEvent.actor_id == workshop.trainer.account_id))
        )
        assert clock.today(s) == report.today
    assert actions.count("clock.set") == 2 and "clock.advance" in actions
    with pytest.raises(InvalidInput, match="days"):
        fac.advance_clock(0)


@given(n=st.integers(min_value=1, max_value=1000))
def test_default_mix_scales_to_any_number_of_participants(n: int) -> None:
    mix = parse_mix(None, n)
    assert sum(mix.values()) == n and set(mix) <= set(DEFAULT_MIX) and all(v > 0 for v in mix.values())


@given(
    counts=st.dictionaries(
        st.sampled_from(sorted(GROUPS)), st.integers(min_value=1, max_value=30), min_size=1
    )
)
def test_an_explicit_mix_is_taken_as_written(counts: dict[str, int]) -> None:
    text = ",".join(f"{g}={n}" for g, n in counts.items())
    assert parse_mix(text, sum(counts.values())) == counts


@pytest.mark.parametrize(
    ("text", "n", "field"),
    [
        ("department=5,steward", 5, "GROUP=COUNT"),
        ("wizard=2", 2, "steward"),
        ("department=2", 3, "add up"),
        (None, 0, "--participants"),
        (None, 5000, "--participants"),
    ],
)
def test_a_bad_mix_names_what_is_allowed(text, n, field) -> None:
    with pytest.raises(InvalidInput, match=field):
        parse_mix(text, n)
