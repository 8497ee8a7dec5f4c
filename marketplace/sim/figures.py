"""Figures of simulation results, each drawn in one function for the command line and the panels alike.

Every figure has a title and axis labels with units, in the language in force (`marketplace.i18n`). Colours
follow the meaning of a metric (`direction`): a change that is good for the people the marketplace serves is
green, a bad one red (more deadline breaches is bad even though the number went up), a neutral one grey.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from marketplace.charts import figure, no_data, plain_numbers, wrap
from marketplace.i18n import has, label, t

GOOD, BAD, NEUTRAL = "#2e7d32", "#c62828", "#90a4ae"
SIDES = ("#1565c0", "#ef6c00")  # A, B

#: metrics where less is better (for the people served: waiting, breaches, risk, concentration, prices ...)
LOWER_IS_BETTER = (
    "rejected",
    "pending",
    "pending_overdue",
    "not_filed",
    "unserved",
    "waiting_days",
    "review_wait_days",
    "waiting_cost",
    "deadline_breach",
    "deemed_decisions",
    "escalations",
    "access_gini",
    "prosecutor_risk",
    "mar_excess",
    "false_free_claims",
    "leaked_revenue",
    "free_claims_refused",
    "price_paid_mean",
    "operator_cost",
    "budget_balance_error",
)
#: metrics that are neither good nor bad by themselves (a transfer or a volume of activity)
NEUTRAL_METRICS = (
    "arrivals",
    "payments",
    "operator_revenue",
    "holder_share",
    "taxes",
    "mar_total",
    "mar_revenue",
    "mar_operators",
    "reviews",
    "misuse_detected",
    "recovered_revenue",
    "paid_deliveries",
    "release_k_min",
)

_UNITS = (
    ("waiting_days", "unit.days"),
    ("review_wait_days", "unit.days"),
    ("price_paid_mean", "unit.money"),
    ("waiting_cost", "unit.money"),
    ("payments", "unit.money"),
    ("operator_revenue", "unit.money"),
    ("operator_cost", "unit.money"),
    ("holder_share", "unit.money"),
    ("taxes", "unit.money"),
    ("consumer_surplus", "unit.money"),
    ("welfare", "unit.money"),
    ("mar_", "unit.money"),
    ("leaked_revenue", "unit.money"),
    ("recovered_revenue", "unit.money"),
    ("mar_compliant_share", "unit.share"),
    ("free_use_share", "unit.share"),
    ("deadline_breach_share", "unit.share"),
    ("access_gini", "unit.index"),
    ("prosecutor_risk", "unit.probability"),
    ("release_k_min", "unit.records"),
)


def _head(metric: str) -> str:
    return metric.split(".", 1)[0]


def direction(metric: str) -> int:
    """+1 when more is better, -1 when less is better, 0 when neither."""
    head = _head(metric)
    if head in NEUTRAL_METRICS:
        return 0
    if any(head.startswith(prefix) for prefix in LOWER_IS_BETTER):
        return -1
    return 1


def unit_of(metric: str, lang: str | None = None, currency: str = "CNY") -> str:
    """The unit a metric is counted in, for an axis label ('days', 'CNY', 'share 0–1', 'count')."""
    head = _head(metric)
    key = next((k for prefix, k in _UNITS if head.startswith(prefix)), "unit.count")
    return t(key, lang, currency=currency) if key == "unit.money" else t(key, lang)


def metric_name(metric: str, lang: str | None = None) -> str:
    """A metric in words ('Waiting days (90th percentile)'); per requester kind: 'Requests filed · micro'."""
    if metric.startswith("metric."):
        metric = metric.removeprefix("metric.")
    key = f"metric.{metric}"
    head, _, cls = metric.partition(".")
    if cls.startswith("enterprise_") and has(f"guide.sweep.metric.{head}"):
        return t(f"guide.sweep.metric.{head}", lang, size=label(cls.removeprefix("enterprise_"), lang))
    if has(key):
        return t(key, lang)
    name = t(f"metric.{head}", lang) if has(f"metric.{head}") else metric  # in `lang`, like the stage label
    return name + (f" · {label(cls, lang)}" if cls else "")


def axis_label(metric: str, lang: str | None = None, currency: str = "CNY") -> str:
    return f"{metric_name(metric, lang)} ({unit_of(metric, lang, currency)})"


# ---------------------------------------------------------------- compare: B against A


def compare_figure(table: pd.DataFrame, rows: Sequence[str], a: str, b: str, lang: str | None = None) -> Any:
    """Change of each metric from A to B in % of A, with the 95 % interval of the paired difference; the bar
    is green when the change is good, red when it is bad, grey when the metric is neutral or unchanged."""
    from matplotlib.patches import Patch

    title = t("figure.compare.title", lang, a=a, b=b)
    rows = [r for r in rows if r in table.index]
    fig = figure(figsize=(8.5, 0.34 * max(len(rows), 3) + 1.8))
    if not rows:
        return no_data(fig, title, lang)
    shown = table.loc[rows]
    base = np.where(shown["a_mean"].abs() > 0, shown["a_mean"].abs(), 1.0)
    rel = (100 * shown["diff_mean"] / base).to_numpy(float)
    err = (100 * (shown["diff_high"] - shown["diff_low"]) / 2 / base).to_numpy(float)
    colours = []
    for metric, change in zip(rows, rel, strict=True):
        sign = direction(metric) * np.sign(change)
        colours.append(GOOD if sign > 0 else BAD if sign < 0 else NEUTRAL)
    ax = fig.subplots()
    y = np.arange(len(rows))
    ax.barh(y, np.clip(rel, -100, 100), xerr=np.minimum(err, 200), color=colours, ecolor="#37474f", capsize=2)
    ax.set_xlim(-105, 105)  # bars beyond ±100 % are drawn at the edge
    ax.set_yticks(y, [metric_name(r, lang) for r in rows], fontsize=8)
    ax.invert_yaxis()
    ax.axvline(0, color="black", lw=0.8)
    ax.grid(axis="x", alpha=0.3)
    ax.set_xlabel(t("figure.compare.xlabel", lang, a=a, b=b))
    ax.set_title(title)
    ax.legend(
        handles=[
            Patch(color=GOOD, label=t("figure.better", lang)),
            Patch(color=BAD, label=t("figure.worse", lang)),
            Patch(color=NEUTRAL, label=t("figure.neutral", lang)),
        ],
        fontsize=7,
        loc="lower right",
    )
    return fig


#: the scenario lab's bar charts: a title and its metrics; `shared` when they share one unit and scale
SCENARIO_GROUPS: tuple[tuple[str, tuple[str, ...], bool], ...] = (
    ("figure.group.requests", ("filed", "approved", "delivered"), True),
    ("figure.group.waiting", ("waiting_days_median", "waiting_days_p90"), True),
    ("figure.group.money", ("operator_revenue", "consumer_surplus", "welfare"), False),
    ("figure.group.access", ("free_use_share", "access_gini"), False),
)


def _bars(ax: Any, table: pd.DataFrame, names: Sequence[str], a: str, b: str, lang: str | None) -> None:
    x = np.arange(len(names))
    for offset, side, colour in ((-0.2, "a", SIDES[0]), (0.2, "b", SIDES[1])):
        means = table.loc[list(names), f"{side}_mean"].to_numpy(float)
        low = table.loc[list(names), f"{side}_low"].to_numpy(float)
        high = table.loc[list(names), f"{side}_high"].to_numpy(float)
        ax.bar(
            x + offset,
            means,
            width=0.4,
            yerr=[means - low, high - means],
            capsize=3,
            color=colour,
            label=f"{side.upper()}: {a if side == 'a' else b}",
        )
    ax.set_xticks(x, [wrap(metric_name(m, lang), 18) for m in names], fontsize=8)
    plain_numbers(ax.yaxis)
    if (table.loc[list(names), ["a_mean", "b_mean"]].to_numpy(float) >= 0).all():
        ax.set_ylim(bottom=0)  # a count, a price or a share is never below zero, whatever the interval says
    ax.grid(axis="y", alpha=0.3)


def scenario_figure(
    table: pd.DataFrame, group: str, metrics: Sequence[str], shared: bool, lang: str | None = None
) -> Any:
    """A and B side by side (mean and 95 % interval) for one group of metrics: one axis when they share a
    unit and scale, else one panel per metric with its own axis (so revenue is not lost beside welfare)."""
    a, b = str(table.attrs.get("a", "A")), str(table.attrs.get("b", "B"))
    names = [m for m in metrics if m in table.index]
    title = t(group, lang)
    if not names:
        return no_data(figure(figsize=(4.6, 3.2)), title, lang)
    if shared:
        fig = figure(figsize=(4.6, 3.4))
        ax = fig.subplots()
        _bars(ax, table, names, a, b, lang)
        ax.set_ylabel(unit_of(names[0], lang))
    else:
        fig = figure(figsize=(2.6 * len(names) + 0.6, 3.4))
        axes = np.atleast_1d(fig.subplots(1, len(names)))
        for ax, metric in zip(axes, names, strict=True):
            _bars(ax, table, [metric], a, b, lang)
            ax.set_xticks([])
            ax.set_title(wrap(metric_name(metric, lang), 22), fontsize=9)
            ax.set_ylabel(unit_of(metric, lang))
        ax = axes[0]
    handles, labels = ax.get_legend_handles_labels()
    fig.legend(handles, labels, loc="outside lower center", ncol=2, fontsize=7, frameon=False)
    fig.suptitle(title)
    return fig


def queue_figure(daily: Mapping[str, pd.DataFrame], lang: str | None = None) -> Any:
    """Requests waiting for review on each day of one run of each scenario (the first seed)."""
    fig = figure(figsize=(4.6, 3.4))
    title = t("figure.queue.title", lang)
    if not daily:
        return no_data(fig, title, lang)
    ax = fig.subplots()
    for (name, frame), colour in zip(daily.items(), SIDES, strict=False):
        queue = frame[[c for c in frame.columns if c.startswith("queue_")]].sum(axis=1)
        ax.plot(frame["day"], queue, color=colour, label=name)
    from matplotlib.ticker import MaxNLocator

    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.set_title(title)
    ax.set_xlabel(t("figure.queue.xlabel", lang))
    ax.set_ylabel(t("figure.queue.ylabel", lang))
    ax.grid(alpha=0.3)
    ax.legend(fontsize=7)
    return fig


# ---------------------------------------------------------------- sweeps


def _positions(index: pd.Index) -> tuple[np.ndarray, list[str], bool]:
    """x positions of sweep points: the values themselves when there is one numeric key, else 0, 1, 2 ..."""
    labels = [", ".join(map(str, p)) if isinstance(p, tuple) else str(p) for p in index]
    if index.nlevels == 1:
        try:
            return np.array([float(v) for v in index], dtype=float), labels, True
        except (TypeError, ValueError):
            pass
    return np.arange(len(labels), dtype=float), labels, False


def sweep_figure(summary: pd.DataFrame, x_label: str, lang: str | None = None, currency: str = "CNY") -> Any:
    """Small firms' access across sweep points (`marketplace.sim.sweep_summary`): requests filed and approved
    (left) and mean price paid (right) for micro and small enterprises, each with its 95 % interval."""
    from marketplace.sim.runner import SMALL_FIRMS

    title = t("figure.sweep.title", lang)
    fig = figure(figsize=(9, 3.6))
    if summary.empty:
        return no_data(fig, title, lang)
    x, labels, numeric = _positions(summary.index)
    left, right = fig.subplots(1, 2)

    def line(ax: Any, metric: str, style: str, colour: str, name: str) -> None:
        mean = summary[metric].to_numpy(float)
        err = [
            mean - summary[f"{metric}.low"].to_numpy(float),
            summary[f"{metric}.high"].to_numpy(float) - mean,
        ]
        ax.errorbar(x, mean, yerr=err, fmt=style, color=colour, capsize=3, label=name)

    for cls, colour in zip(SMALL_FIRMS, SIDES, strict=True):
        size = label(cls.removeprefix("enterprise_"), lang)
        for what, style in (("filed", "-o"), ("approved", "--s")):
            line(left, f"{what}.{cls}", style, colour, t(f"guide.sweep.metric.{what}", lang, size=size))
        line(right, f"price_paid_mean.{cls}", "-o", colour, size)
    left.set_title(t("figure.sweep.requests", lang), fontsize=10)
    left.set_ylabel(t("figure.sweep.requests_axis", lang))
    right.set_title(t("figure.sweep.price", lang), fontsize=10)
    right.set_ylabel(t("unit.money", lang, currency=currency))
    for ax in (left, right):
        ax.set_xlabel(x_label)
        if numeric:
            ax.set_xticks(x, [f"{v:g}" for v in x], fontsize=8, rotation=30 if len(x) > 5 else 0)
        else:
            ax.set_xticks(x, [wrap(s, 14) for s in labels], fontsize=8)
        ax.grid(alpha=0.3)
        ax.legend(fontsize=7)
    fig.suptitle(title)
    return fig
