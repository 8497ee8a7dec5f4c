"""The simulator counts departments' sharing requests that cite a responsibility list apart: the holder cannot
reject them (only the compliance check can), and a scenario without lists draws everything else as before."""

from __future__ import annotations

from marketplace.sim import apply_overrides, load_scenario, run

SMALL = {
    "world.size": "small",
    "world.seed": 7,
    "horizon.days": 90,
    "demand.arrivals": {"department": 30.0, "institution": 2.0},
    "demand.channels": {"default": {"sharing": 1.0}},
    "review.reject_rate": {"compliance": 0.0, "holder": 0.4, "security": 0.0},
}


def _metrics(share: float) -> dict:
    over = dict(SMALL, **{"demand.list_share": share})
    return run(apply_overrides(load_scenario("national-2025"), over), 3).metrics


def test_list_based_sharing_is_counted_apart_and_never_rejected_by_the_holder():
    m = _metrics(0.5)
    assert m["filed.sharing_list"] > 0
    assert 0.3 < m["sharing_list_share"] < 0.6  # half of the departments' requests
    assert m["rejected.sharing_list"] == 0  # the only rejecting stage here is the holder's
    assert m["rejected.sharing"] > 0
    assert m["approved.sharing_list"] <= m["filed.sharing_list"]


def test_without_lists_nothing_is_list_based_and_the_rest_is_unchanged():
    none, some = _metrics(0.0), _metrics(0.5)
    assert none["filed.sharing_list"] == 0 and none["sharing_list_share"] == 0.0
    assert none["arrivals"] == some["arrivals"]  # the same draws: lists only change what the holder may do
    assert some["rejected.sharing"] < none["rejected.sharing"]


def test_the_baseline_scenario_says_what_share_of_sharing_cites_a_list():
    assert load_scenario("national-2025").demand.list_share == 0.3
