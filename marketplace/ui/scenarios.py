"""Scenario lab: pick two scenarios and seeds, run them with a progress bar, compare metrics side by side.

The numbers come from `marketplace.sim.compare` (same seeds for both: common random numbers, 95 % intervals);
one extra run of each on the first seed gives the daily queue curves. Plots are static matplotlib images drawn
by `marketplace.sim.figures` in the language in force; every table and figure can be downloaded. The other
steps of the scenario story (notebooks/05): `scenario_explainer` (what two scenarios and their policies
differ in, from `marketplace.policy.diff_policies`) and `cap_sweep` (a `marketplace.sim.sweep` over one
price cap).
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
    "risk_proxy_mean",
    "compute_queries",
    "compute_value_lost",
    "mar_compliant_share",
    "leaked_revenue",
    "misuse_detected",
)


class ScenarioLab(Panel):
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
        self.downloads = Downloads()
        self.comparison: pd.DataFrame | None = None
        self.daily: dict[str, pd.DataFrame] = {}
        self.run_button.on_click(self.guarded(lambda _b: self.run()))
        self.on_language(lambda _lang: self._relabel() if self.comparison is not None else None)
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
                self.downloads,
            ]
        )
        self.add_class("mp-scenario-lab")

    def _relabel(self) -> None:
        """Tables and figures are drawn in the language in force: draw them again after a switch."""
        self._show_table()
        self._draw()

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
        """One figure per group of metrics and the daily queues (`marketplace.sim.figures`), each offered as
        PNG and SVG beside the comparison table as CSV and Parquet."""
        from marketplace.sim.figures import SCENARIO_GROUPS, queue_figure, scenario_figure

        cmp = self.comparison
        assert cmp is not None
        self.downloads.clear()
        self.downloads.add_table(cmp.reset_index(), "comparison", "download.what.comparison")
        figures = [
            (f"comparison-{key.rsplit('.', 1)[-1]}", scenario_figure(cmp, key, metrics, shared))
            for key, metrics, shared in SCENARIO_GROUPS
        ]
        if self.daily:
            figures.append(("comparison-queue", queue_figure(self.daily)))
        for stem, fig in figures:
            self.downloads.add_figure(fig, stem, f"download.what.chart_{stem.rsplit('-', 1)[-1]}")
        self.plots.children = [figure_image(fig) for _stem, fig in figures]


def scenario_lab(
    a: str = "national-2025", b: str = "sme-discount", *, seeds: int = 3, days: int = 90
) -> ScenarioLab:
    return ScenarioLab(a, b, seeds=seeds, days=days)


# ---------------------------------------------------------------- what a scenario is

FACTS = ("description", "policy", "world", "horizon", "seeds", "arrivals", "capacity")


def _flat(data: dict) -> dict[str, object]:
    """A nested scenario dict as dotted keys (pandas.json_normalize), for a side-by-side diff."""
    row = pd.json_normalize(data, sep=".").iloc[0].to_dict()
    return {k: (v.item() if hasattr(v, "item") else v) for k, v in row.items()}


class ScenarioExplainer(Panel):
    """Two shipped scenarios side by side: their facts, the scenario settings that differ and the policy
    parameters that differ (`marketplace.policy.diff_policies`)."""

    def __init__(self, a: str = "national-2025", b: str = "sme-discount") -> None:
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
        self.facts = w.HTML()
        self.facts.add_class("mp-scenario-facts")
        self.settings = w.HTML()
        self.settings.add_class("mp-scenario-settings-diff")
        self.policy_diff = w.HTML()
        self.policy_diff.add_class("mp-policy-diff")
        self.differences: list[tuple[str, object, object]] = []
        self.setting_differences: list[tuple[str, object, object]] = []
        for control in (self.a, self.b):
            control.observe(self.guarded(lambda _c: self.show()), names="value")
        self.on_language(lambda _lang: self.show())
        super().__init__(
            [
                heading("guide.explain.title"),
                text("guide.explain.intro"),
                w.HBox([self.a, self.b]),
                self.feedback,
                self.facts,
                heading("guide.explain.settings", 4),
                self.settings,
                heading("guide.explain.policy", 4),
                self.policy_diff,
            ]
        )
        self.add_class("mp-scenario-explainer")
        self.show()

    def show(self) -> None:
        guard(self.feedback)(self._show)()

    def _show(self) -> None:
        from marketplace.policy import diff_policies
        from marketplace.sim import load_scenario

        if self.a.value is None or self.b.value is None:
            raise InvalidInput("scenario", None, "two scenarios from seed/scenarios")
        sa, sb = load_scenario(self.a.value), load_scenario(self.b.value)

        def facts(sc: object) -> list[str]:
            return [
                i18n.scenario_description(sc.name, sc.description),
                f"{sc.policy_obj.name} ({sc.policy_obj.version})",
                i18n.t(
                    "guide.explain.world_value",
                    size=i18n.t_or(f"world.size.{sc.world.size}", str(sc.world.size)),
                    seed=sc.world.seed,
                ),
                i18n.t("guide.explain.horizon_value", days=sc.horizon.days, start=sc.horizon.start),
                i18n.t("guide.explain.seeds_value", default=sc.seeds.default, count=sc.seeds.count),
                f"{sum(sc.demand.arrivals.values()):,.0f}",
                " · ".join(f"{i18n.label(k)} {v}" for k, v in sc.review.capacity.items()),
            ]

        columns = [i18n.t("guide.explain.item"), f"A · {sa.name}", f"B · {sb.name}"]
        rows = [
            (i18n.t(f"guide.explain.fact.{key}"), x, y)
            for key, x, y in zip(FACTS, facts(sa), facts(sb), strict=True)
        ]
        self.facts.value = table_html(pd.DataFrame(rows, columns=columns))
        skip = {"name", "description", "source", "policy"}
        fa = _flat(sa.model_dump(mode="json", exclude=skip))
        fb = _flat(sb.model_dump(mode="json", exclude=skip))
        self.setting_differences = [
            (k, fa.get(k, "—"), fb.get(k, "—")) for k in sorted(set(fa) | set(fb)) if fa.get(k) != fb.get(k)
        ]
        self.differences = diff_policies(sa.policy_obj, sb.policy_obj)
        key_col = [i18n.t("guide.explain.key"), f"A · {sa.name}", f"B · {sb.name}"]
        def worded(rows: list[tuple[str, object, object]]) -> pd.DataFrame:
            shown = [
                (i18n.setting_label(k), i18n.setting_value(x), i18n.setting_value(y)) for k, x, y in rows
            ]
            return pd.DataFrame(shown, columns=key_col)

        self.settings.value = table_html(worded(self.setting_differences))
        self.policy_diff.value = table_html(worded(self.differences))
        self.feedback.info(
            i18n.t(
                "guide.explain.summary",
                settings=len(self.setting_differences),
                policy=len(self.differences),
            )
        )


def scenario_explainer(a: str = "national-2025", b: str = "sme-discount") -> ScenarioExplainer:
    return ScenarioExplainer(a, b)


# ---------------------------------------------------------------- a researcher's sweep: caps and small firms

SIZES = ("micro", "small")
CAP_FRACTIONS = ("0.125", "0.25", "0.5", "1")


class CapSweep(Panel):
    """Sweep one price cap of a scenario's policy over a few values (`marketplace.sim.sweep`) and show what
    micro and small enterprises file, get approved and pay.

    Runs in-process on a one-thread executor: no worker processes to start (fast for a notebook, light on a
    1-2 GB Binder), and the progress bar moves as each run finishes.
    """

    def __init__(
        self, scenario: str = "national-2025", unit: str = "per_product", *, seeds: int = 2, days: int = 60
    ) -> None:
        from marketplace.sim import list_scenarios
        from marketplace.vocabulary import BillingUnit

        names = list_scenarios()
        self.feedback = Feedback()
        self.scenario = i18n.bind(w.Dropdown(), "description", "guide.sweep.scenario")
        set_options(self.scenario, names)
        if scenario in names:
            self.scenario.value = scenario
        self.unit = i18n.bind(w.Dropdown(), "description", "common.billing_unit")
        set_options(self.unit, i18n.options(BillingUnit))
        self.unit.value = unit
        self.caps = i18n.bind(w.Text(layout=w.Layout(width="420px")), "description", "guide.sweep.caps")
        self.seeds = i18n.bind(w.IntSlider(value=seeds, min=1, max=10), "description", "scenario.seeds")
        self.days = i18n.bind(
            w.BoundedIntText(value=days, min=1, max=3660, layout=w.Layout(width="200px")),
            "description",
            "scenario.days",
        )
        self.run_button = button("guide.sweep.run", "primary", "play")
        self.progress = w.IntProgress(value=0, min=0, max=1, bar_style="info", layout=w.Layout(width="420px"))
        self.table = w.HTML()
        self.table.add_class("mp-sweep-table")
        self.plot = w.Box()
        self.downloads = Downloads()
        self.currency = "CNY"
        self.results: pd.DataFrame | None = None
        self.summary: pd.DataFrame | None = None
        for control in (self.scenario, self.unit):
            control.observe(self.guarded(lambda _c: self.suggest_caps()), names="value")
        self.run_button.on_click(self.guarded(lambda _b: self.run()))
        self._relabelling = False
        self.on_language(lambda _lang: self._relabel())
        super().__init__(
            [
                heading("guide.sweep.title"),
                text("guide.sweep.intro"),
                w.HBox([self.scenario, self.unit]),
                self.caps,
                w.HBox([self.seeds, self.days]),
                w.HBox([self.run_button, self.progress]),
                self.feedback,
                self.table,
                self.plot,
                self.downloads,
            ]
        )
        self.add_class("mp-cap-sweep")
        self.suggest_caps()

    def _relabel(self) -> None:
        """Re-word the unit choices and the results, keeping the unit and the caps typed."""
        self._relabelling = True
        try:
            from marketplace.vocabulary import BillingUnit

            set_options(self.unit, i18n.options(BillingUnit))
        finally:
            self._relabelling = False
        if self.summary is not None:
            self._show()

    def suggest_caps(self) -> None:
        if self._relabelling:
            return
        guard(self.feedback)(self._suggest)()

    def _suggest(self) -> None:
        """Offer fractions of the cap in force (1/8 ... 1), in whole cents; the sweep validates them."""
        from decimal import ROUND_HALF_UP, Decimal

        from marketplace.sim import load_scenario
        from marketplace.vocabulary import BillingUnit

        if self.scenario.value is None or self.unit.value is None:
            return
        cap = load_scenario(self.scenario.value).policy_obj.pricing.caps.get(BillingUnit(self.unit.value))
        if cap is None:
            self.caps.value = ""
            self.feedback.info(i18n.t("guide.sweep.no_cap", unit=i18n.label(self.unit.value)))
            return
        values = [(cap * Decimal(f)).quantize(Decimal("0.01"), ROUND_HALF_UP) for f in CAP_FRACTIONS]
        self.caps.value = ", ".join(dict.fromkeys(str(v) for v in values if v > 0))
        self.feedback.clear()

    def cap_values(self) -> list[str]:
        values = [v.strip() for v in self.caps.value.split(",") if v.strip()]
        if not values:
            raise InvalidInput(
                "caps", self.caps.value, "one or more amounts separated by commas, e.g. 5000, 10000"
            )
        return values

    def _tick(self, n: int = 1) -> None:
        self.progress.value = min(self.progress.max, self.progress.value + int(n))

    def run(self) -> None:
        guard(self.feedback)(self._run)()

    def _run(self) -> None:
        from concurrent.futures import ThreadPoolExecutor

        from marketplace.sim import load_scenario, sweep, sweep_summary

        if self.scenario.value is None:
            raise InvalidInput("scenario", None, "a scenario from seed/scenarios")
        caps = self.cap_values()
        key = f"policy.overrides.pricing.caps.{self.unit.value}"
        sc = load_scenario(self.scenario.value)
        n_seeds, days = int(self.seeds.value), int(self.days.value)
        self.progress.max, self.progress.value, self.progress.bar_style = len(caps) * n_seeds, 0, "info"
        self.feedback.info(i18n.t("scenario.running"))
        with ThreadPoolExecutor(max_workers=1) as executor:
            results = sweep(sc, {key: caps}, n_seeds, executor, days=days, progress=self._tick)
        self.results = results
        self.currency = sc.policy_obj.pricing.currency
        self.summary = sweep_summary(results, [key])
        self.summary.index.name = "cap"
        self.progress.bar_style = "success"
        self._show()
        self.feedback.ok(
            i18n.t("guide.sweep.done", points=len(caps), seeds=n_seeds, days=days, scenario=sc.name)
        )

    def _show(self) -> None:
        from marketplace.sim import SMALL_FIRM_METRICS

        summary = self.summary
        assert summary is not None

        def cell(row: pd.Series, metric: str) -> str:
            mean, low, high = row[metric], row[f"{metric}.low"], row[f"{metric}.high"]
            return f"{mean:,.0f}" if low == high else f"{mean:,.0f} [{low:,.0f}, {high:,.0f}]"

        frame = pd.DataFrame(
            [[cap, *(cell(row, m) for m in SMALL_FIRM_METRICS)] for cap, row in summary.iterrows()],
            columns=[
                i18n.t("common.price_cap"),
                *(
                    i18n.t(f"guide.sweep.metric.{m.split('.')[0]}", size=i18n.label(m.rsplit("_", 1)[1]))
                    for m in SMALL_FIRM_METRICS
                ),
            ],
        )
        self.table.value = table_html(frame)
        self._draw()

    def _draw(self) -> None:
        """The sweep figure (`marketplace.sim.figures.sweep_figure`, the same as `marketplace sweep --plot`),
        with the runs and the summary as tables and the figure as images to download."""
        from marketplace.sim.figures import sweep_figure

        summary, results = self.summary, self.results
        assert summary is not None and results is not None
        x_label = i18n.t(
            "figure.sweep.cap_axis", unit=i18n.label(self.unit.value), currency=self.currency
        )
        fig = sweep_figure(summary, x_label, currency=self.currency)
        self.downloads.clear()
        self.downloads.add_table(summary.reset_index(), "sweep-summary", "download.what.summary")
        self.downloads.add_table(results, "sweep-runs", "download.what.runs")
        self.downloads.add_figure(fig, "sweep-small-firms", "download.what.chart_sweep")
        self.plot.children = [figure_image(fig)]


def cap_sweep(
    scenario: str = "national-2025", unit: str = "per_product", *, seeds: int = 2, days: int = 60
) -> CapSweep:
    return CapSweep(scenario, unit, seeds=seeds, days=days)
