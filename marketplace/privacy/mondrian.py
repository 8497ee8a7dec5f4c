"""Strict Mondrian multidimensional partitioning (LeFevre, DeWitt & Ramakrishnan, ICDE 2006).

The table is cut, top down, along the quasi-identifier whose values in the current partition are widest
(normalised): numbers and dates at the median into two non-overlapping halves, categories one level down their
generalization hierarchy (one part per child). A cut is accepted only when every part still holds at least k
records AND is ℓ-diverse in every sensitive field, so every final partition is a valid equivalence class.

Categorical cuts may leave small children. They are kept together in one residual part labelled with the
parent when that part is valid, else folded into the smallest valid child (also labelled with the parent);
with a single valid child they are suppressed, but only within the caller's row budget and only when the cut
pays for it: the certainty penalty the kept rows gain must exceed what suppressing the rows costs (a
suppressed row counts as fully generalized). Otherwise the cut is refused. Numbers and dates never need
suppression.

Hand written on numpy (no maintained Python Mondrian package exists): an explicit stack instead of recursion
(no recursion limit on 10^5 rows), integer-coded columns, np.partition medians (linear time per partition,
O(n log n) overall) and bincount-based ℓ checks.
"""

# ruff: noqa: E741  (`l` is the literature's name for the ℓ of ℓ-diversity, and the API's keyword)
from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np


@dataclass
class NumericDim:
    """A number or date quasi-identifier (dates as integer days)."""

    name: str
    values: np.ndarray  # float64, one per record

    @property
    def span(self) -> float:
        return float(self.values.max() - self.values.min()) if len(self.values) else 0.0


@dataclass
class CategoryDim:
    """A categorical quasi-identifier coded along its hierarchy.

    codes[d, i] is the node of record i at depth d (depth 0 = "*"); paths shorter than the deepest one repeat
    their leaf, so nodes nest. labels[d][c] and leaves[d][c] give the label and the number of distinct values
    under node c of depth d.
    """

    name: str
    codes: np.ndarray  # (depth, n) int64
    labels: list[np.ndarray]
    leaves: list[np.ndarray]
    total_leaves: int

    @property
    def depth(self) -> int:
        return self.codes.shape[0]


@dataclass
class Partitioning:
    """Outcome: the part of each record (-1 = suppressed) and, per category dim, each part's (depth, node)."""

    part_of: np.ndarray
    n_parts: int
    category_nodes: dict[str, np.ndarray] = field(default_factory=dict)  # name -> (n_parts, 2) [depth, code]
    suppressed: int = 0


class Checker:
    """Validity of a candidate class: ≥ k records and ℓ-diverse (distinct or entropy) per sensitive field."""

    def __init__(self, sensitive: list[np.ndarray], k: int, l: float, l_kind: str) -> None:
        self.k, self.l, self.entropy = k, l, l_kind == "entropy"
        self.sensitive = [(s, int(s.max()) + 1 if len(s) else 0) for s in sensitive]
        self.log_l = math.log(l) - 1e-9 if l > 0 else -math.inf

    def valid(self, idx: np.ndarray) -> bool:
        m = len(idx)
        if m < self.k:
            return False
        if self.l <= 1:
            return True
        for codes, n_values in self.sensitive:
            sub = codes[idx]
            if n_values <= 8 * m:
                counts = np.bincount(sub, minlength=n_values)
                counts = counts[counts > 0]
            else:
                counts = np.unique(sub, return_counts=True)[1]
            if self.entropy:
                p = counts / m
                if -(p * np.log(p)).sum() < self.log_l:
                    return False
            elif len(counts) < self.l:
                return False
        return True


def _lca_depth(dim: CategoryDim, idx: np.ndarray, start: int) -> int:
    """Deepest depth (≥ start) at which all records of idx share one node (nodes nest)."""
    if start + 1 >= dim.depth:
        return start
    sub = dim.codes[start + 1 :, idx]
    differs = sub.min(axis=1) != sub.max(axis=1)
    return start + (int(np.argmax(differs)) if differs.any() else len(differs))


def mondrian(
    numeric: list[NumericDim], categories: list[CategoryDim], checker: Checker, n: int, suppress_rows: int = 0
) -> Partitioning:
    """Partition records 0..n-1; the root must already be valid (the caller refuses otherwise)."""
    k = checker.k
    spans = np.array([d.span for d in numeric], dtype=float)
    X = np.vstack([d.values for d in numeric]) if numeric else np.empty((0, n))
    part_of = np.full(n, -1, dtype=np.int64)
    finals: list[tuple[np.ndarray, list[int]]] = []
    remaining = suppress_rows
    suppressed = 0

    root = np.arange(n, dtype=np.int64)
    stack: list[tuple[np.ndarray, list[int]]] = [
        (root, [_lca_depth(c, root, 0) if n else 0 for c in categories])
    ]
    while stack:
        idx, depths = stack.pop()
        m = len(idx)
        if m < 2 * k:
            finals.append((idx, depths))
            continue
        # normalised width of every dimension in this partition
        widths: list[tuple[float, int]] = []
        if numeric:
            sub = X[:, idx]
            w = np.divide(
                sub.max(axis=1) - sub.min(axis=1), spans, out=np.zeros(len(numeric)), where=spans > 0
            )
            widths += [(float(w[j]), j) for j in range(len(numeric))]
        for j, (dim, dp) in enumerate(zip(categories, depths, strict=True)):
            node = dim.codes[dp, idx[0]]
            leaves = int(dim.leaves[dp][node])
            widths.append((leaves / dim.total_leaves if leaves > 1 else 0.0, len(numeric) + j))
        widths.sort(key=lambda t: -t[0])
        children: list[tuple[np.ndarray, list[int]]] | None = None
        for width, j in widths:
            if width <= 0:
                break
            if j < len(numeric):
                children = _split_numeric(X[j, idx], idx, depths, checker)
            else:
                c = j - len(numeric)
                penalty_now = sum(w for w, _ in widths)
                got = _split_category(
                    categories[c], c, idx, depths, checker, remaining, len(widths) - penalty_now
                )
                if got is not None:
                    children, dropped = got
                    remaining -= len(dropped)
                    suppressed += len(dropped)
            if children:
                break
        if children:
            # a cut on one dimension can narrow the others too (e.g. postcode follows district)
            children = [(g, [_lca_depth(dim, g, d[j]) for j, dim in enumerate(categories)])
                        for g, d in children]
            stack.extend(reversed(children))
        else:
            finals.append((idx, depths))

    nodes = {dim.name: np.zeros((len(finals), 2), dtype=np.int64) for dim in categories}
    for p, (idx, depths) in enumerate(finals):
        part_of[idx] = p
        for dim, dp in zip(categories, depths, strict=True):
            nodes[dim.name][p] = (dp, dim.codes[dp, idx[0]])
    return Partitioning(part_of=part_of, n_parts=len(finals), category_nodes=nodes, suppressed=suppressed)


def _split_numeric(
    vals: np.ndarray, idx: np.ndarray, depths: list[int], checker: Checker
) -> list[tuple[np.ndarray, list[int]]] | None:
    """Median cut into two non-overlapping halves (x ≤ median | x > median, or x < median | x ≥ median)."""
    m = len(vals)
    median = np.partition(vals, (m - 1) // 2)[(m - 1) // 2]
    cuts = [vals <= median, vals < median]
    cuts.sort(key=lambda mask: abs(int(mask.sum()) - m / 2))
    for mask in cuts:
        left = int(mask.sum())
        if left < checker.k or m - left < checker.k:
            continue
        lo, hi = idx[mask], idx[~mask]
        if checker.valid(lo) and checker.valid(hi):
            return [(lo, list(depths)), (hi, list(depths))]
    return None


def _split_category(
    dim: CategoryDim,
    c: int,
    idx: np.ndarray,
    depths: list[int],
    checker: Checker,
    budget: int,
    suppression_cost: float,
) -> tuple[list[tuple[np.ndarray, list[int]]], np.ndarray] | None:
    """One level down the hierarchy: valid children become parts; the rest a residual part or suppressed."""
    dp = depths[c]
    child = dim.codes[dp + 1, idx]
    order = np.argsort(child, kind="stable")
    bounds = np.flatnonzero(np.diff(child[order])) + 1
    groups = np.split(idx[order], bounds)
    valid = [g for g in groups if checker.valid(g)]
    rest = [g for g in groups if not checker.valid(g)] if len(valid) < len(groups) else []
    parts: list[np.ndarray] = list(valid)
    dropped = np.empty(0, dtype=np.int64)
    if rest:
        residual = np.concatenate(rest)
        smallest = min(range(len(valid)), key=lambda i: len(valid[i])) if valid else -1
        if len(rest) > 1 and checker.valid(residual):
            parts.append(residual)
        elif len(valid) >= 2 and checker.valid(merged := np.concatenate([valid[smallest], residual])):
            parts[smallest] = merged
        elif valid and len(residual) <= budget:
            dropped = residual
        else:
            return None
    if len(parts) < 2 and not len(dropped):
        return None
    out = []
    for g in parts:
        new = list(depths)
        new[c] = _lca_depth(dim, g, dp)
        out.append((g, new))
    if len(dropped):
        # suppress only when the kept rows gain more certainty than the suppressed rows lose
        width_now = _width(dim, dp, idx[0])
        gain = sum(len(g) * (width_now - _width(dim, d[c], g[0])) for g, d in out)
        if gain <= len(dropped) * suppression_cost:
            return None
    return out, dropped


def _width(dim: CategoryDim, depth: int, record: int) -> float:
    """Normalised certainty penalty of the node holding `record` at `depth` (0 for a single value)."""
    leaves = int(dim.leaves[depth][dim.codes[depth, record]])
    return leaves / dim.total_leaves if leaves > 1 else 0.0
