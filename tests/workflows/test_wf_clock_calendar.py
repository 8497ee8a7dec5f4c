"""The sandbox clock warns, in one line, when its date leaves the years with an official holiday schedule."""

from __future__ import annotations

import json
import warnings
from datetime import date

from click.testing import CliRunner
from sqlmodel import SQLModel

from marketplace import db
from marketplace import workflows as wf
from marketplace.cli import main
from marketplace.policy import official_years
from marketplace.vocabulary import Role

LAST = max(official_years())


def test_advancing_past_the_covered_years_warns_once_in_the_report(world) -> None:
    with world.step() as s:
        trainer = world.role(s, Role.trainer)
        wf.set_clock(s, trainer, start=date(LAST, 12, 20))
        inside = wf.advance_clock(s, trainer, 5)
        assert inside.warnings == []
        outside = wf.advance_clock(s, trainer, 20)
    (line,) = outside.warnings
    assert f"{LAST + 1}-01-14" in line and "[calendar]" in line
    assert sum("warning:" in x for x in outside.lines()) == 1


def test_setting_the_clock_outside_the_covered_years_warns(world) -> None:
    with world.step() as s:
        trainer = world.role(s, Role.trainer)
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            wf.set_clock(s, trainer, start=date(LAST, 6, 1))
            assert not [w for w in caught if issubclass(w.category, wf.clock.CalendarCoverageWarning)]
            wf.set_clock(s, trainer, start=date(LAST + 1, 6, 1))
        (warned,) = [w for w in caught if issubclass(w.category, wf.clock.CalendarCoverageWarning)]
        assert f"{LAST + 1}-06-01" in str(warned.message)


def test_clock_cli_warns_outside_the_covered_years(tmp_path, monkeypatch) -> None:
    from marketplace.synth import seed_sandbox

    url = f"sqlite:///{tmp_path / 'sb.db'}"
    monkeypatch.setenv("MARKETPLACE_DB_URL", url)
    db.dispose_engines()
    engine = db.get_engine(url)
    SQLModel.metadata.create_all(engine)
    seed_sandbox(engine, 7, "small")
    with db.session_scope(engine) as s:
        wf.set_clock(s, wf.accounts_with_role(s, Role.trainer)[0], start=date(LAST, 12, 28))
    runner = CliRunner()
    shown = runner.invoke(main, ["clock", "show"])
    assert shown.exit_code == 0 and "warning" not in shown.output
    moved = runner.invoke(main, ["clock", "advance", "--days", "7"])
    assert moved.exit_code == 0
    warned = [x for x in moved.output.splitlines() if "warning:" in x]
    assert len(warned) == 1 and f"{LAST + 1}-01-04" in warned[0]
    shown = runner.invoke(main, ["clock", "show"])
    assert [x for x in shown.output.splitlines() if x.startswith("warning: ")]
    as_json = json.loads(runner.invoke(main, ["clock", "show", "--json"]).output)
    assert f"{LAST + 1}-01-04" in as_json["calendar_warning"]
    db.dispose_engines()
