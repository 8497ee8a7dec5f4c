"""Privacy and utility measures computed on a released table, independently of how it was produced.

k and ℓ are measured by grouping the released quasi-identifier values (what an attacker sees), not from the
partitioning, so a bug in generalization cannot hide behind its own bookkeeping; tests compare them with
pycanon.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pandas as pd


@dataclass(frozen=True)
class ClassStats:
    """Per released record: its equivalence class size and the class's ℓ (min over sensitive fields)."""

    class_id: np.ndarray
    size: np.ndarray
    diversity: np.ndarray  # +inf when there is no sensitive field
    n_classes: int


def class_stats(
    table: pd.DataFrame, quasi_identifiers: list[str], sensitive: list[str], l_kind: str
) -> ClassStats:
    n = len(table)
    if quasi_identifiers:
        keys = table[quasi_identifiers].astype(str)
        class_id = keys.groupby(quasi_identifiers, sort=False, dropna=False).ngroup().to_numpy()
    else:
        class_id = np.zeros(n, dtype=np.int64)
    n_classes = int(class_id.max()) + 1 if n else 0
    size = np.bincount(class_id, minlength=n_classes)[class_id] if n else np.zeros(0, dtype=np.int64)
    diversity = np.full(n, np.inf)
    for column in sensitive:
        frame = pd.DataFrame({"c": class_id, "v": pd.factorize(table[column], use_na_sentinel=False)[0]})
        if l_kind == "entropy":
            counts = frame.groupby(["c", "v"]).size()
            p = counts / counts.groupby(level="c").transform("sum")
            per_class = np.exp(-(p * np.log(p)).groupby(level="c").sum())
        else:
            per_class = frame.groupby("c")["v"].nunique()
        diversity = np.minimum(diversity, per_class.reindex(range(n_classes)).to_numpy(dtype=float)[class_id])
    return ClassStats(class_id=class_id, size=size, diversity=diversity, n_classes=n_classes)


def entropy_l(values: pd.Series) -> float:
    """exp(entropy) of a column: the largest ℓ for which the whole table is entropy-ℓ-diverse."""
    p = values.value_counts(dropna=False, normalize=True).to_numpy()
    return float(math.exp(-(p * np.log(p)).sum())) if len(p) else 0.0


def prosecutor_risk(stats: ClassStats) -> tuple[float, float]:
    """(highest, average): 1/smallest class, and the mean of 1/|class| over records (= classes/records)."""
    if not len(stats.size):
        return 0.0, 0.0
    return 1.0 / float(stats.size.min()), stats.n_classes / len(stats.size)
