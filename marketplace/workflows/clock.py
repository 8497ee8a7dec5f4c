"""Sandbox time: a clock stored in the `clock` setting, so workshops and tests can move through weeks.

The setting holds {"start": ISO date, "offset_days": int, "paused": bool, "anchor": ISO wall date}. A paused
clock (the default: deterministic) shows `start + offset_days`; a running clock also moves with the wall
calendar since `anchor`. The time of day is always the wall clock's, so events of one sandbox day keep their
order. Moving the clock is a trainer's step (`workflows.admin`); this module only reads and stores it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

from sqlmodel import Session

from marketplace.policy import calendar_warning as policy_calendar_warning
from marketplace.workflows.facts import current_policy
from marketplace.workflows.settings import CLOCK_KEY, cache, remember, setting_value, store_setting

DEFAULT_START = date(2025, 3, 3)  # a Monday in the first year of the national-2025 framework
MAX_ADVANCE_DAYS = 3660
STATE = "marketplace.clock"

__all__ = [
    "CLOCK_KEY",
    "DEFAULT_START",
    "MAX_ADVANCE_DAYS",
    "CalendarCoverageWarning",
    "ClockState",
    "calendar_warning",
    "clock_state",
    "now",
    "store",
    "today",
]


class CalendarCoverageWarning(UserWarning):
    """The sandbox date is outside the years whose official holiday schedule is known."""


def calendar_warning(session: Session, day: date) -> str | None:
    """One line when `day` is outside the years whose official holiday schedule the policy in force knows."""
    return policy_calendar_warning(current_policy(session), day)


@dataclass(frozen=True)
class ClockState:
    start: date
    offset_days: int
    paused: bool
    anchor: date

    def today(self) -> date:
        moved = 0 if self.paused else max((datetime.now(UTC).date() - self.anchor).days, 0)
        return self.start + timedelta(days=self.offset_days + moved)

    def to_value(self) -> dict[str, Any]:
        return {
            "start": self.start.isoformat(),
            "offset_days": self.offset_days,
            "paused": self.paused,
            "anchor": self.anchor.isoformat(),
        }


def default_state() -> ClockState:
    return ClockState(DEFAULT_START, 0, True, datetime.now(UTC).date())


def clock_state(session: Session) -> ClockState:
    """The clock as stored (read once per transaction)."""
    state = cache(session, STATE)
    if state is not None:
        return state
    v = setting_value(session, CLOCK_KEY)
    if not isinstance(v, dict):
        state = default_state()
    else:
        state = ClockState(
            date.fromisoformat(v.get("start", DEFAULT_START.isoformat())),
            int(v.get("offset_days", 0)),
            bool(v.get("paused", True)),
            date.fromisoformat(v.get("anchor", datetime.now(UTC).date().isoformat())),
        )
    return remember(session, STATE, state)


def today(session: Session) -> date:
    """The sandbox date."""
    return clock_state(session).today()


def now(session: Session) -> datetime:
    """The sandbox date at the wall clock's time of day, timezone-aware UTC."""
    wall = datetime.now(UTC)
    return datetime.combine(today(session), wall.timetz())


def store(session: Session, state: ClockState) -> None:
    """Write the clock setting (the caller's step flushes and records it)."""
    store_setting(session, CLOCK_KEY, state.to_value())
    remember(session, STATE, state)
