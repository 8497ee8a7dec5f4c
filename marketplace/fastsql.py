"""Hot statements compiled once and, on SQLite (Python's sqlite3 driver), run straight on its cursor.

Why this exists: a workflow step is a handful of short statements, and on SQLite running one through
SQLAlchemy's execution path (cache-key lookup, parameter construction, execution context, result metadata)
costs several times what SQLite itself spends on it: a one-row UPDATE ~11 µs, a primary-key SELECT ~17 µs,
against ~3 µs and ~6.5 µs here. `Statement` compiles a Core statement with SQLAlchemy once per dialect and set
of parameter names, keeps SQLAlchemy's own bind and result processors for its columns (so values are stored
and read back exactly as through SQLAlchemy: dates, JSON, enums, decimals), and runs it with
`cursor.execute`/`executemany` on the connection the session already holds, in its transaction. Driver
errors are raised as SQLAlchemy's wrapped exceptions (`sqlalchemy.exc.IntegrityError`, ...), as SQLAlchemy
would raise them.

Anything else — other databases (PostgreSQL keeps SQLAlchemy's full path: its driver adapts types itself and
its pool must see disconnects), statements whose compiled form needs execution-time work (Python-side column
defaults, expanding IN parameters, non-positional parameters) — runs through `Connection.execute` unchanged.
Both paths return rows that index and unpack alike, with `first`, `all`, `one`, `scalar`, `scalar_one` and
`rowcount`. tests/foundation/test_fastsql.py checks that both paths store the same bytes and read back the
same values (property-based over the audit table's types), errors, fallbacks and RETURNING; the whole
workflow suite runs on SQLite (this path) and PostgreSQL (SQLAlchemy's).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from operator import itemgetter
from typing import Any
from weakref import WeakKeyDictionary

import sqlalchemy as sa

__all__ = ["Rows", "Statement"]


@dataclass(frozen=True)
class _Plan:
    sql: str
    names: tuple[str, ...]
    defaults: tuple[Any, ...]  # the statement's own value for a name the parameters leave out, else _MISSING
    bind: tuple[Any, ...]  # SQLAlchemy's bind processor per position (None: the value as is)
    result: tuple[Any, ...] | None  # result processor per column (None: as is); None when no typed rows
    # derived, for speed: the parameters as a tuple in one call (None when some name has a default),
    # and only the positions that have a processor
    take: Any = None
    bind_at: tuple[tuple[int, Any], ...] = ()
    result_at: tuple[tuple[int, Any], ...] = ()


class Rows:
    """What a prepared statement returned: its rows (tuples) and its row count."""

    __slots__ = ("_rows", "rowcount")

    def __init__(self, rows: list[tuple[Any, ...]], rowcount: int) -> None:
        self._rows = rows
        self.rowcount = rowcount

    def __iter__(self) -> Any:
        return iter(self._rows)

    def all(self) -> list[tuple[Any, ...]]:
        return self._rows

    def first(self) -> tuple[Any, ...] | None:
        return self._rows[0] if self._rows else None

    def one(self) -> tuple[Any, ...]:
        if len(self._rows) != 1:
            raise sa.exc.NoResultFound("No row was found") if not self._rows else sa.exc.MultipleResultsFound(
                "Multiple rows were found when exactly one was required"
            )
        return self._rows[0]

    def scalar(self) -> Any:
        return self._rows[0][0] if self._rows else None

    def scalar_one(self) -> Any:
        return self.one()[0]


_MISSING = object()
_DML = (sa.sql.dml.Insert, sa.sql.dml.Update, sa.sql.dml.Delete)


class Statement:
    """A Core statement run through `execute(conn, params)`; see the module docstring for when it is fast."""

    __slots__ = ("_plans", "stmt")

    def __init__(self, stmt: Any) -> None:
        self.stmt = stmt
        # per dialect object (an engine's own settings, e.g. its JSON serializer, shape the processors)
        self._plans: WeakKeyDictionary[Any, dict[tuple[str, ...] | None, _Plan | None]] = WeakKeyDictionary()

    def execute(self, conn: sa.Connection, params: Mapping[str, Any] | Sequence[Mapping[str, Any]]) -> Any:
        """Run with one parameter set (a mapping) or many (a list of mappings, as `executemany`)."""
        many = not isinstance(params, Mapping)
        if many and not params:
            return Rows([], 0)  # nothing to run (SQLAlchemy would run the statement once, without values)
        dialect = conn.dialect
        if dialect.driver != "pysqlite":
            return conn.execute(self.stmt, params)  # type: ignore[arg-type]
        first = params[0] if many else params  # type: ignore[index]
        keys = tuple(first) if isinstance(self.stmt, _DML) else None
        plans = self._plans.get(dialect)
        if plans is None:
            plans = self._plans[dialect] = {}
        try:
            plan = plans[keys]
        except KeyError:
            plan = plans[keys] = _plan(self.stmt, dialect, keys)
        if plan is None:
            return conn.execute(self.stmt, params)  # type: ignore[arg-type]
        rows_in = [_values(plan, p) for p in params] if many else _values(plan, params)  # type: ignore[arg-type]
        if not conn.in_transaction():
            conn.begin()  # as Connection.execute autobegins: the caller's commit() must commit this
        cursor = conn.connection.dbapi_connection.cursor()  # type: ignore[union-attr]  (sqlite3's own)
        try:
            if many:
                cursor.executemany(plan.sql, rows_in)
            else:
                cursor.execute(plan.sql, rows_in)
            raw = cursor.fetchall() if cursor.description else []
            count = cursor.rowcount
        except dialect.loaded_dbapi.Error as exc:
            raise sa.exc.DBAPIError.instance(
                plan.sql, rows_in, exc, dialect.loaded_dbapi.Error, dialect=dialect, ismulti=many
            ) from exc
        finally:
            cursor.close()
        procs = plan.result_at
        if raw and procs:
            out = []
            for row in raw:
                values = list(row)
                for i, proc in procs:
                    values[i] = proc(values[i])
                out.append(tuple(values))
            raw = out
        return Rows(raw, count)


def _values(plan: _Plan, params: Mapping[str, Any]) -> tuple[Any, ...]:
    take = plan.take
    if take is not None:
        try:
            values = take(params)
        except KeyError:
            pass  # a missing name: the slow path below names it
        else:
            if not plan.bind_at:
                return values
            out = list(values)
            for i, proc in plan.bind_at:
                out[i] = proc(out[i])
            return tuple(out)
    out = []
    for name, default, proc in zip(plan.names, plan.defaults, plan.bind, strict=True):
        value = params.get(name, default)
        if value is _MISSING:
            raise sa.exc.InvalidRequestError(f"A value is required for bind parameter {name!r}")
        out.append(value if proc is None else proc(value))
    return tuple(out)


def _plan(stmt: Any, dialect: Any, keys: tuple[str, ...] | None) -> _Plan | None:
    """Compile `stmt` for the driver cursor, or None when it needs SQLAlchemy at execution time."""
    compiled = stmt.compile(dialect=dialect, column_keys=list(keys) if keys is not None else None)
    if (
        not compiled.positional
        or compiled.insert_prefetch
        or compiled.update_prefetch
        or compiled.escaped_bind_names
        or any(b.expanding for b in compiled.binds.values())
    ):
        return None
    names = tuple(compiled.positiontup)
    binds = [compiled.binds[n] for n in names]
    defaults = tuple(_MISSING if b.required else b.effective_value for b in binds)
    bind = tuple(b.type.dialect_impl(dialect).bind_processor(dialect) for b in binds)
    result: tuple[Any, ...] | None = None
    columns = getattr(compiled, "_result_columns", None)
    if columns and not isinstance(stmt, sa.TextClause):
        result = tuple(col[3].dialect_impl(dialect).result_processor(dialect, None) for col in columns)
    take = None
    if all(d is _MISSING for d in defaults):
        take = (lambda p: ()) if not names else _one_of(names[0]) if len(names) == 1 else itemgetter(*names)
    return _Plan(
        compiled.string,
        names,
        defaults,
        bind,
        result,
        take=take,
        bind_at=tuple((i, p) for i, p in enumerate(bind) if p is not None),
        result_at=tuple((i, p) for i, p in enumerate(result or ()) if p is not None),
    )


def _one_of(name: str) -> Any:
    return lambda params: (params[name],)
