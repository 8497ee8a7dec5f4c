"""Figure quality: every figure has a title and labelled axes with units, colours follow the meaning of the
metric, readable ticks, and a figure without data says so instead of drawing empty axes."""

from __future__ import annotations

from itertools import pairwise
from typing import Any

import numpy as np
import pandas as pd
import pytest
from matplotlib.colors import to_hex

from marketplace.charts import figure
from marketplace.i18n import reset_language, set_language
from marketplace.sim import SMALL_FIRM_METRICS
from marketplace.sim.figures import (
    BAD,
    GOOD,
    NEUTRAL,
    SCENARIO_GROUPS,
    compare_figure,
    direction,
    queue_figure,
    scenario_figure,
    sweep_figure,
)


@pytest.fixture(autouse=True)
def _english() -> Any:
    set_language("en")
    yield
    reset_language()


def comparison(changes: dict[str, float], base: float = 10.0) -> pd.DataFrame:
    """A compare() table where B - A of each metric is `changes[metric]` (tight intervals)."""
    rows = []
    for metric, change in changes.items():
        rows.append(
            {
                "metric": metric,
                "a_mean": base,
                "a_low": base - 1,
                "a_high": base + 1,
                "b_mean": base + change,
                "b_low": base + change - 1,
                "b_high": base + change + 1,
                "diff_mean": change,
                "diff_low": change - 0.5,
                "diff_high": change + 0.5,
            }
        )
    out = pd.DataFrame(rows).set_index("metric")
    out.attrs.update({"a": "national-2025", "b": "sme-discount"})
    return out


def texts(fig: Any) -> list[str]:
    return [t.get_text() for t in fig.findobj(lambda o: hasattr(o, "get_text")) if t.get_text()]


def assert_labelled(fig: Any) -> None:
    """A title (axes or figure); every axis drawn has a label, or names its categories on the ticks."""
    drawn = [ax for ax in fig.axes if ax.axison]
    assert drawn, "no axes drawn"
    titled = bool(fig.get_suptitle()) or all(ax.get_title() for ax in drawn)
    assert titled, "figure has no title"
    for ax in drawn:
        assert ax.get_xlabel() or ax.get_ylabel(), f"no axis label on {ax.get_title()!r}"
        for axis in (ax.xaxis, ax.yaxis):  # a label, or categories named on the ticks, or no ticks at all
            named = any(t.get_text() and not _number(t.get_text()) for t in axis.get_ticklabels())
            assert axis.get_label_text() or named or not len(axis.get_ticklocs()), f"unlabelled axis {ax}"


def _number(text: str) -> bool:
    return text.replace(",", "").replace("−", "-").replace(".", "", 1).lstrip("-").isdigit()


def test_colours_follow_the_meaning_of_each_metric() -> None:
    table = comparison(
        {"filed": 5, "deadline_breaches": 5, "waiting_days_p90": -2, "payments": 5, "access_gini": 0.0}
    )
    rows = list(table.index)
    fig = compare_figure(table, rows, "national-2025", "sme-discount")
    bars = [p for p in fig.axes[0].patches][: len(rows)]
    colour = {m: to_hex(b.get_facecolor()) for m, b in zip(rows, bars, strict=True)}
    assert colour["filed"] == GOOD  # more requests filed: good
    assert colour["deadline_breaches"] == BAD  # more breaches: bad, although the number went up
    assert colour["waiting_days_p90"] == GOOD  # shorter waits: good, although the number went down
    assert colour["payments"] == NEUTRAL  # a transfer, neither good nor bad
    assert colour["access_gini"] == NEUTRAL  # unchanged
    assert direction("price_paid_mean.enterprise_small") == -1 and direction("welfare") == 1
    assert {"better", "worse", "neutral or unchanged"} <= set(texts(fig))
    assert_labelled(fig)


def test_every_simulation_figure_has_title_labels_and_units() -> None:
    table = comparison({m: 1.0 for group in SCENARIO_GROUPS for m in group[1]})
    for key, metrics, shared in SCENARIO_GROUPS:
        fig = scenario_figure(table, key, metrics, shared)
        assert_labelled(fig)
        units = {ax.get_ylabel() for ax in fig.axes}
        assert units <= {"count", "days", "CNY", "share, 0–1", "index, 0–1"}, units
    money = scenario_figure(table, *SCENARIO_GROUPS[2][:2], SCENARIO_GROUPS[2][2])
    assert len(money.axes) == 3, "revenue gets its own axis beside welfare"
    days = np.arange(30)
    daily = {"A": pd.DataFrame({"day": days, "queue_holder": days % 7})}
    fig = queue_figure(daily)
    assert_labelled(fig)
    assert fig.axes[0].get_xlabel() == "Day of the simulation (days)"


def test_sweep_figure_shows_small_firms_with_intervals() -> None:
    rows = []
    for cap in ("2500", "5000"):
        row: dict[str, Any] = {"cap": cap, "seeds": 3}
        for m in SMALL_FIRM_METRICS:
            row.update({m: 10.0, f"{m}.low": 8.0, f"{m}.high": 12.0})
        rows.append(row)
    summary = pd.DataFrame(rows).set_index("cap")
    fig = sweep_figure(summary, "Price cap (CNY, per product)")
    assert_labelled(fig)
    assert [ax.get_xlabel() for ax in fig.axes] == ["Price cap (CNY, per product)"] * 2
    assert fig.axes[1].get_ylabel() == "CNY"
    assert len(fig.axes[0].get_lines()) >= 4


def test_a_figure_without_data_says_so() -> None:
    empty = comparison({"filed": 1.0}).iloc[0:0]
    for fig in (
        compare_figure(empty, [], "a", "b"),
        scenario_figure(empty, *SCENARIO_GROUPS[0][:2], True),
        queue_figure({}),
        sweep_figure(pd.DataFrame(), "x"),
    ):
        assert "No data to draw yet." in texts(fig)
        assert not any(ax.axison for ax in fig.axes)


def test_figure_labels_follow_the_language() -> None:
    set_language("zh")
    table = comparison({"filed": 5, "deadline_breaches": 5})
    fig = compare_figure(table, list(table.index), "national-2025", "sme-discount")
    words = " ".join(texts(fig))
    assert "从 A（national-2025）到 B（sme-discount）的变化" in words and "变差" in words
    assert "Deadline breaches" not in words


def test_tick_labels_do_not_overlap_on_log_k_axis() -> None:
    from marketplace.ui.privacy import loss_curve_figure

    curve = [(k, 0.1 + 0.01 * k) for k in (2, 3, 5, 10, 20, 50)]
    fig = loss_curve_figure(curve, (5, 0.15))
    assert_labelled(fig)
    canvas = fig.canvas
    canvas.draw()
    boxes = [t.get_window_extent() for t in fig.axes[0].get_xticklabels() if t.get_text()]
    shown = [t.get_text() for t in fig.axes[0].get_xticklabels() if t.get_text()]
    assert shown == ["2", "3", "5", "10", "20", "50"]
    for left, right in pairwise(boxes):
        assert left.x1 <= right.x0, "tick labels overlap"


def test_charts_figure_is_constrained() -> None:
    assert figure().get_layout_engine() is not None


def test_intervals_of_counts_and_prices_stop_at_zero():
    """Two seeds far apart give a t-interval wider than its mean: for a price or a count (the small-firm
    figures) the interval stops at zero instead of reading a negative price; other metrics keep theirs."""
    from marketplace.sim.runner import summarize, sweep_summary

    df = pd.DataFrame(
        {
            "cap": [1, 1],
            **{m: [0.0, 3000.0] for m in SMALL_FIRM_METRICS},
            "welfare": [0.0, 3000.0],
        }
    )
    out = sweep_summary(df, ["cap"], [*SMALL_FIRM_METRICS, "welfare"])
    for m in SMALL_FIRM_METRICS:
        assert out[f"{m}.low"].iloc[0] == 0.0 and out[f"{m}.high"].iloc[0] > 3000.0
    assert out["welfare.low"].iloc[0] < 0  # a welfare change may be negative: no floor
    mean, low, _high = summarize([0.0, 3000.0])
    assert low < 0 and mean == 1500.0
