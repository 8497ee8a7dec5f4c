"""Computation products in the simulator: delivery mode as a scenario parameter, queries billed per query,
budget exhaustion, value realised after the utility error and a risk proxy, deterministic from the seed."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from marketplace.sim import apply_overrides, compare, load_scenario, run


def _sc(name: str, **overrides: object) -> object:
    return apply_overrides(load_scenario(name), {"horizon.days": 45, **overrides})


def test_rows_only_has_no_computation_and_usable_not_visible_does(patched_world: object) -> None:
    rows = run(_sc("rows-only"), 3).metrics
    comp = run(_sc("usable-not-visible"), 3).metrics
    assert rows["compute_grants"] == rows["compute_queries"] == 0
    assert comp["compute_grants"] > 0 and comp["compute_queries"] >= comp["compute_grants"]
    assert comp["compute_value_lost"] > 0
    # results of at least min_cell people carry less risk than rows at the policy's k
    assert comp["risk_proxy_mean"] < rows["risk_proxy_mean"]


def test_the_epsilon_budget_caps_queries_and_counts_exhausted_grants(patched_world: object) -> None:
    # 3.0 of ε at 1.0 a query answers 3 queries; a grant asking ~20 runs out of budget
    tight = run(_sc("usable-not-visible", **{"compute.epsilon_per_query": 1.0}), 3).metrics
    assert tight["compute_budget_exhausted"] > 0
    assert tight["compute_queries"] <= 3 * tight["compute_grants"]
    loose = run(_sc("usable-not-visible", **{"compute.epsilon_per_query": 0.001}), 3).metrics
    assert loose["compute_budget_exhausted"] == 0


def test_compute_runs_are_deterministic_and_money_balances(patched_world: object) -> None:
    sc = _sc("usable-not-visible")
    a, b = run(sc, 4), run(sc, 4)
    assert a.metrics_json() == b.metrics_json()
    m = a.metrics
    assert m["budget_balance_error"] == 0
    assert m["payments"] == pytest.approx(m["operator_revenue"] + m["holder_share"] + m["taxes"])


def test_compare_answers_the_cost_and_the_risk_of_computation(patched_world: object) -> None:
    table = compare(_sc("rows-only"), _sc("usable-not-visible"), seeds=2)
    names = set(table.index) if hasattr(table, "index") else set(table)
    for metric in ("compute_queries", "compute_value_lost.enterprise_micro", "risk_proxy_mean",
                   "price_paid_mean.enterprise_small"):
        assert metric in names


def test_a_bad_delivery_mode_is_refused_by_name() -> None:
    with pytest.raises((ValidationError, Exception)) as info:
        apply_overrides(load_scenario("national-2025"), {"compute.delivery": "sometimes"})
    assert "delivery" in str(info.value)
