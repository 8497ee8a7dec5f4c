"""Simulator speed: a province-size year in memory, --db against raw sqlite3, memory, and a sweep.

Run: .venv/bin/python benchmarks/bench_sim.py [--sweep-workers 2] [--no-sweep]
Targets (issue 6): year (>= 100,000 arrivals) <= 2 s on one core; --db added time <= 2x raw executemany of the
same rows; peak memory <= 1 GB; 8 values x 10 seeds sweep <= 120 s on 2 cores.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import sqlite3
import sys
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from marketplace import db  # noqa: E402
from marketplace.sim import load_scenario, run, sweep  # noqa: E402
from marketplace.sim.world import sim_world  # noqa: E402
from marketplace.synth import seed_sandbox  # noqa: E402


def _raw_baseline(path: str, rows: dict[str, list[dict]]) -> float:
    """Raw sqlite3.executemany of the same rows into the same schema (values pre-serialised)."""
    con = sqlite3.connect(path)
    t0 = time.perf_counter()
    for name, table in rows.items():
        if not table:
            continue
        cols = list(table[0])
        data = [
            tuple(
                json.dumps(v)
                if isinstance(v, list | dict)
                else (str(v) if v is not None and not isinstance(v, int | float | str) else v)
                for v in r.values()
            )
            for r in table
        ]
        con.executemany(
            f'INSERT INTO "{name}" ({", ".join(cols)}) VALUES ({", ".join("?" * len(cols))})', data
        )
    con.commit()
    dt = time.perf_counter() - t0
    con.close()
    return dt


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--sweep-workers", type=int, default=2)
    ap.add_argument("--no-sweep", action="store_true")
    args = ap.parse_args()
    sc = load_scenario("national-2025")
    w = sc.world
    t0 = time.perf_counter()
    world = sim_world(w.size, w.seed, w.locale)
    print(
        f"world {world.label}: {len(world.orgs)} organizations, {len(world.targets)} targets "
        f"(built and flattened in {time.perf_counter() - t0:.2f} s, once per process)"
    )

    t0 = time.perf_counter()
    r = run(sc, 1)
    cold = time.perf_counter() - t0
    t0 = time.perf_counter()
    r = run(sc, 2, events=True)  # the events are kept for --db below
    warm = time.perf_counter() - t0
    m = r.metrics
    print(f"year in memory: {m['arrivals']:,} arrivals, {m['filed']:,} filed, {m['reviews']:,} reviews")
    print(
        f"  first run (builds policy tables): {cold:.3f} s; next seed: {warm:.3f} s "
        f"-> {m['arrivals'] / warm:,.0f} arrivals/s, {m['filed'] / warm:,.0f} requests filed/s "
        f"(target <= 2 s: ratio {warm / 2:.2f})"
    )

    with tempfile.TemporaryDirectory() as d:
        from marketplace.sim.store import iter_rows, store_run

        eng = db.make_engine(f"sqlite:///{d}/sandbox.db")
        seed_sandbox(eng, w.seed, w.size, w.locale)
        t0 = time.perf_counter()
        counts = store_run(r, eng)
        stored = time.perf_counter() - t0
        rows: dict[str, list[dict]] = {}
        with eng.connect() as conn:
            for name, chunk in iter_rows(r, conn):
                rows.setdefault(name, []).extend(chunk)
        eng2 = db.make_engine(f"sqlite:///{d}/raw.db")
        seed_sandbox(eng2, w.seed, w.size, w.locale)
        eng2.dispose()
        raw = _raw_baseline(f"{d}/raw.db", rows)
        eng.dispose()
    total = sum(counts.values())
    print(
        f"--db: {total:,} rows ({counts}) stored in {stored:.3f} s; raw sqlite3.executemany of the same rows "
        f"{raw:.3f} s -> ratio {stored / raw:.2f} (target <= 2)"
    )
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"peak memory (max RSS): {peak:,.0f} MB (target <= 1024 MB)")

    if not args.no_sweep:
        values = [40, 55, 70, 85, 100, 115, 130, 145]
        t0 = time.perf_counter()
        with ProcessPoolExecutor(args.sweep_workers) as ex:
            df = sweep(sc, {"review.capacity.holder": values}, 10, ex)
        dt = time.perf_counter() - t0
        print(
            f"sweep 8 values x 10 seeds on {args.sweep_workers} processes: {len(df)} runs in {dt:.1f} s "
            f"({df['arrivals'].sum() / dt:,.0f} arrivals/s; target <= 120 s: ratio {dt / 120:.2f}); "
            f"cores available: {os.cpu_count()}"
        )


if __name__ == "__main__":
    main()
