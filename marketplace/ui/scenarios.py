"""Scenario lab: pick two scenarios and seeds, run them with a progress bar, compare metrics side by side.

The numbers come from `marketplace.sim.compare` (same seeds for both: common random numbers, 95 % intervals);
one extra run of each on the first seed gives the daily queue curves. Plots are static matplotlib images with
language-neutral labels (metric ids), captions are translated.
"""

from __future__ import annotations

import ipywidgets as w
import pandas as pd

from marketplace.errors import InvalidInput
from marketplace.ui import i18n
from marketplace.ui.common import (
    Feedback,
    button,
    figure_image,
    guard,
    heading,
    set_options,
    table_html,
    text,
)

KEY_METRICS = (
    "filed",
    "approved",
    "delivered",
    "waiting_days_median",
    "waiting_days_p90",
    "deadline_breaches",
    "operator_revenue",
    "consumer_surplus",
    "welfare",
    "free_use_share",
    "access_gini",
    "prosecutor_risk_max",
    "mar_compliant_share",
)
PLOT_GROUPS = (
    ("filed", "approved", "delivered"),
    ("waiting_days_median", "waiting_days_p90"),
    ("operator_revenue", "consumer_surplus", "welfare"),
    ("free_use_share", "access_gini"),
)


class ScenarioLab(w.VBox):
    def __init__(
        self, a: str = "national-2025", b: str = "sme-discount", *, seeds: int = 3, days: int = 90
    ) -> None:
        from marketplace.sim import list_scenarios

        names = list_scenarios()
        self.feedback = Feedback()
        self.a = i18n.bind(w.Dropdown(), "description", "scenario.a")
        self.b = i18n.bind(w.Dropdown(), "description", "scenario.b")
        set_options(self.a, names)
        set_options(self.b, names)
        if a in names:
            self.a.value = a
        if b in names:
            self.b.value = b
        self.seeds = i18n.bind(w.IntSlider(value=seeds, min=1, max=20), "description", "scenario.seeds")
        self.days = i18n.bind(
            w.BoundedIntText(value=days, min=1, max=3660, layout=w.Layout(width="200px")),
            "description",
            "scenario.days",
        )
        self.run_button = button("scenario.run", "primary", "play")
        self.progress = w.IntProgress(value=0, min=0, max=1, bar_style="info", layout=w.Layout(width="420px"))
        self.progress.add_class("mp-progress")
        self.table = w.HTML()
        self.table.add_class("mp-compare")
        self.plots = w.Box(layout=w.Layout(flex_flow="row wrap"))
        self.comparison: pd.DataFrame | None = None
        self.daily: dict[str, pd.DataFrame] = {}
        self.run_button.on_click(lambda _b: self.run())
        i18n.on_language_change(lambda _lang: self._show_table() if self.comparison is not None else None)
        super().__init__(
            [
                heading("scenario.title"),
                text("scenario.intro"),
                w.HBox([self.a, self.b]),
                w.HBox([self.seeds, self.days]),
                w.HBox([self.run_button, self.progress]),
                self.feedback,
                self.table,
                text("scenario.plots_caption"),
                self.plots,
            ]
        )
        self.add_class("mp-scenario-lab")

    def run(self) -> None:
        guard(self.feedback)(self._run)()

    def _tick(self, n: int = 1) -> None:
        self.progress.value = min(self.progress.max, self.progress.value + int(n))

    def _run(self) -> None:
        from marketplace.sim import compare, load_scenario, run

        if self.a.value is None or self.b.value is None:
            raise InvalidInput("scenario", None, "two scenarios from seed/scenarios")
        self.feedback.info(i18n.t("scenario.running"))
        days = int(self.days.value)
        sa, sb = load_scenario(self.a.value), load_scenario(self.b.value)
        seeds = list(range(sa.seeds.default, sa.seeds.default + int(self.seeds.value)))
        self.progress.max, self.progress.value, self.progress.bar_style = len(seeds) + 2 * days, 0, "info"
        self.comparison = compare(sa, sb, seeds, days=days, progress=self._tick)
        self.daily = {}
        for label, sc in (("A", sa), ("B", sb)):
            self.daily[label] = run(sc, seeds[0], days, progress=self._tick).daily
        self.progress.bar_style = "success"
        self._show_table()
        self._draw()
        self.feedback.ok(i18n.t("scenario.done", a=sa.name, b=sb.name, seeds=len(seeds), days=days))

    def metric_row(self, metric: str) -> dict[str, float]:
        assert self.comparison is not None
        return dict(self.comparison.loc[metric])

    def _show_table(self) -> None:
        cmp = self.comparison
        assert cmp is not None

        def num(x: float) -> str:
            return f"{x:,.0f}" if abs(x) >= 1000 else f"{x:.3g}"

        def cell(mean: float, low: float, high: float) -> str:
            return num(mean) if low == high else f"{num(mean)} [{num(low)}, {num(high)}]"

        rows = [
            (
                i18n.t(f"metric.{m}"),
                cell(*cmp.loc[m, ["a_mean", "a_low", "a_high"]]),
                cell(*cmp.loc[m, ["b_mean", "b_low", "b_high"]]),
                cell(*cmp.loc[m, ["diff_mean", "diff_low", "diff_high"]]),
            )
            for m in KEY_METRICS
            if m in cmp.index
        ]
        frame = pd.DataFrame(
            rows,
            columns=[
                i18n.t("common.metric"),
                f"A · {cmp.attrs.get('a', '')}",
                f"B · {cmp.attrs.get('b', '')}",
                i18n.t("scenario.diff"),
            ],
        )
        self.table.value = table_html(frame)

    def _draw(self) -> None:
        from matplotlib.figure import Figure

        cmp = self.comparison
        assert cmp is not None
        images = []
        for group in PLOT_GROUPS:
            names = [m for m in group if m in cmp.index]
            if not names:
                continue
            fig = Figure(figsize=(4.2, 2.8))
            ax = fig.subplots()
            x = range(len(names))
            for offset, side in ((-0.2, "a"), (0.2, "b")):
                means = [cmp.loc[m, f"{side}_mean"] for m in names]
                err = [
                    [cmp.loc[m, f"{side}_mean"] - cmp.loc[m, f"{side}_low"] for m in names],
                    [cmp.loc[m, f"{side}_high"] - cmp.loc[m, f"{side}_mean"] for m in names],
                ]
                ax.bar(
                    [i + offset for i in x],
                    means,
                    width=0.4,
                    yerr=err,
                    capsize=3,
                    label=f"{side.upper()}: {cmp.attrs.get(side, '')}",
                )
            ax.set_xticks(list(x), names, rotation=15, fontsize=8)
            ax.legend(fontsize=7)
            ax.grid(axis="y", alpha=0.3)
            images.append(figure_image(fig))
        if self.daily:
            fig = Figure(figsize=(4.2, 2.8))
            ax = fig.subplots()
            for label, frame in self.daily.items():
                queue = frame[[c for c in frame.columns if c.startswith("queue_")]].sum(axis=1)
                ax.plot(frame["day"], queue, label=f"{label}: queue")
            ax.set_xlabel("day")
            ax.legend(fontsize=7)
            ax.grid(alpha=0.3)
            images.append(figure_image(fig))
        self.plots.children = images


def scenario_lab(
    a: str = "national-2025", b: str = "sme-discount", *, seeds: int = 3, days: int = 90
) -> ScenarioLab:
    return ScenarioLab(a, b, seeds=seeds, days=days)
