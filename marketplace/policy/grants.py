"""What a grant's conditions make of its dates: its end, and the schedule of its usage reports (pure).

`expires_after(days=N)` ends a grant N days after it starts (the shortest one wins). `report_usage(days=N)`
asks for a usage report every N days (the shortest period wins; `USAGE_REPORT_DAYS` without `days`): periods
run from the grant's first day, the last one is cut short by the grant's end, a report can be filed once its
period has begun, and while one is past due nothing more is delivered under the grant. Conditions are read
by `kind` and `params` only, so condition rows, specs and facts all fit.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from marketplace.vocabulary import ConditionKind

__all__ = [
    "USAGE_REPORT_DAYS",
    "grant_end",
    "next_usage_due",
    "usage_due_after",
    "usage_overdue",
    "usage_period",
    "usage_period_start",
]

USAGE_REPORT_DAYS = 90  # a `report_usage` condition without `days`: a usage report each quarter


def grant_end(conditions: list[Any], start: date) -> date | None:
    """The last day of a grant starting on `start` (None: open-ended)."""
    days = [int(c.params.get("days", 0)) for c in conditions if c.kind is ConditionKind.expires_after]
    return start + timedelta(days=min(days)) if days else None


def usage_period(conditions: list[Any]) -> int | None:
    """Days between usage reports, or None when no condition asks for them."""
    days = [
        int(c.params.get("days", USAGE_REPORT_DAYS))
        for c in conditions
        if c.kind is ConditionKind.report_usage
    ]
    return min(days) if days else None


def usage_due_after(start: date, period: int | None, end: date | None) -> date | None:
    """The due date of the report for the period beginning on `start` (None: nothing falls due then)."""
    if period is None or (end is not None and start >= end):
        return None
    due = start + timedelta(days=period)
    return min(due, end) if end else due


def next_usage_due(due: date, period: int, end: date | None) -> date | None:
    """The due date after the report due on `due` is filed (the next period begins where this one ended)."""
    return usage_due_after(due, period, end)


def usage_period_start(valid_from: date, due: date, period: int) -> date:
    """First day of the reporting period that ends on `due`."""
    return valid_from + timedelta(days=((due - valid_from).days - 1) // period * period)


def usage_overdue(due: date | None, today: date) -> bool:
    """A report past its due date: no delivery until it is filed."""
    return due is not None and due < today
