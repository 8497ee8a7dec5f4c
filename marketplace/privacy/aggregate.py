"""Aggregate products: group-by counts and sums with a minimum cell size and optional Laplace noise.

Small cells (fewer than `min_cell` records) are suppressed, count and sums alike, because a count of 1 or 2
next to a sum discloses individuals. With `epsilon`, the Laplace mechanism makes the release ε-differentially
private with respect to adding or removing one record:

- a record falls in exactly one cell, so cells compose in parallel and each measure costs its ε once;
- sensitivities: count 1; sum of a column clipped to [-clip, clip] is `clip` (clipping is required, without a
  bound a single record could move a sum arbitrarily);
- ε is split evenly over the measures (count + each sum: sequential composition);
  noise scale = sensitivity / ε_m;
- the min-cell test uses the noisy count (a test on the true count would leak it), so a count is always
  measured when noise is on, even if not released.

Not covered: the set of group keys comes from the data (an empty cell is absent, not noised); a release whose
keys must be private needs a public key domain. Noise comes from a numpy Generator seeded with `seed` (same
seed, same noise: reproducible sandbox runs; a real release must use an unguessable seed or none).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from marketplace.errors import InvalidInput


@dataclass
class AggregateReport:
    """What an aggregate release contains and what it cost in privacy; `to_dict()` is JSON-ready."""

    by: list[str]
    measures: list[str]
    min_cell: int
    rows_in: int
    cells_total: int
    cells_released: int
    cells_suppressed: int
    epsilon_spent: float | None = None
    mechanism: str | None = None
    sensitivity: dict[str, float] = field(default_factory=dict)
    noise_scale: dict[str, float] = field(default_factory=dict)
    clip: dict[str, float] = field(default_factory=dict)
    seed: int | None = None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class AggregateRelease:
    table: pd.DataFrame
    report: AggregateReport


def _clip_bounds(clip: float | Mapping[str, float] | None, sums: list[str]) -> dict[str, float]:
    out = {}
    for column in sums:
        bound = clip.get(column) if isinstance(clip, Mapping) else clip
        if (
            bound is None
            or isinstance(bound, bool)
            or not isinstance(bound, int | float)
            or not math.isfinite(bound)
            or bound <= 0
        ):
            raise InvalidInput(
                f"clip[{column}]",
                bound,
                "a positive bound on |value| (the sum's sensitivity), required when noise is added",
            )
        out[column] = float(bound)
    return out


def aggregate(
    df: pd.DataFrame,
    by: Sequence[str],
    *,
    count: bool = True,
    sums: Sequence[str] = (),
    min_cell: int = 10,
    epsilon: float | None = None,
    seed: int | None = None,
    clip: float | Mapping[str, float] | None = None,
) -> AggregateRelease:
    """Counts (`count`) and sums (`sum_<col>`) per group of `by`; small cells suppressed; noisy if `epsilon`.

    `clip` bounds |value| of summed columns (one number, or per column) and is required with `epsilon`.
    """
    if not isinstance(df, pd.DataFrame):
        raise InvalidInput("df", type(df).__name__, "a pandas DataFrame")
    by, sums = list(by), list(sums)
    for column in [*by, *sums]:
        if column not in df.columns:
            raise InvalidInput(
                "by" if column in by else "sums",
                column,
                "a column of the table (" + ", ".join(map(str, df.columns)) + ")",
            )
    for column in sums:
        if not pd.api.types.is_numeric_dtype(df[column]) or pd.api.types.is_bool_dtype(df[column]):
            raise InvalidInput("sums", column, "a numeric column")
    if not by:
        raise InvalidInput("by", by, "at least one column to group by")
    if not count and not sums:
        raise InvalidInput("count", count, "count=True or at least one column in sums")
    if isinstance(min_cell, bool) or not isinstance(min_cell, int | np.integer) or min_cell < 1:
        raise InvalidInput("min_cell", min_cell, "a whole number >= 1")
    if epsilon is not None and (
        isinstance(epsilon, bool)
        or not isinstance(epsilon, int | float)
        or not math.isfinite(epsilon)
        or epsilon <= 0
    ):
        raise InvalidInput("epsilon", epsilon, "a positive finite number, or None for no noise")
    if seed is not None and (isinstance(seed, bool) or not isinstance(seed, int | np.integer)):
        raise InvalidInput("seed", seed, "a whole number or None")
    bounds = _clip_bounds(clip, sums) if epsilon is not None else {}

    frame = df[by].copy()
    for column in sums:
        values = df[column].astype(float)
        frame[f"sum_{column}"] = values.clip(-bounds[column], bounds[column]) if bounds else values
    frame["count"] = 1
    measures = ["count", *[f"sum_{c}" for c in sums]]
    cells = frame.groupby(by, dropna=False, sort=True)[measures].sum().reset_index()
    true_count = cells["count"].to_numpy()

    report = AggregateReport(
        by=by,
        measures=[m for m in measures if m != "count" or count],
        min_cell=int(min_cell),
        rows_in=len(df),
        cells_total=len(cells),
        cells_released=0,
        cells_suppressed=0,
        seed=seed,
    )
    if epsilon is not None:
        rng = np.random.default_rng(seed)
        eps_each = float(epsilon) / len(measures)
        report.epsilon_spent, report.mechanism, report.clip = float(epsilon), "laplace", bounds
        for measure in measures:
            sensitivity = 1.0 if measure == "count" else bounds[measure.removeprefix("sum_")]
            scale = sensitivity / eps_each
            report.sensitivity[measure], report.noise_scale[measure] = sensitivity, scale
            cells[measure] = cells[measure].astype(float) + rng.laplace(0.0, scale, size=len(cells))
        cells["count"] = np.maximum(np.rint(cells["count"].to_numpy()), 0).astype(np.int64)
        released_count = cells["count"].to_numpy()
    else:
        released_count = true_count
    keep = released_count >= min_cell
    table = cells.loc[keep, by + report.measures].reset_index(drop=True)
    report.cells_released, report.cells_suppressed = int(keep.sum()), int((~keep).sum())
    return AggregateRelease(table=table, report=report)
