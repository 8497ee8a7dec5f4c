"""A holder's controlled processing environment: the resource's rows, loaded where the data lives.

The rows never leave this object: computations receive results only. The rows are the resource's synthetic
table, generated deterministically from a seed (`marketplace.synth`), registered in an in-process DuckDB
database as the table `data`. Column facts that the rules need (which columns are near-unique, which values a
dimension takes) are measured once when the environment is opened, not per query.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import duckdb
import pandas as pd

from marketplace.errors import InvalidInput
from marketplace.privacy.sqlcheck import TABLE

__all__ = ["Environment", "open_environment"]

MAX_ROWS = 5_000_000  # a sandbox environment holds at most this many synthetic rows


@dataclass
class Environment:
    """The rows of one resource inside its holder's domain, with the facts the rules need."""

    resource_id: int
    frame: pd.DataFrame
    fields: tuple[tuple[str, str], ...]
    seed: int
    connection: Any = field(repr=False, default=None)
    distinct: dict[str, int] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if len(self.frame) > MAX_ROWS:
            raise InvalidInput("rows", len(self.frame), f"at most {MAX_ROWS:,} rows in one environment")
        self.connection = duckdb.connect(":memory:")
        self.connection.register(TABLE, self.frame)
        columns = [c for c in self.frame.columns]
        if columns and len(self.frame):
            select = ", ".join(f'approx_count_distinct("{c}")' for c in columns)
            counts = self.connection.execute(f"SELECT {select} FROM {TABLE}").fetchone()
            self.distinct = {c: int(n) for c, n in zip(columns, counts, strict=True)}

    @property
    def rows(self) -> int:
        return len(self.frame)

    def near_unique(self, ratio: float) -> tuple[str, ...]:
        """Columns with distinct values on more than `ratio` of the rows (each value is about one record)."""
        n = max(self.rows, 1)
        return tuple(c for c, d in self.distinct.items() if d > ratio * n)

    def categories(self, column: str) -> list[Any]:
        """The values a dimension takes, sorted (the dimension's public code list)."""
        return sorted(self.frame[column].dropna().unique().tolist())

    def close(self) -> None:
        self.connection.close()


def open_environment(
    resource_id: int, frame: pd.DataFrame, fields: Sequence[tuple[str, str]], *, seed: int = 0
) -> Environment:
    """An environment over `frame`, whose columns are the resource's fields ((name, marking) pairs)."""
    if not isinstance(frame, pd.DataFrame):
        raise InvalidInput("frame", type(frame).__name__, "a pandas DataFrame")
    names = [n for n, _ in fields]
    missing = [c for c in frame.columns if c not in names]
    if missing:
        raise InvalidInput("frame", missing[0], "a column named among the resource's fields")
    return Environment(resource_id=resource_id, frame=frame, fields=tuple(fields), seed=seed)


def resource_environment(resource: Any, rows: int, seed: int) -> Environment:
    """The environment of a catalog resource: its synthetic rows from `seed`."""
    from marketplace.synth import sandbox_rows

    frame = sandbox_rows(resource, rows, seed)
    fields = [(f.name, getattr(f.marking, "value", str(f.marking))) for f in resource.fields]
    return open_environment(resource.id, frame, fields, seed=seed)
