"""Sandbox administration by the trainer: the policy in force and the sandbox clock."""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any

from sqlmodel import Session

from marketplace.errors import InvalidInput
from marketplace.models import Account
from marketplace.policy import list_policies
from marketplace.vocabulary import Role
from marketplace.workflows import clock, deadlines, facts
from marketplace.workflows.clock import CLOCK_KEY, MAX_ADVANCE_DAYS, ClockState
from marketplace.workflows.settings import POLICY_KEY, forget, store_setting
from marketplace.workflows.step import step

__all__ = ["AdvanceReport", "advance_clock", "set_clock", "set_policy"]

SANDBOX = ("setting", None)


def set_policy(session: Session, actor: Account, name: str) -> str:
    """Trainer only: put policy `name` (a file in seed/policies) in force for every later step."""
    names = list_policies()
    if name not in names:
        raise InvalidInput("policy", name, "one of " + ", ".join(names))
    with step(session, actor, "policy.set", SANDBOX) as st:
        st.require_role(Role.trainer, doing="set the policy in force")
        facts.policy_named(name)  # validate before anything is written
        _, old = store_setting(session, POLICY_KEY, {"name": name})
        st.save("the policy setting")
        forget(session)  # the next read takes the new policy
        st.read_clock()
        st.record({"old": old, "new": name})
    return name


def set_clock(
    session: Session, actor: Account, *, start: date | None = None, paused: bool | None = None
) -> ClockState:
    """Trainer only: restart the clock at `start` (offset 0) and/or pause or run it."""
    with step(session, actor, "clock.set", SANDBOX) as st:
        st.require_role(Role.trainer, doing="set the sandbox clock")
        old = clock.clock_state(session)
        state = ClockState(
            start or old.start,
            0 if start else old.offset_days,
            old.paused if paused is None else paused,
            datetime.now(UTC).date(),
        )
        if start is None and old.paused and not state.paused:
            state = ClockState(old.today(), 0, False, datetime.now(UTC).date())
        clock.store(session, state)
        st.save("the sandbox clock")
        st.read_clock()
        st.record({"clock": state.to_value()})
    if (line := clock.calendar_warning(session, state.today())) is not None:
        warnings.warn(line, clock.CalendarCoverageWarning, stacklevel=2)
    return state


@dataclass
class AdvanceReport:
    """What moving the clock did: the new date and every deadline and expiry it processed."""

    previous: date
    today: date
    breached: list[dict[str, Any]] = field(default_factory=list)
    expired: list[dict[str, Any]] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    def lines(self) -> list[str]:
        out = [f"clock: {self.previous} -> {self.today}"]
        out += [
            f"  deadline missed: {b['request']} stage {b['stage']} (due {b['due']}): {b['outcome']}"
            for b in self.breached
        ]
        out += [f"  expired: {e['kind']} {e['code']}" for e in self.expired]
        out += [f"  warning: {w}" for w in self.warnings]
        return out


def advance_clock(session: Session, actor: Account, days: int) -> AdvanceReport:
    """Trainer only: move sandbox time forward by `days`, then handle missed deadlines and expiries."""
    if isinstance(days, bool) or not isinstance(days, int) or not 1 <= days <= MAX_ADVANCE_DAYS:
        raise InvalidInput("days", days, f"a whole number of days from 1 to {MAX_ADVANCE_DAYS}")
    with step(session, actor, "clock.advance", (CLOCK_KEY, None)) as st:
        st.require_role(Role.trainer, doing="advance the sandbox clock")
        old = clock.clock_state(session)
        previous = old.today()
        state = ClockState(old.start, old.offset_days + days, old.paused, old.anchor)
        clock.store(session, state)
        st.save("the sandbox clock")
        st.read_clock()
        report = AdvanceReport(previous, state.today())
        if (line := clock.calendar_warning(session, report.today)) is not None:
            report.warnings.append(line)
        st.record({"days": days, "from": previous, "to": report.today}, subject=SANDBOX)
        deadlines.process(session, actor, report)
        st.save("the requests the deadlines touched")
    return report
