"""The runs whose results `test_sim_golden.py` pins (computed once on the code before the bounded-memory
rework; regenerate only when a change of results is intended: `python -m tests.sim.golden_cases`)."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

from marketplace.sim import apply_overrides, load_scenario, run

GOLDEN = Path(__file__).resolve().parents[1] / "data" / "sim_golden"

FREE_USE = {
    "world.size": "small",
    "world.seed": 7,
    "horizon.days": 120,
    "demand.arrivals": {"enterprise_small": 8.0, "enterprise_large": 6.0, "research": 4.0, "nonprofit": 3.0},
    "demand.channels": {"default": {"authorized_operation": 1.0}},
    "demand.free_claims": {"false_share": 0.3, "detection": 0.5},
}

#: name -> (scenario, overrides, seed): a province baseline, a deemed-approval backlog, computation products,
#: conditional free use with false claims, and a thin-capacity escalation backlog
CASES: dict[str, tuple[str, dict[str, Any], int]] = {
    "national-120d-s1": ("national-2025", {"horizon.days": 120}, 1),
    "deemed-thin-90d-s4": (
        "deemed-approval",
        {"horizon.days": 90, "review.capacity": {"compliance": 5000, "holder": 15, "security": 5000}},
        4,
    ),
    "escalate-thin-90d-s4": (
        "national-2025",
        {"horizon.days": 90, "review.capacity": {"compliance": 5000, "holder": 15, "security": 5000}},
        4,
    ),
    "usable-not-visible-60d-s3": ("usable-not-visible", {"horizon.days": 60}, 3),
    "free-use-false-claims-s3": ("national-2025", FREE_USE, 3),
}


def outputs(name: str) -> dict[str, Any]:
    """What a run shows: its canonical metrics JSON and digests of its daily table and its quotes."""
    scenario, overrides, seed = CASES[name]
    res = run(apply_overrides(load_scenario(scenario), overrides), seed)
    quotes = res.quotes
    return {
        "metrics_json": res.metrics_json(),
        "daily_sha256": hashlib.sha256(res.daily.to_csv().encode()).hexdigest(),
        "quotes_sha256": hashlib.sha256(quotes.to_csv().encode()).hexdigest(),
    }


def main() -> None:
    GOLDEN.mkdir(parents=True, exist_ok=True)
    for name in CASES:
        (GOLDEN / f"{name}.json").write_text(json.dumps(outputs(name), indent=1) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
