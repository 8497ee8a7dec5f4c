"""Usable but not visible: one question answered from rows, by aggregate SQL and by differential privacy.

Every figure comes from `marketplace.compute.tradeoff` (which calls the same de-identification, SQL checks and
OpenDP measurements as deliveries do); the panel only picks the inputs and shows the answers and the plot.
"""

from __future__ import annotations

from typing import Any

import ipywidgets as w
import pandas as pd
from sqlmodel import select

from marketplace.errors import NotFound
from marketplace.models import Resource
from marketplace.ui import i18n
from marketplace.ui.common import Feedback, Panel, button, figure_image, guard, heading, table_html, text
from marketplace.ui.context import Sandbox, resolve

METHODS = ("rows", "sql", "dp")


def question_resources(sandbox: Sandbox) -> list[tuple[str, str]]:
    """Resources with admission and discharge dates (their length of stay is the question's target)."""
    with sandbox.session() as session:
        resources = session.exec(select(Resource).order_by(Resource.code)).all()
        return [(f"{r.code} — {r.title}", r.code) for r in resources
                if {"admission_date", "discharge_date", "age", "district"} <= {f.name for f in r.fields}]


def labels() -> dict[str, str]:
    """The plot's texts in the language in force."""
    out = {m: i18n.t(f"compute.method.{m}") for m in METHODS}
    out.update({f"{m}_param": i18n.t(f"compute.param.{m}") for m in METHODS})
    out.update(risk=i18n.t("compute.axis.risk"), epsilon=i18n.t("compute.axis.epsilon"),
               error=i18n.t("compute.axis.error"), title=i18n.t("compute.plot_title"))
    return out


class ComputeTradeoff(Panel):
    """Three answers at chosen k, minimum cell and ε, and the error-against-risk sweep."""

    def __init__(self, sandbox: Sandbox | None = None, *, rows: int = 20_000) -> None:
        self.sandbox = resolve(sandbox)
        self.feedback = Feedback()
        options = question_resources(self.sandbox)
        self.resource = i18n.bind(w.Dropdown(options=options, value=options[0][1] if options else None),
                                  "description", "privacy.resource")
        self.rows = i18n.bind(w.IntSlider(value=rows, min=1000, max=100_000, step=1000), "description",
                              "compute.rows")
        self.k = i18n.bind(w.IntSlider(value=10, min=2, max=250), "description", "compute.k")
        self.l = i18n.bind(w.IntSlider(value=2, min=1, max=5), "description", "compute.l")
        self.min_cell = i18n.bind(w.IntSlider(value=10, min=1, max=100), "description", "compute.min_cell")
        self.epsilon = i18n.bind(w.FloatLogSlider(value=1.0, base=10, min=-2, max=1, step=0.1), "description",
                                 "compute.epsilon")
        self.run_button = button("compute.run", "primary", "balance-scale")
        self.sweep_button = button("compute.sweep", "", "line-chart")
        self.table = w.HTML()
        self.plot = w.Box()
        self.answers: list[Any] = []
        self.sweep_table: pd.DataFrame | None = None
        self.run_button.on_click(self.guarded(lambda _b: self.run()))
        self.sweep_button.on_click(self.guarded(lambda _b: self.sweep()))
        self.on_language(lambda _lang: self._redraw())
        super().__init__([
            heading("compute.title"),
            text("compute.intro"),
            self.resource,
            w.HBox([self.rows, self.k, self.l]),
            w.HBox([self.min_cell, self.epsilon]),
            w.HBox([self.run_button, self.sweep_button]),
            self.feedback,
            self.table,
            self.plot,
        ])
        self.add_class("mp-compute-tradeoff")

    def _frame(self) -> tuple[pd.DataFrame, Any]:
        from marketplace.compute.tradeoff import default_question, with_length_of_stay
        from marketplace.synth import sandbox_rows

        if not self.resource.value:
            raise NotFound("resource", "(none with admission and discharge dates)")
        with self.sandbox.session() as session:
            resource = session.exec(select(Resource).where(Resource.code == self.resource.value)).one()
            fields = [(f.name, f.marking.value) for f in resource.fields]
            frame = with_length_of_stay(sandbox_rows(resource, int(self.rows.value), 1))
        return frame, default_question(frame, fields)

    def run(self) -> None:
        guard(self.feedback)(self._run)()

    def _run(self) -> None:
        from marketplace.compute.tradeoff import compare

        frame, question = self._frame()
        self.answers = compare(frame, question, k=int(self.k.value), l=int(self.l.value),
                               min_cell=int(self.min_cell.value), epsilon=float(self.epsilon.value))
        self._redraw()
        by = {a.method: a for a in self.answers}
        self.feedback.ok(i18n.t(
            "compute.summary", k=int(self.k.value), rows_error=f"{by['rows'].error:.2%}",
            min_cell=int(self.min_cell.value), sql_error=f"{by['sql'].error:.2%}",
            sql_missing=by["sql"].cells_unanswered, epsilon=f"{self.epsilon.value:g}",
            dp_error=f"{by['dp'].error:.2%}",
        ))

    def sweep(self) -> None:
        guard(self.feedback)(self._sweep)()

    def _sweep(self) -> None:
        from marketplace.compute.tradeoff import sweep

        frame, question = self._frame()
        self.sweep_table = sweep(frame, question, l=int(self.l.value))
        self._redraw()

    def _redraw(self) -> None:
        if self.answers:
            frame = pd.DataFrame([
                (i18n.t(f"compute.method.{a.method}"),
                 f"{i18n.t(f'compute.param.{a.method}')} = {a.parameter:g}",
                 f"{a.risk:.3f}", f"{a.error:.2%}", a.cells_unanswered, f"{a.seconds:.2f}")
                for a in self.answers
            ], columns=[i18n.t(k) for k in ("compute.method", "compute.parameter", "compute.risk",
                                            "compute.error", "compute.unanswered", "compute.seconds")])
            self.table.value = table_html(frame)
        self._draw()

    def _draw(self) -> None:
        from marketplace.charts import figure
        from marketplace.compute.tradeoff import plot_tradeoff

        points = self.sweep_table
        if points is None and self.answers:
            points = pd.DataFrame([a.to_dict() for a in self.answers])
        if points is None:
            return
        fig = figure(figsize=(10, 3.8))
        plot_tradeoff(points, labels(), ax=fig.subplots(1, 2))
        self.plot.children = [figure_image(fig)]


def compute_tradeoff(sandbox: Sandbox | None = None, *, rows: int = 20_000) -> ComputeTradeoff:
    return ComputeTradeoff(sandbox, rows=rows)


KINDS = ("aggregate_query", "dp_release", "model_training", "verification")
EXAMPLES = {
    "aggregate_query": "SELECT district, COUNT(*) AS n FROM data GROUP BY district",
    "dp_release": '{"measure": "count", "epsilon": 0.5}',
    "model_training": '{"target": "age", "features": ["sex"], "task": "regression"}',
    "verification": '{"record": {"district": "East"}}',
}


class ComputeUnderGrant(Panel):
    """The requester runs one computation under a grant: SQL for an aggregate query, parameters (JSON) for the
    other kinds. The workflow checks, runs, charges and audits it; the panel shows the result and its cost."""

    def __init__(self, sandbox: Sandbox | None = None) -> None:
        self.sandbox = resolve(sandbox)
        self.feedback = Feedback()
        self.request_code = i18n.bind(w.Text(layout=w.Layout(width="320px")), "description",
                                      "compute.grant.request")
        self.kind = i18n.bind(w.Dropdown(options=self._kinds(), value=KINDS[0]), "description",
                              "compute.grant.kind")
        self.spec = i18n.bind(w.Textarea(value=EXAMPLES[KINDS[0]], rows=3, layout=w.Layout(width="640px")),
                              "description", "compute.grant.spec")
        self.run_button = button("compute.grant.run", "primary", "play")
        self.result = w.HTML()
        self.last: Any = None
        self.kind.observe(self._example, names="value")
        self.run_button.on_click(self.guarded(lambda _b: self.run()))
        self.on_language(lambda _lang: self._relabel())
        super().__init__([
            heading("compute.grant.title"),
            text("compute.grant.intro"),
            w.HBox([self.request_code, self.kind]),
            self.spec,
            self.run_button,
            self.feedback,
            self.result,
        ])
        self.add_class("mp-compute-grant")

    @staticmethod
    def _kinds() -> list[tuple[str, str]]:
        return [(i18n.t(f"enum.{k}"), k) for k in KINDS]

    def _relabel(self) -> None:
        value = self.kind.value
        self.kind.options = self._kinds()
        self.kind.value = value

    def _example(self, change: dict[str, Any]) -> None:
        if change.get("new") in EXAMPLES:
            self.spec.value = EXAMPLES[change["new"]]

    def computation(self) -> dict[str, Any]:
        """The computation as the workflow takes it: the SQL, or the JSON parameters of the other kinds."""
        import json

        from marketplace.errors import InvalidInput

        raw = self.spec.value.strip()
        if self.kind.value == "aggregate_query":
            return {"sql": raw}
        try:
            spec = json.loads(raw)
        except ValueError:
            spec = None
        if not isinstance(spec, dict):
            raise InvalidInput("computation", raw[:80], "a JSON object of the computation's parameters")
        return spec

    def run(self) -> None:
        guard(self.feedback)(self._run)()

    def _run(self) -> None:
        from marketplace.models import AccessRequest
        from marketplace.workflows.computation import run_computation

        code = self.request_code.value.strip()
        spec = self.computation()
        with self.sandbox.session() as session:
            req = session.exec(select(AccessRequest).where(AccessRequest.code == code)).first()
            if req is None:
                raise NotFound("request", code)
            done = run_computation(session, self.sandbox.account(session), req, self.kind.value, spec)
            charge = (done.run.detail or {}).get("charge", "0.00")
            epsilon, suppressed = done.run.epsilon, done.run.cells_suppressed
        self.last = done
        value = done.value
        if isinstance(value, pd.DataFrame):
            self.result.value = table_html(value.head(50))
        else:
            import html

            self.result.value = f"<pre>{html.escape(str(value))[:4000]}</pre>"
        self.sandbox.changed()
        self.feedback.ok(i18n.t("compute.grant.done", kind=i18n.t(f"enum.{self.kind.value}"), code=code,
                                charge=charge, epsilon=f"{epsilon:g}", suppressed=suppressed))


def compute_under_grant(sandbox: Sandbox | None = None) -> ComputeUnderGrant:
    return ComputeUnderGrant(sandbox)
