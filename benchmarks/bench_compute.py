"""Speed of in-domain computation, as ratios against a baseline timed in the same run.

1. A checked aggregate query over 1,000,000 rows: parse + check (sqlglot) + run (DuckDB), and the full
   `run_query` (with the pre-suppression cell count and the ledger write in SQLite), against the same query
   run directly in DuckDB on the same connection (target: parse + check + run <= 3x).
2. A DP count and a DP mean over 1,000,000 rows through `run_dp` (OpenDP), including the ledger write and the
   commit on a SQLite file in WAL mode (target: <= 1 s each).
3. The side-by-side notebook cell on 100,000 rows: synthetic rows of the hospital-discharge resource, three
   answers (rows at k = 10, SQL with cells >= 10, DP at ε = 1) and one plot (target: <= 5 s).

Each figure is the median of several runs. Run: .venv/bin/python benchmarks/bench_compute.py
"""

from __future__ import annotations

import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from sqlmodel import Session, SQLModel, select

from marketplace import db
from marketplace.compute import open_environment, run_dp, run_query
from marketplace.policy import load_policy
from marketplace.policy.compute import compute_grant
from marketplace.privacy.sqlcheck import check_query

N = 1_000_000
FIELDS = [("patient_id", "identifier"), ("sex", "quasi_identifier"), ("age", "quasi_identifier"),
          ("district", "quasi_identifier"), ("length_of_stay", "sensitive"), ("cost", "sensitive")]
QUERY = ("SELECT district, FLOOR(age / 10) * 10 AS band, COUNT(*) AS n, AVG(length_of_stay) AS los "
         "FROM data WHERE sex = 'F' GROUP BY district, FLOOR(age / 10) * 10")


def table(n: int, seed: int = 1) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    age = rng.integers(0, 100, n)
    return pd.DataFrame({
        "patient_id": np.char.add("P", np.arange(n).astype(str)),
        "sex": rng.choice(np.array(["F", "M"]), n),
        "age": age,
        "district": rng.choice(np.array([f"D{i:02d}" for i in range(30)]), n),
        "length_of_stay": np.clip(rng.poisson(3 + age / 20), 1, 60).astype(float),
        "cost": rng.gamma(2.0, 4000.0, n).round(2),
    })


def median_time(fn: Callable[[], Any], repeat: int = 7) -> float:
    fn()  # warm-up
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main() -> None:
    frame = table(N)
    start = time.perf_counter()
    env = open_environment(1, frame, FIELDS)
    opened = time.perf_counter() - start
    grant = compute_grant(load_policy("national-2025"), grant_id=1, requester_id=1, resource_id=1,
                          fields=FIELDS)
    grant_eps = compute_grant(load_policy("national-2025"), grant_id=2, requester_id=2, resource_id=1,
                              fields=FIELDS)
    near_unique = env.near_unique(grant.near_unique_ratio)

    def direct() -> None:
        env.connection.execute(QUERY).df()

    def checked() -> None:
        q = check_query(QUERY, columns=grant.columns, dimensions=grant.dimensions,
                        identifiers=grant.identifiers, near_unique=near_unique, min_cell=grant.min_cell,
                        max_rows=grant.max_result_rows)
        env.connection.execute(q.sql).df()

    with tempfile.TemporaryDirectory() as tmp:
        engine = db.make_engine(f"sqlite:///{Path(tmp) / 'bench.db'}")
        SQLModel.metadata.create_all(engine)

        def full_query() -> None:
            with db.session_scope(engine) as s:
                run_query(s, grant, env, QUERY)

        def dp(measure: str) -> Callable[[], None]:
            def go() -> None:
                with db.session_scope(engine) as s:
                    run_dp(s, grant_eps, env, measure, column="length_of_stay", bounds=(0, 60), epsilon=0.001)
            return go

        t_direct, t_checked, t_full = median_time(direct), median_time(checked), median_time(full_query, 5)
        t_count, t_mean = median_time(dp("count"), 5), median_time(dp("mean"), 5)
        with Session(engine) as s:
            from marketplace.models.compute import ComputeRun

            runs = len(s.exec(select(ComputeRun)).all())
        engine.dispose()
    env.close()
    print(f"environment over {N:,} rows opened (register + distinct counts) in {opened:.3f} s")
    print(f"aggregate query, {N:,} rows: direct DuckDB {t_direct * 1e3:.1f} ms; parse + check + run "
          f"{t_checked * 1e3:.1f} ms ({t_checked / t_direct:.2f}x, target <= 3x); "
          f"run_query with cell count and "
          f"ledger write {t_full * 1e3:.1f} ms ({t_full / t_direct:.2f}x)")
    print(f"DP over {N:,} rows incl. ledger write and commit: count {t_count * 1e3:.1f} ms, mean "
          f"{t_mean * 1e3:.1f} ms (target <= 1000 ms); {runs} runs recorded")

    from matplotlib.figure import Figure

    from marketplace.compute.tradeoff import compare, default_question, plot_tradeoff, with_length_of_stay
    from marketplace.models import Resource
    from marketplace.synth import rows, seed_sandbox

    engine = db.make_engine("sqlite://")
    SQLModel.metadata.create_all(engine)
    seed_sandbox(engine, seed=42, size="small")
    with Session(engine) as s:
        resource = s.exec(select(Resource).where(Resource.code == "RES-000005")).one()
        fields = [(f.name, f.marking.value) for f in resource.fields]

        def cell() -> None:
            df = with_length_of_stay(rows(resource, 100_000, 1))
            answers = compare(df, default_question(df, fields), k=10, l=2, min_cell=10, epsilon=1.0)
            fig = Figure(figsize=(10, 3.8))
            plot_tradeoff(pd.DataFrame([a.to_dict() for a in answers]), {
                "rows": "rows", "sql": "sql", "dp": "dp", "rows_param": "k", "sql_param": "m",
                "dp_param": "ε", "risk": "risk", "epsilon": "ε", "error": "error", "title": "t"},
                ax=fig.subplots(1, 2))
            fig.savefig(Path(tempfile.gettempdir()) / "bench_compute.png")

        t_cell = median_time(cell, 3)
    print(f"notebook cell, 100,000 rows (generate, three answers, one plot): {t_cell:.2f} s (target <= 5 s)")


if __name__ == "__main__":
    main()
