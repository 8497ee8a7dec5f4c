"""Sandbox time: a clock stored in the `clock` setting, so workshops and tests can move through weeks.

The setting holds {"start": ISO date, "offset_days": int, "paused": bool, "anchor": ISO wall date}. A paused
clock (the default: deterministic) shows `start + offset_days`; a running clock also moves with the wall
calendar since `anchor`. The time of day is always the wall clock's, so events of one sandbox day keep their
order. Reading the clock is cached on the session (one read per transaction), because every audit event needs
it."""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from functools import cached_property
from typing import Any

from sqlmodel import Session

from marketplace.errors import InvalidInput
from marketplace.models import Account, SandboxSetting

CLOCK_KEY = "clock"
DEFAULT_START = date(2025, 3, 3)  # a Monday in the first year of the national-2025 framework
MAX_ADVANCE_DAYS = 3660
_CACHE = "marketplace.clock"

__all__ = [
    "DEFAULT_START",
    "AdvanceReport",
    "CalendarCoverageWarning",
    "ClockState",
    "advance",
    "calendar_warning",
    "clock_state",
    "now",
    "set_clock",
    "today",
]


class CalendarCoverageWarning(UserWarning):
    """The sandbox date is outside the years whose official holiday schedule is known."""


@dataclass(frozen=True)
class ClockState:
    start: date
    offset_days: int
    paused: bool
    anchor: date

    def today(self) -> date:
        if self.paused:
            return self._paused_today
        moved = max((datetime.now(UTC).date() - self.anchor).days, 0)
        return self.start + timedelta(days=self.offset_days + moved)

    @cached_property
    def _paused_today(self) -> date:
        """A paused clock's date, worked out once (every audit event and due date asks for it)."""
        return self.start + timedelta(days=self.offset_days)

    def to_value(self) -> dict[str, Any]:
        return {
            "start": self.start.isoformat(),
            "offset_days": self.offset_days,
            "paused": self.paused,
            "anchor": self.anchor.isoformat(),
        }


def _default_state() -> ClockState:
    return ClockState(DEFAULT_START, 0, True, datetime.now(UTC).date())


def clock_state(session: Session) -> ClockState:
    cached = session.info.get(_CACHE)
    if cached is not None:
        return cached
    from marketplace.workflows._core import setting_value

    v = setting_value(session, CLOCK_KEY)
    if not isinstance(v, dict):
        state = _default_state()
    else:
        state = ClockState(
            date.fromisoformat(v.get("start", DEFAULT_START.isoformat())),
            int(v.get("offset_days", 0)),
            bool(v.get("paused", True)),
            date.fromisoformat(v.get("anchor", datetime.now(UTC).date().isoformat())),
        )
    session.info[_CACHE] = state
    return state


def today(session: Session) -> date:
    """The sandbox date."""
    return clock_state(session).today()


def now(session: Session) -> datetime:
    """The sandbox date at the wall clock's time of day, timezone-aware UTC."""
    wall = datetime.now(UTC)
    return datetime.combine(today(session), wall.timetz())


def _store(session: Session, state: ClockState) -> SandboxSetting:
    from marketplace.workflows._core import flush, remember_setting, setting_row

    row = setting_row(session, CLOCK_KEY)
    if row is None:
        row = SandboxSetting(key=CLOCK_KEY, value=state.to_value())
        session.add(row)
        remember_setting(session, row)
    else:
        row.value = state.to_value()
        row.updated_at = datetime.now(UTC)
    flush(session, "the sandbox clock")
    session.info[_CACHE] = state
    return row


def set_clock(
    session: Session, actor: Account, *, start: date | None = None, paused: bool | None = None
) -> ClockState:
    """Trainer only: restart the clock at `start` (offset 0) and/or pause or run it."""
    from marketplace.vocabulary import Role
    from marketplace.workflows import audit
    from marketplace.workflows.roles import require_role

    require_role(session, actor, Role.trainer, "set the sandbox clock", (CLOCK_KEY, None))
    old = clock_state(session)
    state = ClockState(
        start or old.start,
        0 if start else old.offset_days,
        old.paused if paused is None else paused,
        datetime.now(UTC).date(),
    )
    if start is None and old.paused and not state.paused:
        state = ClockState(old.today(), 0, False, datetime.now(UTC).date())
    _store(session, state)
    audit.record(session, actor, "clock.set", ("setting", None), {"clock": state.to_value()})
    if (line := calendar_warning(session, state.today())) is not None:
        warnings.warn(line, CalendarCoverageWarning, stacklevel=2)
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


def calendar_warning(session: Session, day: date) -> str | None:
    """One line when `day` is outside the years whose official holiday schedule the policy in force knows."""
    from marketplace.policy import calendar_warning as policy_calendar_warning
    from marketplace.workflows.facts import current_policy

    return policy_calendar_warning(current_policy(session), day)


def advance(session: Session, actor: Account, days: int) -> AdvanceReport:
    """Trainer only: move sandbox time forward by `days`, then handle missed deadlines and expiries."""
    from marketplace.vocabulary import Role
    from marketplace.workflows import audit, deadlines
    from marketplace.workflows.roles import require_role

    if isinstance(days, bool) or not isinstance(days, int) or not 1 <= days <= MAX_ADVANCE_DAYS:
        raise InvalidInput("days", days, f"a whole number of days from 1 to {MAX_ADVANCE_DAYS}")
    require_role(session, actor, Role.trainer, "advance the sandbox clock", (CLOCK_KEY, None))
    old = clock_state(session)
    previous = old.today()
    state = ClockState(old.start, old.offset_days + days, old.paused, old.anchor)
    _store(session, state)
    report = AdvanceReport(previous, state.today())
    if (line := calendar_warning(session, report.today)) is not None:
        report.warnings.append(line)
    audit.record(
        session,
        actor,
        "clock.advance",
        ("setting", None),
        {"days": days, "from": previous, "to": report.today},
    )
    deadlines.process(session, actor, report)
    from marketplace.workflows._core import flush

    flush(
        session,
        "the requests the deadlines touched",
        actor=actor,
        action="clock.advance",
        subject=("clock", None),
    )
    return report
