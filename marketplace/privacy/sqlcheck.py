"""Aggregate SQL over a holder's table: parsed and checked before it runs, rewritten so small cells stay in.

The requester writes ordinary SQL against one table, `data`. sqlglot parses it (DuckDB dialect); the rules
below walk the syntax tree and refuse, naming the rule, anything that could return or single out records:

- `sql.statement`  one SELECT, nothing else (no DDL/DML, UNION or CTE; at most `MAX_SQL_CHARS` characters);
- `sql.table`      FROM `data` only: no joins, no subqueries, no table functions (read_csv ...);
- `sql.star`       no `*` anywhere, since it returns rows (COUNT(*) is the one exception);
- `sql.row_level`  every output is an aggregate or a GROUP BY expression; no DISTINCT, no window functions;
- `sql.function`   only the aggregates and scalar functions listed here (MIN/MAX/MEDIAN/quantiles return one
                   person's value, so they are not listed);
- `sql.identifier` identifiers are never read; `sql.column` columns outside the grant are never read;
- `sql.group_by`   groups only by the grant's dimensions, and `sql.near_unique` never by a column whose
                   distinct values cover more than the policy's share of rows (it acts as an identifier);
- `sql.filter`     WHERE is a conjunction of `dimension = literal`: ranges, negations, OR and IN build
                   trackers and differencing pairs around the minimum cell, so they are refused.

The checked query is rewritten: `HAVING COUNT(*) >= min_cell` (ANDed with the requester's own HAVING)
suppresses small cells inside the engine, and `LIMIT max_rows + 1` lets the caller refuse an oversized result.
Written here rather than delegated because no library states these disclosure rules; sqlglot does the parsing.
"""

from __future__ import annotations

import hashlib
from collections.abc import Collection
from dataclasses import dataclass

import sqlglot
from sqlglot import exp
from sqlglot.errors import ParseError

from marketplace.errors import PolicyRefusal

__all__ = ["MAX_SQL_CHARS", "TABLE", "CheckedQuery", "check_query", "fingerprint"]

TABLE = "data"
MAX_SQL_CHARS = 4000
DIALECT = "duckdb"

AGGREGATES: tuple[type[exp.Expression], ...] = (
    exp.Count, exp.Sum, exp.Avg, exp.Stddev, exp.StddevSamp, exp.StddevPop, exp.Variance, exp.VariancePop,
)
SCALARS: tuple[type[exp.Expression], ...] = (
    exp.DateDiff, exp.Floor, exp.Ceil, exp.Round, exp.Abs, exp.Year, exp.Month, exp.Cast, exp.TryCast,
    exp.Coalesce, exp.Case, exp.If, exp.Least, exp.Greatest,
)

@dataclass(frozen=True)
class CheckedQuery:
    """A query that passed every rule: the SQL to run, its fingerprint and the columns it groups by."""

    sql: str
    fingerprint: str
    group_by: tuple[str, ...]
    columns: tuple[str, ...]
    filters: tuple[tuple[str, str], ...] = ()  # WHERE `dimension = value` conditions (for differencing)
    group_keys: tuple[str, ...] = ()  # each GROUP BY expression: its column, or its SQL when derived


def refuse(rule: str, message: str) -> PolicyRefusal:
    return PolicyRefusal(rule, f"query refused: {message}")


def fingerprint(normalised: str) -> str:
    """SHA-256 of a computation's normalised text: what ran is auditable, what it returned is not kept."""
    return hashlib.sha256(normalised.encode("utf-8")).hexdigest()


def _columns(node: exp.Expression) -> set[str]:
    return {c.name for c in node.find_all(exp.Column)}


def _check_functions(node: exp.Expression) -> None:
    for fn in node.find_all(exp.Func):
        if isinstance(fn, exp.Window):
            raise refuse("sql.row_level", "window functions return one value per row")
        if isinstance(fn, exp.Connector | exp.Binary | exp.Unary) and not isinstance(fn, exp.Anonymous):
            continue  # AND/OR/NOT and operators: their operands are checked (WHERE has its own rule)
        if not isinstance(fn, AGGREGATES + SCALARS) or isinstance(fn, exp.Anonymous):
            name = fn.sql_name() if not isinstance(fn, exp.Anonymous) else fn.name
            raise refuse("sql.function", f"{name.upper()} is not allowed; allowed aggregates are "
                         "COUNT, SUM, AVG, STDDEV, VARIANCE")
    if node.find(exp.Window):
        raise refuse("sql.row_level", "window functions return one value per row")


def _check_where(where: exp.Expression, dimensions: Collection[str]) -> list[tuple[str, str]]:
    """The WHERE clause's `dimension = value` conditions, each checked; anything else is refused."""
    found: list[tuple[str, str]] = []
    conjuncts = list(where.flatten()) if isinstance(where, exp.And) else [where]
    for term in conjuncts:
        while isinstance(term, exp.Paren):
            term = term.this
        if isinstance(term, exp.And):
            found.extend(_check_where(term, dimensions))
            continue
        if not isinstance(term, exp.EQ):
            raise refuse("sql.filter", f"WHERE {term.sql(dialect=DIALECT)}: only `dimension = value` "
                         "conditions joined by AND are allowed (ranges, NOT, OR and IN build trackers)")
        column, value = term.this, term.expression
        if isinstance(value, exp.Column):
            column, value = value, column
        if not isinstance(column, exp.Column) or not isinstance(value, exp.Literal):
            raise refuse("sql.filter", f"WHERE {term.sql(dialect=DIALECT)}: compare one dimension column "
                         "with one literal value")
        if column.name not in dimensions:
            raise refuse("sql.filter", f"WHERE on {column.name!r}: filters only on the grant's dimensions "
                         f"({', '.join(dimensions)})")
        found.append((column.name, str(value.this)))
    return found


def check_query(
    sql: str,
    *,
    columns: Collection[str],
    dimensions: Collection[str],
    identifiers: Collection[str] = (),
    near_unique: Collection[str] = (),
    min_cell: int,
    max_rows: int,
) -> CheckedQuery:
    """Check `sql` against the grant's columns and the disclosure rules; the rewritten, runnable query.

    Raises PolicyRefusal naming the rule; nothing is run before every rule has passed.
    """
    if not isinstance(sql, str) or not sql.strip():
        raise refuse("sql.statement", "an SQL SELECT statement is required")
    if len(sql) > MAX_SQL_CHARS:
        raise refuse("sql.statement", f"{len(sql)} characters; at most {MAX_SQL_CHARS}")
    try:
        statements = [s for s in sqlglot.parse(sql, read=DIALECT) if s is not None]
    except (ParseError, sqlglot.errors.TokenError) as exc:
        first = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise refuse("sql.statement", f"not valid SQL: {first}") from None
    if len(statements) != 1:
        raise refuse("sql.statement", f"{len(statements)} statements; exactly one SELECT")
    tree = statements[0]
    if not isinstance(tree, exp.Select):
        raise refuse("sql.statement", f"{tree.key.upper()} is not a SELECT")
    if tree.args.get("with") is not None:
        raise refuse("sql.statement", "WITH (common table expressions) is not allowed")

    tables = list(tree.find_all(exp.Table))
    if tree.find(exp.Join) is not None:
        raise refuse("sql.table", "joins are outside the grant: one table, `data`")
    if any(s is not tree for s in tree.find_all(exp.Select)) or tree.find(exp.Subquery) is not None:
        raise refuse("sql.table", "subqueries are not allowed")
    qualified = tables and (tables[0].args.get("db") or tables[0].args.get("catalog"))
    if len(tables) != 1 or tables[0].name != TABLE or qualified:
        names = ", ".join(t.sql(dialect=DIALECT) for t in tables) or "none"
        raise refuse("sql.table", f"FROM {names}: the only table is `{TABLE}`")
    if isinstance(tables[0].this, exp.Func) or tree.find(exp.Lateral) is not None:
        raise refuse("sql.table", "table functions are not allowed")

    for star in tree.find_all(exp.Star):
        if not isinstance(star.parent, exp.Count):
            raise refuse("sql.star", "`*` returns rows; name the aggregates you want")
    if tree.args.get("distinct") is not None:
        raise refuse("sql.row_level", "SELECT DISTINCT lists values of records")
    _check_functions(tree)

    aliases = {p.alias for p in tree.expressions if isinstance(p, exp.Alias)}
    table_columns = set(columns) | set(identifiers)
    for alias in sorted(aliases & table_columns):
        raise refuse("sql.alias", f"the alias {alias!r} is also a column name")
    order = tree.args.get("order")
    used = {c.name for c in tree.find_all(exp.Column)
            if not (order is not None and c.find_ancestor(exp.Order) is order and c.name in aliases)}
    for name in sorted(used):
        if name in identifiers:
            raise refuse("sql.identifier", f"{name!r} is an identifier; identifiers are never read")
        if name not in columns:
            raise refuse("sql.column", f"{name!r} is not a column of this grant ({', '.join(columns)})")

    group = tree.args.get("group")
    group_exprs = list(group.expressions) if group is not None else []
    group_cols: list[str] = []
    for g in group_exprs:
        if isinstance(g, exp.Literal):
            raise refuse("sql.group_by", "GROUP BY a position; name the expression")
        if g.find(*AGGREGATES) is not None:
            raise refuse("sql.group_by", "GROUP BY an aggregate")
        for name in sorted(_columns(g)):
            if name not in dimensions:
                raise refuse("sql.group_by", f"GROUP BY {name!r}: groups only by the grant's dimensions "
                             f"({', '.join(dimensions)})")
            if name in near_unique and isinstance(g, exp.Column):
                raise refuse("sql.near_unique", f"GROUP BY {name!r}: nearly every record has its own value, "
                             "so each group is one person")
            group_cols.append(name)
    group_sql = {g.sql(dialect=DIALECT) for g in group_exprs}

    for projection in tree.expressions:
        inner = projection.this if isinstance(projection, exp.Alias) else projection
        if inner.find(*AGGREGATES) is not None:
            for agg in inner.find_all(*AGGREGATES):
                if agg.find(*[a for a in AGGREGATES if a is not type(agg)]) is not None:
                    raise refuse("sql.function", "nested aggregates are not allowed")
            if isinstance(inner, AGGREGATES):
                continue
            outside = inner.copy()
            for agg in list(outside.find_all(*AGGREGATES)):
                agg.replace(exp.Literal.number(0))
            if any(c.name for c in outside.find_all(exp.Column)):
                raise refuse("sql.row_level", f"{projection.sql(dialect=DIALECT)} mixes a column outside any "
                             "aggregate into the result")
            continue
        if inner.sql(dialect=DIALECT) in group_sql or isinstance(inner, exp.Literal):
            continue
        raise refuse("sql.row_level", f"{projection.sql(dialect=DIALECT)} is neither an aggregate nor a "
                     "GROUP BY expression, so it would return record values")
    if not any(p.find(*AGGREGATES) is not None for p in tree.expressions):
        raise refuse("sql.row_level", "no aggregate in the SELECT list: the result would be records")

    where = tree.args.get("where")
    filters = _check_where(where.this, dimensions) if where is not None else []
    if tree.args.get("qualify") is not None:
        raise refuse("sql.row_level", "QUALIFY filters rows by window functions")

    normalised = tree.sql(dialect=DIALECT, normalize=True)
    run = tree.copy()
    minimum = exp.GTE(this=exp.Count(this=exp.Star()), expression=exp.Literal.number(int(min_cell)))
    having = run.args.get("having")
    run.set("having", exp.Having(this=exp.and_(having.this, minimum) if having is not None else minimum))
    limit = run.args.get("limit")
    cap = int(max_rows) + 1
    if limit is not None:
        asked = limit.expression
        if not (isinstance(asked, exp.Literal) and asked.is_int):
            raise refuse("sql.statement", "LIMIT takes a whole number")
        cap = min(cap, int(asked.this))
    if run.args.get("offset") is not None:
        raise refuse("sql.statement", "OFFSET is not allowed")
    run = run.limit(cap, copy=False)
    return CheckedQuery(
        sql=run.sql(dialect=DIALECT),
        fingerprint=fingerprint(normalised),
        group_by=tuple(dict.fromkeys(group_cols)),
        columns=tuple(sorted(used)),
        filters=tuple(filters),
        group_keys=tuple(
            g.name if isinstance(g, exp.Column) else g.sql(dialect=DIALECT) for g in group_exprs
        ),
    )
