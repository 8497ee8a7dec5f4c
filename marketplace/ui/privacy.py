"""Privacy lab: de-identify a sample of a resource's synthetic rows at chosen k and ℓ and see what it costs.

All measurements come from `marketplace.privacy.deidentify` (the same pipeline every delivery uses); the lab
only picks the inputs and draws the before/after tables, the report and an information-loss curve.
The steps of the privacy story (notebooks/04) sit beside it: `column_roles` (raw rows and the role of each
column), `tradeoff_curve` (risk against information loss as k grows) and `aggregate_lab` (counts with a
minimum cell size and optional Laplace noise, from `marketplace.privacy.aggregate`).
"""

from __future__ import annotations

from typing import Any

import ipywidgets as w
import pandas as pd
from sqlmodel import select

from marketplace.errors import MarketplaceError, NotFound
from marketplace.models import Resource
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
from marketplace.ui.context import Sandbox, resolve
from marketplace.vocabulary import FieldMarking

CURVE_KS = (2, 3, 5, 10, 20, 50)
SHOWN_ROWS = 8


def personal_resources(sandbox: Sandbox) -> list[tuple[str, str]]:
    """(label, code) of resources whose schema has identifiers, quasi-identifiers or sensitive fields."""
    with sandbox.session() as session:
        resources = session.exec(select(Resource).order_by(Resource.code)).all()
        return [(f"{r.code} — {r.title}", r.code) for r in resources if r.contains_personal_info]


def source_rows(sandbox: Sandbox, code: str | None, rows: int, seed: int) -> tuple[pd.DataFrame, list[Any]]:
    """`rows` synthetic rows of resource `code` (deterministic from `seed`) and its field rows."""
    from marketplace.synth import sandbox_rows as synth_rows

    if not code:
        raise NotFound("resource", "(none with personal information)")
    with sandbox.session() as session:
        resource = session.exec(select(Resource).where(Resource.code == code)).one()
        fields = list(resource.fields)
        frame = synth_rows(resource, rows, seed)
    return frame, fields


def policy_floor(sandbox: Sandbox) -> tuple[int, int, str]:
    """The minimum k and ℓ of the policy in force, and its name (the same floor `marketplace release` has)."""
    from marketplace.workflows.facts import current_policy

    with sandbox.session() as session:
        policy = current_policy(session)
        return policy.privacy.k, policy.privacy.l, policy.name


class PrivacyLab(Panel):
    def __init__(self, sandbox: Sandbox | None = None, *, rows: int = 400) -> None:
        self.sandbox = resolve(sandbox)
        self.feedback = Feedback()
        self.resource = i18n.bind(
            w.Dropdown(layout=w.Layout(width="520px")), "description", "privacy.resource"
        )
        set_options(self.resource, personal_resources(self.sandbox))
        self.rows = i18n.bind(
            w.IntSlider(value=rows, min=50, max=5000, step=50), "description", "privacy.rows"
        )
        self.seed = i18n.bind(
            w.IntText(value=1, layout=w.Layout(width="160px")), "description", "common.seed"
        )
        # the sliders start at the minimum of the policy in force: the lab never releases below it
        floor_k, floor_l, _ = policy_floor(self.sandbox)
        self.k = i18n.bind(w.IntSlider(value=max(5, floor_k), min=floor_k, max=max(50, floor_k)),
                           "description", "privacy.k")
        self.l = i18n.bind(w.IntSlider(value=max(2, floor_l), min=floor_l, max=max(10, floor_l)),
                           "description", "privacy.l")
        self.suppression = i18n.bind(
            w.FloatSlider(value=0.05, min=0.0, max=0.5, step=0.01), "description", "privacy.suppression"
        )
        self.run_button = button("privacy.run", "primary", "play")
        self.before = w.HTML()
        self.after = w.HTML()
        self.metrics = w.HTML()
        self.metrics.add_class("mp-privacy-metrics")
        self.plot = w.Box()
        self.downloads = Downloads()
        self.report: Any = None
        self.released: pd.DataFrame | None = None
        self.on_language(self._relabel)
        self.curve: list[tuple[int, float | None]] = []
        self.run_button.on_click(self.guarded(lambda _b: self.run()))
        tables = w.HBox(
            [
                w.VBox([heading("privacy.before", 4), self.before]),
                w.VBox([heading("privacy.after", 4), self.after]),
            ]
        )
        super().__init__(
            [
                heading("privacy.title"),
                text("privacy.intro"),
                self.resource,
                w.HBox([self.rows, self.seed]),
                w.HBox([self.k, self.l]),
                self.suppression,
                self.run_button,
                self.feedback,
                self.metrics,
                tables,
                heading("privacy.loss_title", 4),
                self.plot,
                self.downloads,
            ]
        )
        self.add_class("mp-privacy-lab")

    def _relabel(self, _lang: str) -> None:
        if self.report is not None:
            self.metrics.value = self._metrics_html(self.report)
            self._draw()  # the plot and the files to take away, in the new language

    def _source(self) -> tuple[pd.DataFrame, list[Any]]:
        return source_rows(self.sandbox, self.resource.value, int(self.rows.value), int(self.seed.value))

    def run(self) -> None:
        guard(self.feedback)(self._run)()

    def _run(self) -> None:
        from marketplace.privacy import check_release_targets, deidentify

        self.feedback.clear()
        floor_k, floor_l, policy = policy_floor(self.sandbox)  # read again: a trainer may switch policies
        check_release_targets(int(self.k.value), int(self.l.value), minimum_k=floor_k, minimum_l=floor_l,
                              policy=policy)
        frame, fields = self._source()
        release = deidentify(
            frame,
            fields,
            k=int(self.k.value),
            l=int(self.l.value),
            suppression_budget=float(self.suppression.value),
        )
        self.report, self.released = release.report, release.table
        self.before.value = table_html(frame.head(SHOWN_ROWS), data=True)
        self.after.value = table_html(release.table.head(SHOWN_ROWS), data=True)
        self.metrics.value = self._metrics_html(release.report)
        self.curve = self._loss_curve(frame, fields)
        self._draw()
        r = release.report
        self.feedback.ok(
            i18n.t(
                "privacy.summary",
                k=r.k_achieved,
                l="—" if r.l_achieved is None else f"{r.l_achieved:g}",
                risk=f"{r.prosecutor_risk_max:.3f}",
                ncp=f"{r.ncp:.1%}",
                released=r.rows_released,
                rows=r.rows_in,
                suppressed=r.rows_suppressed,
            )
        )

    def _metrics_html(self, report: Any) -> str:
        return table_html(self._metrics_frame(report))

    def _metrics_frame(self, report: Any) -> pd.DataFrame:
        marks = {
            m: getattr(report, attr)
            for m, attr in (
                (FieldMarking.identifier, "identifiers"),
                (FieldMarking.quasi_identifier, "quasi_identifiers"),
                (FieldMarking.sensitive, "sensitive"),
            )
        }
        rows = [
            (i18n.t("privacy.k_achieved"), f"{report.k_achieved} (≥ {report.k_target})"),
            (
                i18n.t("privacy.l_achieved"),
                "—" if report.l_achieved is None else f"{report.l_achieved:g} (≥ {report.l_target:g})",
            ),
            (i18n.t("privacy.risk_max"), f"{report.prosecutor_risk_max:.3f}"),
            (i18n.t("privacy.risk_avg"), f"{report.prosecutor_risk_avg:.3f}"),
            (i18n.t("privacy.ncp"), f"{report.ncp:.1%}"),
            (i18n.t("privacy.released"), f"{report.rows_released} / {report.rows_in}"),
            (i18n.t("privacy.suppressed"), str(report.rows_suppressed)),
            (i18n.t("privacy.classes"), str(report.equivalence_classes)),
            *((i18n.label(m), ", ".join(cols) or "—") for m, cols in marks.items()),
        ]
        return pd.DataFrame(rows, columns=[i18n.t("common.metric"), i18n.t("common.value")])

    def _loss_curve(self, frame: pd.DataFrame, fields: list[Any]) -> list[tuple[int, float | None]]:
        from marketplace.privacy import deidentify

        curve: list[tuple[int, float | None]] = []
        for k in sorted(k for k in {*CURVE_KS, int(self.k.value)} if k >= self.k.min):
            try:
                rel = deidentify(
                    frame, fields, k=k, l=int(self.l.value), suppression_budget=float(self.suppression.value)
                )
                curve.append((k, rel.report.ncp))
            except MarketplaceError:
                curve.append((k, None))
        return curve

    def _draw(self) -> None:
        chosen = (self.report.k_target, self.report.ncp) if self.report is not None else None
        fig = loss_curve_figure(self.curve, chosen)
        self.plot.children = [figure_image(fig)]
        self.downloads.clear()
        if self.released is not None:
            self.downloads.add_table(self.released, "privacy-lab-released", "download.what.released_rows")
        if self.report is not None:
            self.downloads.add_table(self._metrics_frame(self.report), "privacy-lab-metrics",
                                     "download.what.privacy_metrics")
        curve = pd.DataFrame(self.curve, columns=["k", "ncp"])
        self.downloads.add_table(curve, "privacy-lab-loss", "download.what.loss_curve")
        self.downloads.add_figure(fig, "privacy-lab-loss", "download.what.chart_loss")


def _k_axis(ax: Any, ks: list[int]) -> None:
    """k on a log scale, ticked at the values tried only, written as plain numbers (no overlapping 10^x)."""
    from matplotlib.ticker import NullFormatter

    ax.set_xscale("log")
    ax.minorticks_off()
    ax.xaxis.set_minor_formatter(NullFormatter())
    ax.set_xticks(ks, [str(k) for k in ks])
    ax.set_xlabel(i18n.t("figure.k_axis"))


def loss_curve_figure(curve: list[tuple[int, float | None]], chosen: tuple[int, float] | None) -> Any:
    """Information loss (NCP) of the lab's rows at each k tried; the chosen k marked."""
    from marketplace.charts import figure, no_data

    title = i18n.t("figure.loss.title")
    fig = figure(figsize=(6, 3.2))
    met = [(k, v) for k, v in curve if v is not None]
    if not met:
        return no_data(fig, title)
    ax = fig.subplots()
    ks = [k for k, _ in met]
    ax.plot(ks, [v for _, v in met], marker="o", color="#1565c0", label=i18n.t("figure.loss.ncp"))
    if chosen is not None:
        ax.scatter(
            [chosen[0]], [chosen[1]], s=120, zorder=3, color="#b00020", label=i18n.t("figure.loss.chosen")
        )
    _k_axis(ax, sorted({*ks, *([chosen[0]] if chosen else [])}))
    ax.set_ylabel(i18n.t("figure.loss.axis"))
    ax.set_ylim(0, 1)
    ax.set_title(title)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    return fig


def tradeoff_figure(points: list[dict[str, Any]]) -> Any:
    """Information loss and re-identification risk as k grows (the points the targets could meet)."""
    from marketplace.charts import figure, no_data

    title = i18n.t("figure.tradeoff.title")
    fig = figure(figsize=(6, 3.2))
    met = [p for p in points if p["ncp"] is not None]
    if not met:
        return no_data(fig, title)
    ax = fig.subplots()
    ks = [p["k"] for p in met]
    ax.plot(ks, [p["ncp"] for p in met], "-o", color="#1565c0", label=i18n.t("figure.loss.ncp"))
    ax.plot(ks, [p["risk"] for p in met], "--s", color="#b00020", label=i18n.t("figure.tradeoff.risk"))
    _k_axis(ax, ks)
    ax.set_ylabel(i18n.t("figure.tradeoff.axis"))
    ax.set_ylim(0, 1)
    ax.set_title(title)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    return fig


def privacy_lab(sandbox: Sandbox | None = None) -> PrivacyLab:
    return PrivacyLab(sandbox)


_MARKINGS = (
    FieldMarking.identifier,
    FieldMarking.quasi_identifier,
    FieldMarking.sensitive,
    FieldMarking.other,
)


def _resource_dropdown(sandbox: Sandbox) -> w.Dropdown:
    control = i18n.bind(w.Dropdown(layout=w.Layout(width="520px")), "description", "privacy.resource")
    set_options(control, personal_resources(sandbox))
    return control


class ColumnRoles(Panel):
    """A few raw synthetic rows of a resource, each column tagged with the privacy role the holder gave it.

    The roles come from `marketplace.privacy.resolve_roles` (what the pipeline itself uses), so the tags shown
    are exactly what de-identification will drop, generalize or check.
    """

    def __init__(self, sandbox: Sandbox | None = None, *, rows: int = SHOWN_ROWS, seed: int = 1) -> None:
        self.sandbox = resolve(sandbox)
        self.feedback = Feedback()
        self.resource = _resource_dropdown(self.sandbox)
        self.n_rows, self.seed = int(rows), int(seed)
        self.roles_table = w.HTML()
        self.roles_table.add_class("mp-column-roles")
        self.rows_table = w.HTML()
        self.rows_table.add_class("mp-raw-rows")
        self.roles: dict[str, FieldMarking] = {}
        self.frame: pd.DataFrame | None = None
        self.resource.observe(self.guarded(lambda _c: self.show()), names="value")
        self.on_language(lambda _lang: self.show() if self.frame is not None else None)
        super().__init__(
            [
                heading("guide.roles.title"),
                text("guide.roles.intro"),
                self.resource,
                self.feedback,
                self.roles_table,
                heading("guide.roles.rows", 4),
                self.rows_table,
            ]
        )
        self.add_class("mp-column-roles-panel")
        self.show()

    def show(self) -> None:
        guard(self.feedback)(self._show)()

    def _show(self) -> None:
        from marketplace.privacy import resolve_roles

        frame, fields = source_rows(self.sandbox, self.resource.value, self.n_rows, self.seed)
        roles = resolve_roles(frame, fields).to_dict()
        attrs = dict(zip(_MARKINGS, ("identifiers", "quasi_identifiers", "sensitive", "other"), strict=True))
        self.roles = {col: m for m in _MARKINGS for col in roles[attrs[m]]}
        self.frame = frame
        dtypes = {f.name: f.dtype for f in fields}
        listing = pd.DataFrame(
            [
                (
                    col,
                    i18n.label(self.roles[col]),
                    i18n.label(dtypes.get(col)),
                    i18n.t(f"guide.role.{m.value}"),
                )
                for col in frame.columns
                for m in [self.roles[col]]
            ],
            columns=[
                i18n.t("guide.roles.column"),
                i18n.t("guide.roles.role"),
                i18n.t("guide.roles.type"),
                i18n.t("guide.roles.meaning"),
            ],
        )
        self.roles_table.value = table_html(listing)
        shown = frame.rename(columns={c: f"{c} · {i18n.label(self.roles[c])}" for c in frame.columns})
        self.rows_table.value = table_html(shown, data=True)
        self.feedback.clear()


class AggregateLab(Panel):
    """Counts per group with a minimum cell size and optional Laplace noise (`marketplace.privacy.aggregate`).

    A lab, not a delivery: nothing is released and no ε is written to a resource's ledger.
    """

    def __init__(self, sandbox: Sandbox | None = None, *, rows: int = 1000, min_cell: int = 10) -> None:
        self.sandbox = resolve(sandbox)
        self.feedback = Feedback()
        self.resource = _resource_dropdown(self.sandbox)
        self.rows = i18n.bind(
            w.IntSlider(value=rows, min=50, max=5000, step=50), "description", "privacy.rows"
        )
        self.seed = i18n.bind(
            w.IntText(value=1, layout=w.Layout(width="160px")), "description", "common.seed"
        )
        self.by = i18n.bind(
            w.SelectMultiple(rows=5, layout=w.Layout(width="360px")), "description", "guide.agg.by"
        )
        self.min_cell = i18n.bind(
            w.IntSlider(value=min_cell, min=1, max=100), "description", "guide.agg.min_cell"
        )
        self.epsilon = i18n.bind(
            w.BoundedFloatText(value=0.0, min=0.0, max=100.0, step=0.1, layout=w.Layout(width="200px")),
            "description",
            "guide.agg.epsilon",
        )
        self.run_button = button("guide.agg.run", "primary", "table")
        self.metrics = w.HTML()
        self.metrics.add_class("mp-aggregate-metrics")
        self.table = w.HTML()
        self.table.add_class("mp-aggregate-table")
        self.release: Any = None
        self.on_language(self._relabel)
        self.resource.observe(self.guarded(lambda _c: self._offer_columns()), names="value")
        self.run_button.on_click(self.guarded(lambda _b: self.run()))
        super().__init__(
            [
                heading("guide.agg.title"),
                text("guide.agg.intro"),
                self.resource,
                w.HBox([self.rows, self.seed]),
                self.by,
                w.HBox([self.min_cell, self.epsilon]),
                self.run_button,
                self.feedback,
                self.metrics,
                self.table,
            ]
        )
        self.add_class("mp-aggregate-lab")
        self._offer_columns()

    def _relabel(self, _lang: str) -> None:
        if self.release is not None:
            self.metrics.value = self._metrics_html(self.release.report)

    def _offer_columns(self) -> None:
        """Group-by candidates: all columns but direct identifiers; categorical quasi-identifiers preset."""
        guard(self.feedback)(self._columns)()

    def _columns(self) -> None:
        from marketplace.privacy import resolve_roles
        from marketplace.privacy.schema import QIKind

        frame, fields = source_rows(self.sandbox, self.resource.value, 5, int(self.seed.value))
        roles = resolve_roles(frame, fields)
        self.by.options = [c for c in frame.columns if c not in roles.identifiers]
        self.by.value = tuple(c for c, kind in roles.qi_kinds.items() if kind is QIKind.category)[:2]

    def run(self) -> None:
        guard(self.feedback)(self._run)()

    def _run(self) -> None:
        from marketplace.privacy import aggregate

        self.feedback.clear()
        frame, _fields = source_rows(
            self.sandbox, self.resource.value, int(self.rows.value), int(self.seed.value)
        )
        eps = float(self.epsilon.value) or None
        release = aggregate(
            frame,
            list(self.by.value),
            min_cell=int(self.min_cell.value),
            epsilon=eps,
            seed=int(self.seed.value),
        )
        self.release = release
        r = release.report
        self.metrics.value = self._metrics_html(r)
        self.table.value = table_html(release.table, max_rows=30, data=True)
        self.feedback.ok(
            i18n.t(
                "guide.agg.summary",
                released=r.cells_released,
                total=r.cells_total,
                suppressed=r.cells_suppressed,
                min_cell=r.min_cell,
            )
        )

    def _metrics_html(self, r: Any) -> str:
        rows = [
            (i18n.t("guide.agg.rows_in"), str(r.rows_in)),
            (i18n.t("guide.agg.cells_total"), str(r.cells_total)),
            (i18n.t("guide.agg.cells_released"), str(r.cells_released)),
            (i18n.t("guide.agg.cells_suppressed"), str(r.cells_suppressed)),
            (i18n.t("guide.agg.epsilon_spent"), "—" if r.epsilon_spent is None else f"{r.epsilon_spent:g}"),
            (
                i18n.t("guide.agg.noise_scale"),
                "—" if "count" not in r.noise_scale else f"{r.noise_scale['count']:.3g}",
            ),
        ]
        return table_html(pd.DataFrame(rows, columns=[i18n.t("common.metric"), i18n.t("common.value")]))


def column_roles(sandbox: Sandbox | None = None) -> ColumnRoles:
    return ColumnRoles(sandbox)


def aggregate_lab(sandbox: Sandbox | None = None) -> AggregateLab:
    return AggregateLab(sandbox)


class TradeoffCurve(Panel):
    """Information loss against re-identification risk as k grows, each point one run of
    `marketplace.privacy.deidentify` on the same rows: the price of privacy in one picture."""

    def __init__(
        self, sandbox: Sandbox | None = None, *, rows: int = 400, ks: tuple[int, ...] = CURVE_KS
    ) -> None:
        self.sandbox = resolve(sandbox)
        self.feedback = Feedback()
        self.resource = _resource_dropdown(self.sandbox)
        self.rows = i18n.bind(
            w.IntSlider(value=rows, min=50, max=5000, step=50), "description", "privacy.rows"
        )
        self.l = i18n.bind(w.IntSlider(value=2, min=1, max=10), "description", "privacy.l")
        self.ks = tuple(ks)
        self.run_button = button("guide.curve.run", "primary", "line-chart")
        self.table = w.HTML()
        self.table.add_class("mp-tradeoff-table")
        self.plot = w.Box()
        self.downloads = Downloads()
        self.points: list[dict[str, Any]] = []
        self.run_button.on_click(self.guarded(lambda _b: self.run()))
        self.on_language(lambda _lang: self._relabel() if self.points else None)
        super().__init__(
            [
                heading("guide.curve.title"),
                text("guide.curve.intro"),
                self.resource,
                w.HBox([self.rows, self.l]),
                self.run_button,
                self.feedback,
                self.plot,
                self.table,
                self.downloads,
            ]
        )
        self.add_class("mp-tradeoff")

    def _relabel(self) -> None:
        self._show_table()
        self._draw()

    def run(self) -> None:
        guard(self.feedback)(self._run)()

    def _run(self) -> None:
        from marketplace.privacy import deidentify

        frame, fields = source_rows(self.sandbox, self.resource.value, int(self.rows.value), 1)
        points, refusals = [], []
        for k in self.ks:
            try:
                r = deidentify(frame, fields, k=k, l=int(self.l.value)).report
            except MarketplaceError as exc:  # a target these rows cannot meet: nothing would be released
                points.append({"k": k, "ncp": None, "risk": None, "suppressed": None})
                refusals.append(exc)
                continue
            points.append(
                {"k": k, "ncp": r.ncp, "risk": r.prosecutor_risk_max, "suppressed": r.rows_suppressed}
            )
        met = [p for p in points if p["ncp"] is not None]
        if not met:
            self.points, self.plot.children, self.table.value = [], [], ""
            self.downloads.clear()
            raise refusals[0]
        self.points = points
        self._show_table()
        self._draw()
        self.feedback.ok(
            i18n.t(
                "guide.curve.summary",
                k_low=met[0]["k"],
                k_high=met[-1]["k"],
                ncp_low=f"{met[0]['ncp']:.1%}",
                ncp_high=f"{met[-1]['ncp']:.1%}",
                risk_low=f"{met[0]['risk']:.3f}",
                risk_high=f"{met[-1]['risk']:.3f}",
            )
        )

    def _show_table(self) -> None:
        def fmt(value: Any, spec: str) -> str:
            return "—" if value is None else format(value, spec)

        frame = pd.DataFrame(
            [
                (p["k"], fmt(p["ncp"], ".1%"), fmt(p["risk"], ".3f"), fmt(p["suppressed"], "d"))
                for p in self.points
            ],
            columns=[
                i18n.t("privacy.k"),
                i18n.t("privacy.ncp"),
                i18n.t("privacy.risk_max"),
                i18n.t("privacy.suppressed"),
            ],
        )
        self.table.value = table_html(frame)

    def _draw(self) -> None:
        fig = tradeoff_figure(self.points)
        self.downloads.clear()
        self.downloads.add_table(pd.DataFrame(self.points), "privacy-tradeoff", "download.what.tradeoff")
        self.downloads.add_figure(fig, "privacy-tradeoff", "download.what.chart_tradeoff")
        self.plot.children = [figure_image(fig)]


def tradeoff_curve(sandbox: Sandbox | None = None) -> TradeoffCurve:
    return TradeoffCurve(sandbox)
