"""Free use under conditions, as a researcher's question: how much paid demand leaks into free use, and what
does supervision recover?

A `marketplace.sim.sweep` over the scenario's `demand.free_claims`: the share of paid-purpose requesters who
declare a free purpose instead (`false_share`) and the probability that a granted false claim is found
(`detection`). Every figure is a simulator metric (`marketplace.sim.metrics`): the panel only averages the
seeds and draws them. Runs in-process on a one-thread executor, like the cap sweep, so a notebook on a small
Binder needs no worker processes.
"""

from __future__ import annotations

import ipywidgets as w
import pandas as pd

from marketplace.errors import InvalidInput
from marketplace.ui import i18n
from marketplace.ui.common import (
    Downloads,
    Feedback,
    Panel,
    button,
    figure_image,
    guard,
    heading,
    set_options,
    table_html,
    text,
)

FALSE_SHARE = "demand.free_claims.false_share"
DETECTION = "demand.free_claims.detection"
METRICS = (
    "free_use_share",
    "false_free_claims",
    "misuse_detected",
    "leaked_revenue",
    "recovered_revenue",
    "operator_revenue",
)
MAX_POINTS = 6


def _shares(field: str, raw: str) -> list[str]:
    """Comma-separated probabilities, each in [0, 1]; the scenario model validates them again."""
    values = [v.strip() for v in raw.split(",") if v.strip()]
    expected = f"1 to {MAX_POINTS} probabilities between 0 and 1, separated by commas, e.g. 0, 0.1, 0.3"
    if not values or len(values) > MAX_POINTS:
        raise InvalidInput(field, raw[:40], expected)
    for v in values:
        try:
            x = float(v)
        except ValueError:
            raise InvalidInput(field, v[:40], expected) from None
        if not 0 <= x <= 1:
            raise InvalidInput(field, v[:40], expected)
    return list(dict.fromkeys(values))


class FreeUseSweep(Panel):
    def __init__(self, scenario: str = "national-2025", *, seeds: int = 2, days: int = 60) -> None:
        from marketplace.sim import list_scenarios

        names = list_scenarios()
        self.feedback = Feedback()
        self.scenario = i18n.bind(w.Dropdown(), "description", "guide.sweep.scenario")
        set_options(self.scenario, names)
        if scenario in names:
            self.scenario.value = scenario
        self.false_share = i18n.bind(
            w.Text(value="0, 0.1, 0.2, 0.4", layout=w.Layout(width="420px")),
            "description",
            "free_use.false_share",
        )
        self.detection = i18n.bind(
            w.Text(value="0, 0.3, 0.7", layout=w.Layout(width="420px")), "description", "free_use.detection"
        )
        self.seeds = i18n.bind(w.IntSlider(value=seeds, min=1, max=10), "description", "scenario.seeds")
        self.days = i18n.bind(
            w.BoundedIntText(value=days, min=1, max=3660, layout=w.Layout(width="200px")),
            "description",
            "scenario.days",
        )
        self.run_button = button("free_use.run", "primary", "play")
        self.progress = w.IntProgress(value=0, min=0, max=1, bar_style="info", layout=w.Layout(width="420px"))
        self.table = w.HTML()
        self.plot = w.Box()
        self.downloads = Downloads()
        self.results: pd.DataFrame | None = None
        self.summary: pd.DataFrame | None = None
        self.run_button.on_click(self.guarded(lambda _b: self.run()))
        self.on_language(lambda _lang: self._show() if self.summary is not None else None)
        super().__init__(
            [
                heading("free_use.title"),
                text("free_use.intro"),
                self.scenario,
                self.false_share,
                self.detection,
                w.HBox([self.seeds, self.days]),
                w.HBox([self.run_button, self.progress]),
                self.feedback,
                self.table,
                self.plot,
                self.downloads,
            ]
        )
        self.add_class("mp-free-use-sweep")

    def run(self) -> None:
        guard(self.feedback)(self._run)()

    def _tick(self, n: int = 1) -> None:
        self.progress.value = min(self.progress.max, self.progress.value + int(n))

    def _run(self) -> None:
        from concurrent.futures import ThreadPoolExecutor

        from marketplace.sim import load_scenario, sweep

        if self.scenario.value is None:
            raise InvalidInput("scenario", None, "a scenario from seed/scenarios")
        shares = _shares("false_share", self.false_share.value)
        detection = _shares("detection", self.detection.value)
        sc = load_scenario(self.scenario.value)
        n_seeds, days = int(self.seeds.value), int(self.days.value)
        self.progress.max, self.progress.value = len(shares) * len(detection) * n_seeds, 0
        self.progress.bar_style = "info"
        self.feedback.info(i18n.t("scenario.running"))
        with ThreadPoolExecutor(max_workers=1) as executor:
            results = sweep(
                sc,
                {FALSE_SHARE: shares, DETECTION: detection},
                n_seeds,
                executor,
                days=days,
                progress=self._tick,
            )
        self.results = results
        self.summary = results.groupby([FALSE_SHARE, DETECTION], sort=False)[list(METRICS)].mean()
        self.progress.bar_style = "success"
        self._show()
        self.feedback.ok(
            i18n.t(
                "free_use.done",
                points=len(shares) * len(detection),
                seeds=n_seeds,
                days=days,
                scenario=sc.name,
            )
        )

    def _show(self) -> None:
        summary = self.summary
        assert summary is not None
        frame = summary.reset_index()
        frame.columns = [
            i18n.t("free_use.false_share"),
            i18n.t("free_use.detection"),
            *(i18n.t(f"metric.{m}") for m in METRICS),
        ]
        frame[frame.columns[2]] = frame[frame.columns[2]].map(lambda x: f"{x:.1%}")
        for col in frame.columns[3:]:
            frame[col] = frame[col].map(lambda x: f"{x:,.0f}")
        self.table.value = table_html(frame)
        self._draw()

    def _draw(self) -> None:
        from marketplace.charts import figure

        summary = self.summary
        assert summary is not None
        fig = figure(figsize=(8, 3))
        left, right = fig.subplots(1, 2)
        for det, part in summary.groupby(level=DETECTION, sort=False):
            shares = [float(s) for s in part.index.get_level_values(FALSE_SHARE)]
            label = i18n.t("free_use.plot.detection", rate=f"{float(det):.0%}")
            left.plot(shares, part["leaked_revenue"], "-o", label=label)
            right.plot(shares, part["recovered_revenue"], "--s", label=label)
        for ax, title in ((left, "metric.leaked_revenue"), (right, "metric.recovered_revenue")):
            ax.set_title(i18n.t(title), fontsize=9)
            ax.set_xlabel(i18n.t("free_use.plot.x"))
            ax.set_ylabel(i18n.t("free_use.plot.y"))
            ax.grid(alpha=0.3)
            ax.legend(fontsize=7)
        self.plot.children = [figure_image(fig)]
        self.downloads.clear()
        self.downloads.add_table(summary.reset_index(), "free-use-summary", "download.what.summary")
        if self.results is not None:
            self.downloads.add_table(self.results, "free-use-runs", "download.what.runs")
        self.downloads.add_figure(fig, "free-use-leakage", "download.what.chart_leakage")


def free_use_sweep(scenario: str = "national-2025", *, seeds: int = 2, days: int = 60) -> FreeUseSweep:
    return FreeUseSweep(scenario, seeds=seeds, days=days)
