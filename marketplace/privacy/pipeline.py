"""The one de-identification pipeline every row release passes through (docs/architecture.md#privacy).

1. drop direct identifiers (or replace them by keyed HMAC-SHA256 pseudonyms when linkability is asked for);
2. refuse impossible targets before touching anything (no column but identifiers, k above the row count, a
   sensitive field with fewer than ℓ values, more rows to suppress than the budget);
3. generalize quasi-identifiers by strict Mondrian: numbers and dates become ranges, categories a node of
   their hierarchy; every cut keeps k and ℓ, so every class is valid;
4. suppress what is left (rows without a value for a number/date quasi-identifier, small categorical children
   Mondrian could not keep) within the suppression budget;
5. measure k, ℓ, prosecutor risk and NCP on the released table itself and build the `PrivacyReport`.

Released formats: numbers as "lo-hi" (a single value when lo = hi; "lo..hi" when a bound is negative, so the
minus sign stays readable); dates as "YYYY-MM-DD..YYYY-MM-DD"; categories as a hierarchy label ("*" = any).
Rows are released sorted by their values, with a fresh index: the source order would link rows back.
"""

# ruff: noqa: E741  (`l` is the literature's name for the ℓ of ℓ-diversity, and the API's keyword)
from __future__ import annotations

import hashlib
import hmac
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from marketplace.errors import InvalidInput, PrivacyError
from marketplace.privacy.hierarchies import Hierarchy, default_hierarchy, label
from marketplace.privacy.metrics import class_stats, entropy_l, prosecutor_risk
from marketplace.privacy.mondrian import CategoryDim, Checker, NumericDim, Partitioning, mondrian
from marketplace.privacy.report import PrivacyReport
from marketplace.privacy.rules import check_releasable
from marketplace.privacy.schema import QIKind, Roles, resolve_roles

L_KINDS = ("distinct", "entropy")


@dataclass
class Release:
    """A de-identified table and its report."""

    table: pd.DataFrame
    report: PrivacyReport


def pseudonym(key: bytes, column: str, value: Any) -> str:
    """Keyed pseudonym: the same value of the same column under the same key always gives the same token."""
    return hmac.new(key, f"{column}\x1f{label(value)}".encode(), hashlib.sha256).hexdigest()[:20]


def _check_targets(k: Any, l: Any, l_kind: str, suppression_budget: Any) -> None:
    if isinstance(k, bool) or not isinstance(k, int | np.integer) or k < 1:
        raise InvalidInput("k", k, "a whole number >= 1")
    if l_kind not in L_KINDS:
        raise InvalidInput("l_kind", l_kind, " or ".join(L_KINDS))
    if isinstance(l, bool) or not isinstance(l, int | float | np.number) or not l >= 1:
        raise InvalidInput("l", l, "a number >= 1")
    if l_kind == "distinct" and float(l) != int(l):
        raise InvalidInput("l", l, "a whole number for distinct ℓ-diversity")
    if (
        isinstance(suppression_budget, bool)
        or not isinstance(suppression_budget, int | float)
        or not 0 <= suppression_budget <= 1
    ):
        raise InvalidInput("suppression_budget", suppression_budget, "a fraction of rows between 0 and 1")


def _hierarchies(given: Mapping[str, Any] | None, roles: Roles) -> dict[str, Hierarchy]:
    out: dict[str, Hierarchy] = {}
    for column, h in (given or {}).items():
        if column not in roles.quasi_identifiers:
            raise InvalidInput(
                "hierarchies",
                column,
                "a quasi-identifier column (" + ", ".join(map(str, roles.quasi_identifiers)) + ")",
            )
        if isinstance(h, Mapping):
            h = Hierarchy.from_parents(h)
        if not isinstance(h, Hierarchy):
            raise InvalidInput(f"hierarchies[{column}]", h, "a Hierarchy or a child -> parent mapping")
        out[column] = h
    return out


def _numeric_values(df: pd.DataFrame, column: str, kind: QIKind) -> np.ndarray:
    """Float values (dates as days since 1970-01-01), NaN where missing; refuses unparseable values."""
    series = df[column]
    try:
        if kind is QIKind.date:
            parsed = pd.to_datetime(series, errors="raise")
            if getattr(parsed.dt, "tz", None) is not None:
                parsed = parsed.dt.tz_localize(None)  # the local calendar date is what was recorded
            days = parsed.to_numpy(dtype="datetime64[ns]").astype("datetime64[D]")
            out = days.astype(np.int64).astype(float)
            out[np.isnat(days)] = np.nan
            return out
        if pd.api.types.is_bool_dtype(series):
            raise TypeError("booleans are not numbers here")
        return pd.to_numeric(series, errors="raise").astype("Float64").to_numpy(dtype=float, na_value=np.nan)
    except (ValueError, TypeError, OverflowError):
        expected = "dates (YYYY-MM-DD)" if kind is QIKind.date else "numbers"
        parse = pd.to_datetime if kind is QIKind.date else pd.to_numeric
        bad = next((v for v in series if not _parses(parse, v)), series.iloc[0] if len(series) else None)
        raise InvalidInput(column, bad, f"{expected} for a {kind.value} quasi-identifier") from None


def _parses(parse: Any, value: Any) -> bool:
    try:
        parse(pd.Series([value]), errors="raise")
        return True
    except (ValueError, TypeError, OverflowError):
        return False


def _encode_category(name: str, series: pd.Series, hierarchy: Hierarchy) -> CategoryDim:
    codes, uniques = pd.factorize(series, use_na_sentinel=False)
    paths = [hierarchy.path(u) for u in uniques]
    depth = max((len(p) for p in paths), default=1)
    distinct_paths = sorted(set(paths))
    node_codes, labels, leaves = [], [], []
    for d in range(depth):
        prefixes = [p[: d + 1] for p in paths]
        index = {pre: i for i, pre in enumerate(dict.fromkeys(prefixes))}
        node_codes.append(np.array([index[pre] for pre in prefixes], dtype=np.int64))
        labels.append(np.array([pre[-1] for pre in index], dtype=object))
        counts = np.zeros(len(index), dtype=np.int64)
        for p in distinct_paths:
            counts[index[p[: d + 1]]] += 1
        leaves.append(counts)
    per_record = (
        np.vstack([nc[codes] for nc in node_codes]) if len(series) else np.zeros((depth, 0), np.int64)
    )
    return CategoryDim(
        name=name, codes=per_record, labels=labels, leaves=leaves, total_leaves=len(distinct_paths)
    )


def _format_number(x: float, integral: bool) -> str:
    return str(int(x)) if integral else np.format_float_positional(x, trim="-")


def _range_labels(lo: np.ndarray, hi: np.ndarray, kind: QIKind, integral: bool) -> np.ndarray:
    out = np.empty(len(lo), dtype=object)
    for i, (a, b) in enumerate(zip(lo, hi, strict=True)):
        if kind is QIKind.date:
            da, db = (str(np.datetime64(int(v), "D")) for v in (a, b))
            out[i] = da if a == b else f"{da}..{db}"
        else:
            fa, fb = _format_number(a, integral), _format_number(b, integral)
            out[i] = fa if a == b else (f"{fa}..{fb}" if a < 0 or b < 0 else f"{fa}-{fb}")
    return out


def deidentify(
    df: pd.DataFrame,
    schema: Mapping[str, Any] | Sequence[Any],
    *,
    k: int = 5,
    l: float = 2,
    l_kind: str = "distinct",
    suppression_budget: float = 0.05,
    pseudonym_key: bytes | None = None,
    hierarchies: Mapping[str, Any] | None = None,
) -> Release:
    """De-identify `df` to k-anonymity and ℓ-diversity, or raise PrivacyError saying why it cannot.

    `schema` is {column: marking} or field rows with `name`, `marking`, `dtype`; unnamed columns are `other`.
    `hierarchies` maps a quasi-identifier to a `Hierarchy` (or a child -> parent dict); one given for a
    number column makes it generalize by that hierarchy (e.g. age bands) instead of by ranges.
    """
    if not isinstance(df, pd.DataFrame):
        raise InvalidInput("df", type(df).__name__, "a pandas DataFrame")
    _check_targets(k, l, l_kind, suppression_budget)
    if pseudonym_key is not None and (not isinstance(pseudonym_key, bytes) or not pseudonym_key):
        raise InvalidInput("pseudonym_key", pseudonym_key, "non-empty bytes")
    k, l = int(k), float(l)
    roles = resolve_roles(df, schema)
    check_releasable(list(df.columns), roles.identifiers, pseudonymised=pseudonym_key is not None)
    given = _hierarchies(hierarchies, roles)
    n = len(df)
    budget_rows = int(np.floor(suppression_budget * n + 1e-9))

    # --- refuse impossible targets before anything is produced
    if k > n:
        raise PrivacyError(
            f"k={k} is larger than the table ({n} rows): no equivalence class can hold k records; "
            "nothing released"
        )
    for column in roles.sensitive:
        distinct = df[column].nunique(dropna=False)
        if distinct < l:
            raise PrivacyError(
                f"sensitive field {column!r} has {distinct} distinct value(s), fewer than ℓ={l:g}: "
                "no class can be ℓ-diverse; nothing released"
            )
        if l_kind == "entropy" and entropy_l(df[column]) < l * (1 - 1e-9):
            raise PrivacyError(
                f"sensitive field {column!r} reaches entropy ℓ={entropy_l(df[column]):.3g} on the "
                f"whole table, below ℓ={l:g}; nothing released"
            )

    kinds = {c: (QIKind.category if c in given else roles.qi_kinds[c]) for c in roles.quasi_identifiers}
    ranged = [c for c in roles.quasi_identifiers if kinds[c] is not QIKind.category]
    values = {c: _numeric_values(df, c, kinds[c]) for c in ranged}
    missing = np.zeros(n, dtype=bool)
    for c in ranged:
        missing |= np.isnan(values[c])
    if missing.sum() > budget_rows:
        raise PrivacyError(
            f"suppression budget too small: {int(missing.sum())} rows have no value for a number or "
            f"date quasi-identifier ({', '.join(ranged)}) and must be suppressed, but the budget "
            f"{suppression_budget:g} allows {budget_rows} of {n}; nothing released"
        )
    kept = np.flatnonzero(~missing)

    # --- partition the records that can be generalized
    numeric = [NumericDim(c, values[c][kept]) for c in ranged]
    categories = [
        _encode_category(c, df[c].iloc[kept], given.get(c) or default_hierarchy(df[c]))
        for c in roles.quasi_identifiers
        if kinds[c] is QIKind.category
    ]
    sensitive_codes = [
        pd.factorize(df[c].iloc[kept], use_na_sentinel=False)[0].astype(np.int64) for c in roles.sensitive
    ]
    checker = Checker(sensitive_codes, k, l, l_kind)
    if not checker.valid(np.arange(len(kept))):
        raise PrivacyError(
            f"after suppressing {int(missing.sum())} rows without quasi-identifier values, the "
            f"remaining {len(kept)} rows cannot form one class with k={k} and ℓ={l:g} "
            f"({l_kind}); nothing released"
        )
    parts = mondrian(numeric, categories, checker, len(kept), suppress_rows=budget_rows - int(missing.sum()))

    table, penalties = _assemble(df, roles, kinds, kept, parts, numeric, categories, pseudonym_key)

    # --- safety net: measure on what would be released; suppress any class that still breaks k or ℓ
    stats = class_stats(table, roles.quasi_identifiers, roles.sensitive, l_kind)
    bad = (stats.size < k) | (stats.diversity < l * (1 - 1e-9))
    suppressed_total = int(missing.sum()) + parts.suppressed + int(bad.sum())
    if suppressed_total > budget_rows:
        raise PrivacyError(
            f"suppression budget too small: meeting k={k} and ℓ={l:g} needs {suppressed_total} of "
            f"{n} rows suppressed, the budget {suppression_budget:g} allows {budget_rows}; "
            "nothing released"
        )
    if bad.any():
        keep_rows = ~bad
        table = table.loc[keep_rows]
        for c in penalties:
            penalties[c] = np.where(keep_rows, penalties[c], 1.0)
        stats = class_stats(table, roles.quasi_identifiers, roles.sensitive, l_kind)
    if not len(table):
        raise PrivacyError(f"no row can be released with k={k} and ℓ={l:g}; nothing released")

    table = _sorted(
        table,
        [
            *roles.quasi_identifiers,
            *roles.sensitive,
            *roles.other,
            *(roles.identifiers if pseudonym_key is not None else []),
        ],
    )
    risk_max, risk_avg = prosecutor_risk(stats)
    # records suppressed before assembly count as fully generalized (penalty 1)
    ncp_by_column = {c: float((p.sum() + (n - len(p))) / n) for c, p in penalties.items()}
    report = PrivacyReport(
        k_target=k,
        l_target=int(l) if l_kind == "distinct" else l,
        l_kind=l_kind,
        k_achieved=int(stats.size.min()),
        l_achieved=float(stats.diversity.min()) if roles.sensitive else None,
        prosecutor_risk_max=risk_max,
        prosecutor_risk_avg=risk_avg,
        ncp=float(np.mean(list(ncp_by_column.values()))) if ncp_by_column else 0.0,
        rows_in=n,
        rows_released=len(table),
        rows_suppressed=n - len(table),
        suppression_budget=float(suppression_budget),
        equivalence_classes=stats.n_classes,
        identifiers=[str(c) for c in roles.identifiers],
        pseudonymised=[str(c) for c in roles.identifiers] if pseudonym_key is not None else [],
        quasi_identifiers=[str(c) for c in roles.quasi_identifiers],
        sensitive=[str(c) for c in roles.sensitive],
        other=[str(c) for c in roles.other],
        ncp_by_column=ncp_by_column,
    )
    if report.l_achieved is not None and l_kind == "distinct":
        report.l_achieved = int(report.l_achieved)
    return Release(table=table, report=report)


def _assemble(
    df: pd.DataFrame,
    roles: Roles,
    kinds: dict[str, QIKind],
    kept: np.ndarray,
    parts: Partitioning,
    numeric: list[NumericDim],
    categories: list[CategoryDim],
    pseudonym_key: bytes | None,
) -> tuple[pd.DataFrame, dict[str, np.ndarray]]:
    """The released rows (generalized, identifiers handled) and each QI's per-row certainty penalty."""
    in_part = parts.part_of >= 0
    rows = kept[in_part]
    part = parts.part_of[in_part]
    columns = [c for c in df.columns if c not in roles.identifiers or pseudonym_key is not None]
    table = df.iloc[rows][columns].copy()
    penalties: dict[str, np.ndarray] = {}
    for dim in numeric:
        vals = dim.values[in_part]
        grouped = pd.Series(vals).groupby(part)
        lo = grouped.min().reindex(range(parts.n_parts)).to_numpy()
        hi = grouped.max().reindex(range(parts.n_parts)).to_numpy()
        integral = bool(np.all(np.mod(dim.values, 1) == 0))
        names = _range_labels(lo, hi, kinds[dim.name], integral)
        table[dim.name] = names[part]
        span = dim.span
        penalties[dim.name] = (hi - lo)[part] / span if span > 0 else np.zeros(len(part))
    for dim in categories:
        nodes = parts.category_nodes[dim.name]
        names = np.array([dim.labels[d][c] for d, c in nodes], dtype=object)
        leaves = np.array([dim.leaves[d][c] for d, c in nodes], dtype=float)
        table[dim.name] = names[part]
        penalties[dim.name] = np.where(leaves > 1, leaves / dim.total_leaves, 0.0)[part]
    if pseudonym_key is not None:
        for column in roles.identifiers:
            table[column] = [
                None if label(v) == "(missing)" else pseudonym(pseudonym_key, str(column), v)
                for v in table[column]
            ]
    table.index = pd.RangeIndex(len(table))
    penalties = {c: penalties[c] for c in roles.quasi_identifiers}
    return table, penalties


def _sorted(table: pd.DataFrame, columns: list[str]) -> pd.DataFrame:
    """Rows ordered by released values only (classes first), with a fresh index: no trace of source order."""
    if not columns:
        return table.reset_index(drop=True)
    keys = pd.DataFrame({i: table[c].astype(str).to_numpy() for i, c in enumerate(columns)})
    order = keys.sort_values(list(keys.columns), kind="stable").index.to_numpy()
    return table.iloc[order].reset_index(drop=True)
