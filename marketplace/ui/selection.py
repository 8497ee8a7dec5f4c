"""Operator selection as the public sees it: every round of the implementing institutions, its decision and
its applicants (qualified or the criterion they failed, the weighted total, the winner).

The panel only reads: the rounds are opened, scored and decided by `marketplace.workflows.selection`, whose
qualification rule and weights come from the policy (`[selection]`). Nothing here decides anything.
"""

from __future__ import annotations

import html

import ipywidgets as w
import pandas as pd
from sqlmodel import select

from marketplace.models import Organization, SelectionRound
from marketplace.ui import i18n
from marketplace.ui.common import Panel, heading, set_options, table_html, text
from marketplace.ui.context import Sandbox, resolve

LISTED = 100


def _status(rnd: SelectionRound) -> str:
    return i18n.t(f"selection.status.{rnd.status.value}")


def _method(rnd: SelectionRound) -> str:
    return i18n.t(f"selection.method.{rnd.method.value}")


def _failed(rule: str) -> str:
    """The criterion a disqualified applicant failed, in words ("—" when qualified)."""
    criterion = rule.rsplit(".", 1)[-1] if rule else ""
    key = f"selection.criterion.{criterion}"
    return i18n.t(key) if criterion and i18n.has(key) else "—"


class SelectionPanel(Panel):
    def __init__(self, sandbox: Sandbox | None = None) -> None:
        self.sandbox = resolve(sandbox)
        self.rounds_table = w.HTML()
        self.round = i18n.bind(w.Dropdown(layout=w.Layout(width="420px")), "description", "selection.round")
        self.detail = w.HTML()
        self.round.observe(self.guarded(lambda _c: self.show_round()), names="value")
        self.watch(self.sandbox, lambda _c: self.load(), "revision")
        self.on_language(lambda _lang: self.load())
        super().__init__(
            [
                heading("selection.title"),
                text("selection.intro"),
                self.rounds_table,
                self.round,
                self.detail,
            ]
        )
        self.load()

    def load(self) -> None:
        with self.sandbox.session() as s:
            rounds = s.exec(select(SelectionRound).order_by(SelectionRound.id.desc()).limit(LISTED)).all()
            names = {o.id: o.name for o in s.exec(select(Organization)).all()}
            rows = [
                {
                    i18n.column_label("code"): r.code,
                    i18n.t("selection.col.method"): _method(r),
                    i18n.column_label("status"): _status(r),
                    i18n.t("selection.col.institution"): names.get(r.institution_id, "—"),
                    i18n.t("selection.col.winner"): names.get(r.winner_id, "—") if r.winner_id else "—",
                    i18n.t("selection.col.notice_until"): str(r.notice_until) if r.notice_until else "—",
                }
                for r in rounds
            ]
            options = [(r.code, r.id) for r in rounds]
        self.rounds_table.value = table_html(pd.DataFrame(rows))
        set_options(self.round, options)
        self.show_round()

    def show_round(self) -> None:
        if self.round.value is None:
            self.detail.value = ""
            return
        with self.sandbox.session() as s:
            rnd = s.get(SelectionRound, self.round.value)
            if rnd is None:
                self.detail.value = ""
                return
            names = {o.id: o.name for o in s.exec(select(Organization)).all()}
            rows = [
                {
                    i18n.t("selection.col.operator"): names.get(a.operator_id, "—"),
                    i18n.t("selection.col.qualified"): i18n.cell_text(a.qualified),
                    i18n.t("selection.col.failed"): _failed(a.refusal_rule),
                    i18n.t("selection.col.total"): "—" if a.total is None else str(a.total),
                    i18n.t("selection.col.chosen"): i18n.cell_text(a.operator_id == rnd.winner_id),
                }
                for a in sorted(rnd.applications, key=lambda a: a.id)
            ]
            weights = ", ".join(
                f"{i18n.t(f'selection.criterion.{k}')} {v}%" for k, v in (rnd.weights or {}).items()
            )
            why = rnd.justification if rnd.justification else ""
        lines = [f"<p>{html.escape(i18n.t('selection.weights', weights=weights))}</p>"] if weights else []
        if why:
            lines.append(f"<p class='mp-data'>{html.escape(why)}</p>")
        self.detail.value = "".join(lines) + table_html(pd.DataFrame(rows))


def selection_rounds(sandbox: Sandbox | None = None) -> SelectionPanel:
    """The operator selection rounds and their decisions (read only)."""
    return SelectionPanel(sandbox)
