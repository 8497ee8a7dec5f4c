"""One national run over many regions, on any executor (in process, a process pool, Dask).

A national scenario (`world.size = "national"`) runs one `MarketModel` per provincial region. Each region's
random numbers come from its own seed, derived from (run seed, region) only, so how regions are grouped onto
workers never changes a draw. A requester in region A who asks for region B's data is a *cross-region
request* (`regions.cross_share` of the demand, destinations by `regions.destination_weights`): region A sends
the draw of the request (class, purpose, value, volume and the uniforms that pick a target), never a target
of B's, and B resolves it against its own catalog and prices. Requests are exchanged every
`regions.exchange_days` simulated days: those filed for other regions in interval k enter their destination's
queues at the start of interval k+1, sorted by origin region, then by the origin's sequence number. Results
are therefore the same for any grouping, executor and number of workers, and the metrics merge in region
order (`Tally.add`), byte-identical.

A group of regions (`RegionGroup`) lives where it runs: in this process, in a long-lived worker process driven
interval by interval over a pipe (the world and the queues never travel), or as a Dask actor. Groups write
per-region checkpoints at exchange boundaries (`marketplace.sim.checkpoint`), so an interrupted run resumes
where it stopped and gives the same bytes as an uninterrupted one.
"""

from __future__ import annotations

import dataclasses
import math
import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import numpy as np

from marketplace.errors import InvalidInput
from marketplace.sim.metrics import Tally, metrics_document
from marketplace.sim.model import MarketModel, Statics
from marketplace.sim.scenario import REQUESTER_CLASSES, Scenario
from marketplace.sim.world import SimWorld, TargetRow, national_region_count, region_sim_world, sim_world

__all__ = [
    "EXECUTORS",
    "NationalResult",
    "RegionGroup",
    "RegionalWorld",
    "derived_seed",
    "group_regions",
    "national_region_count",
    "region_count",
    "run_national",
    "standin_region_world",
]

#: where a national run's region groups run
EXECUTORS = ("inline", "processes", "dask")
#: the stream (after the region seed) a region draws its outgoing requests and their destinations from
BORDER_STREAM = 20
#: ids of region r's organizations, resources and products are r x ID_STRIDE + the id in its own world
ID_STRIDE = 10_000_000
#: simulated days between checkpoints by default (rounded to whole exchange intervals)
CHECKPOINT_DAYS = 28
#: sequence numbers of requests that came from other regions start here (clear of the local ones)
INBOUND_GID = 1 << 40
#: the draws a cross-region request carries (everything its destination needs to resolve and decide it)
DRAW_FIELDS = (
    "arr_day", "arr_cls", "u", "z", "u_claim", "u_list", "wanted", "u_reject", "u_enter", "service",
)  # fmt: skip
#: the columns of a batch of cross-region requests: the draws, the requester (origin x ID_STRIDE + its
#: organization in the origin's world, -1 for none), then origin, sequence and destination
MESSAGE_FIELDS = (*DRAW_FIELDS, "requester", "origin", "seq", "dest")


def derived_seed(seed: int, region: int) -> int:
    """The seed of `region` in a run of `seed`: from those two numbers only (never from the grouping)."""
    return int(np.random.SeedSequence([int(seed), int(region)]).generate_state(1)[0])


# ---------------------------------------------------------------- worlds


def standin_region_world(seed: int, region: int, locale: str, size: str = "province") -> SimWorld:
    """A stand-in for region `region` (`regions.region_size` "small" or "province", e.g. for tests that want
    a country of known small worlds): the `size` world of a seed derived from (world seed, region), its ids
    moved to region x ID_STRIDE + id so they are unique across the country, its organizations labelled
    with the region's name. The national world's own regions are `region_sim_world`."""
    base = sim_world(size, derived_seed(seed, region), locale)
    off = (region + 1) * ID_STRIDE
    name = f"region-{region + 1:02d}"

    def moved(x: int | None) -> int | None:
        return None if x is None else x + off

    orgs = [dataclasses.replace(o, id=o.id + off, code=f"{name}/{o.code}", region=name) for o in base.orgs]
    targets = [
        TargetRow(
            dataclasses.replace(t.target, holder_id=t.target.holder_id + off),
            f"{name}/{t.code}",
            t.domain,
            moved(t.resource_id),
            moved(t.product_id),
            moved(t.operator_id),
        )
        for t in base.targets
    ]
    return SimWorld(
        orgs=orgs,
        targets=targets,
        operator_costs={k + off: v for k, v in base.operator_costs.items()},
        operator_taxes={k + off: v for k, v in base.operator_taxes.items()},
        label=f"{base.label}/{name}",
    )


def region_count(scenario: Scenario) -> int:
    """Regions of a national scenario: `regions.count`, else every region of the national world."""
    return scenario.regions.count or national_region_count()


@dataclass(frozen=True)
class RegionalWorld:
    """The regions of a national run: how many, and how to build region i's world (in the process that
    runs it). `build` must be a module-level function so it travels to worker processes."""

    count: int
    build: Callable[[int], SimWorld]


def regional_world(scenario: Scenario) -> RegionalWorld:
    """The regions `scenario` runs on: the national world's (`region_sim_world`), or stand-ins of a size."""
    w = scenario.world
    size = scenario.regions.region_size

    def build(region: int) -> SimWorld:
        if size == "national":
            return region_sim_world(w.seed, region, w.locale)
        return standin_region_world(w.seed, region, w.locale, size)

    return RegionalWorld(region_count(scenario), build)


def destination_cdf(scenario: Scenario, count: int) -> np.ndarray:
    """(count, count) cumulative weights of where each region's cross-region requests go (never itself)."""
    w = np.ones(count) if not scenario.regions.destination_weights else np.zeros(count)
    given = np.asarray(scenario.regions.destination_weights[:count], dtype=float)
    w[: given.size] += given
    out = np.zeros((count, count))
    for r in range(count):
        row = w.copy()
        row[r] = 0.0
        if row.sum() <= 0:
            row = np.ones(count)
            row[r] = 0.0
        out[r] = np.cumsum(row) / row.sum() if row.sum() > 0 else 0.0
    return out


def check_national(scenario: Scenario) -> None:
    """Refuse, by name, a national scenario whose region settings do not fit together."""
    n = region_count(scenario)
    weights = scenario.regions.destination_weights
    if weights and len(weights) != n:
        raise InvalidInput(
            "regions.destination_weights", f"{len(weights)} weights", f"one weight per region ({n})"
        )


# ---------------------------------------------------------------- one region


class Border:
    """Where a region's requests for other regions' data leave it (an attribute of its `MarketModel`).

    Each block of arrivals draws, from the region's own stream, which requests ask for another region's
    data and which region; those leave the block (`MarketModel.keep_arrivals`) and wait in `outbox` until
    their interval ends."""

    def __init__(self, region: int, seed: int, share: float, cdf: np.ndarray) -> None:
        self.region = region
        self.share = share
        self.cdf = cdf
        self.rng = np.random.default_rng([seed, BORDER_STREAM])
        self.outbox: list[dict[str, np.ndarray]] = []
        self.seq = 0
        self.sent = 0

    def split(self, m: MarketModel, raw: dict[str, Any], d0: int, d1: int) -> dict[str, Any]:
        n = int(raw["gid"].size)
        u = self.rng.random((n, 2))
        leave = u[:, 0] < self.share if self.cdf.size > 1 else np.zeros(n, dtype=bool)
        k = int(leave.sum())
        if not k:
            return raw
        batch = {f: raw[f][leave] for f in DRAW_FIELDS}
        org = m.pick_orgs(batch["arr_cls"], batch["u"][:, 2], np.ones(k, dtype=bool))
        batch["requester"] = np.where(org >= 0, self.region * ID_STRIDE + org, -1)
        batch["origin"] = np.full(k, self.region, dtype=np.int64)
        batch["seq"] = self.seq + np.arange(k, dtype=np.int64)
        batch["dest"] = np.minimum(np.searchsorted(self.cdf, u[leave, 1], side="right"), self.cdf.size - 1)
        self.seq += k
        self.outbox.append(batch)
        return m.keep_arrivals(raw, ~leave, d0, d1)

    def take(self, end_day: int) -> dict[str, np.ndarray] | None:
        """The requests filed before `end_day` for other regions (the rest stay for later intervals)."""
        if not self.outbox:
            return None
        allb = concat(self.outbox)
        now = allb["arr_day"] < end_day
        rest = {f: v[~now] for f, v in allb.items()}
        self.outbox = [rest] if rest["seq"].size else []
        out = {f: v[now] for f, v in allb.items()}
        self.sent += int(now.sum())
        return out if out["seq"].size else None


def concat(batches: Sequence[dict[str, np.ndarray]]) -> dict[str, np.ndarray]:
    """Batches of requests as one (same columns)."""
    if len(batches) == 1:
        return batches[0]
    return {f: np.concatenate([b[f] for b in batches]) for f in batches[0]}


def class_counts(world: SimWorld) -> dict[str, int]:
    """Requester organizations per demand class."""
    counts = np.bincount(world.org_class[world.org_class >= 0], minlength=len(REQUESTER_CLASSES))
    return {c: int(n) for c, n in zip(REQUESTER_CLASSES, counts, strict=True)}


def regional_scenario(scenario: Scenario, world: SimWorld) -> Scenario:
    """`scenario` as one region runs it: each class's arrival rate scaled by the region's organizations of
    that class relative to the world the rates were written for (`regions.rates_for`, same seed and
    locale), and each review team's capacity by the region's whole demand relative to that world's
    (`Regions` says why). A class that world lacks keeps its rate."""
    w = scenario.world
    base = class_counts(sim_world(scenario.regions.rates_for, w.seed, w.locale))
    have = class_counts(world)
    rates = scenario.demand.arrivals
    scaled = {c: r * have.get(c, 0) / base[c] if base.get(c) else r for c, r in rates.items()}
    total = math.fsum(rates.values())
    factor = math.fsum(scaled.values()) / total if total else 1.0
    capacity = {s: max(1, round(v * factor)) if v else 0 for s, v in scenario.review.capacity.items()}
    return scenario.model_copy(
        update={
            "demand": scenario.demand.model_copy(update={"arrivals": scaled}),
            "review": scenario.review.model_copy(update={"capacity": capacity}),
        }
    )


class RegionTask:
    """One region's model, its metrics and its border."""

    def __init__(self, scenario: Scenario, region: int, seed: int, days: int, count: int, world: SimWorld):
        self.region = region
        self.statics = Statics.build(regional_scenario(scenario, world), world, days)
        self.tally = Tally(self.statics)
        rseed = derived_seed(seed, region)
        self.model = MarketModel(self.statics, rseed, [self.tally])
        self.model.border = Border(
            region, rseed, scenario.regions.cross_share, destination_cdf(scenario, count)[region]
        )
        self.received = 0
        self.in_transit = 0

    def deliver(self, start_day: int, batch: dict[str, np.ndarray] | None) -> None:
        """Requests from other regions, in canonical order, to enter at the start of `start_day`."""
        if batch is None or not batch["seq"].size:
            return
        n = int(batch["seq"].size)
        raw = {f: batch[f] for f in (*DRAW_FIELDS, "requester")}
        raw["gid"] = INBOUND_GID + self.received + np.arange(n, dtype=np.int64)
        self.received += n
        if start_day >= self.model.n_days:
            self.in_transit += n  # filed in the last interval: the horizon ends before they arrive
            return
        self.model.inbound[start_day] = raw

    def advance(self, start: int, end: int) -> dict[str, np.ndarray] | None:
        """Simulate days [start, end); the requests for other regions filed in them."""
        m = self.model
        for _ in range(start, end):
            m.step()
        if end >= m.n_days:
            m.finish()
        return m.border.take(end)

    def payload(self) -> dict[str, Any]:
        """What the merged metrics need of this region (plain data; the world stays here)."""
        m, st = self.model, self.statics
        return {
            "region": self.region,
            "tally": self.tally.state(),
            "teams": [(t.name, t.wait_sum, t.waited) for t in m.teams_list],
            "n": int(m.n),
            "n_days": int(m.n_days),
            "org_class": st.world.org_class,
            "operator_costs": dict(st.world.operator_costs),
            "operator_taxes": dict(st.world.operator_taxes),
            "sent": m.border.sent,
            "received": self.received,
            "in_transit": self.in_transit,
        }


# ---------------------------------------------------------------- a group of regions (one per worker)


class RegionGroup:
    """The regions one worker owns, driven one exchange interval at a time.

    Built where it runs (in this process, a worker process or a Dask actor); only the scenario as data,
    the region numbers and the requests crossing borders travel.
    """

    def __init__(
        self,
        scenario: Scenario,
        regions: Sequence[int],
        seed: int,
        days: int,
        checkpoint_dir: str | None = None,
        resume_interval: int | None = None,
        checkpoint_key: bytes | None = None,
    ) -> None:
        self.scenario = scenario
        self.checkpoint_key = checkpoint_key
        self.regions = [int(r) for r in regions]
        self.seed, self.days = int(seed), int(days)
        self.count = region_count(scenario)
        self.interval = scenario.regions.exchange_days
        self.world = regional_world(scenario)
        self.checkpoint_dir = checkpoint_dir
        self.tasks: dict[int, RegionTask] = {}
        for r in self.regions:
            if resume_interval is not None and checkpoint_dir is not None:
                self.tasks[r] = self._load(r, resume_interval)
            else:
                self.tasks[r] = RegionTask(scenario, r, self.seed, self.days, self.count, self.world.build(r))

    def step_interval(
        self, k: int, inbound: dict[int, dict[str, np.ndarray]], checkpoint: bool = False
    ) -> list[dict[str, np.ndarray]]:
        """Deliver interval k's inbound requests, checkpoint if asked (at the boundary, before simulating),
        then simulate interval k; the requests its regions filed for other regions."""
        start = k * self.interval
        end = min(start + self.interval, self.days)
        for r, t in self.tasks.items():
            t.deliver(start, inbound.get(r))
        if checkpoint and self.checkpoint_dir is not None:
            for r in self.regions:
                self._save(r, k)
        out = []
        for r in self.regions:
            b = self.tasks[r].advance(start, end)
            if b is not None:
                out.append(b)
        return out

    def finish_transit(self, inbound: dict[int, dict[str, np.ndarray]]) -> None:
        """Requests filed in the last interval: counted as in transit by their destination."""
        for r, t in self.tasks.items():
            t.deliver(self.days, inbound.get(r))

    def results(self) -> list[dict[str, Any]]:
        return [self.tasks[r].payload() for r in self.regions]

    def usage(self) -> dict[str, float]:
        """This worker's peak memory (max RSS, bytes) and CPU seconds so far (for benchmarks and planning)."""
        import resource

        ru = resource.getrusage(resource.RUSAGE_SELF)
        return {"peak_rss": float(ru.ru_maxrss * 1024), "cpu_seconds": ru.ru_utime + ru.ru_stime}

    def release(self) -> None:
        """Let go of the regions' models (Mesa's registry would keep them alive in a long-lived worker or
        notebook kernel: `MarketModel.release`)."""
        for t in self.tasks.values():
            t.model.release()
        self.tasks = {}

    # ------------------------------------------------------------ checkpoints

    def _binding(self, region: int) -> str:
        from marketplace.sim.checkpoint import run_binding

        return run_binding(self.scenario, self.seed, self.days, self.count, region)

    def _save(self, region: int, k: int) -> None:
        from marketplace.sim.checkpoint import save_region

        t = self.tasks[region]
        folder = Path(self.checkpoint_dir or ".")
        save_region(folder, region, k, self._binding(region), t, t.statics, self.checkpoint_key)

    def _load(self, region: int, k: int) -> RegionTask:
        from marketplace.sim.checkpoint import load_region

        world = self.world.build(region)
        statics = Statics.build(regional_scenario(self.scenario, world), world, self.days)
        folder = Path(self.checkpoint_dir or ".")
        task = load_region(folder, region, k, self._binding(region), statics, self.checkpoint_key)
        for key in task.model.quote_keys:  # the policy memo the live requests' quotes point into
            statics.quote_for(*key)
        return task


def group_regions(count: int, workers: int, loads: Sequence[float] | None = None) -> list[list[int]]:
    """Regions split into `workers` groups, none empty: contiguous and even in number, or with `loads` (work
    expected of each region) largest first onto the least loaded group, so the groups finish each exchange
    interval together (the metrics never depend on the grouping)."""
    workers = max(1, min(workers, count))
    if loads is None:
        return [[int(r) for r in g] for g in np.array_split(np.arange(count), workers)]
    groups: list[list[int]] = [[] for _ in range(workers)]
    total = [0.0] * workers
    for r in sorted(range(count), key=lambda r: (-loads[r], r)):
        g = min(range(workers), key=lambda g: (total[g], len(groups[g]), g))
        groups[g].append(r)
        total[g] += loads[r]
    return [sorted(g) for g in groups]


def region_loads(scenario: Scenario, count: int) -> list[float] | None:
    """Work expected of each region of the national world, from its plan alone (its requester
    organizations, which its demand follows: `regional_scenario`); None for equal stand-ins."""
    if scenario.regions.region_size != "national":
        return None
    from marketplace.synth.national import region_plan
    from marketplace.synth.spec import world_spec

    small = world_spec()["sizes"]["small"]  # every region's government has these departments and institutions
    fixed = small["departments_per_region"] + small["institutions_per_region"]
    return [float(p.requesters + fixed) for p in map(region_plan, range(count))]


# ---------------------------------------------------------------- drivers (where groups run)


class InlineDriver:
    """Groups in this process."""

    def __init__(self, make: Callable[[int], RegionGroup], n: int) -> None:
        self.groups = [make(i) for i in range(n)]

    def call_all(self, method: str, args: Sequence[tuple[Any, ...]]) -> list[Any]:
        return [getattr(g, method)(*a) for g, a in zip(self.groups, args, strict=True)]

    def close(self, abandon: bool = False) -> None:
        for g in self.groups:
            g.release()
        self.groups = []


def _serve(conn: Any, args: tuple[Any, ...], driver: int | None) -> None:
    """A worker process: build the group, then answer calls until told to stop; it ends with `driver` (the
    process that forked it; None: started by a fork server, which ends with the driver)."""
    from marketplace.sim.lifetime import watch_parent

    watch_parent(driver)
    try:
        group = RegionGroup(*args)
        conn.send(("ok", None))
    except BaseException as exc:
        conn.send(_failure(exc))
        return
    while True:
        msg = conn.recv()
        if msg is None:
            break
        method, a = msg
        try:
            conn.send(("ok", getattr(group, method)(*a)))
        except BaseException as exc:
            conn.send(_failure(exc))
    conn.close()


def _failure(exc: BaseException) -> tuple[str, Any]:
    """What a worker reports of an exception: bad input as itself (the driver raises it again, so the user
    sees one line), anything else as its message."""
    if isinstance(exc, InvalidInput):
        return ("invalid", (exc.field, exc.value, exc.expected, exc.key, exc.params))
    return ("error", f"{type(exc).__name__}: {exc}")


class RegionWorkerError(RuntimeError):
    """A worker process failed; its message says how."""


class LazyBar:
    """A progress bar opened at its first update, which comes after the worker processes started: tqdm
    starts a monitor thread with its first bar, and a thread makes `worker_start_method` choose the slower
    fork server."""

    def __init__(self, make: Callable[[], Any]) -> None:
        self.make = make
        self.bar: Any = None

    def update(self, n: int) -> None:
        if self.bar is None:
            self.bar = self.make()
        self.bar.update(n)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()

    def __enter__(self) -> LazyBar:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def worker_start_method() -> str:
    """How worker processes start: forked from this process when it runs no other thread (a terminal run or
    a script: the workers start in milliseconds with the simulator already imported); else from a fork
    server, a clean process that imports the simulator once (about 2 s) and forks the workers, since a fork
    of a process with threads (a notebook kernel, a Dask client) may copy a lock another thread held."""
    import sys
    import threading

    if sys.platform.startswith("linux") and threading.active_count() == 1:
        return "fork"
    return "forkserver"


class ProcessDriver:
    """One long-lived worker process per group, driven over a pipe (its regions never leave it)."""

    def __init__(self, group_args: Sequence[tuple[Any, ...]]) -> None:
        import multiprocessing

        ctx = multiprocessing.get_context(worker_start_method())
        if ctx.get_start_method() == "forkserver":
            ctx.set_forkserver_preload(["marketplace.sim.regions"])
        self.conns, self.procs = [], []
        for args in group_args:
            parent, child = ctx.Pipe()
            driver = os.getpid() if ctx.get_start_method() == "fork" else None
            p = ctx.Process(target=_serve, args=(child, args, driver), daemon=True)
            p.start()
            child.close()
            self.conns.append(parent)
            self.procs.append(p)
        self._gather()

    def _gather(self) -> list[Any]:
        out = []
        for c in self.conns:
            try:
                status, value = c.recv()
            except EOFError:
                raise RegionWorkerError("a region worker process ended unexpectedly") from None
            if status == "invalid":
                raise InvalidInput(*value)
            if status != "ok":
                raise RegionWorkerError(value)
            out.append(value)
        return out

    def call_all(self, method: str, args: Sequence[tuple[Any, ...]]) -> list[Any]:
        for c, a in zip(self.conns, args, strict=True):
            c.send((method, a))
        return self._gather()

    def close(self, abandon: bool = False) -> None:
        """Let the workers finish and exit; `abandon` (the run was interrupted): end them now."""
        for c in self.conns:
            try:
                if not abandon:
                    c.send(None)
                c.close()
            except (OSError, BrokenPipeError):
                pass
        for p in self.procs:
            if abandon:
                p.terminate()
            p.join(timeout=10)
            if p.is_alive():
                p.kill()
                p.join()


class DaskDriver:
    """One Dask actor per group, placed round-robin on the cluster's workers (state stays on the worker)."""

    def __init__(self, client: Any, group_args: Sequence[tuple[Any, ...]]) -> None:
        workers = sorted(client.scheduler_info()["workers"])
        futures = [
            client.submit(RegionGroup, *args, actor=True, workers=[workers[i % len(workers)]], pure=False)
            for i, args in enumerate(group_args)
        ]
        self.actors = [f.result() for f in futures]
        self.futures = futures

    def call_all(self, method: str, args: Sequence[tuple[Any, ...]]) -> list[Any]:
        pending = [getattr(a, method)(*x) for a, x in zip(self.actors, args, strict=True)]
        return [p.result() for p in pending]

    def close(self, abandon: bool = False) -> None:
        self.actors = []
        for f in self.futures:
            f.release()


# ---------------------------------------------------------------- the coordinator


@dataclass
class NationalResult:
    """Metrics of one national run, merged over its regions in region order."""

    scenario: str
    policy: str
    seed: int
    days: int
    regions: int
    metrics: dict[str, Any]
    money: dict[str, Decimal]
    workers: list[dict[str, float]] = field(repr=False, default_factory=list)
    """Per group of regions: the peak memory and CPU seconds of the process it ran in (not in the metrics)."""

    def metrics_json(self) -> str:
        """Canonical JSON (sorted keys, money as exact strings): the same bytes on every executor."""
        head = {
            "scenario": self.scenario,
            "policy": self.policy,
            "seed": self.seed,
            "days": self.days,
            "regions": self.regions,
        }
        return metrics_document(head, self.metrics, self.money)


def route_messages(batches: Sequence[dict[str, np.ndarray]], count: int) -> dict[int, dict[str, np.ndarray]]:
    """Cross-region requests per destination, sorted by origin region then the origin's sequence."""
    if not batches:
        return {}
    allb = concat(list(batches))
    out: dict[int, dict[str, np.ndarray]] = {}
    for d in np.unique(allb["dest"]).tolist():
        m = allb["dest"] == d
        part = {f: v[m] for f, v in allb.items()}
        order = np.lexsort((part["seq"], part["origin"]))
        out[int(d)] = {f: v[order] for f, v in part.items()}
    return out


def merged_tally(scenario: Scenario, payloads: Sequence[dict[str, Any]]) -> Tally:
    """Every region's tally in one (region order), over every region's organizations, each cross-region
    delivery credited to its requester in the origin region."""
    parts = sorted(payloads, key=lambda p: p["region"])
    if [p["region"] for p in parts] != list(range(len(parts))):
        raise ValueError("a national merge needs every region's results, once each")
    costs: dict[int, Decimal] = {}
    taxes: dict[int, Decimal] = {}
    for p in parts:
        costs.update(p["operator_costs"])
        taxes.update(p["operator_taxes"])
    org_class = np.concatenate([p["org_class"] for p in parts])
    world = SimpleNamespace(
        orgs=range(org_class.size),
        targets=[],
        operator_costs=costs,
        operator_taxes=taxes,
        org_class=org_class,
    )
    view = SimpleNamespace(days=parts[0]["n_days"], policy=scenario.policy_obj, world=world)
    total = Tally(view)  # type: ignore[arg-type]  # the merged view has what Tally reads
    for p in parts:
        total.add(p["tally"])
    total.credit_foreign(lambda ref: divmod(ref, ID_STRIDE))  # part r is region r
    return total


def merge(
    scenario: Scenario, payloads: Sequence[dict[str, Any]]
) -> tuple[dict[str, Any], dict[str, Decimal]]:
    """The national metrics: the per-region tallies summed in region order, then `Tally.result` once."""
    parts = sorted(payloads, key=lambda p: p["region"])
    n_days = parts[0]["n_days"]
    total = merged_tally(scenario, parts)
    teams = []
    for i, (name, _, _) in enumerate(parts[0]["teams"]):
        teams.append(
            SimpleNamespace(
                name=name,
                wait_sum=math.fsum(p["teams"][i][1] for p in parts),
                waited=sum(p["teams"][i][2] for p in parts),
            )
        )
    model = SimpleNamespace(n=sum(p["n"] for p in parts), n_days=n_days, teams_list=teams)
    metrics, money = total.result(model)  # type: ignore[arg-type]
    metrics["regions"] = len(parts)
    metrics["cross_region_sent"] = sum(p["sent"] for p in parts)
    metrics["cross_region_in_transit"] = sum(p["in_transit"] for p in parts)
    return metrics, money


def resume_point(scenario: Scenario, seed: int, days: int, checkpoint: str | os.PathLike[str]) -> int:
    """The exchange interval a run of `scenario` from `seed` over `days` resumes at from the checkpoints in
    folder `checkpoint` (0: none yet; the folder is made if missing). A folder holding another run's,
    another version's or a tampered checkpoint is refused (`InvalidInput`), so a command can check it before
    it starts anything."""
    from marketplace.sim.checkpoint import prepare_dir, resumable_interval, run_binding

    folder = Path(checkpoint)
    prepare_dir(folder)
    count = region_count(scenario)
    binding = {r: run_binding(scenario, int(seed), days, count, r) for r in range(count)}
    found = resumable_interval(folder, binding)
    return found or 0


def run_national(
    scenario: Scenario,
    seed: int,
    days: int | None = None,
    *,
    workers: int = 1,
    executor: str = "inline",
    client: Any = None,
    checkpoint: str | os.PathLike[str] | None = None,
    checkpoint_every: int | None = None,
    progress: Callable[[int], Any] | bool | None = None,
    stop_after: int | None = None,
) -> NationalResult:
    """Run national `scenario` from `seed` for `days` on `workers` groups of regions.

    `executor`: "inline" (this process), "processes" (one worker process per group), "dask" (an actor per
    group on `client`, a `distributed.Client`). `checkpoint`: a directory for per-region checkpoints, every
    `checkpoint_every` intervals (default: about every 28 simulated days; a province region's checkpoint is
    a few MB and takes tens of milliseconds, so weekly ones would cost a five-year run minutes); a run
    finding a complete set there for this scenario and seed resumes from it. `progress`: called with the
    simulated days done after each interval, or True for a bar of its own (`tqdm.auto`: a widget bar in a
    notebook, text in a terminal; with the Dask dashboard's link).
    `stop_after` (tests): stop after that many intervals, as an interrupted run would.
    """
    if progress is True:
        from tqdm.auto import tqdm

        if executor == "dask" and client is not None:
            from marketplace.i18n import t

            print(t("cli.sim.dashboard", link=client.dashboard_link or "-"))
        total = days or scenario.horizon.days
        with LazyBar(lambda: tqdm(total=total, unit="day", desc=scenario.name)) as bar:
            return run_national(
                scenario, seed, days, workers=workers, executor=executor, client=client,
                checkpoint=checkpoint, checkpoint_every=checkpoint_every, progress=bar.update,
                stop_after=stop_after,
            )  # fmt: skip
    if progress is False:
        progress = None
    if executor not in EXECUTORS:
        raise InvalidInput("executor", executor, "one of " + ", ".join(EXECUTORS))
    if isinstance(workers, bool) or not isinstance(workers, int) or workers < 1:
        raise InvalidInput("workers", workers, "a whole number of workers >= 1")
    check_national(scenario)
    n_days = days or scenario.horizon.days
    count = region_count(scenario)
    interval = scenario.regions.exchange_days
    n_int = -(-n_days // interval)
    every = checkpoint_every or max(1, CHECKPOINT_DAYS // interval)
    groups = group_regions(count, workers, region_loads(scenario, count))
    ck = str(checkpoint) if checkpoint is not None else None
    start_k = resume_point(scenario, seed, n_days, ck) if ck is not None else 0
    resume = start_k if start_k > 0 else None
    key = None
    if ck is not None:  # read here and handed to the groups: a worker's environment may be older than ours
        from marketplace.sim.checkpoint import checkpoint_key

        key = checkpoint_key()
    args = [(scenario, g, int(seed), n_days, ck, resume, key) for g in groups]
    if executor == "inline":
        driver: Any = InlineDriver(lambda i: RegionGroup(*args[i]), len(groups))
    elif executor == "processes":
        driver = ProcessDriver(args)
    else:
        if client is None:
            raise InvalidInput("client", None, "a distributed.Client for the dask executor")
        driver = DaskDriver(client, args)
    try:
        if progress is not None and start_k:
            progress(min(start_k * interval, n_days))
        inbound: dict[int, dict[str, np.ndarray]] = {}
        for k in range(start_k, n_int):
            if stop_after is not None and k >= stop_after:
                raise KeyboardInterrupt(f"stopped after {stop_after} intervals")
            save = ck is not None and k > start_k and k % every == 0
            calls = [(k, {r: inbound[r] for r in g if r in inbound}, save) for g in groups]
            outs = driver.call_all("step_interval", calls)
            inbound = route_messages([b for out in outs for b in out], count)
            if progress is not None:
                progress(min((k + 1) * interval, n_days) - k * interval)
        driver.call_all("finish_transit", [({r: inbound[r] for r in g if r in inbound},) for g in groups])
        payloads = [p for part in driver.call_all("results", [() for _ in groups]) for p in part]
        usage = driver.call_all("usage", [() for _ in groups])
        driver.call_all("release", [() for _ in groups])
    except BaseException:
        driver.close(abandon=True)  # interrupted or failed: the checkpoints stay, the workers end now
        raise
    driver.close()
    metrics, money = merge(scenario, payloads)
    policy = scenario.policy_obj.name
    return NationalResult(scenario.name, policy, int(seed), n_days, count, metrics, money, usage)
