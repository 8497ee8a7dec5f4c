"""A grant's dates from its conditions: its end and the usage-report schedule (pure rules)."""

from __future__ import annotations

from datetime import date, timedelta

from hypothesis import given
from hypothesis import strategies as st

from marketplace.policy import ConditionSpec
from marketplace.policy.grants import (
    USAGE_REPORT_DAYS,
    grant_end,
    next_usage_due,
    usage_due_after,
    usage_overdue,
    usage_period,
    usage_period_start,
)
from marketplace.vocabulary import ConditionKind

START = date(2025, 3, 1)


def _c(kind: ConditionKind, **params) -> ConditionSpec:
    return ConditionSpec(kind, params, kind.value)


def test_the_shortest_condition_wins_and_none_means_none():
    conds = [
        _c(ConditionKind.expires_after, days=90),
        _c(ConditionKind.expires_after, days=45),
        _c(ConditionKind.report_usage, days=60),
        _c(ConditionKind.report_usage),
    ]
    assert grant_end(conds, START) == START + timedelta(days=45)
    assert usage_period(conds) == 60 and usage_period(conds[-1:]) == USAGE_REPORT_DAYS
    assert grant_end([], START) is None and usage_period(conds[:2]) is None
    assert usage_due_after(START, None, None) is None


def test_a_schedule_runs_period_by_period_and_stops_at_the_end():
    end = START + timedelta(days=45)
    first = usage_due_after(START, 30, end)
    assert first == START + timedelta(days=30)
    assert next_usage_due(first, 30, end) == end  # the last period is cut short
    assert next_usage_due(end, 30, end) is None
    assert next_usage_due(first, 30, None) == START + timedelta(days=60)
    assert usage_overdue(first, first + timedelta(days=1)) and not usage_overdue(first, first)
    assert not usage_overdue(None, date(2099, 1, 1))


@given(
    start=st.dates(min_value=date(2020, 1, 1), max_value=date(2030, 1, 1)),
    period=st.integers(1, 400),
    full=st.integers(0, 12),
    cut=st.integers(0, 399),
)
def test_a_reporting_period_starts_where_the_previous_one_ended(start, period, full, cut):
    cut %= period
    if full == 0 and cut == 0:
        return
    due = start + timedelta(days=full * period + cut)  # `cut` days into a period: a grant ending early
    begun = usage_period_start(start, due, period)
    assert start <= begun < due and (begun - start).days % period == 0
    assert (due - begun).days == (cut or period)
