"""Simulator memory and speed at long horizons (issue 21, point 1 and the simulator bullets of point 5).

Run: .venv/bin/python benchmarks/bench_sim_memory.py [--days-long 3650] [--no-db]
Prints, for the province scenario national-2025:
- peak memory of a 1-year and a 10-year run, each in a fresh process (tracemalloc peak of `run` after the
  world and the policy tables are built, and max RSS), their ratio (target <= 1.2) and the bytes per arrival;
- arrivals per second of the model next to a bare Python loop over the same arrivals (target <= 1.5 x): the
  same draws, filings, reviews and metrics, the day's code called from a plain `for` loop instead of Mesa's
  step, AgentSet.do and DataCollector (`bare_loop`);
- `simulate --db`: rows written per second against raw sqlite3 executemany of the same rows (target <= 1.5 x)
  and the peak memory of storing (flat: rows are built STORE_CHUNK at a time).
"""

from __future__ import annotations

import argparse
import json
import resource
import sqlite3
import subprocess
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from marketplace import db  # noqa: E402
from marketplace.sim import load_scenario, run  # noqa: E402
from marketplace.sim.metrics import Tally  # noqa: E402
from marketplace.sim.model import MarketModel  # noqa: E402
from marketplace.sim.runner import statics_for  # noqa: E402


def _peak_child(days: int) -> None:
    """In a fresh process: peak memory of one run of `days` days."""
    sc = load_scenario("national-2025")
    statics_for(sc, days)
    tracemalloc.start()
    r = run(sc, 1, days)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    print(json.dumps({"days": days, "arrivals": r.metrics["arrivals"], "peak": peak, "rss": rss}))


def _peak(days: int) -> dict:
    out = subprocess.run(
        [sys.executable, __file__, "--child", str(days)], capture_output=True, text=True, check=True
    ).stdout
    return json.loads(out.strip().splitlines()[-1])


def bare_loop(sc: object, seed: int, days: int) -> int:
    """The same arrivals through the same day's code in a bare Python loop: no Mesa (no AgentSet.do, no
    step wrapper, no DataCollector; the day's row goes to a list), the same metrics at the end."""
    st = statics_for(sc, days)
    tally = Tally(st)
    m = MarketModel(st, seed, [tally])
    groups, teams = list(m.groups), m.teams_list
    rows = []
    for _ in range(m.n_days):
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
    tally.result(m)
    m.release()
    return len(rows)


def _raw_executemany(path: str, chunks: list[tuple[str, list[dict]]]) -> float:
    con = sqlite3.connect(path)
    t0 = time.perf_counter()
    for name, rows in chunks:
        if not rows:
            continue
        cols = list(rows[0])
        data = [
            tuple(
                json.dumps(v)
                if isinstance(v, list | dict)
                else (str(v) if v is not None and not isinstance(v, int | float | str) else v)
                for v in r.values()
            )
            for r in rows
        ]
        marks = ", ".join("?" * len(cols))
        con.executemany(f'INSERT INTO "{name}" ({", ".join(cols)}) VALUES ({marks})', data)
    con.commit()
    dt = time.perf_counter() - t0
    con.close()
    return dt


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--child", type=int)
    ap.add_argument("--days-long", type=int, default=3650)
    ap.add_argument("--no-db", action="store_true")
    args = ap.parse_args()
    if args.child:
        _peak_child(args.child)
        return

    one, long = _peak(365), _peak(args.days_long)
    mb = 1024 * 1024
    print(
        f"peak memory of run (tracemalloc): 1 year {one['peak'] / mb:.1f} MB ({one['arrivals']:,} arrivals), "
        f"{args.days_long} days {long['peak'] / mb:.1f} MB ({long['arrivals']:,} arrivals) "
        f"-> ratio {long['peak'] / one['peak']:.2f} (target <= 1.2)"
    )
    extra = (long["peak"] - one["peak"]) / max(1, long["arrivals"] - one["arrivals"])
    print(
        f"  bytes per arrival: {one['peak'] / one['arrivals']:.0f} (1 year, everything / arrivals), "
        f"{extra:.1f} marginal (10 years over 1 year; before: ~390)"
    )
    print(
        f"  max RSS of the process: 1 year {one['rss'] / mb:.0f} MB, {args.days_long} days "
        f"{long['rss'] / mb:.0f} MB -> ratio {long['rss'] / one['rss']:.2f}"
    )

    sc = load_scenario("national-2025")
    run(sc, 1)  # world, policy tables, quotes
    bare_loop(sc, 1, 365)
    model_t, bare_t = [], []
    for seed in (2, 3, 4):
        t0 = time.perf_counter()
        r = run(sc, seed)
        model_t.append(time.perf_counter() - t0)
        t0 = time.perf_counter()
        bare_loop(sc, seed, 365)
        bare_t.append(time.perf_counter() - t0)
    arr = r.metrics["arrivals"]
    m, b = min(model_t), min(bare_t)
    print(
        f"speed: model {arr / m:,.0f} arrivals/s ({m:.3f} s), bare loop {arr / b:,.0f} arrivals/s "
        f"({b:.3f} s) -> ratio {m / b:.2f} (target <= 1.5)"
    )

    if args.no_db:
        return
    from marketplace.sim.store import iter_rows, store_run
    from marketplace.synth import seed_sandbox

    w = sc.world
    with tempfile.TemporaryDirectory() as d:
        ev = Path(d) / "events"
        ev.mkdir()
        r = run(sc, 2, events=ev)
        eng = db.make_engine(f"sqlite:///{d}/sandbox.db")
        seed_sandbox(eng, w.seed, w.size, w.locale)
        t0 = time.perf_counter()
        counts = store_run(r, eng)
        stored = time.perf_counter() - t0
        eng2 = db.make_engine(f"sqlite:///{d}/raw.db")
        seed_sandbox(eng2, w.seed, w.size, w.locale)
        eng2.dispose()
        raw = 0.0
        with eng.connect() as conn:
            batch: list[tuple[str, list[dict]]] = []
            for name, rows in iter_rows(r, conn):
                batch.append((name, rows))
                if len(batch) >= 12:
                    raw += _raw_executemany(f"{d}/raw.db", batch)
                    batch = []
            raw += _raw_executemany(f"{d}/raw.db", batch)
        total = sum(counts.values())
        print(
            f"--db: {total:,} rows stored in {stored:.2f} s ({total / stored:,.0f} rows/s); raw sqlite3 "
            f"executemany of the same rows {raw:.2f} s -> ratio {stored / raw:.2f} (target <= 1.5)"
        )
        tracemalloc.start()
        store_run(r, eng)
        peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
        print(
            f"  peak memory of storing (tracemalloc): {peak / mb:.1f} MB for {total:,} rows "
            f"({peak / total:.0f} bytes per row; before: ~1 KB per row, all rows at once)"
        )
        eng.dispose()


if __name__ == "__main__":
    main()
