"""Seeding and synthetic-data benchmarks (issue 2, point 6), each against a baseline measured in the same run.

1. `marketplace seed --size province`: in process (seed_sandbox) and as the real command (a fresh process).
2. `synth.rows` on a 10-column table with Faker-made names and addresses, against pure numpy sampling of the
   same number of values.
3. `persist_world` of the province world into SQLite, against raw `sqlite3.executemany` of the same rows
   (already converted to SQLite values) into the same schema.

Run: .venv/bin/python benchmarks/bench_seed.py
"""

from __future__ import annotations

import json
import os
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, date, datetime
from decimal import Decimal
from enum import Enum
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import numpy as np
import sqlalchemy as sa
from sqlalchemy.schema import CreateIndex, CreateTable
from sqlmodel import SQLModel

from marketplace import db
from marketplace.synth import build_world, persist_world, rows, seed_sandbox
from marketplace.synth.tables import _pool

TEN_COLUMNS = SimpleNamespace(
    code="BENCH",
    fields=[
        ("full_name", "string", "identifier", "person_name", {}),
        ("national_id", "string", "identifier", "national_id", {}),
        ("phone", "string", "identifier", "phone", {}),
        ("address", "string", "identifier", "address", {}),
        ("sex", "category", "quasi_identifier", "sex", {}),
        ("age", "integer", "quasi_identifier", "age", {"min": 18, "max": 90}),
        ("district", "category", "quasi_identifier", "district", {}),
        ("postcode", "category", "quasi_identifier", "postcode", {}),
        ("monthly_income", "number", "sensitive", "income", {}),
        ("visit_date", "date", "other", "event_date", {}),
    ],
)


def best_of(fn, repeat: int = 3) -> float:
    times = []
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return min(times)


def bench_seed(tmp: Path) -> None:
    engine = db.make_engine(f"sqlite:///{tmp / 'seed.db'}")
    t_inproc = best_of(lambda: seed_sandbox(engine, 42, "province", "en_US"))
    engine.dispose()
    env = {**os.environ, "MARKETPLACE_DB_URL": f"sqlite:///{tmp / 'cli.db'}"}
    t = time.perf_counter()
    subprocess.run(
        [sys.executable, "-c", "from marketplace.cli import run; run()", "seed", "--size", "province"],
        check=True,
        env=env,
        capture_output=True,
    )
    t_cli = time.perf_counter() - t
    t = time.perf_counter()
    subprocess.run([sys.executable, "-c", "import marketplace.cli"], check=True, env=env, capture_output=True)
    t_import = time.perf_counter() - t
    print("1. seed --size province (target <= 10 s)")
    print(f"   seed_sandbox in process (best of 3): {t_inproc:6.2f} s")
    print(
        f"   `marketplace seed --size province` (new process): {t_cli:6.2f} s "
        f"(of which starting Python + importing the CLI: {t_import:.2f} s)"
    )


def bench_rows() -> None:
    n = 200_000
    t_cold = time.perf_counter()
    rows(TEN_COLUMNS, 1000, 0)  # first call builds the Faker pools (once per process and locale)
    t_cold = time.perf_counter() - t_cold
    t_synth = best_of(lambda: rows(TEN_COLUMNS, n, 1))
    rng = np.random.default_rng(1)
    names = _pool("en_US", "last")

    def numpy_only() -> None:  # the floor: draw the same number of values, no strings, no correlations
        for _ in range(5):
            names[rng.integers(0, len(names), n)]
        for _ in range(5):
            rng.normal(size=n)

    t_np = best_of(numpy_only)
    print(f"2. synth.rows, 10 columns with Faker names/addresses, {n:,} rows (target >= 50,000 rows/s)")
    print(
        f"   synth.rows: {n / t_synth:12,.0f} rows/s ({t_synth:.2f} s; "
        f"Faker pools built once in {t_cold:.2f} s)"
    )
    print(
        f"   baseline, numpy sampling of the same {10 * n:,} values: {n / t_np:12,.0f} rows/s "
        f"-> synth costs {t_synth / t_np:.1f}x the bare sampling"
    )
    rows(TEN_COLUMNS, 1000, 0, "zh_CN")
    t_zh = best_of(lambda: rows(TEN_COLUMNS, n, 1, "zh_CN"))
    print(f"   synth.rows (zh_CN): {n / t_zh:12,.0f} rows/s")


def _sqlite_value(v: Any) -> Any:
    if isinstance(v, Enum):
        return v.value
    if isinstance(v, Decimal):
        return str(v)
    if isinstance(v, datetime):
        return v.astimezone(UTC).replace(tzinfo=None).isoformat(sep=" ")
    if isinstance(v, date):
        return v.isoformat()
    if isinstance(v, dict | list):
        return json.dumps(v)
    return v


def _ddl() -> list[str]:
    """The project's schema as SQLite DDL, so the raw baseline writes into exactly the same tables."""
    dialect = sa.create_engine("sqlite://").dialect
    out = []
    for table in SQLModel.metadata.sorted_tables:
        out.append(str(CreateTable(table).compile(dialect=dialect)))
        out.extend(str(CreateIndex(ix).compile(dialect=dialect)) for ix in table.indexes)
    return out


def bench_persist(tmp: Path) -> None:
    world = build_world(42, "province", "en_US")
    total = sum(world.counts().values())
    prepared: list[tuple[str, list[tuple]]] = []
    for table in SQLModel.metadata.sorted_tables:
        data = world.tables.get(table.name)
        if not data:
            continue
        cols = [c.name for c in table.columns]
        sql = f'INSERT INTO "{table.name}" ({", ".join(cols)}) VALUES ({", ".join("?" * len(cols))})'
        prepared.append(
            (
                sql,
                [tuple(_sqlite_value(r.get(c, True if c == "active" else None)) for c in cols) for r in data],
            )
        )
    ddl = _ddl()

    def ours(url: str) -> float:
        engine = db.make_engine(url)
        SQLModel.metadata.create_all(engine)
        t = time.perf_counter()
        persist_world(world, engine)
        elapsed = time.perf_counter() - t
        engine.dispose()
        return elapsed

    def raw(path: str) -> float:
        con = sqlite3.connect(path)
        if path != ":memory:":
            con.execute("PRAGMA journal_mode=WAL")
            con.execute("PRAGMA synchronous=NORMAL")
        for stmt in ddl:
            con.execute(stmt)
        con.commit()
        t = time.perf_counter()
        with con:
            for sql, values in prepared:
                con.executemany(sql, values)
        elapsed = time.perf_counter() - t
        con.close()
        return elapsed

    print(f"3. persisting the province world ({total:,} rows in {len(prepared)} tables) (target <= 3x)")
    for label, ours_url, raw_path in (
        (
            "SQLite file (WAL)",
            lambda i: f"sqlite:///{tmp / f'ours{i}.db'}",
            lambda i: str(tmp / f"raw{i}.db"),
        ),
        ("SQLite in memory", lambda i: "sqlite://", lambda i: ":memory:"),
    ):
        t_ours = statistics.median(ours(ours_url(i)) for i in range(7))
        t_raw = statistics.median(raw(raw_path(i)) for i in range(7))
        print(
            f"   {label:<18} persist_world {t_ours * 1000:6.1f} ms | raw sqlite3.executemany "
            f"(values pre-converted) {t_raw * 1000:6.1f} ms | ratio {t_ours / t_raw:.2f}x (median of 7)"
        )


def main() -> None:
    with tempfile.TemporaryDirectory() as d:
        tmp = Path(d)
        bench_seed(tmp)
        bench_rows()
        bench_persist(tmp)


if __name__ == "__main__":
    main()
