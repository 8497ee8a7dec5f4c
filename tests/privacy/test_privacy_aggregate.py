"""Aggregate products: minimum cell size, Laplace noise from a seed, sensitivity and clipping."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from marketplace.errors import InvalidInput
from marketplace.privacy import aggregate


def table() -> pd.DataFrame:
    rng = np.random.default_rng(5)
    district = np.repeat(["A", "B", "C", "D"], [50, 30, 9, 1])
    return pd.DataFrame(
        {
            "district": district,
            "sex": rng.choice(["F", "M"], len(district)),
            "income": rng.integers(1000, 9000, len(district)).astype(float),
        }
    )


def test_small_cells_are_suppressed_count_and_sums() -> None:
    df = table()
    release = aggregate(df, ["district"], sums=["income"], min_cell=10)
    assert list(release.table.columns) == ["district", "count", "sum_income"]
    assert list(release.table["district"]) == ["A", "B"]
    assert list(release.table["count"]) == [50, 30]
    assert release.table["sum_income"].tolist() == [df[df.district == d].income.sum() for d in ("A", "B")]
    report = release.report
    assert (report.cells_total, report.cells_released, report.cells_suppressed) == (4, 2, 2)
    assert report.epsilon_spent is None and report.mechanism is None
    assert (release.table["count"] >= 10).all()


def test_noise_is_deterministic_from_seed_and_spends_epsilon() -> None:
    df = table()
    a = aggregate(df, ["district", "sex"], sums=["income"], min_cell=5, epsilon=1.0, clip=10_000, seed=42)
    b = aggregate(df, ["district", "sex"], sums=["income"], min_cell=5, epsilon=1.0, clip=10_000, seed=42)
    c = aggregate(df, ["district", "sex"], sums=["income"], min_cell=5, epsilon=1.0, clip=10_000, seed=43)
    assert a.table.equals(b.table)
    assert not a.table.equals(c.table)
    exact = aggregate(df, ["district", "sex"], sums=["income"], min_cell=5)
    merged = a.table.merge(exact.table, on=["district", "sex"], suffixes=("", "_exact"))
    assert not np.allclose(merged["sum_income"], merged["sum_income_exact"])  # noise was added
    r = a.report
    assert r.epsilon_spent == 1.0 and r.mechanism == "laplace"
    assert r.sensitivity == {"count": 1.0, "sum_income": 10_000.0}
    assert r.noise_scale == {"count": 2.0, "sum_income": 20_000.0}  # ε split over two measures
    assert (a.table["count"] >= 5).all() and a.table["count"].dtype.kind == "i"


def test_noise_scale_matches_laplace() -> None:
    df = pd.DataFrame({"g": ["x"] * 100})
    noisy = [
        aggregate(df, ["g"], min_cell=1, epsilon=0.5, seed=s).table["count"].iloc[0] - 100 for s in range(400)
    ]
    # Laplace(b = 1/0.5 = 2): mean |noise| = b
    assert 1.6 < np.mean(np.abs(noisy)) < 2.4


def test_sums_are_clipped_when_noisy() -> None:
    df = pd.DataFrame({"g": ["x"] * 20, "v": [1.0] * 19 + [1e9]})
    release = aggregate(df, ["g"], sums=["v"], count=False, min_cell=1, epsilon=1e6, clip=10, seed=0)
    assert release.table["sum_v"].iloc[0] == pytest.approx(29, abs=0.01)  # 19 + clip(1e9 -> 10)
    assert "count" not in release.table.columns


def test_bad_arguments() -> None:
    df = table()
    with pytest.raises(InvalidInput, match=r"clip\[income\]"):
        aggregate(df, ["district"], sums=["income"], epsilon=1.0)
    with pytest.raises(InvalidInput, match="epsilon"):
        aggregate(df, ["district"], epsilon=0)
    with pytest.raises(InvalidInput, match="by: got 'nope'"):
        aggregate(df, ["nope"])
    with pytest.raises(InvalidInput, match="sums: got 'district'"):
        aggregate(df, ["sex"], sums=["district"])
    with pytest.raises(InvalidInput, match="min_cell"):
        aggregate(df, ["sex"], min_cell=0)
    with pytest.raises(InvalidInput, match="count"):
        aggregate(df, ["sex"], count=False)
