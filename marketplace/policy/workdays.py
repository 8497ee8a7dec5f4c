"""Working days under a policy: China's official holidays and make-up working days, plus the policy's changes.

The official schedule comes from the `holidays` package (`holidays.China`), which encodes the State Council
General Office's yearly holiday notices: the statutory holidays, the weekdays bridged into a holiday and the
weekend days worked in exchange (make-up working days, `weekend_workdays`). A policy's `[calendar]` may add
or remove days, e.g. from a notice newer than the installed package (docs/policy-sources.md#working-days).

China announces each year's schedule in a notice late in the year before, so the package knows a fixed set
of years. Outside them the statutory holidays are still known, but bridge days and make-up days are not:
`coverage_warning` says so in one line, and the sandbox clock shows it when the date leaves those years.

A calendar is built one year at a time, on first use, and cached for the process: a deadline rarely spans
two years, a further year takes about a millisecond (the first use, which imports the package, about 0.1 s),
and a command that never counts working days never pays for it.

Counting working days is a small loop of our own rather than `numpy.busday_offset` or the package's
`get_nth_working_day`: due dates are memoized per (start, days) in the policy's compiled tables, and a set
lookup per day is faster per call than converting to datetime64 or going through the package's key
normalization on every date.
"""

from __future__ import annotations

from collections.abc import Container, Iterable
from dataclasses import dataclass
from datetime import date, timedelta
from functools import lru_cache
from importlib.metadata import PackageNotFoundError, version
from typing import Any

from marketplace.errors import InvalidInput

__all__ = [
    "HolidayView",
    "OfficialYear",
    "WorkingCalendar",
    "add_working_days",
    "official_year",
    "official_years",
    "schedule_facts",
    "schedule_source",
]

_ONE_DAY = timedelta(days=1)
_SATURDAY = 5


@dataclass(frozen=True, slots=True)
class OfficialYear:
    """One year of China's official schedule: days off (statutory and bridged) and make-up working days."""

    year: int
    days_off: frozenset[date]
    make_up_days: frozenset[date]


@lru_cache(maxsize=256)
def official_year(year: int) -> OfficialYear:
    """The package's schedule for `year` (public holidays only: half-day holidays such as Women's Day
    apply to some groups of workers, not to a review office)."""
    import holidays  # deferred: importing the package costs ~50 ms that most commands never need

    cn = holidays.China(years=year)
    return OfficialYear(
        year,
        frozenset(d for d in cn if d.year == year),
        frozenset(d for d in cn.weekend_workdays if d.year == year),
    )


@lru_cache(maxsize=1)
def official_years() -> frozenset[int]:
    """The years whose official notice the installed package encodes.

    Read from the package's table of special (notice-given) public holidays, `special_public_holidays`,
    which has one entry per year whose notice it knows; the years from its first to its last are covered.
    """
    import holidays

    known = holidays.China().special_public_holidays
    return frozenset(range(min(known), max(known) + 1)) if known else frozenset()


@lru_cache(maxsize=1)
def schedule_facts() -> tuple[str, str]:
    """(years of the official notices, package and version) the schedule comes from."""
    try:
        pkg = f"holidays {version('holidays')}"
    except PackageNotFoundError:  # pragma: no cover - the package is a dependency; this is a broken install
        pkg = "holidays (version unknown)"
    years = official_years()
    return (f"{min(years)}–{max(years)}" if years else "none"), pkg


def schedule_source() -> str:
    """Where the official schedule comes from, in words (package and version, years of notices)."""
    span, pkg = schedule_facts()
    return f"State Council holiday notices {span}, from the {pkg} package (holidays.China)"


def _years_words(years: Iterable[int]) -> str:
    """Years as compact ranges: 2001–2026, 2028."""
    ys = sorted(set(years))
    if not ys:
        return "none"
    parts: list[str] = []
    first = prev = ys[0]
    for y in [*ys[1:], None]:
        if y is not None and y == prev + 1:
            prev = y
            continue
        parts.append(str(first) if first == prev else f"{first}–{prev}")
        if y is not None:
            first = prev = y
    return ", ".join(parts)


class WorkingCalendar:
    """Which days are working days under one policy; years are built on first use.

    A weekday is a working day unless it is a day off; a Saturday or Sunday is a day off unless it is a
    make-up working day. The policy's lists change the official schedule: `extra_holidays` and
    `not_holidays` add and remove days off, `extra_workdays` and `not_workdays` add and remove make-up days.
    `notice_years` are years whose notice the policy file itself supplies through those lists (a notice
    newer than the package), so they count as covered.
    """

    __slots__ = (
        "_days_off",
        "_extra_holidays",
        "_extra_workdays",
        "_loaded",
        "_make_up",
        "_not_holidays",
        "_not_workdays",
        "notice_years",
    )

    def __init__(
        self,
        extra_holidays: Iterable[date] = (),
        extra_workdays: Iterable[date] = (),
        not_holidays: Iterable[date] = (),
        not_workdays: Iterable[date] = (),
        notice_years: Iterable[int] = (),
    ) -> None:
        self._extra_holidays = frozenset(extra_holidays)
        self._extra_workdays = frozenset(extra_workdays)
        self._not_holidays = frozenset(not_holidays)
        self._not_workdays = frozenset(not_workdays)
        self.notice_years = frozenset(notice_years)
        self._days_off: set[date] = set()
        self._make_up: set[date] = set()
        self._loaded: set[int] = set()

    def _load(self, year: int) -> None:
        official = official_year(year)
        off = {d for d in official.days_off | self._extra_holidays if d.year == year}
        off -= self._not_holidays
        make_up = {d for d in official.make_up_days | self._extra_workdays if d.year == year}
        make_up -= self._not_workdays
        make_up -= off
        # sets first, then the year: a reader that sees the year loaded also sees its days
        self._days_off |= off
        self._make_up |= make_up
        self._loaded.add(year)

    def is_working_day(self, day: date) -> bool:
        """True when `day` is a working day (a weekday that is not a day off, or a make-up day)."""
        if day.year not in self._loaded:
            self._load(day.year)
        if day.weekday() >= _SATURDAY:
            return day in self._make_up
        return day not in self._days_off

    def is_holiday(self, day: date) -> bool:
        """True when `day` is a day off other than an ordinary weekend (a holiday or a bridged weekday)."""
        if day.year not in self._loaded:
            self._load(day.year)
        return day in self._days_off

    def add(self, start: date, days: int) -> date:
        """The date `days` working days after `start` (start itself not counted; 0 days = `start`)."""
        if isinstance(days, bool) or not isinstance(days, int) or days < 0:
            raise InvalidInput("days", days, "a number of working days >= 0")
        d = start
        left = days
        loaded = self._loaded
        off = self._days_off
        make_up = self._make_up
        while left:
            d += _ONE_DAY
            if d.year not in loaded:
                self._load(d.year)
            if d.weekday() >= _SATURDAY:
                if d in make_up:
                    left -= 1
            elif d not in off:
                left -= 1
        return d

    def days_off(self, year: int) -> frozenset[date]:
        """The year's days off other than ordinary weekends, after the policy's changes."""
        if year not in self._loaded:
            self._load(year)
        return frozenset(d for d in self._days_off if d.year == year)

    def make_up_days(self, year: int) -> frozenset[date]:
        """The year's make-up working days (weekend days worked), after the policy's changes."""
        if year not in self._loaded:
            self._load(year)
        return frozenset(d for d in self._make_up if d.year == year)

    @property
    def covered_years(self) -> frozenset[int]:
        """Years whose official schedule is known: the package's notices and the policy's own."""
        return official_years() | self.notice_years

    def covers(self, day: date) -> bool:
        return day.year in self.covered_years

    def coverage_warning(self, day: date) -> str | None:
        """One line when `day` lies outside the covered years, else None."""
        if self.covers(day):
            return None
        return (
            f"the sandbox date {day.isoformat()} is outside the years with an official holiday schedule "
            f"({_years_words(self.covered_years)}): working days in {day.year} skip the statutory holidays "
            "as the holidays package estimates them, without that year's bridge days or make-up working "
            "days; add its notice under [calendar] in the policy file (extra_holidays, extra_workdays, "
            "notice_years)"
        )

    def changes(self) -> dict[str, frozenset[date]]:
        """The policy's own changes to the official schedule, by key."""
        return {
            "extra_holidays": self._extra_holidays,
            "not_holidays": self._not_holidays,
            "extra_workdays": self._extra_workdays,
            "not_workdays": self._not_workdays,
        }

    def redundant_changes(self) -> list[tuple[str, date]]:
        """Changes that the official schedule already makes (kept only when the package differs)."""
        out: list[tuple[str, date]] = []
        for key, days in self.changes().items():
            for d in sorted(days):
                official = official_year(d.year)
                if (
                    (key == "extra_holidays" and d in official.days_off)
                    or (key == "not_holidays" and d not in official.days_off)
                    or (key == "extra_workdays" and d in official.make_up_days)
                    or (key == "not_workdays" and d not in official.make_up_days)
                ):
                    out.append((key, d))
        return out

    def summary_items(self) -> list[tuple[str, dict[str, Any]]]:
        """Where the calendar comes from, as message ids with values (for `marketplace policy show`)."""
        changes = [("summary.calendar.change", {"count": len(v), "kind": k})
                   for k, v in self.changes().items() if v]
        items: list[tuple[str, dict[str, Any]]] = [
            ("summary.calendar.source", dict(zip(("span", "package"), schedule_facts(), strict=True))),
            ("summary.calendar.changes_notices" if self.notice_years
             else "summary.calendar.changes",
             {"changes": changes or ("summary.none", {}), "notices": _years_words(self.notice_years)}),
            ("summary.calendar.covered", {"years": _years_words(self.covered_years)}),
        ]
        redundant = self.redundant_changes()
        if redundant:
            items.append(("summary.calendar.redundant", {
                "days": [("summary.calendar.day", {"kind": k, "day": d.isoformat()})
                         for k, d in redundant]
            }))
        return items


class HolidayView(Container[date]):
    """A calendar's days off as a container (`day in view`), for callers that count days themselves."""

    __slots__ = ("calendar",)

    def __init__(self, calendar: WorkingCalendar) -> None:
        self.calendar = calendar

    def __contains__(self, day: object) -> bool:
        return isinstance(day, date) and self.calendar.is_holiday(day)


def add_working_days(
    start: date,
    days: int,
    holidays: Container[date] = frozenset(),
    working_weekends: Container[date] = frozenset(),
) -> date:
    """The date `days` working days after `start` (start itself not counted; 0 days = `start`).

    Saturdays, Sundays and `holidays` are skipped; dates in `working_weekends` (make-up days) count. For a
    policy's calendar use `WorkingCalendar.add`, which knows both.
    """
    if isinstance(days, bool) or not isinstance(days, int) or days < 0:
        raise InvalidInput("days", days, "a number of working days >= 0")
    d = start
    left = days
    while left:
        d += _ONE_DAY
        if d in holidays:
            continue
        if d.weekday() >= _SATURDAY and d not in working_weekends:
            continue
        left -= 1
    return d
