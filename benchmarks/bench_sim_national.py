"""A national run (issue 21, points 3 and 6): one simulated year of the national world on 1 and 2 workers.

Run: .venv/bin/python benchmarks/bench_sim_national.py [--days 365] [--regions N] [--workers 1,2]
Prints, for national-2025 on the national world (every region, or the first N):
- wall time of the run with each number of worker processes (each in a fresh process, worlds built by the
  workers, included), and the ratio 1 worker / 2 workers (target >= 1.6 on 2 cores; <= 60 s with 2);
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
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from marketplace.sim import load_scenario  # noqa: E402
from marketplace.sim.regions import RegionTask, region_count, regional_world, run_national  # noqa: E402


def scenario(regions: int | None) -> object:
    over = {"world.size": "national"}
    if regions:
        over["regions.count"] = regions
    return load_scenario("national-2025", over)


def _child(days: int, regions: int | None, workers: int) -> None:
    """In a fresh process: one national run on `workers` worker processes."""
    sc = scenario(regions)
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
    ap.add_argument("--child", type=int, default=None)
    args = ap.parse_args()
    if args.child is not None:
        _child(args.days, args.regions, args.child)
        return
    runs = [_measure(args.days, args.regions, int(w)) for w in args.workers.split(",")]
    for r in runs:
        per = r["arrivals"] / r["wall"] / r["workers"]
        print(
            f"{r['regions']} regions, {args.days} days, {r['workers']} worker(s): {r['wall']:.1f} s wall, "
            f"{r['arrivals']:,} arrivals ({r['sent']:,} across regions), {per:,.0f} arrivals/s per worker, "
            f"largest worker peak RSS {r['worker_rss'] / 2**20:,.0f} MB (target <= 2048 MB); CPU s per worker"
            f" {r['worker_cpu']}, coordinator {r['coordinator_cpu']:.1f}"
        )
    by = {r["workers"]: r for r in runs}
    if 1 in by and 2 in by:
        ratio = by[1]["wall"] / by[2]["wall"]
        print(f"speed-up 2 workers vs 1: {ratio:.2f} x (target >= 1.6; cores {os.cpu_count()})")
        busiest = by[1]["worker_cpu"][0] / max(by[2]["worker_cpu"])
        print(f"  by CPU time (the busiest worker's, free of other load on the machine): {busiest:.2f} x")
    print("same metrics bytes on every worker count:", len({r["digest"] for r in runs}) == 1)
    n, mt, bt = region_vs_bare(args.days)
    print(
        f"one region, {args.days} days: {n:,} arrivals, model {mt:.2f} s ({n / mt:,.0f}/s), "
        f"bare loop {bt:.2f} s -> model / bare {mt / bt:.2f} x (target <= 1.5)"
    )


if __name__ == "__main__":
    main()
