"""Running scenarios: `run` one seed, `compare` two scenarios on common seeds, `sweep` parameters x seeds.

Sweeps go to any `concurrent.futures` executor: a local process pool by default, or a Dask distributed cluster
(`Client(address).get_executor()`). A task carries only the scenario (as data), its overrides and the seed;
each worker process builds (and caches) the world and the policy tables itself, and results come back as plain
dicts, so serial, process-pool and Dask runs give identical numbers.
The confidence intervals are Student t-intervals (scipy, which Mesa already depends on).
"""

from __future__ import annotations

import multiprocessing
import os
from collections.abc import Callable, Iterable, Mapping, Sequence
from concurrent.futures import Executor, ProcessPoolExecutor
from dataclasses import dataclass, field
from decimal import Decimal
from itertools import product
from typing import Any

import numpy as np
import pandas as pd

from marketplace.errors import InvalidInput
from marketplace.sim.events import REQUEST_COLUMNS, EventLog, MemoryEvents, ParquetEvents
from marketplace.sim.lifetime import watch_parent
from marketplace.sim.metrics import Tally, metrics_document
from marketplace.sim.model import (
    BLOCK_DAYS,
    CHANNELS,
    DECISIONS,
    PURPOSES,
    REVIEW_STATUS,
    STAGES,
    STATUS,
    MarketModel,
    Statics,
)
from marketplace.sim.scenario import REQUESTER_CLASSES, Scenario, apply_overrides, load_scenario
from marketplace.sim.world import SimWorld, sim_world

__all__ = ["RunResult", "compare", "run", "summarize", "sweep"]


# ---------------------------------------------------------------- one run


@dataclass
class RunResult:
    """Metrics of one run, its day-by-day table and its quotes; its event tables (pandas DataFrames;
    days count from the start date) when the run was asked to keep them (`run(..., events=True)`)."""

    scenario: str
    policy: str
    seed: int
    days: int
    metrics: dict[str, Any]
    money: dict[str, Decimal]
    statics: Statics = field(repr=False)
    daily: pd.DataFrame = field(repr=False)
    quote_keys: list[tuple[int, int, int, int]] = field(repr=False, default_factory=list)
    quote_filed: np.ndarray = field(repr=False, default_factory=lambda: np.zeros(0, dtype=np.int64))
    events: EventLog | None = field(repr=False, default=None)

    @property
    def metrics_df(self) -> pd.DataFrame:
        return pd.DataFrame({"value": pd.Series(self.metrics)}).rename_axis("metric")

    def metrics_json(self) -> str:
        """Canonical JSON (sorted keys, money as exact strings): byte-identical per scenario and seed."""
        head = {"scenario": self.scenario, "policy": self.policy, "seed": self.seed, "days": self.days}
        return metrics_document(head, self.metrics, self.money)

    def _events(self) -> EventLog:
        if self.events is None:
            raise InvalidInput(
                "events", "not kept", "a run that keeps its events: run(..., events=True) or a directory"
            )
        return self.events

    def _raw_requests(self) -> pd.DataFrame:
        chunks = list(self._events().request_chunks())
        if not chunks:
            return pd.DataFrame({c: np.zeros(0, dtype=np.int64) for c in REQUEST_COLUMNS})
        return pd.concat(chunks, ignore_index=True).sort_values("request", kind="stable")

    @property
    def requests(self) -> pd.DataFrame:
        """Every arrival: who, what, purpose, value, price and what became of it (status)."""
        r = self._raw_requests()
        org = r["org_index"].to_numpy()
        org_ids = self.statics.world.org_ids
        return pd.DataFrame(
            {
                "request": r["request"].to_numpy(),
                "day": r["day"].to_numpy(),
                "requester_class": pd.Categorical.from_codes(r["requester_class"], REQUESTER_CLASSES),
                "org": np.where(org >= 0, org_ids[np.maximum(org, 0)] if org_ids.size else -1, -1),
                "target": r["target"].to_numpy(),
                "channel": pd.Categorical.from_codes(r["channel"], [c.value for c in CHANNELS]),
                "purpose": pd.Categorical.from_codes(r["purpose"], [p.value for p in PURPOSES]),
                "volume": r["volume"].to_numpy(),
                "value": r["value"].to_numpy(),
                "price": r["price"].to_numpy(),
                "free": r["free"].to_numpy(),
                "status": pd.Categorical.from_codes(r["status"], STATUS),
                "filed_day": r["filed_day"].to_numpy(),
                "decided_day": r["decided_day"].to_numpy(),
                "breaches": r["breaches"].to_numpy(),
                "with_conditions": r["with_conditions"].to_numpy(),
                "release_k": r["release_k"].to_numpy(),
                "refusal": r["refusal"].to_numpy(dtype=object),
            }
        )

    @property
    def reviews(self) -> pd.DataFrame:
        """One row per decided review stage: opened and decided day, due day, decision, breach."""
        cols = [
            "request",
            "sequence",
            "stage",
            "opened_day",
            "decided_day",
            "due_day",
            "decision",
            "status",
            "breached",
        ]
        chunks = list(self._events().review_chunks())
        if not chunks:
            return pd.DataFrame({c: [] for c in cols})
        df = pd.concat(chunks, ignore_index=True)[cols]
        df["stage"] = pd.Categorical.from_codes(df["stage"], [s.value for s in STAGES])
        df["decision"] = pd.Categorical.from_codes(df["decision"], list(DECISIONS))
        df["status"] = pd.Categorical.from_codes(df["status"], list(REVIEW_STATUS))
        df["breached"] = df["breached"].astype(bool)
        return df.sort_values(["request", "sequence"], kind="stable").reset_index(drop=True)

    @property
    def quotes(self) -> pd.DataFrame:
        """The distinct quotes of the run with their split, and how many filed requests used each."""
        st = self.statics
        # numbered in the order of (target, purpose, class, volume; computation queries after volumes)
        order = sorted(
            range(len(self.quote_keys)),
            key=lambda i: (*self.quote_keys[i][:3], self.quote_keys[i][3] < 0, abs(self.quote_keys[i][3])),
        )
        used = self.quote_filed
        rows = []
        for rank, i in enumerate(order):
            key = self.quote_keys[i]
            hit = st.quote_for(*key)
            if isinstance(hit, str):
                continue
            q, sp = hit
            t, p, c, vol = key
            rows.append(
                {
                    "quote": rank,
                    "target": t,
                    "purpose": PURPOSES[p].value,
                    "requester_class": REQUESTER_CLASSES[c],
                    "volume": vol,
                    "total": q.total,
                    "operator": sp.operator,
                    "holder": sp.holder,
                    "taxes": sp.taxes,
                    "requests": int(used[i]) if i < used.size else 0,
                    "lines": st.quote_lines(key),
                }
            )
        return pd.DataFrame(rows)

    @property
    def deliveries(self) -> pd.DataFrame:
        """One row per delivered request: day, release kind and the k the policy required."""
        req = self.requests
        d = req[req["status"] == "delivered"]
        return pd.DataFrame(
            {
                "request": d["request"].to_numpy(),
                "day": d["decided_day"].to_numpy(),
                "kind": np.where(
                    self.statics.world.target_channel[np.maximum(d["target"].to_numpy(), 0)] == 2,
                    "aggregate",
                    "rows",
                ),
                "release_k": d["release_k"].to_numpy(),
                "prosecutor_risk": np.where(d["release_k"] > 0, 1.0 / np.maximum(d["release_k"], 1), 0.0),
            }
        )


_STATICS: dict[tuple[str, int, str], Statics] = {}


def _statics(scenario: Scenario, days: int | None, world: SimWorld | None) -> Statics:
    w = (
        world
        if world is not None
        else sim_world(scenario.world.size, scenario.world.seed, scenario.world.locale)
    )
    key = (scenario.model_dump_json(), days or scenario.horizon.days, f"{id(w)}")
    hit = _STATICS.get(key)
    if hit is None or hit.world is not w:
        if len(_STATICS) > 16:
            _STATICS.clear()
        hit = _STATICS[key] = Statics.build(scenario, w, days)
    return hit


def statics_for(scenario: Scenario, days: int | None = None, world: SimWorld | None = None) -> Statics:
    """The tables a run of `scenario` uses (built once per process and cached): its world, policy, horizon."""
    return _statics(scenario, days, world)


def _as_scenario(scenario: Scenario | str | os.PathLike[str]) -> Scenario:
    return scenario if isinstance(scenario, Scenario) else load_scenario(scenario)


def run(
    scenario: Scenario | str | os.PathLike[str],
    seed: int | None = None,
    days: int | None = None,
    *,
    world: SimWorld | None = None,
    progress: Callable[[int], Any] | None = None,
    events: bool | str | os.PathLike[str] | EventLog = False,
    block_days: int = BLOCK_DAYS,
) -> RunResult:
    """Run `scenario` (a Scenario, a name or a path) for `days` (default: its horizon) from `seed`.

    `events`: False (metrics only; memory bounded by the open requests), True (event tables kept in memory:
    `requests`, `reviews`, `deliveries`), a directory (written there as Parquet in chunks) or an `EventLog`.
    A national scenario (`world.size = "national"`) runs all its regions here and returns a
    `NationalResult` (metrics and money, as compare and sweep read them); `run_national` picks executors.
    """
    sc = _as_scenario(scenario)
    if seed is None:
        seed = sc.seeds.default
    if isinstance(seed, bool) or not isinstance(seed, int | np.integer) or seed < 0:
        raise InvalidInput("seed", seed, "a non-negative integer")
    if days is not None and (isinstance(days, bool) or not isinstance(days, int) or not 1 <= days <= 3660):
        raise InvalidInput("days", days, "a whole number of days from 1 to 3660")
    if sc.world.size == "national":  # one run over every region, in this process (see run_national)
        if world is not None or events is not False:
            raise InvalidInput(
                "events" if world is None else "world",
                events if world is None else world.label,
                "none for a national scenario (its regions build their own worlds; metrics only)",
            )
        from marketplace.sim.regions import run_national

        return run_national(sc, int(seed), days, progress=progress)  # type: ignore[return-value]
    if isinstance(events, EventLog):
        log: EventLog | None = events
    elif events is True:
        log = MemoryEvents()
    elif events is False or events is None:
        log = None
    else:
        log = ParquetEvents(events)
    statics = _statics(sc, days, world)
    tally = Tally(statics)
    model = MarketModel(statics, int(seed), [tally] if log is None else [tally, log], block_days=block_days)
    try:
        model.run(progress)
        if log is not None:
            log.close()
        metrics, money = tally.result(model)
        daily = model.datacollector.get_model_vars_dataframe()
        quote_keys = list(model.quote_keys)
    finally:
        model.release()
    return RunResult(
        sc.name, statics.policy.name, int(seed), statics.days, metrics, money, statics, daily, quote_keys,
        tally.quote_filed, log,
    )


def _run_metrics(
    scenario_data: dict[str, Any], overrides: dict[str, Any], seed: int, days: int | None
) -> dict:
    """Worker task: rebuild the scenario from data, apply overrides, run, return the metrics (plain dict)."""
    sc = Scenario.model_validate(scenario_data)
    if overrides:
        sc = apply_overrides(sc, overrides)
    return run(sc, seed, days).metrics


# ---------------------------------------------------------------- statistics


def summarize(
    values: Sequence[float], confidence: float = 0.95, floor: float | None = None
) -> tuple[float, float, float]:
    """(mean, low, high) of a Student t-interval; a single value gives a zero-width interval. With `floor`
    the interval stops there (a count or a price cannot be negative, though with few seeds the symmetric
    interval of its mean reaches below zero)."""
    from scipy import stats

    x = np.asarray(values, dtype=float)
    mean = float(x.mean()) if x.size else float("nan")
    if x.size < 2 or np.ptp(x) == 0:
        return mean, mean, mean
    half = float(stats.t.ppf(0.5 + confidence / 2, x.size - 1) * x.std(ddof=1) / np.sqrt(x.size))
    low = mean - half if floor is None else max(floor, mean - half)
    return mean, low, mean + half


def _seed_list(sc: Scenario, seeds: int | Iterable[int] | None) -> list[int]:
    if seeds is None:
        seeds = sc.seeds.count
    if isinstance(seeds, int):
        if seeds < 1:
            raise InvalidInput("seeds", seeds, "a number of seeds >= 1")
        return list(range(sc.seeds.default, sc.seeds.default + seeds))
    return [int(s) for s in seeds]


def compare(
    a: Scenario | str,
    b: Scenario | str,
    seeds: int | Iterable[int] | None = None,
    *,
    days: int | None = None,
    metrics: Sequence[str] | None = None,
    progress: Callable[[int], Any] | None = None,
) -> pd.DataFrame:
    """Metrics of `a` and `b` on the same seeds (common random numbers): mean and 95 % CI of each,
    and of the paired difference b - a. One row per metric."""
    sa, sb = _as_scenario(a), _as_scenario(b)
    seed_list = _seed_list(sa, seeds)
    ra, rb = [], []
    for s in seed_list:
        ra.append(run(sa, s, days).metrics)
        rb.append(run(sb, s, days).metrics)
        if progress is not None:
            progress(1)
    da, db = pd.DataFrame(ra), pd.DataFrame(rb)
    names = list(metrics) if metrics else [c for c in da.columns if c in db.columns]
    rows = []
    for name in names:
        ma, la, ha = summarize(da[name])
        mb, lb, hb = summarize(db[name])
        md, ld, hd = summarize(db[name].to_numpy(float) - da[name].to_numpy(float))
        rows.append(
            {
                "metric": name,
                "a_mean": ma,
                "a_low": la,
                "a_high": ha,
                "b_mean": mb,
                "b_low": lb,
                "b_high": hb,
                "diff_mean": md,
                "diff_low": ld,
                "diff_high": hd,
            }
        )
    out = pd.DataFrame(rows).set_index("metric")
    out.attrs.update({"a": sa.name, "b": sb.name, "seeds": seed_list})
    return out


# ---------------------------------------------------------------- sweeps


def _own_pool(workers: int) -> ProcessPoolExecutor:
    """A process pool whose workers end with this process, even when it is killed outright (`lifetime`);
    a fork server's workers watch the fork server, which ends with this process."""
    ctx = multiprocessing.get_context()
    parent = None if ctx.get_start_method() == "forkserver" else os.getpid()
    return ProcessPoolExecutor(workers, mp_context=ctx, initializer=watch_parent, initargs=(parent,))


def sweep(
    scenario: Scenario | str,
    params: Mapping[str, Sequence[Any]],
    seeds: int | Iterable[int] | None = None,
    executor: Executor | None = None,
    *,
    days: int | None = None,
    max_workers: int | None = None,
    progress: Callable[[int], Any] | None = None,
) -> pd.DataFrame:
    """Run every combination of `params` values (dotted scenario keys) x seeds; one row per run.

    Every point is validated before anything runs. Without an executor a local process pool is used.
    """
    sc = _as_scenario(scenario)
    if not params:
        raise InvalidInput("params", dict(params), "at least one KEY with values")
    keys = list(params)
    points = [dict(zip(keys, combo, strict=True)) for combo in product(*(list(params[k]) for k in keys))]
    for pt in points:
        apply_overrides(sc, pt)  # raises ScenarioFileError naming the key and value
    seed_list = _seed_list(sc, seeds)
    data = sc.model_dump(mode="python")
    tasks = [(pt, s) for pt in points for s in seed_list]
    own = executor is None
    ex = executor or _own_pool(max_workers or os.cpu_count() or 1)
    try:
        futures = [ex.submit(_run_metrics, data, pt, s, days) for pt, s in tasks]
        results = []
        for f in futures:
            results.append(f.result())
            if progress is not None:
                progress(1)
    finally:
        if own:  # interrupted: the runs not started yet are dropped, not run first
            ex.shutdown(cancel_futures=True)
    rows = []
    for (pt, s), met in zip(tasks, results, strict=True):
        rows.append({**{k: str(v) for k, v in pt.items()}, "seed": s, **met})
    df = pd.DataFrame(rows)
    df.attrs.update({"scenario": sc.name, "params": keys})
    return df


#: what the README's research question asks about: small firms' access (micro and small enterprises)
SMALL_FIRMS = ("enterprise_micro", "enterprise_small")
SMALL_FIRM_METRICS = tuple(
    f"{what}.{cls}" for what in ("filed", "approved", "price_paid_mean") for cls in SMALL_FIRMS
)
#: metrics that count or price something, per requester class: their intervals stop at zero
NON_NEGATIVE = ("filed", "approved", "price_paid_mean")


def sweep_summary(
    df: pd.DataFrame,
    keys: Sequence[str],
    metrics: Sequence[str] = SMALL_FIRM_METRICS,
    confidence: float = 0.95,
) -> pd.DataFrame:
    """One row per sweep point (in sweep order): for each metric its mean over the seeds and the t-interval,
    as columns `<metric>`, `<metric>.low`, `<metric>.high` (plus `seeds`). The one summary of a sweep that
    the command line, the panel and their figures show."""
    missing = [m for m in metrics if m not in df.columns]
    if missing:
        raise InvalidInput("metrics", missing, "names of a run's metrics (see RunResult.metrics)")
    rows = []
    for point, group in df.groupby(list(keys), sort=False):
        values = point if isinstance(point, tuple) else (point,)
        row: dict[str, Any] = dict(zip(keys, values, strict=True))
        row["seeds"] = len(group)
        for m in metrics:
            floor = 0.0 if m.split(".")[0] in NON_NEGATIVE else None
            mean, low, high = summarize(group[m], confidence, floor)
            row[m], row[f"{m}.low"], row[f"{m}.high"] = mean, low, high
        rows.append(row)
    out = pd.DataFrame(rows).set_index(list(keys))
    out.attrs.update({"metrics": list(metrics), "confidence": confidence, **df.attrs})
    return out
