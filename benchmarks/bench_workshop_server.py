"""Workshop load through the server: the same participant processes directly on the database, then through
`marketplace workshop serve`, in one run.

Run: `.venv/bin/python benchmarks/bench_workshop_server.py [--seconds 60] [--workers 50]
[--backend postgres|sqlite]`.
A throwaway PostgreSQL server is started with the test helper `tests/pgserver.py` (`--backend sqlite` uses
SQLite files instead). Each mode gets a fresh database seeded alike; the server runs in this
process (uvicorn in a thread, one event loop, the workflows in its thread pool) and the workers hold only its
URL. Prints for both modes the throughput, p50/p95 latency, refusals, unhandled errors and the checks of
`marketplace.workshop.load.verify_run` (nothing lost or doubled; the audit chain verifies with the key), and
the ratios server/direct. Target (issue 18): p95 <= 100 ms through the server with 50 participants on
PostgreSQL, 0 lost or doubled actions, 0 unhandled errors.
"""

from __future__ import annotations

import argparse
import math
import os
import resource
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "tests"))

from marketplace import db  # noqa: E402
from marketplace.workshop import bootstrap_trainer, facilitate  # noqa: E402
from marketplace.workshop.load import RunResult, run_workers, verify_run  # noqa: E402
from marketplace.workshop.practice import build_practice_world  # noqa: E402
from marketplace.workshop.server import ServerSettings, ServerThread, WorkshopServer  # noqa: E402

MIX = "department=10,enterprise=14,registrar=4,steward=12,security_reviewer=4,operator=6"
TARGET_P95_MS = 100.0


def prepare(url: str, seed: int) -> list:
    engine = db.make_engine(url)
    build_practice_world(engine, seed=seed)
    trainer = bootstrap_trainer(engine)
    fac = facilitate(trainer.join_code, engine)
    seats = fac.create_participants(MIX, participants=50, seed=seed)
    engine.dispose()
    return seats


def start_and_after(log_dir: str, first_s: float = 5.0) -> tuple[float, float]:
    """p95 (ms) of the actions in the first `first_s` seconds, when all workers start at the same instant,
    and of the rest of the run (the workers' logs: one JSON line per action with its time and latency)."""
    import json

    import numpy as np

    rows = []
    for f in Path(log_dir).glob("worker-*.jsonl"):
        for line in f.read_text().splitlines():
            r = json.loads(line)
            if r.get("phase") in ("ack", "read", "error") and "latency" in r:
                rows.append((r["t"], r["latency"] * 1000))
    if not rows:
        return math.nan, math.nan
    a = np.array(sorted(rows))
    first = a[:, 0] < a[0, 0] + first_s
    p95 = [float(np.percentile(a[m, 1], 95)) if m.any() else math.nan for m in (first, ~first)]
    return p95[0], p95[1]


def run_mode(url: str, *, workers: int, seconds: float, seed: int, served: bool) -> tuple[RunResult, float]:
    """One load run on a freshly prepared database; through a server on loopback when `served`."""
    seats = prepare(url, seed)[:workers]
    codes = [s.join_code for s in seats]
    log_dir = tempfile.mkdtemp(prefix="bench-wss-" + ("served-" if served else "direct-"))
    t0 = time.perf_counter()
    if served:
        settings = ServerSettings()
        engine = db.make_engine(url, pool_size=settings.threads)
        server = WorkshopServer(engine, settings)
        with ServerThread(server.app) as running:
            cpu0 = resource.getrusage(resource.RUSAGE_SELF)
            result = run_workers(
                url, codes, seconds=seconds, log_dir=log_dir, seed=seed, server_url=running.url
            )
            cpu1 = resource.getrusage(resource.RUSAGE_SELF)
        cpu = (cpu1.ru_utime + cpu1.ru_stime) - (cpu0.ru_utime + cpu0.ru_stime)
        n = max(1, result.summary()["actions"])
        print(f"  server CPU per action  {1000 * cpu / n:.2f} ms (this process: the server and its threads)")
        engine.dispose()
    else:
        result = run_workers(url, codes, seconds=seconds, log_dir=log_dir, seed=seed)
    wall = time.perf_counter() - t0
    burst, steady = start_and_after(log_dir)
    print(f"  p95 of the first 5 s   {burst:.1f} ms (all workers start at once); after it {steady:.1f} ms")
    engine = db.make_engine(url)
    verify_run(engine, result, {s.account_id for s in seats})
    engine.dispose()
    return result, wall


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seconds", type=float, default=60.0)
    ap.add_argument("--workers", type=int, default=50)
    ap.add_argument("--backend", choices=["postgres", "sqlite"], default="postgres")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument(
        "--only", choices=["direct", "served"], help="run one mode only (no ratio; to try a change quickly)"
    )
    args = ap.parse_args()

    pg = None
    tmp = Path(tempfile.mkdtemp(prefix="bench-wss-db-"))
    try:
        if args.backend == "postgres":
            from pgserver import start_server

            pg = start_server()
            urls = pg.createdb("bench_direct"), pg.createdb("bench_served")
        else:
            urls = f"sqlite:///{tmp / 'direct.db'}", f"sqlite:///{tmp / 'served.db'}"
        load = os.getloadavg()[0]
        print(f"cpus: {os.cpu_count()}  load average before: {load:.2f}  backend: {args.backend}")
        summaries = {}
        for mode, url in zip(("direct", "served"), urls, strict=True):
            if args.only and mode != args.only:
                continue
            result, wall = run_mode(
                url, workers=args.workers, seconds=args.seconds, seed=args.seed, served=mode == "served"
            )
            s = summaries[mode] = result.summary()
            print(f"\n{mode}: {s['workers']} participant processes for {s['seconds']} s (wall {wall:.0f} s)")
            for k in (
                "actions",
                "actions_per_s",
                "acknowledged_writes",
                "refused",
                "p50_ms",
                "p95_ms",
                "max_ms",
                "unhandled",
                "problems",
                "audit_events_checked",
            ):
                print(f"  {k:<22} {s[k]}")
            print(f"  lost or doubled actions: {len(result.problems)} {result.problems[:5]}")
        if args.only:
            return
        d, v = summaries["direct"], summaries["served"]
        print("\nthrough the server / directly on the database:")
        if d["actions_per_s"]:
            print(f"  throughput ratio  {v['actions_per_s'] / d['actions_per_s']:.2f}")
        if d["p95_ms"] and v["p95_ms"]:
            print(f"  p95 ratio         {v['p95_ms'] / d['p95_ms']:.2f}")
        met = v["p95_ms"] is not None and v["p95_ms"] <= TARGET_P95_MS
        print(
            f"  served p95 {v['p95_ms']} ms: {'<=' if met else '>'} target {TARGET_P95_MS:.0f} ms "
            f"({'met' if met else 'NOT met'}); load average after: {os.getloadavg()[0]:.2f}"
        )
    finally:
        if pg is not None:
            pg.cleanup()


if __name__ == "__main__":
    main()
