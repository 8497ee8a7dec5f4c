"""A national run (issue 21, points 3 and 6): one simulated year of the national world on 1 and 2 workers.

Run: .venv/bin/python benchmarks/bench_sim_national.py [--days 365] [--regions N] [--workers 1,2] [--repeat 3]
Prints, for national-2025 on the national world (every region, or the first N):
- wall time of the run with each number of worker processes (each in a fresh process; the workers' start
  and the worlds they build included; how they started: `worker_start_method`), and the ratio 1 worker /
  2 workers in each of `--repeat` paired rounds, and their median (target >= 1.6 on 2 cores; <= 60 s with 2);
- peak memory (max RSS) of the largest worker process (target <= 2 GB);
- arrivals per second per worker, and one region's year in the model next to a bare Python loop over the
  same arrivals (the same draws, filings, reviews and metrics, without Mesa's step, AgentSet.do and
  DataCollector; target <= 1.5 x);
- that every worker count gave the same metrics bytes.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from marketplace.sim import load_scenario  # noqa: E402
from marketplace.sim.regions import (  # noqa: E402
    RegionTask,
    region_count,
    regional_world,
    run_national,
    worker_start_method,
)


def scenario(regions: int | None) -> object:
    over = {"world.size": "national"}
    if regions:
        over["regions.count"] = regions
    return load_scenario("national-2025", over)


def _child(days: int, regions: int | None, workers: int) -> None:
    """In a fresh process: one national run on `workers` worker processes."""
    sc = scenario(regions)
    started_by = worker_start_method()
    t0 = time.perf_counter()
    res = run_national(sc, 1, days, workers=workers, executor="processes")
    wall = time.perf_counter() - t0
    doc = {
        "workers": workers,
        "wall": wall,
        "arrivals": res.metrics["arrivals"],
        "worker_rss": max(u["peak_rss"] for u in res.workers),
        "worker_cpu": [round(u["cpu_seconds"], 2) for u in res.workers],
        "coordinator_cpu": sum(resource.getrusage(resource.RUSAGE_SELF)[:2]),
        "digest": hashlib.sha256(res.metrics_json().encode()).hexdigest(),
        "regions": res.regions,
        "sent": res.metrics["cross_region_sent"],
        "start": started_by,
    }
    print(json.dumps(doc))


def _measure(days: int, regions: int | None, workers: int) -> dict:
    argv = [sys.executable, __file__, "--child", str(workers), "--days", str(days)]
    if regions:
        argv += ["--regions", str(regions)]
    out = subprocess.run(argv, capture_output=True, text=True, check=True).stdout
    return json.loads(out.strip().splitlines()[-1])


def region_vs_bare(days: int) -> tuple[int, float, float]:
    """One region's year: in the model (Mesa step) and in a bare Python loop over the same arrivals."""
    sc = scenario(2)
    world = regional_world(sc).build(0)
    count = region_count(sc)

    def model_year() -> tuple[int, float]:
        task = RegionTask(sc, 0, 1, days, count, world)
        t0 = time.perf_counter()
        task.advance(0, days)
        task.tally.result(task.model)
        return task.model.n, time.perf_counter() - t0

    def bare_year() -> float:
        task = RegionTask(sc, 0, 1, days, count, world)
        m = task.model
        groups, teams = list(m.groups), m.teams_list
        rows = []
        t0 = time.perf_counter()
        for _ in range(days):
            m.begin_day()
            for g in groups:
                g.step()
            for t in teams:
                t.admit()
            for t in teams:
                t.step()
            for t in teams:
                t.expire()
            rows.append((m.day, *(t.queue.size for t in teams), m.filed_today, m.decided_today))
            m.day += 1
        m.finish()
        task.tally.result(m)
        return time.perf_counter() - t0

    model_year()  # warm the policy memo
    n, mt = min((model_year() for _ in range(2)), key=lambda x: x[1])
    bt = min(bare_year() for _ in range(2))
    return n, mt, bt


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--days", type=int, default=365)
    ap.add_argument("--regions", type=int, default=None)
    ap.add_argument("--workers", default="1,2")
    ap.add_argument("--repeat", type=int, default=3, help="paired rounds (this machine's speed drifts)")
    ap.add_argument("--child", type=int, default=None)
    args = ap.parse_args()
    if args.child is not None:
        _child(args.days, args.regions, args.child)
        return
    counts = [int(w) for w in args.workers.split(",")]
    rounds = [[_measure(args.days, args.regions, w) for w in counts] for _ in range(args.repeat)]
    for runs in rounds:
        for r in runs:
            per = r["arrivals"] / r["wall"] / r["workers"]
            print(
                f"{r['regions']} regions, {args.days} days, {r['workers']} worker(s): {r['wall']:.1f} s "
                f"wall, {r['arrivals']:,} arrivals ({r['sent']:,} across regions), {per:,.0f} arrivals/s "
                "per worker, "
                f"largest worker peak RSS {r['worker_rss'] / 2**20:,.0f} MB (target <= 2048 MB); CPU s per "
                f"worker {r['worker_cpu']}, coordinator {r['coordinator_cpu']:.1f}; workers started by "
                f"{r['start']}"
            )
    if 1 in counts and 2 in counts:
        pairs = [{r["workers"]: r for r in runs} for runs in rounds]
        ratios = [p[1]["wall"] / p[2]["wall"] for p in pairs]
        busiest = [p[1]["worker_cpu"][0] / max(p[2]["worker_cpu"]) for p in pairs]
        shown = ", ".join(f"{x:.2f}" for x in ratios)
        print(
            f"speed-up 2 workers vs 1: median {statistics.median(ratios):.2f} x of {len(ratios)} paired "
            f"rounds ({shown}) (target >= 1.6; cores {os.cpu_count()})"
        )
        print(
            "  by CPU time (the busiest worker's, free of waiting on other load): median "
            f"{statistics.median(busiest):.2f} x"
        )
    digests = {r["digest"] for runs in rounds for r in runs}
    print("same metrics bytes on every worker count and round:", len(digests) == 1)
    n, mt, bt = region_vs_bare(args.days)
    print(
        f"one region, {args.days} days: {n:,} arrivals, model {mt:.2f} s ({n / mt:,.0f}/s), "
        f"bare loop {bt:.2f} s -> model / bare {mt / bt:.2f} x (target <= 1.5)"
    )


if __name__ == "__main__":
    main()
