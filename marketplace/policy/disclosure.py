"""Yearly disclosure deadlines and how timely a party's publication was (NDA notice of 10 February 2026:
implementing institutions and operators publish yearly, for the previous year, by the end of March).

Lateness is counted in working days on the policy's calendar (the same days as every review deadline), from
the day after the deadline to the day of publication, or to today for a publication still missing.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from marketplace.policy.compiled import working_calendar
from marketplace.policy.schema import Policy

__all__ = ["TIMELINESS", "Timeliness", "disclosure_due", "publication_timeliness", "working_days_between"]

#: on_time: published by the deadline; late: published after it; missing: the deadline passed without it;
#: not_yet_due: not published and the deadline has not passed.
TIMELINESS = ("on_time", "late", "missing", "not_yet_due")


@dataclass(frozen=True, slots=True)
class Timeliness:
    """How timely one party's disclosure for one year is: `status` one of TIMELINESS, and the working days
    past the deadline (0 unless late or missing)."""

    status: str
    working_days_late: int


def disclosure_due(policy: Policy, year: int) -> date:
    """The deadline of the disclosure for `year`: the policy's month-day of the next year."""
    month, day = (int(x) for x in policy.disclosure.deadline.split("-"))
    return date(year + 1, month, day)


def working_days_between(policy: Policy, after: date, until: date) -> int:
    """Working days in (after, until] under the policy's calendar; 0 when `until` is not after `after`."""
    cal = working_calendar(policy)
    n, d = 0, after
    while d < until:
        d += timedelta(days=1)
        n += cal.is_working_day(d)
    return n


def publication_timeliness(
    policy: Policy, *, due: date, published_on: date | None, today: date
) -> Timeliness:
    """On time, late (with working days late), missing (working days since the deadline) or not yet due."""
    if published_on is not None:
        if published_on <= due:
            return Timeliness("on_time", 0)
        return Timeliness("late", working_days_between(policy, due, published_on))
    if today > due:
        return Timeliness("missing", working_days_between(policy, due, today))
    return Timeliness("not_yet_due", 0)
