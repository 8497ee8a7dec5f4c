"""Working days: China's official schedule from the holidays package, a policy's changes, coverage."""

from __future__ import annotations

import subprocess
import sys
from datetime import date, timedelta
from pathlib import Path

import pytest
from click.testing import CliRunner
from hypothesis import given, settings
from hypothesis import strategies as st

from marketplace.cli import main
from marketplace.errors import InvalidInput
from marketplace.policy import (
    PolicyFileError,
    Requester,
    RequestFacts,
    Target,
    WorkingCalendar,
    calendar_warning,
    holidays_of,
    load_policy,
    official_years,
    route,
    schedule_source,
    working_calendar,
    working_day_after,
)
from marketplace.vocabulary import (
    Channel,
    Grade,
    OpeningAttribute,
    OrganizationKind,
    Purpose,
    ReviewStage,
    SharingAttribute,
)

NATIONAL = load_policy("national-2025")
REPO = Path(__file__).resolve().parents[2]

# The State Council General Office's notices for 2025 and 2026: weekdays off and weekend days worked.
NOTICE_DAYS_OFF = {
    date(2025, 1, 1), date(2025, 1, 28), date(2025, 1, 29), date(2025, 1, 30), date(2025, 1, 31),
    date(2025, 2, 3), date(2025, 2, 4), date(2025, 4, 4), date(2025, 5, 1), date(2025, 5, 2),
    date(2025, 5, 5), date(2025, 6, 2), date(2025, 10, 1), date(2025, 10, 2), date(2025, 10, 3),
    date(2025, 10, 6), date(2025, 10, 7), date(2025, 10, 8),
    date(2026, 1, 1), date(2026, 1, 2), date(2026, 2, 16), date(2026, 2, 17), date(2026, 2, 18),
    date(2026, 2, 19), date(2026, 2, 20), date(2026, 2, 23), date(2026, 4, 6), date(2026, 5, 1),
    date(2026, 5, 4), date(2026, 5, 5), date(2026, 6, 19), date(2026, 9, 25), date(2026, 10, 1),
    date(2026, 10, 2), date(2026, 10, 5), date(2026, 10, 6), date(2026, 10, 7),
}
NOTICE_MAKE_UP_DAYS = {
    date(2025, 1, 26), date(2025, 2, 8), date(2025, 4, 27), date(2025, 9, 28), date(2025, 10, 11),
    date(2026, 1, 4), date(2026, 2, 14), date(2026, 2, 28), date(2026, 5, 9), date(2026, 9, 20),
    date(2026, 10, 10),
}


def _policy_file(tmp_path: Path, calendar: str, name: str = "cal") -> Path:
    path = tmp_path / f"{name}.toml"
    path.write_text(
        f'extends = "national-2025"\nname = "{name}"\nversion = "1"\n\n[calendar]\n{calendar}\n',
        encoding="utf-8",
    )
    return path


# ---------------------------------------------------------------- the finding


def test_fifteen_working_days_from_2026_12_20_skip_new_year_2027() -> None:
    # Dec 21-25, Dec 28-31 (9), Jan 1 2027 is New Year's Day, Jan 4-8 (14), Jan 11 (15).
    assert working_day_after(NATIONAL, date(2026, 12, 20), 15) == date(2027, 1, 11)


def test_a_review_stage_that_crosses_into_2027_is_due_after_new_year() -> None:
    target = Target(
        channel=Channel.opening,
        grade=Grade.general,
        sharing_attribute=SharingAttribute.conditional,
        opening_attribute=OpeningAttribute.conditional,
        holder_id=3,
        contains_personal_info=False,
    )
    r = route(
        NATIONAL, RequestFacts(Purpose.research), target, Requester(1, OrganizationKind.research),
        start=date(2026, 12, 20),
    )
    (stage,) = [s for s in r.stages if s.stage is ReviewStage.holder]
    assert stage.working_days == 15 and stage.due == date(2027, 1, 11)


# ---------------------------------------------------------------- the official schedule


def test_the_package_schedule_is_the_2025_and_2026_notices_day_for_day() -> None:
    cal = working_calendar(NATIONAL)
    weekday_off = {d for y in (2025, 2026) for d in cal.days_off(y) if d.weekday() < 5}
    assert weekday_off == NOTICE_DAYS_OFF
    assert cal.make_up_days(2025) | cal.make_up_days(2026) == NOTICE_MAKE_UP_DAYS
    for d in NOTICE_MAKE_UP_DAYS:
        assert cal.is_working_day(d)
    for d in NOTICE_DAYS_OFF:
        assert not cal.is_working_day(d) and d in holidays_of(NATIONAL)


def test_the_package_knows_the_announced_years_and_says_so() -> None:
    years = official_years()
    assert {2024, 2025, 2026} <= years
    assert "holidays" in schedule_source() and f"{min(years)}–{max(years)}" in schedule_source()


def test_a_policy_without_a_calendar_section_uses_the_official_schedule(tmp_path: Path) -> None:
    path = tmp_path / "bare.toml"
    path.write_text(
        'extends = "national-2025"\nname = "bare"\nversion = "1"\n', encoding="utf-8"
    )
    bare = load_policy(path)
    assert working_day_after(bare, date(2026, 9, 30), 3) == date(2026, 10, 10)


# ---------------------------------------------------------------- a policy's changes


def test_policy_lists_add_and_remove_days(tmp_path: Path) -> None:
    policy = load_policy(
        _policy_file(
            tmp_path,
            "extra_holidays = [2026-03-09]\n"  # a Monday off
            "not_holidays = [2026-10-07]\n"  # a Wednesday of Golden Week worked
            "extra_workdays = [2026-03-14]\n"  # a Saturday worked
            "not_workdays = [2026-10-10]\n",  # the official make-up Saturday off
        )
    )
    cal = working_calendar(policy)
    assert not cal.is_working_day(date(2026, 3, 9))
    assert cal.is_working_day(date(2026, 10, 7))
    assert cal.is_working_day(date(2026, 3, 14))
    assert not cal.is_working_day(date(2026, 10, 10))
    # Fri Mar 6 + 2 working days: Mon 9 is off, Tue 10, Wed 11.
    assert working_day_after(policy, date(2026, 3, 6), 2) == date(2026, 3, 11)
    # Sep 30 + 3: Oct 7 (worked), Oct 8, Oct 9 (Oct 10 no longer a make-up day).
    assert working_day_after(policy, date(2026, 9, 30), 3) == date(2026, 10, 9)
    # the national calendar is not changed by another policy's lists
    assert working_day_after(NATIONAL, date(2026, 9, 30), 3) == date(2026, 10, 10)


def test_notice_years_extend_the_covered_years(tmp_path: Path) -> None:
    policy = load_policy(
        _policy_file(tmp_path, "extra_holidays = [2027-02-11]\nnotice_years = [2027]\n")
    )
    assert calendar_warning(policy, date(2027, 3, 1)) is None
    assert not working_calendar(policy).is_working_day(date(2027, 2, 11))
    assert calendar_warning(NATIONAL, date(2027, 3, 1)) is not None


@pytest.mark.parametrize(
    ("calendar", "key", "value", "expected"),
    [
        ("extra_holidays = [2026-03-07]", "calendar.extra_holidays[0]", "2026-03-07", "a weekday"),
        ("not_holidays = [2026-10-03]", "calendar.not_holidays[0]", "2026-10-03", "a weekday"),
        ("extra_workdays = [2026-03-09]", "calendar.extra_workdays[0]", "2026-03-09", "a Saturday or Sunday"),
        ("not_workdays = [2026-03-09]", "calendar.not_workdays[0]", "2026-03-09", "a Saturday or Sunday"),
        ("extra_holidays = [2200-03-09]", "calendar.extra_holidays[0]", "2200-03-09", "1950-01-01 to"),
        (
            "extra_holidays = [2026-03-09, 2026-03-09]", "calendar.extra_holidays[1]", "2026-03-09",
            "each date once",
        ),
        (
            "extra_holidays = [2026-03-09]\nnot_holidays = [2026-03-09]", "calendar.not_holidays[0]",
            "2026-03-09", "not also in calendar.extra_holidays",
        ),
        ("notice_years = [2027]", "calendar.notice_years[0]", "2027", "no date of 2027"),
        ("notice_years = [3000]", "calendar.notice_years[0]", "3000", "a year from 1950 to 2099"),
        ("holidays = [2026-03-09]", "calendar.holidays", None, None),
        ("extra_holidays = ['soon']", "calendar.extra_holidays[0]", "soon", "date"),
    ],
)
def test_bad_calendar_entries_are_one_line_each(tmp_path, calendar, key, value, expected) -> None:
    path = _policy_file(tmp_path, calendar)
    with pytest.raises(PolicyFileError) as exc:
        load_policy(path)
    (problem,) = exc.value.problems
    line = str(problem)
    assert "\n" not in line and str(path) in line and key in line
    if value is not None:
        assert value in line
    if expected is not None:
        assert expected in problem.expected
    # the command line reports the same line and exits 2
    out = CliRunner().invoke(main, ["policy", "check", str(path)])
    assert out.exit_code == 2 and key in out.output


def test_calendar_lists_are_bounded(tmp_path: Path) -> None:
    days = ", ".join((date(2030, 1, 7) + timedelta(weeks=i)).isoformat() for i in range(2001))
    with pytest.raises(PolicyFileError) as exc:
        load_policy(_policy_file(tmp_path, f"extra_holidays = [{days}]"))
    assert any(p.key == "calendar.extra_holidays" for p in exc.value.problems)


# ---------------------------------------------------------------- coverage


def test_coverage_warning_names_the_date_and_the_covered_years() -> None:
    assert calendar_warning(NATIONAL, date(2026, 12, 31)) is None
    line = calendar_warning(NATIONAL, date(2027, 1, 4))
    assert line is not None and "\n" not in line
    assert "2027-01-04" in line and f"{min(official_years())}–{max(official_years())}" in line
    assert "[calendar]" in line


def test_policy_show_says_where_the_calendar_comes_from() -> None:
    out = CliRunner().invoke(main, ["policy", "show", "national-2025"])
    assert out.exit_code == 0
    assert "Working-day calendar" in out.output
    assert schedule_source() in out.output and "years covered" in out.output


def test_policy_show_names_changes_the_package_already_makes(tmp_path: Path) -> None:
    path = _policy_file(tmp_path, "extra_holidays = [2026-10-01]")
    out = CliRunner().invoke(main, ["policy", "show", str(path)])
    assert out.exit_code == 0 and "extra_holidays 2026-10-01" in out.output


# ---------------------------------------------------------------- counting


@settings(max_examples=200, deadline=None)
@given(
    st.dates(min_value=date(2024, 1, 1), max_value=date(2028, 12, 31)),
    st.integers(min_value=0, max_value=60),
)
def test_adding_working_days_counts_exactly_the_working_days(start: date, days: int) -> None:
    cal = working_calendar(NATIONAL)
    due = cal.add(start, days)
    between = [start + timedelta(days=i) for i in range(1, (due - start).days + 1)]
    assert sum(cal.is_working_day(d) for d in between) == days
    assert days == 0 or cal.is_working_day(due)
    assert due == working_day_after(NATIONAL, start, days)


def test_negative_or_non_integer_days_are_refused() -> None:
    with pytest.raises(InvalidInput, match="days"):
        WorkingCalendar().add(date(2026, 1, 5), -1)
    with pytest.raises(InvalidInput, match="days"):
        working_day_after(NATIONAL, date(2026, 1, 5), True)  # type: ignore[arg-type]


def test_the_package_is_loaded_only_when_working_days_are_counted() -> None:
    code = (
        "import sys\n"
        "from marketplace.policy import load_policy, policy_summary\n"
        "p = load_policy('national-2025')\n"
        "assert 'holidays' not in sys.modules, 'imported on load'\n"
        "from marketplace.policy import working_day_after\n"
        "from datetime import date\n"
        "working_day_after(p, date(2026, 1, 5), 3)\n"
        "assert 'holidays' in sys.modules\n"
        "print('ok')\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, cwd=REPO, check=False,
        env={"PYTHONPATH": str(REPO), "PATH": "/usr/bin:/bin"},
    )
    assert out.returncode == 0 and out.stdout.strip() == "ok", out.stderr
