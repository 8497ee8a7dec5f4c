"""Workshop load benchmark: 50 participant processes for 60 s against PostgreSQL on loopback.

Run: `.venv/bin/python benchmarks/bench_workshop.py [--seconds 60] [--workers 50] [--url URL]`.
Without --url (or MARKETPLACE_DB_URL pointing at PostgreSQL) a throwaway server is started with the test
helper `tests/pgserver.py`. Prints throughput, latency percentiles per action, conflicts, and the checks of
`marketplace.workshop.load.verify_run` (nothing lost or doubled, the audit chain verifies), with ratios
against a baseline measured in the same run: the same agents' actions by ONE participant alone (no
contention). Target: p95 action latency <= 100 ms with 50 participants.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "tests"))

from marketplace import db  # noqa: E402
from marketplace.workshop import bootstrap_trainer, facilitate  # noqa: E402
from marketplace.workshop.load import run_workers, verify_run  # noqa: E402
from marketplace.workshop.practice import build_practice_world  # noqa: E402

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


def per_action(result) -> dict[str, tuple[int, float, float]]:
    by: dict[str, list[float]] = defaultdict(list)
    for r in result.records:
        if r.get("phase") in ("ack", "read", "error") and "latency" in r:
            by[r["action"]].append(r["latency"] * 1000)
    return {
        a: (len(v), float(np.percentile(v, 50)), float(np.percentile(v, 95))) for a, v in sorted(by.items())
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seconds", type=float, default=60.0)
    ap.add_argument("--workers", type=int, default=50)
    ap.add_argument("--baseline-seconds", type=float, default=20.0)
    ap.add_argument(
        "--url", default=None, help="an EMPTY PostgreSQL database (default: start a throwaway server)"
    )
    ap.add_argument("--seed", type=int, default=1)
    args = ap.parse_args()

    server = None
    url = args.url or (os.environ.get("MARKETPLACE_DB_URL") or "")
    try:
        if not url.startswith("postgresql"):
            from pgserver import start_server

            server = start_server()
            url_main, url_base = server.createdb("bench_main"), server.createdb("bench_base")
        else:
            url_main = url_base = url
        print(f"cpus: {os.cpu_count()}  load average before: {os.getloadavg()[0]:.2f}")

        # Baseline: one requester and one reviewer alone (same code path, no contention).
        seats = prepare(url_base, args.seed)
        alone = [
            next(s for s in seats if s.group == "enterprise"),
            next(s for s in seats if s.group == "registrar"),
        ]
        base = run_workers(
            url_base,
            [s.join_code for s in alone],
            seconds=args.baseline_seconds,
            log_dir=tempfile.mkdtemp(prefix="bench-ws-base-"),
            seed=args.seed,
            think_s=(0.2, 0.5),  # short think time: more samples, still no contention
        )
        if url_main == url_base:
            print("note: --url given: the baseline and the main run share one database")
        else:
            seats = prepare(url_main, args.seed)
        t0 = time.perf_counter()
        result = run_workers(
            url_main,
            [s.join_code for s in seats[: args.workers]],
            seconds=args.seconds,
            log_dir=tempfile.mkdtemp(prefix="bench-ws-"),
            seed=args.seed,
        )
        wall = time.perf_counter() - t0
        engine = db.make_engine(url_main)
        verify_run(engine, result, {s.account_id for s in seats})
        engine.dispose()

        s, b = result.summary(), base.summary()
        print(
            f"\nbaseline: 1 requester + 1 reviewer alone for {args.baseline_seconds:.0f} s: "
            f"{b['actions']} actions, p50 {b['p50_ms']} ms, p95 {b['p95_ms']} ms"
        )
        print(f"workshop: {s['workers']} participant processes for {s['seconds']} s (wall {wall:.0f} s)")
        for k in (
            "actions",
            "actions_per_s",
            "acknowledged_writes",
            "refused",
            "p50_ms",
            "p95_ms",
            "max_ms",
            "retried",
            "slowest_join_s",
            "unhandled",
            "problems",
            "audit_events_checked",
        ):
            print(f"  {k:<22} {s[k]}")
        print("  per action (n, p50 ms, p95 ms):")
        for action, (n, p50, p95) in per_action(result).items():
            print(f"    {action:<14} {n:>6} {p50:>9.1f} {p95:>9.1f}")
        if b["p95_ms"]:
            print(f"  ratio p95 workshop / baseline: {s['p95_ms'] / b['p95_ms']:.2f}")
        print(f"  lost or doubled actions: {len(result.problems)} {result.problems[:5]}")
        met = s["p95_ms"] <= TARGET_P95_MS
        print(
            f"  p95 {'<=' if met else '>'} target {TARGET_P95_MS:.0f} ms ({'met' if met else 'NOT met'}); "
            f"load average after: {os.getloadavg()[0]:.2f}"
        )
    finally:
        if server is not None:
            server.cleanup()


if __name__ == "__main__":
    main()
