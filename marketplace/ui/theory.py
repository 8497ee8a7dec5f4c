"""The simulator checked against queueing theory, as a panel: simulated and analytic waiting time over loads.

Everything is computed by `marketplace.sim.theory` (an M/M/c review stage run over seeds beside Erlang C); the
panel reads the loads, runs the curve in-process and draws `waiting_curve_figure`.
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
    table_html,
    text,
)

MAX_POINTS = 8


def _loads(raw: str) -> list[float]:
    """Comma-separated utilisations, each strictly between 0 and 1."""
    values = [v.strip() for v in raw.split(",") if v.strip()]
    expected = (
        f"1 to {MAX_POINTS} utilisations between 0 and 1 (exclusive), separated by commas, e.g. 0.5, 0.8"
    )
    if not values or len(values) > MAX_POINTS:
        raise InvalidInput("loads", raw[:40], expected)
    out = []
    for v in values:
        try:
            x = float(v)
        except ValueError:
            raise InvalidInput("loads", v[:40], expected) from None
        if not 0 < x < 1:
            raise InvalidInput("loads", v[:40], expected)
        out.append(x)
    return sorted(set(out))


class TheoryCheck(Panel):
    def __init__(self, *, seeds: int = 20, days: int = 365) -> None:
        self.feedback = Feedback()
        self.loads = i18n.bind(
            w.Text(value="0.3, 0.5, 0.7, 0.8, 0.9", layout=w.Layout(width="420px")),
            "description",
            "theory.loads",
        )
        self.servers = i18n.bind(w.IntSlider(value=3, min=1, max=20), "description", "theory.servers")
        self.mean = i18n.bind(
            w.BoundedFloatText(value=0.2, min=0.01, max=10.0, step=0.05, layout=w.Layout(width="260px")),
            "description",
            "theory.mean",
        )
        self.seeds = i18n.bind(w.IntSlider(value=seeds, min=2, max=50), "description", "scenario.seeds")
        self.days = i18n.bind(
            w.BoundedIntText(value=days, min=30, max=3660, layout=w.Layout(width="200px")),
            "description",
            "scenario.days",
        )
        self.run_button = button("theory.run", "primary", "play")
        self.progress = w.IntProgress(value=0, min=0, max=1, bar_style="info", layout=w.Layout(width="420px"))
        self.table = w.HTML()
        self.plot = w.Box()
        self.downloads = Downloads()
        self.curve: pd.DataFrame | None = None
        self.run_button.on_click(self.guarded(lambda _b: self.run()))
        self.on_language(lambda _lang: self._show() if self.curve is not None else None)
        super().__init__(
            [
                heading("theory.title"),
                text("theory.intro"),
                self.loads,
                w.HBox([self.servers, self.mean]),
                w.HBox([self.seeds, self.days]),
                w.HBox([self.run_button, self.progress]),
                self.feedback,
                self.table,
                self.plot,
                self.downloads,
            ]
        )
        self.add_class("mp-theory-check")

    def run(self) -> None:
        guard(self.feedback)(self._run)()

    def _tick(self, n: int = 1) -> None:
        self.progress.value = min(self.progress.max, self.progress.value + int(n))

    def _run(self) -> None:
        from marketplace.sim.theory import waiting_curve

        loads = _loads(self.loads.value)
        n_seeds, days = int(self.seeds.value), int(self.days.value)
        self.progress.max, self.progress.value = len(loads) * n_seeds, 0
        self.progress.bar_style = "info"
        self.feedback.info(i18n.t("scenario.running"))
        self.curve = waiting_curve(
            loads,
            servers=int(self.servers.value),
            mean_service_days=float(self.mean.value),
            seeds=n_seeds,
            days=days,
            progress=self._tick,
        )
        self.progress.bar_style = "success"
        self._show()
        inside = int(
            (
                (self.curve["low"] <= self.curve["analytic"]) & (self.curve["analytic"] <= self.curve["high"])
            ).sum()
        )
        self.feedback.ok(i18n.t("theory.done", inside=inside, points=len(loads), seeds=n_seeds, days=days))

    def _show(self) -> None:
        from marketplace.sim.theory import waiting_curve_figure

        curve = self.curve
        assert curve is not None
        frame = pd.DataFrame(
            {
                i18n.t("theory.col.load"): curve["load"].map(lambda x: f"{x:.0%}"),
                i18n.t("theory.col.analytic"): curve["analytic"].map(lambda x: f"{x:.4f}"),
                i18n.t("theory.col.simulated"): curve["simulated"].map(lambda x: f"{x:.4f}"),
                i18n.t("theory.col.interval"): [
                    f"{lo:.4f} – {hi:.4f}" for lo, hi in zip(curve["low"], curve["high"], strict=True)
                ],
            }
        )
        self.table.value = table_html(frame)
        fig = waiting_curve_figure(curve)
        self.plot.children = [figure_image(fig)]
        self.downloads.clear()
        self.downloads.add_table(curve, "erlang-c-check", "download.what.summary")
        self.downloads.add_figure(fig, "erlang-c-check", "download.what.chart_waiting")


def theory_check(*, seeds: int = 20, days: int = 365) -> TheoryCheck:
    return TheoryCheck(seeds=seeds, days=days)
