"""The simulator checked against queueing theory: one review stage as an M/M/c queue beside Erlang C.

A stage listed in `review.service_mean_days` is served by `capacity` reviewers in parallel with exponential
decision times (`marketplace.sim.model.ServerTeam`); with Poisson arrivals that is the M/M/c queue, whose mean
wait in queue is known in closed form. `waiting_curve` runs the simulator over a range of loads (20 seeds
each) and returns the simulated mean wait with its 95 % interval beside the analytic value, for the tests,
docs/simulator-validation.md and notebook 05.

The formula is written out here rather than taken from a library: neither scipy nor any other package of the
lock has Erlang C, and the recursion below is a few lines.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable
from typing import Any

import pandas as pd

from marketplace.i18n import t
from marketplace.policy import Target
from marketplace.sim.runner import run, summarize
from marketplace.sim.scenario import Scenario, apply_overrides, load_scenario
from marketplace.sim.world import OrgRow, SimWorld, TargetRow
from marketplace.vocabulary import Channel, Grade, OpeningAttribute, OrganizationKind, SharingAttribute

__all__ = [
    "erlang_c",
    "mmc_mean_wait",
    "mmc_scenario",
    "mmc_world",
    "waiting_curve",
    "waiting_curve_figure",
]

#: A Monday with no public holiday in the weeks after it (due dates do not matter to the queue itself).
START = "2025-03-03"


def erlang_c(servers: int, offered_load: float) -> float:
    """Probability that an arrival has to wait in an M/M/c queue (Erlang's C formula).

    `offered_load` a = arrival rate x mean service time, in Erlangs. Computed through the Erlang B recursion
    B(0) = 1, B(k) = a B(k-1) / (k + a B(k-1)), then C = c B / (c - a (1 - B)), which stays finite for
    hundreds of servers where the textbook sum of a^k / k! overflows. Source: L. Kleinrock, Queueing Systems,
    Vol. 1: Theory (Wiley, 1975), section 3.5 (the M/M/m system, Erlang's C formula).
    """
    if isinstance(servers, bool) or not isinstance(servers, int) or servers < 1:
        raise ValueError(f"servers: {servers!r}; expected a whole number >= 1")
    if not math.isfinite(offered_load) or offered_load < 0:
        raise ValueError(f"offered_load: {offered_load!r}; expected a finite number >= 0")
    if offered_load >= servers:
        return 1.0  # no steady state: every arrival waits
    b = 1.0
    for k in range(1, servers + 1):
        b = offered_load * b / (k + offered_load * b)
    return servers * b / (servers - offered_load * (1.0 - b))


def mmc_mean_wait(arrival_rate: float, servers: int, mean_service: float) -> float:
    """Mean time in queue (before service starts) of M/M/c: Wq = C(c, a) / (c mu - lambda); inf if rho >= 1.

    Same source as `erlang_c`; time in the units of `mean_service` (days here).
    """
    if not mean_service > 0 or not math.isfinite(mean_service):
        raise ValueError(f"mean_service: {mean_service!r}; expected a finite number > 0")
    a = arrival_rate * mean_service
    if a >= servers:
        return math.inf
    return erlang_c(servers, a) / (servers / mean_service - arrival_rate)


def mmc_world() -> SimWorld:
    """One conditionally open resource (one holder review stage, free) and 20 research institutes."""
    target = Target(
        channel=Channel.opening,
        grade=Grade.general,
        sharing_attribute=SharingAttribute.conditional,
        opening_attribute=OpeningAttribute.conditional,
        holder_id=1,
        contains_personal_info=False,
    )
    orgs = [OrgRow(i + 1, f"ORG-{i + 1}", OrganizationKind.research) for i in range(20)]
    return SimWorld(orgs=orgs, targets=[TargetRow(target, "T-1", "health", resource_id=1)], label="mmc")


def mmc_scenario(arrival_rate: float, servers: int, mean_service_days: float, days: int = 365) -> Scenario:
    """national-2025 reduced to one M/M/c stage: Poisson(`arrival_rate`) research requests a day for the
    resource of `mmc_world`, each filed (no price, no waiting cost), each reviewed by the holder only, by
    `servers` reviewers with exponential decision times of mean `mean_service_days`, never rejected."""
    return apply_overrides(
        load_scenario("national-2025"),
        {
            "horizon.start": START,
            "horizon.days": days,
            "demand.arrivals": {"research": float(arrival_rate)},
            "demand.purposes": {"default": {"research": 1.0}},
            "demand.channels": {"default": {"opening": 1.0}},
            "demand.waiting_cost_per_day": {"default": 0.0},
            "review.capacity": {"compliance": 1000, "holder": servers, "security": 1000},
            "review.reject_rate": {},
            "review.service_mean_days": {"holder": float(mean_service_days)},
        },
    )


def waiting_curve(
    loads: Iterable[float],
    servers: int = 3,
    mean_service_days: float = 0.2,
    seeds: int = 20,
    days: int = 365,
    first_seed: int = 1,
    progress: Callable[[int], Any] | None = None,
) -> pd.DataFrame:
    """Simulated mean wait in the holder's queue (mean and 95 % t-interval over `seeds` runs) beside Erlang C,
    one row per utilisation rho = lambda x mean / servers in `loads` (each below 1); `progress(1)` per run."""
    world = mmc_world()
    rows: list[dict[str, Any]] = []
    for rho in loads:
        if not 0 < rho < 1:
            raise ValueError(f"load: {rho!r}; expected a utilisation between 0 and 1 (exclusive)")
        rate = rho * servers / mean_service_days
        sc = mmc_scenario(rate, servers, mean_service_days, days)
        waits = []
        for s in range(first_seed, first_seed + seeds):
            waits.append(run(sc, s, world=world).metrics["review_wait_days_mean.holder"])
            if progress is not None:
                progress(1)
        mean, low, high = summarize(waits)
        rows.append(
            {
                "load": float(rho),
                "arrivals_per_day": rate,
                "analytic": mmc_mean_wait(rate, servers, mean_service_days),
                "simulated": mean,
                "low": low,
                "high": high,
            }
        )
    out = pd.DataFrame(rows)
    out.attrs.update(servers=servers, mean_service_days=mean_service_days, seeds=seeds, days=days)
    return out


def waiting_curve_figure(curve: pd.DataFrame, lang: str | None = None) -> Any:
    """The analytic Erlang C curve (a fine line) and the simulated means with their 95 % intervals."""
    from marketplace.charts import figure, no_data

    title = t("figure.theory.title", lang)
    fig = figure(figsize=(5.2, 3.6))
    if curve.empty:
        return no_data(fig, title, lang)
    ax = fig.subplots()
    servers = int(curve.attrs.get("servers", 3))
    mean = float(curve.attrs.get("mean_service_days", 0.2))
    lo, hi = float(curve["load"].min()), float(curve["load"].max())
    grid = [lo + (hi - lo) * i / 200 for i in range(201)]
    ax.plot(
        grid,
        [mmc_mean_wait(r * servers / mean, servers, mean) for r in grid],
        color="#1565c0",
        label=t("figure.theory.analytic", lang, servers=servers),
    )
    sim = curve["simulated"].to_numpy(float)
    err = [sim - curve["low"].to_numpy(float), curve["high"].to_numpy(float) - sim]
    ax.errorbar(
        curve["load"],
        sim,
        yerr=err,
        fmt="o",
        color="#ef6c00",
        capsize=3,
        label=t("figure.theory.simulated", lang, seeds=int(curve.attrs.get("seeds", 0))),
    )
    ax.set_title(title)
    ax.set_xlabel(t("figure.theory.xlabel", lang))
    ax.set_ylabel(t("figure.theory.ylabel", lang))
    ax.grid(alpha=0.3)
    ax.legend(fontsize=7)
    return fig
