"""Privacy lab: de-identify a sample of a resource's synthetic rows at chosen k and ℓ and see what it costs.

All measurements come from `marketplace.privacy.deidentify` (the same pipeline every delivery uses); the lab
only picks the inputs and draws the before/after tables, the report and an information-loss curve.
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
    Feedback,
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


class PrivacyLab(w.VBox):
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
        self.k = i18n.bind(w.IntSlider(value=5, min=1, max=50), "description", "privacy.k")
        self.l = i18n.bind(w.IntSlider(value=2, min=1, max=10), "description", "privacy.l")
        self.suppression = i18n.bind(
            w.FloatSlider(value=0.05, min=0.0, max=0.5, step=0.01), "description", "privacy.suppression"
        )
        self.run_button = button("privacy.run", "primary", "play")
        self.before = w.HTML()
        self.after = w.HTML()
        self.metrics = w.HTML()
        self.metrics.add_class("mp-privacy-metrics")
        self.plot = w.Box()
        self.report: Any = None
        self.curve: list[tuple[int, float | None]] = []
        self.run_button.on_click(lambda _b: self.run())
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
            ]
        )
        self.add_class("mp-privacy-lab")

    def _source(self) -> tuple[pd.DataFrame, list[Any]]:
        from marketplace.synth import rows as synth_rows

        if not self.resource.value:
            raise NotFound("resource", "(none with personal information)")
        with self.sandbox.session() as session:
            resource = session.exec(select(Resource).where(Resource.code == self.resource.value)).one()
            fields = list(resource.fields)
            frame = synth_rows(resource, int(self.rows.value), int(self.seed.value))
        return frame, fields

    def run(self) -> None:
        guard(self.feedback)(self._run)()

    def _run(self) -> None:
        from marketplace.privacy import deidentify

        self.feedback.clear()
        frame, fields = self._source()
        release = deidentify(
            frame,
            fields,
            k=int(self.k.value),
            l=int(self.l.value),
            suppression_budget=float(self.suppression.value),
        )
        self.report = release.report
        self.before.value = table_html(frame.head(SHOWN_ROWS))
        self.after.value = table_html(release.table.head(SHOWN_ROWS))
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
        frame = pd.DataFrame(rows, columns=[i18n.t("common.metric"), i18n.t("common.value")])
        return table_html(frame)

    def _loss_curve(self, frame: pd.DataFrame, fields: list[Any]) -> list[tuple[int, float | None]]:
        from marketplace.privacy import deidentify

        curve: list[tuple[int, float | None]] = []
        for k in sorted({*CURVE_KS, int(self.k.value)}):
            try:
                rel = deidentify(
                    frame, fields, k=k, l=int(self.l.value), suppression_budget=float(self.suppression.value)
                )
                curve.append((k, rel.report.ncp))
            except MarketplaceError:
                curve.append((k, None))
        return curve

    def _draw(self) -> None:
        from matplotlib.figure import Figure

        fig = Figure(figsize=(6, 3))
        ax = fig.subplots()
        ks = [k for k, v in self.curve if v is not None]
        ax.plot(ks, [v for _, v in self.curve if v is not None], marker="o")
        if self.report is not None:
            ax.scatter([self.report.k_target], [self.report.ncp], s=120, zorder=3, color="#b00020")
        ax.set_xscale("log")
        ax.set_xlabel("k")
        ax.set_ylabel("NCP")
        ax.set_ylim(0, 1)
        ax.grid(alpha=0.3)
        self.plot.children = [figure_image(fig)]


def privacy_lab(sandbox: Sandbox | None = None) -> PrivacyLab:
    return PrivacyLab(sandbox)
