"""Writing a synthetic world to the database, seeding the sandbox, and a canonical dump to compare databases.

`persist_world` uses SQLAlchemy Core bulk inserts (one executemany per table, one transaction) rather than ORM
objects: the world already carries explicit ids, and the unit of work would cost an order of magnitude more
for the province world. Datetimes are stored as naive UTC (the columns have no time zone), so SQLite and
PostgreSQL hold the same values whatever the server's time zone; on PostgreSQL the id sequences are moved past
the seeded ids so that later inserts by the workflows do not collide.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from datetime import UTC, date, datetime
from decimal import Decimal
from enum import Enum
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Engine
from sqlmodel import SQLModel

from marketplace import db, models  # noqa: F401  (models: every table on SQLModel.metadata)
from marketplace.errors import ConflictError
from marketplace.synth.spec import (
    DEFAULT_LOCALE,
    DEFAULT_SEED,
    DEFAULT_SIZE,
    check_locale,
    check_seed,
    check_size,
)
from marketplace.synth.world import World, build_world

__all__ = [
    "DEFAULT_LOCALE",
    "DEFAULT_SEED",
    "DEFAULT_SIZE",
    "canonical_dump",
    "ensure_seeded",
    "persist_national",
    "persist_world",
    "seed_sandbox",
]

WALL_CLOCK_COLUMNS = frozenset({"recorded_at"})


def _naive_utc(value: Any) -> Any:
    if isinstance(value, datetime) and value.tzinfo is not None:
        return value.astimezone(UTC).replace(tzinfo=None)
    return value


def _prepare(table: sa.Table, rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Complete every row with the table's scalar defaults and store datetimes as naive UTC."""
    dt_cols = [c.name for c in table.columns if isinstance(c.type, sa.DateTime) and not c.type.timezone]
    defaults = {
        c.name: c.default.arg
        for c in table.columns
        if c.default is not None and getattr(c.default, "is_scalar", False)
    }
    out = []
    for row in rows:
        full = {**defaults, **row}
        for name in dt_cols:
            if name in full:
                full[name] = _naive_utc(full[name])
        out.append(full)
    return out


def _insert_sqlite(conn: sa.Connection, table: sa.Table, rows: list[dict[str, Any]]) -> None:
    """One executemany of positional tuples, each value passed through its column type's own bind processor.

    The values are exactly what `conn.execute(table.insert(), rows)` would send (same SQLAlchemy type
    processors: enums checked, JSON serialised, decimals and datetimes rendered); only SQLAlchemy's per-row
    parameter dictionaries are skipped, which are most of the cost of a bulk insert on SQLite.
    """
    dialect = conn.dialect
    cols = list(table.columns)
    procs = [c.type.dialect_impl(dialect).bind_processor(dialect) for c in cols]
    defaults = [
        c.default.arg if c.default is not None and getattr(c.default, "is_scalar", False) else None
        for c in cols
    ]
    naive = [isinstance(c.type, sa.DateTime) and not c.type.timezone for c in cols]
    names = [c.name for c in cols]
    plan = list(zip(names, defaults, naive, procs, strict=True))
    values = []
    for row in rows:
        out = []
        for name, default, is_dt, proc in plan:
            v = row.get(name, default)
            if is_dt and v is not None:
                v = _naive_utc(v)
            out.append(v if proc is None or v is None else proc(v))
        values.append(tuple(out))
    quote = dialect.identifier_preparer
    sql = (
        f"INSERT INTO {quote.format_table(table)} ({', '.join(quote.quote(n) for n in names)}) "
        f"VALUES ({', '.join('?' * len(names))})"
    )
    conn.exec_driver_sql(sql, values)


def _reset_sequences(conn: sa.Connection, tables: list[sa.Table]) -> None:
    quote = conn.dialect.identifier_preparer
    for table in tables:
        pk = list(table.primary_key.columns)
        if len(pk) != 1 or not isinstance(pk[0].type, sa.Integer) or pk[0].autoincrement is False:
            continue
        qualified = quote.format_table(table)
        conn.execute(
            sa.text(
                f"SELECT setval(pg_get_serial_sequence(:t, :c), COALESCE(MAX({quote.quote(pk[0].name)}), 1), "
                f"MAX({quote.quote(pk[0].name)}) IS NOT NULL) FROM {qualified}"
            ),
            {"t": qualified, "c": pk[0].name},
        )


def _check_empty(conn: sa.Connection) -> None:
    organization = SQLModel.metadata.tables["organization"]
    if conn.execute(sa.select(sa.func.count()).select_from(organization)).scalar():
        raise ConflictError("the sandbox already has organizations; reset it first (seed_sandbox resets)")


def _write_tables(conn: sa.Connection, tables: dict[str, list[dict[str, Any]]]) -> list[sa.Table]:
    """One bulk insert per table, in foreign-key order; returns the tables written."""
    written = []
    for table in SQLModel.metadata.sorted_tables:
        rows = tables.get(table.name)
        if not rows:
            continue
        if conn.dialect.name == "sqlite" and conn.dialect.paramstyle == "qmark":
            _insert_sqlite(conn, table, rows)
        else:
            conn.execute(table.insert(), _prepare(table, rows))
        written.append(table)
    return written


def persist_world(world: World, engine: Engine) -> dict[str, int]:
    """Write the whole world in one transaction into an empty sandbox; returns row counts per table."""
    SQLModel.metadata.create_all(engine)
    with engine.begin() as conn:
        _check_empty(conn)
        written = _write_tables(conn, world.tables)
        if conn.dialect.name == "postgresql":
            _reset_sequences(conn, written)
    return world.counts()


def persist_national(
    engine: Engine,
    seed: int,
    locale: str,
    *,
    regions: Iterable[int] | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> dict[str, int]:
    """Stream the national world into an empty sandbox, region by region, in one transaction.

    Each region is built, written with one bulk insert per table, and dropped before the next is built, so
    memory stays that of one region however many there are. `regions` (indexes) seeds a subset, e.g. for a
    quick test; `progress(done, total)` is called after each region. Returns row counts per table.
    """
    from marketplace.synth.national import iter_regions, national_settings

    chosen = list(regions) if regions is not None else None
    settings = national_settings(seed, locale, chosen)  # checks seed, locale and region indexes first
    SQLModel.metadata.create_all(engine)
    counts: dict[str, int] = {}
    written: set[sa.Table] = set()
    with engine.begin() as conn:
        _check_empty(conn)
        parts = iter_regions(seed, locale, chosen)
        total = len(settings[-1]["value"]["regions"])
        for done, part in enumerate(parts, start=1):
            written.update(_write_tables(conn, part.tables))
            for name, n in part.counts().items():
                counts[name] = counts.get(name, 0) + n
            del part
            if progress is not None:
                progress(done, total)
        written.update(_write_tables(conn, {"sandboxsetting": settings}))
        counts["sandboxsetting"] = len(settings)
        if conn.dialect.name == "postgresql":
            _reset_sequences(conn, sorted(written, key=lambda t: t.name))
    return counts


def seed_sandbox(
    engine: Engine,
    seed: int = DEFAULT_SEED,
    size: str = DEFAULT_SIZE,
    locale: str = DEFAULT_LOCALE,
    *,
    reset: bool = True,
    progress: Callable[[int, int], None] | None = None,
) -> dict[str, int]:
    """Replace the sandbox's content by the world of `seed`.

    Arguments are checked, and the world built, before the database is touched (the `national` world is
    streamed region by region after the reset; `progress(done, total)` is told after each region).
    """
    check_seed(seed), check_size(size), check_locale(locale)
    db.check_connection(engine)
    if size == "national":  # streamed: the whole world is never in memory at once
        if reset:
            db.reset(engine)
        return persist_national(engine, seed, locale, progress=progress)
    world = build_world(seed, size, locale)
    if reset:
        db.reset(engine)
    return persist_world(world, engine)


def ensure_seeded(engine: Engine | None = None) -> bool:
    """Seed the default world when the sandbox is empty ("the sandbox seeds itself on first use").
    Returns True when it seeded now, False when there was already a world (whose schema an older release
    made is upgraded to this version's, keeping every row, and the upgrade logged in one line).
    """
    engine = engine or db.get_engine()
    if db.is_seeded(engine):
        db.create_all(engine)
        return False
    try:
        seed_sandbox(engine, DEFAULT_SEED, DEFAULT_SIZE, DEFAULT_LOCALE, reset=True)
    except ConflictError:  # another process (a second notebook, Voila) seeded it in the meantime
        return False
    return True


def _normal(value: Any, column: sa.Column) -> Any:
    if value is None:
        return None
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, Decimal | float) and isinstance(column.type, sa.Numeric) and column.type.scale:
        return f"{Decimal(str(value)):.{column.type.scale}f}"
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, datetime):
        value = value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
        return value.isoformat()
    if isinstance(value, date):
        return value.isoformat()
    return value


def canonical_dump(engine: Engine) -> str:
    """Every table, rows sorted by primary key, as JSON lines with sorted keys and normalised values
    (decimals as fixed-point strings, datetimes as ISO UTC); wall-clock columns are left out."""
    inspector = sa.inspect(engine)
    lines: list[str] = []
    with engine.connect() as conn:
        for name in sorted(SQLModel.metadata.tables):
            table = SQLModel.metadata.tables[name]
            if not inspector.has_table(name):
                continue
            cols = [c for c in table.columns if c.name not in WALL_CLOCK_COLUMNS]
            query = sa.select(*cols).order_by(*table.primary_key.columns)
            for row in conn.execute(query):
                record = {c.name: _normal(v, c) for c, v in zip(cols, row, strict=True)}
                lines.append(json.dumps({"table": name, "row": record}, sort_keys=True, ensure_ascii=False))
    return "\n".join(lines) + "\n"
