"""Policy scenarios: simulate months of demand under a policy, compare policies, sweep parameters.

    from marketplace.sim import run, compare, sweep, load_scenario
    r = run("national-2025", seed=1)         # metrics (dict) + event tables (DataFrames)
    compare("national-2025", "sme-discount", seeds=10)
    sweep("national-2025", {"review.capacity.holder": [60, 90, 120]}, seeds=5)
    run_national(load_scenario("national-2025", {"world.size": "national"}), 1, workers=2,
                 executor="processes", progress=True)   # every region; same bytes on any executor

Decisions, stages, due dates, conditions, quotes and revenue splits all come from `marketplace.policy`.
"""

from marketplace.sim.regions import NationalResult, run_national
from marketplace.sim.runner import (
    SMALL_FIRM_METRICS,
    SMALL_FIRMS,
    RunResult,
    compare,
    run,
    summarize,
    sweep,
    sweep_summary,
)
from marketplace.sim.scenario import (
    REQUESTER_CLASSES,
    Scenario,
    ScenarioFileError,
    ScenarioProblem,
    apply_overrides,
    list_scenarios,
    load_scenario,
    scenario_dir,
)

__all__ = [
    "REQUESTER_CLASSES",
    "SMALL_FIRMS",
    "SMALL_FIRM_METRICS",
    "NationalResult",
    "RunResult",
    "Scenario",
    "ScenarioFileError",
    "ScenarioProblem",
    "apply_overrides",
    "compare",
    "list_scenarios",
    "load_scenario",
    "run",
    "run_national",
    "scenario_dir",
    "summarize",
    "sweep",
    "sweep_summary",
]
