"""Scenario files: shipped ones load (one per policy), errors name file, key, value and expectation."""

from __future__ import annotations

from pathlib import Path

import pytest

from marketplace.policy import list_policies
from marketplace.sim import ScenarioFileError, apply_overrides, list_scenarios, load_scenario

BASE = Path(__file__).resolve().parents[2] / "seed" / "scenarios" / "national-2025.toml"


def test_one_scenario_per_shipped_policy() -> None:
    names = list_scenarios()
    policies = {load_scenario(n).policy.name for n in names}
    assert set(list_policies()) <= policies
    for n in names:
        sc = load_scenario(n)
        assert sc.policy_obj.name == sc.policy.name
        assert sc.horizon.days >= 1 and sc.demand.arrivals


def test_overrides_are_validated_and_policy_keys_stay_exact() -> None:
    sc = load_scenario(
        "national-2025", {"review.capacity.holder": "80", "policy.overrides.pricing.caps.per_call": "0.40"}
    )
    assert sc.review.capacity["holder"] == 80
    assert str(sc.policy_obj.pricing.caps.per_call) == "0.40"
    again = apply_overrides(sc, {"horizon.days": 30})
    assert again.horizon.days == 30 and again.review.capacity["holder"] == 80


def test_every_problem_is_reported_with_file_key_value_and_expectation(tmp_path: Path) -> None:
    bad = tmp_path / "bad.toml"
    bad.write_text(
        'extends = "national-2025"\nname = "bad"\n[horizon]\ndays = 0\n[review]\ncapacty = 3\n'
        '[policy]\nname = "national-2025"\noverrides = {"pricing.caps.per_call" = "-1"}\n'
    )
    with pytest.raises(ScenarioFileError) as exc:
        load_scenario(bad)
    keys = {p.key for p in exc.value.problems}
    assert {"horizon.days", "review.capacty", "policy.overrides.pricing.caps.per_call"} <= keys
    lines = str(exc.value).splitlines()
    assert len(lines) == len(exc.value.problems)
    assert all(line.startswith(str(bad)) for line in lines)
    days = next(p for p in exc.value.problems if p.key == "horizon.days")
    assert days.value == 0 and "greater than or equal to 1" in days.expected


def test_unknown_names_in_demand_tables(tmp_path: Path) -> None:
    bad = tmp_path / "bad2.toml"
    bad.write_text(
        'extends = "national-2025"\nname = "bad2"\n[demand.arrivals]\nenterprise_huge = 3.0\n'
        "[demand.channels]\ndefault = { teleport = 1.0 }\n"
    )
    with pytest.raises(ScenarioFileError) as exc:
        load_scenario(bad)
    keys = {p.key for p in exc.value.problems}
    assert "demand.arrivals.enterprise_huge" in keys
    assert "demand.channels.default.teleport" in keys


def test_missing_file_and_syntax(tmp_path: Path) -> None:
    with pytest.raises(ScenarioFileError, match="national-2025"):
        load_scenario("no-such-scenario")
    broken = tmp_path / "broken.toml"
    broken.write_text("name = \n")
    with pytest.raises(ScenarioFileError, match="valid TOML"):
        load_scenario(broken)
