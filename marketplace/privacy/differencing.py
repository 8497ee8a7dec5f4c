"""Differencing across detail levels: released aggregate cells that, subtracted, isolate a small cell.

Each query's result is suppressed on its own (no cell below the minimum), yet two results can be subtracted:
"everyone in West" (25) minus "women in West" (24) is one man, his cost included; so is "West" from a
GROUP BY district minus "West, F" from a GROUP BY district, sex. The rule looks at every pair of a grant's
releases whose conditions are nested (one query's dimensions a strict subset of the other's, WHERE equalities
counted as dimensions): for each coarse cell, the finer release's cells inside it are subtracted; a remainder
between 1 and `min_cell - 1` people is a cell the minimum was meant to hide, so the new query is refused
(`sql.differencing`). A remainder of 0 (nobody left) or of at least the minimum discloses nothing new.

Limits, stated: dimensions are matched by name, so a derived group (an age band from FLOOR(age / 10)) is not
known to nest with its column; only pairs are checked, not chains of three releases. Pure: the caller keeps
the releases (the workflows, per grant) and passes them in.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from marketplace.errors import PolicyRefusal

__all__ = ["DIFFERENCING_RULE", "Cell", "Release", "cell_value", "check_differencing", "release_of"]

DIFFERENCING_RULE = "sql.differencing"


def cell_value(value: Any) -> str:
    """A cell's value as text, the same whether it came from a SQL literal or from the engine's result."""
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, int | float):
        number = float(value)
        return str(int(number)) if number.is_integer() else repr(number)
    text = str(value)
    try:
        number = float(text)
    except ValueError:
        return text
    if number != number or number in (float("inf"), float("-inf")):
        return text
    return str(int(number)) if number.is_integer() else repr(number)


@dataclass(frozen=True, slots=True)
class Cell:
    """One released cell: the (dimension, value) conditions that define it, and how many people it holds."""

    conditions: frozenset[tuple[str, str]]
    n: int

    def within(self, coarse: Cell) -> bool:
        return coarse.conditions <= self.conditions


@dataclass(frozen=True, slots=True)
class Release:
    """The cells one query released (those at or above the minimum) and the dimensions defining them."""

    dimensions: frozenset[str]
    cells: tuple[Cell, ...]

    def as_dict(self) -> dict[str, Any]:
        return {
            "dimensions": sorted(self.dimensions),
            "cells": [[sorted(map(list, c.conditions)), c.n] for c in self.cells],
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Release:
        cells = tuple(
            Cell(frozenset((str(k), str(v)) for k, v in conds), int(n)) for conds, n in data.get("cells", ())
        )
        return cls(frozenset(map(str, data.get("dimensions", ()))), cells)


def release_of(
    filters: Iterable[tuple[str, Any]], keys: Sequence[str], rows: Iterable[tuple[Sequence[Any], int]]
) -> Release:
    """The release of a query with WHERE equalities `filters`, grouped by `keys`: `rows` are each released
    cell's group values (in `keys` order) and its count."""
    fixed = frozenset((str(k), cell_value(v)) for k, v in filters)
    cells = tuple(
        Cell(fixed | frozenset((k, cell_value(v)) for k, v in zip(keys, values, strict=True)), int(n))
        for values, n in rows
    )
    return Release(frozenset(k for k, _ in fixed) | frozenset(keys), cells)


def _isolated(coarse: Release, fine: Release, min_cell: int) -> tuple[Cell, int] | None:
    for cell in coarse.cells:
        inside = sum(f.n for f in fine.cells if f.within(cell))
        rest = cell.n - inside
        if 0 < rest < min_cell and inside > 0:
            return cell, rest
    return None


def check_differencing(earlier: Iterable[Release], new: Release, min_cell: int) -> None:
    """Refuse (`sql.differencing`) a release that, with one of the grant's earlier releases, leaves a
    remainder of 1 to `min_cell - 1` people in some cell; returns quietly otherwise."""
    for old in earlier:
        if old.dimensions < new.dimensions:
            found = _isolated(old, new, min_cell)
        elif new.dimensions < old.dimensions:
            found = _isolated(new, old, min_cell)
        else:
            continue
        if found is not None:
            cell, _ = found
            where = ", ".join(f"{k} = {v}" for k, v in sorted(cell.conditions)) or "the whole table"
            raise PolicyRefusal(
                DIFFERENCING_RULE,
                f"query refused: with a result released earlier under this grant it would single out fewer "
                f"than {min_cell} people in the cell {where} (differencing); ask at one detail level",
            )
