"""The privacy-utility trade-off, measured: one analytic question answered three ways on the same table.

The question is a mean of a numeric column per cell of (banded number column × category column), e.g. mean
length of stay by age band and district. It is answered

- from de-identified rows (Mondrian at k and ℓ, `marketplace.privacy.deidentify`) holding only the question's
  columns: a generalized age range is spread over the bands it overlaps (uniformly) and a generalized category
  over all categories; the risk is the prosecutor risk of the rows (1 / smallest class);
- by aggregate SQL with a minimum cell (`marketplace.privacy.sqlcheck`, run on DuckDB): exact means, small
  cells suppressed; risk shown as 1 / minimum cell (the smallest group a figure may describe);
- by differential privacy at ε (`marketplace.compute.runs.dp_by_groups`, OpenDP): a noisy mean per cell.

Utility error: the mean absolute relative error of the cell means, weighted by cell size; a cell without an
answer (suppressed or empty) is answered with the table-wide mean of the released figures, so every method is
scored on every true cell. Nothing here writes to a database: it is a study, not a delivery.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
import pandas as pd

from marketplace.compute.environment import open_environment
from marketplace.compute.runs import dp_by_groups
from marketplace.errors import InvalidInput
from marketplace.privacy import deidentify
from marketplace.privacy.sqlcheck import check_query

__all__ = [
    "Answer", "Question", "compare", "default_question", "plot_tradeoff", "sweep", "with_length_of_stay",
]

LENGTH_OF_STAY = "length_of_stay"
MAX_STAY_DAYS = 60.0


@dataclass(frozen=True)
class Question:
    """Mean of `target` per (band of `band_column`, `category`); `bounds` clamp the target for DP."""

    target: str = LENGTH_OF_STAY
    band_column: str = "age"
    band_width: int = 10
    category: str = "district"
    bounds: tuple[float, float] = (0.0, MAX_STAY_DAYS)

    @property
    def columns(self) -> list[str]:
        return [self.band_column, self.category, self.target]


@dataclass(frozen=True)
class Answer:
    """One method's answer: its error, its risk figure, and how many cells it left unanswered."""

    method: str
    parameter: float
    risk: float
    error: float
    cells: int
    cells_unanswered: int
    seconds: float

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def with_length_of_stay(frame: pd.DataFrame) -> pd.DataFrame:
    """Adds `length_of_stay` (days from admission to discharge) when the table has both dates."""
    if {"admission_date", "discharge_date"} <= set(frame.columns) and LENGTH_OF_STAY not in frame.columns:
        days = (frame["discharge_date"] - frame["admission_date"]).dt.days.astype(float)
        return frame.assign(**{LENGTH_OF_STAY: days})
    return frame


def default_question(frame: pd.DataFrame, fields: Sequence[tuple[str, str]]) -> Question:
    """The question for a resource: length of stay (or its first numeric sensitive or other field) by the
    first numeric quasi-identifier (banded) and the district (or the first categorical quasi-identifier)."""
    marking = dict(fields)
    numeric = [c for c in frame.columns if pd.api.types.is_numeric_dtype(frame[c])
               and not pd.api.types.is_bool_dtype(frame[c])]
    qis = [c for c in frame.columns if marking.get(c) == "quasi_identifier"]
    band = next((c for c in qis if c in numeric), None)
    categorical = [c for c in qis if c not in numeric and not pd.api.types.is_datetime64_any_dtype(frame[c])]
    category = "district" if "district" in categorical else next(iter(categorical), None)
    if LENGTH_OF_STAY in frame.columns:
        target = LENGTH_OF_STAY
    else:
        target = next((c for c in numeric if marking.get(c, "other") in ("sensitive", "other")), None)
    if band is None or category is None or target is None:
        raise InvalidInput("resource", ", ".join(frame.columns),
                           "a numeric and a categorical quasi-identifier and a numeric field to average")
    hi = float(np.nanpercentile(frame[target], 99)) if len(frame) else 1.0
    bounds = (0.0, MAX_STAY_DAYS) if target == LENGTH_OF_STAY else (min(0.0, float(frame[target].min())), hi)
    return Question(target=target, band_column=band, category=category, bounds=bounds)


def _banded(frame: pd.DataFrame, q: Question) -> pd.DataFrame:
    return pd.DataFrame({
        "band": (frame[q.band_column] // q.band_width * q.band_width).astype(int),
        q.category: frame[q.category].astype(str),
        "value": frame[q.target].astype(float),
    })


def truth(frame: pd.DataFrame, q: Question) -> pd.DataFrame:
    """The exact answer: n and mean per cell."""
    return (_banded(frame, q).groupby(["band", q.category], sort=True)["value"].agg(["size", "mean"])
            .rename(columns={"size": "n"}).reset_index())


def utility_error(exact: pd.DataFrame, estimate: pd.DataFrame, q: Question) -> tuple[float, int]:
    """(weighted mean relative error, cells unanswered) of `estimate` (band, category, mean) vs `exact`."""
    merged = exact.merge(estimate.rename(columns={"mean": "estimate"}), on=["band", q.category], how="left")
    answered = merged["estimate"].notna()
    fill = float(np.average(merged.loc[answered, "estimate"], weights=merged.loc[answered, "n"])) \
        if answered.any() else 0.0
    guess = merged["estimate"].fillna(fill)
    denom = merged["mean"].abs().clip(lower=1e-9)
    error = float(np.average((guess - merged["mean"]).abs() / denom, weights=merged["n"]))
    return error, int((~answered).sum())


def _parse_range(label: str) -> tuple[float, float]:
    text = str(label)
    for sep in ("..", "-"):
        if sep in text[1:]:
            i = text.index(sep, 1)
            return float(text[:i]), float(text[i + len(sep):])
    return float(text), float(text)


def rows_answer(
    frame: pd.DataFrame, q: Question, *, k: int, l: float  # noqa: E741
) -> tuple[pd.DataFrame, float]:
    """(estimate, prosecutor risk) from rows de-identified at k and ℓ (only the question's columns)."""
    schema = {q.band_column: "quasi_identifier", q.category: "quasi_identifier", q.target: "sensitive"}
    release = deidentify(frame[q.columns], schema, k=k, l=l)
    table = release.table
    categories = sorted(frame[q.category].astype(str).unique())
    ranges = np.array([_parse_range(v) for v in table[q.band_column].astype(str)]).reshape(-1, 2)
    lo, hi = ranges[:, 0], ranges[:, 1] + 1  # integer ages: [lo, hi] covers hi
    values = table[q.target].astype(float).to_numpy()
    codes = pd.Categorical(table[q.category].astype(str), categories=categories).codes  # -1: generalized
    known, unknown = codes >= 0, codes < 0
    n_cat = len(categories)
    width = np.maximum(hi - lo, 1e-9)
    first = np.floor(lo.min() / q.band_width) * q.band_width if len(lo) else 0.0
    records = []
    for b in np.arange(first, hi.max() if len(hi) else 0.0, q.band_width):
        share = np.clip(np.minimum(hi, b + q.band_width) - np.maximum(lo, b), 0, None) / width
        weight = np.bincount(codes[known], weights=share[known], minlength=n_cat) \
            + share[unknown].sum() / n_cat
        total = np.bincount(codes[known], weights=(share * values)[known], minlength=n_cat) \
            + (share * values)[unknown].sum() / n_cat
        records.extend((int(b), cat, total[i] / weight[i])
                       for i, cat in enumerate(categories) if weight[i] > 0)
    estimate = pd.DataFrame.from_records(records, columns=["band", q.category, "mean"])
    return estimate, float(release.report.prosecutor_risk_max)


SQL_TEMPLATE = ("SELECT FLOOR({band} / {width}) * {width} AS band, {cat}, COUNT(*) AS n, "
                "AVG({target}) AS mean "
                "FROM data GROUP BY FLOOR({band} / {width}) * {width}, {cat}")


def sql_answer(frame: pd.DataFrame, q: Question, *, min_cell: int, max_rows: int = 10_000) -> pd.DataFrame:
    """The aggregate SQL answer: checked like any requester's query, small cells suppressed in DuckDB."""
    sql = SQL_TEMPLATE.format(band=q.band_column, width=q.band_width, cat=q.category, target=q.target)
    checked = check_query(sql, columns=q.columns, dimensions=[q.band_column, q.category], min_cell=min_cell,
                          max_rows=max_rows)
    env = open_environment(0, frame[q.columns], [(c, "other") for c in q.columns])
    try:
        out = env.connection.execute(checked.sql).df()
    finally:
        env.close()
    out["band"] = out["band"].astype(int)
    out[q.category] = out[q.category].astype(str)
    return out[["band", q.category, "mean"]]


def dp_answer(frame: pd.DataFrame, q: Question, *, epsilon: float) -> tuple[pd.DataFrame, float]:
    """(estimate, ε spent): a DP mean per cell over the public code lists of bands and categories."""
    banded = _banded(frame, q)
    categories = {"band": sorted(banded["band"].unique().tolist()),
                  q.category: sorted(banded[q.category].unique().tolist())}
    table, spent = dp_by_groups(banded, banded["value"].to_numpy(), categories, "mean", epsilon=epsilon,
                                bounds=q.bounds)
    return table, spent


def _timed(fn: Any, *args: Any, **kwargs: Any) -> tuple[Any, float]:
    import time

    start = time.perf_counter()
    out = fn(*args, **kwargs)
    return out, time.perf_counter() - start


def compare(
    frame: pd.DataFrame, q: Question, *, k: int, l: float, min_cell: int, epsilon: float  # noqa: E741
) -> list[Answer]:
    """The three answers at one setting each."""
    exact = truth(frame, q)
    cells = len(exact)
    (rows, risk), t_rows = _timed(rows_answer, frame, q, k=k, l=l)
    sql, t_sql = _timed(sql_answer, frame, q, min_cell=min_cell)
    (dpt, spent), t_dp = _timed(dp_answer, frame, q, epsilon=epsilon)
    out = []
    for method, param, risk_value, est, seconds in (
        ("rows", float(k), risk, rows, t_rows),
        ("sql", float(min_cell), 1.0 / min_cell, sql, t_sql),
        ("dp", float(epsilon), spent, dpt, t_dp),
    ):
        error, missing = utility_error(exact, est, q)
        out.append(Answer(method, param, float(risk_value), error, cells, missing, round(seconds, 4)))
    return out


def sweep(frame: pd.DataFrame, q: Question, *, ks: Sequence[int] = (5, 10, 25, 50, 100, 250), l: float = 2,  # noqa: E741
          min_cells: Sequence[int] = (5, 10, 20, 50),
          epsilons: Sequence[float] = (0.05, 0.1, 0.25, 0.5, 1.0, 2.0)) -> pd.DataFrame:
    """Error against risk across k (rows), the minimum cell (SQL) and ε (DP)."""
    exact = truth(frame, q)
    records: list[dict[str, Any]] = []
    for k in ks:
        est, risk = rows_answer(frame, q, k=int(k), l=l)
        error, missing = utility_error(exact, est, q)
        records.append({"method": "rows", "parameter": float(k), "risk": risk, "error": error,
                        "cells_unanswered": missing})
    for m in min_cells:
        error, missing = utility_error(exact, sql_answer(frame, q, min_cell=int(m)), q)
        records.append({"method": "sql", "parameter": float(m), "risk": 1.0 / m, "error": error,
                        "cells_unanswered": missing})
    for eps in epsilons:
        est, spent = dp_answer(frame, q, epsilon=float(eps))
        error, missing = utility_error(exact, est, q)
        records.append({"method": "dp", "parameter": float(eps), "risk": spent, "error": error,
                        "cells_unanswered": missing})
    return pd.DataFrame.from_records(records)


def plot_tradeoff(table: pd.DataFrame, labels: dict[str, str], ax: Any = None) -> Any:
    """Two panels: error against prosecutor risk (rows, SQL) and error against ε (DP). `labels` are texts."""
    import matplotlib.pyplot as plt

    if ax is None:
        from marketplace.charts import configure_fonts

        configure_fonts()
        fig, ax = plt.subplots(1, 2, figsize=(10, 3.8), constrained_layout=True)
    else:
        fig = ax[0].figure
    left, right = ax
    for method, marker in (("rows", "o-"), ("sql", "s--")):
        part = table[table.method == method].sort_values("risk")
        left.plot(part["risk"], part["error"], marker, label=labels[method])
        for _, r in part.iterrows():
            left.annotate(f"{labels[method + '_param']}={r.parameter:g}", (r.risk, r.error), fontsize=7,
                          textcoords="offset points", xytext=(3, 3))
    left.set_xlabel(labels["risk"])
    left.set_ylabel(labels["error"])
    left.legend(fontsize=8)
    part = table[table.method == "dp"].sort_values("risk")
    right.plot(part["risk"], part["error"], "^-", color="C2", label=labels["dp"])
    right.set_xscale("log")
    right.set_xlabel(labels["epsilon"])
    right.set_ylabel(labels["error"])
    right.legend(fontsize=8)
    fig.suptitle(labels["title"])
    return fig
