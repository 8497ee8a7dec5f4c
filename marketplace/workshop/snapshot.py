"""Portable snapshots of the whole marketplace: every table as JSON, restorable on SQLite or PostgreSQL.

Why hand-written rather than `pg_dump` or a SQLite backup: a checkpoint must move between backends (taken on a
laptop's SQLite, restored on the workshop's PostgreSQL) and live inside the database as a `Checkpoint` row, so
it is plain JSON built from `SQLModel.metadata`: every table registered by the package, in foreign-key order.
Values are encoded by column type (datetimes and dates as ISO strings, money as decimal strings) and decoded
back by the same type, so a round trip is exact.
"""

from __future__ import annotations

import gzip
import json
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine
from sqlmodel import SQLModel

from marketplace.errors import InvalidInput

FORMAT = "marketplace-snapshot/1"
EXCLUDED = frozenset({"checkpoint"})  # a checkpoint never contains (or erases) the checkpoints themselves


def tables() -> list[sa.Table]:
    """The tables a snapshot covers, parents before children."""
    return [t for t in SQLModel.metadata.sorted_tables if t.name not in EXCLUDED]


def _base_type(col: sa.Column) -> Any:
    typ = col.type
    while isinstance(typ, sa.types.TypeDecorator):
        typ = typ.impl if isinstance(typ.impl, sa.types.TypeEngine) else typ.impl()
    return typ


def _encoder(col: sa.Column) -> Any:
    typ = _base_type(col)
    if isinstance(typ, sa.DateTime):
        return lambda v: None if v is None else v.isoformat()
    if isinstance(typ, sa.Date):
        return lambda v: None if v is None else v.isoformat()
    if isinstance(typ, sa.Numeric) and not isinstance(typ, sa.Float):
        return lambda v: None if v is None else str(v)
    return lambda v: v.value if hasattr(v, "value") and not isinstance(v, (int, float, str)) else v


def _decoder(col: sa.Column) -> Any:
    typ = _base_type(col)
    if isinstance(typ, sa.DateTime):
        return lambda v: None if v is None else datetime.fromisoformat(v)
    if isinstance(typ, sa.Date):
        return lambda v: None if v is None else date.fromisoformat(v)
    if isinstance(typ, sa.Numeric) and not isinstance(typ, sa.Float):
        return lambda v: None if v is None else Decimal(v)
    return lambda v: v


def _order(table: sa.Table) -> list[sa.Column]:
    return list(table.primary_key.columns) or list(table.columns)


def take_snapshot(conn: Connection) -> dict[str, Any]:
    """Every row of every covered table, as a JSON-ready dict (run inside one transaction for consistency)."""
    out: dict[str, Any] = {"format": FORMAT, "tables": {}}
    inspector = sa.inspect(conn)
    for table in tables():
        if not inspector.has_table(table.name):
            continue
        cols = list(table.columns)
        enc = [_encoder(c) for c in cols]
        rows = conn.execute(sa.select(*cols).order_by(*_order(table))).all()
        out["tables"][table.name] = {
            "columns": [c.name for c in cols],
            "rows": [[f(v) for f, v in zip(enc, row, strict=True)] for row in rows],
        }
    return out


def counts(snapshot: dict[str, Any]) -> dict[str, int]:
    return {name: len(t["rows"]) for name, t in snapshot["tables"].items()}


def _check(snapshot: Any) -> dict[str, Any]:
    if not isinstance(snapshot, dict) or snapshot.get("format") != FORMAT:
        got = snapshot.get("format") if isinstance(snapshot, dict) else type(snapshot).__name__
        raise InvalidInput("snapshot", got, f"a snapshot of format {FORMAT!r}")
    known = {t.name: t for t in tables()}
    for name, data in snapshot["tables"].items():
        if name not in known:
            raise InvalidInput(
                "snapshot.tables", name, "a table of this version: " + ", ".join(sorted(known))
            )
        unknown = set(data["columns"]) - set(known[name].columns.keys())
        if unknown:
            raise InvalidInput(
                f"snapshot.tables.{name}.columns",
                sorted(unknown),
                "columns of this version: " + ", ".join(known[name].columns.keys()),
            )
    return snapshot


def _lock_all(conn: Connection, covered: list[sa.Table]) -> None:
    """On PostgreSQL, keep every other session out while the tables are swapped (SQLite: the write lock
    does)."""
    if conn.dialect.name == "postgresql":
        names = ", ".join(conn.dialect.identifier_preparer.quote(t.name) for t in covered)
        conn.execute(sa.text(f"LOCK TABLE {names} IN ACCESS EXCLUSIVE MODE"))


def _reset_sequences(conn: Connection, covered: list[sa.Table]) -> None:
    """PostgreSQL serial columns must continue after the restored ids, or the next insert collides."""
    if conn.dialect.name != "postgresql":
        return
    for table in covered:
        for col in table.primary_key.columns:
            if not (isinstance(col.type, sa.Integer) and col.autoincrement in (True, "auto")):
                continue
            seq = conn.execute(
                sa.text("SELECT pg_get_serial_sequence(:t, :c)"), {"t": table.name, "c": col.name}
            ).scalar()
            if seq:
                top = conn.execute(sa.select(sa.func.max(col))).scalar()
                conn.execute(
                    sa.text("SELECT setval(:s, :v, :called)"),
                    {"s": seq, "v": top or 1, "called": top is not None},
                )


def restore_snapshot(conn: Connection, snapshot: dict[str, Any]) -> dict[str, int]:
    """Replace the content of every covered table by the snapshot's rows (inside the caller's transaction).

    Tables the snapshot does not mention are emptied too, so the marketplace is exactly what was saved.
    """
    _check(snapshot)
    covered = [t for t in tables() if sa.inspect(conn).has_table(t.name)]
    _lock_all(conn, covered)
    for table in reversed(covered):
        conn.execute(table.delete())
    restored: dict[str, int] = {}
    for table in covered:
        data = snapshot["tables"].get(table.name)
        if not data or not data["rows"]:
            restored[table.name] = 0
            continue
        cols = [table.columns[name] for name in data["columns"]]
        dec = [_decoder(c) for c in cols]
        rows = [{c.name: f(v) for c, f, v in zip(cols, dec, row, strict=True)} for row in data["rows"]]
        for start in range(0, len(rows), 1000):
            conn.execute(table.insert(), rows[start : start + 1000])
        restored[table.name] = len(rows)
    _reset_sequences(conn, covered)
    return restored


def snapshot_engine(engine: Engine) -> dict[str, Any]:
    """A consistent snapshot of the database behind `engine` (one read transaction)."""
    with engine.begin() as conn:
        if conn.dialect.name == "postgresql":
            conn.execute(sa.text("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ"))
        return take_snapshot(conn)


def write_file(snapshot: dict[str, Any], path: str | Path) -> Path:
    """Save a snapshot as JSON (gzip-compressed when the name ends in .gz)."""
    path = Path(path)
    data = json.dumps(snapshot, ensure_ascii=False, separators=(",", ":")).encode()
    path.write_bytes(gzip.compress(data) if path.suffix == ".gz" else data)
    return path


def read_file(path: str | Path) -> dict[str, Any]:
    path = Path(path)
    if not path.exists():
        raise InvalidInput("path", str(path), "an existing snapshot file")
    raw = path.read_bytes()
    try:
        data = json.loads(gzip.decompress(raw) if raw[:2] == b"\x1f\x8b" else raw)
    except (OSError, ValueError) as exc:
        raise InvalidInput("path", str(path), f"a JSON snapshot file ({exc})") from exc
    return _check(data)
