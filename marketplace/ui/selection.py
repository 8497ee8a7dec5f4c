"""Operator selection: every round of the implementing institutions as the public sees it (its decision
and its applicants, qualified or the criterion they failed, the weighted total, the winner), and the desk
where rounds are run (`selection_panel`).

The rounds panel only reads; each button of the desk is one step of `marketplace.workflows.selection`
(open, apply, score, decide, award directly), whose qualification rule, weights and direct-award grounds
come from the policy (`[selection]`). Nothing here decides anything.
"""

from __future__ import annotations

import html
from typing import Any

import ipywidgets as w
import pandas as pd
from sqlmodel import select

from marketplace.errors import NotFound
from marketplace.models import Organization, SelectionRound
from marketplace.ui import i18n
from marketplace.ui.common import Feedback, Panel, button, heading, set_options, table_html, text
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
        self.detail.value = "" if self.round.value is None else round_detail(self.sandbox, self.round.value)


def round_detail(sandbox: Sandbox, round_id: int) -> str:
    """One round's weights, justification and applicants (qualified or the criterion failed, weighted total,
    chosen), as HTML: the read-only panel and the selection desk show the same table."""
    with sandbox.session() as s:
        rnd = s.get(SelectionRound, round_id)
        if rnd is None:
            return ""
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
    return "".join(lines) + table_html(pd.DataFrame(rows))


def selection_rounds(sandbox: Sandbox | None = None) -> SelectionPanel:
    """The operator selection rounds and their decisions (read only)."""
    return SelectionPanel(sandbox)


# ---------------------------------------------------------------- the selection desk (acting)


def plan_detail(plan: Any) -> str:
    """An implementation plan's scope, scenarios, security measures and expected products: the seeded plan's
    text in the language in force, what a person typed as written."""

    def items(values: Any) -> str:
        return i18n.listing(i18n.seeded_text(str(v)) for v in values or []) or "—"

    line = i18n.t(
        "selection.plan_detail",
        scope=i18n.seeded_text(plan.scope) or "—",
        scenarios=items(plan.scenarios),
        measures=items(plan.security_measures),
        products=items(plan.expected_products),
    )
    return f'<div class="mp-plan-detail">{html.escape(line)}</div>'


def round_label(rnd: SelectionRound) -> str:
    """A round as a dropdown shows it: its code, how it chooses and where it stands."""
    return f"{rnd.code} — {_method(rnd)}, {_status(rnd)}"


class SelectionDesk(Panel):
    """The institution opens a round over resources of an approved plan, operators apply, the institution
    scores the qualified applications and decides, or awards directly where the policy allows it.

    Every button is one step of `marketplace.workflows.selection` taken as the account chosen in the act-as
    picker; who may take it, who qualifies and whether a direct award is allowed are decided there, and a
    refusal is shown in the panel's feedback line in the language in force.
    """

    def __init__(self, sandbox: Sandbox | None = None) -> None:
        from marketplace.policy import SELECTION_CRITERIA
        from marketplace.workflows.selection import GROUNDS

        self.sandbox = resolve(sandbox)
        self.feedback = Feedback()
        wide = w.Layout(width="560px")
        self.round = i18n.bind(w.Dropdown(layout=wide), "description", "selection.round")
        self.detail = w.HTML()
        # opening a round (and the scope of a direct award)
        self.plan = i18n.bind(w.Dropdown(layout=wide), "description", "selection.plan")
        self.plan_detail = w.HTML()
        self.resources = i18n.bind(
            w.SelectMultiple(rows=4, layout=wide), "description", "selection.resources"
        )
        self.title = i18n.bind(w.Text(layout=wide), "description", "selection.round_title")
        self.open_button = button("selection.open", "primary")
        # an operator applies with its declarations (also the facts of a direct award)
        self.security_level = i18n.bind(
            w.BoundedIntText(value=3, min=1, max=5, layout=w.Layout(width="260px")),
            "description", "selection.security_level",
        )
        self.capital = i18n.bind(
            w.Text(placeholder="50000000", layout=w.Layout(width="320px")), "description", "selection.capital"
        )
        self.statement = i18n.bind(w.Text(layout=wide), "description", "selection.statement")
        self.apply_button = button("selection.apply", "primary")
        # the institution scores and decides
        self.application = i18n.bind(w.Dropdown(layout=wide), "description", "selection.application")
        self.scores = {
            c: i18n.bind(
                w.BoundedIntText(value=70, min=0, max=100, layout=w.Layout(width="220px")),
                "description", f"selection.criterion.{c}",
            )
            for c in SELECTION_CRITERIA
        }
        self.score_button = button("selection.score")
        self.note = i18n.bind(w.Text(layout=wide), "description", "selection.note")
        self.decide_button = button("selection.decide", "success")
        # a direct award
        self.operator = i18n.bind(w.Dropdown(layout=wide), "description", "common.operator")
        self.grounds_values = GROUNDS
        self.grounds = i18n.bind(
            w.Dropdown(options=i18n.options(GROUNDS), layout=wide), "description", "selection.grounds"
        )
        self.justification = i18n.bind(
            w.Textarea(rows=3, layout=wide), "description", "selection.justification"
        )
        self.award_button = button("selection.award", "warning")
        actions = {
            self.open_button: self.open_round,
            self.apply_button: self.apply,
            self.score_button: self.score,
            self.decide_button: self.decide,
            self.award_button: self.award,
        }
        for btn, action in actions.items():
            btn.on_click(self.guarded(lambda _b, act=action: act()))
        self.round.observe(self.guarded(lambda _c: self.show_round()), names="value")
        self.plan.observe(self.guarded(lambda _c: self._fill_resources()), names="value")
        self.watch(self.sandbox, lambda _c: self.load(), "revision")
        self.on_language(lambda _lang: self.load())
        super().__init__(
            [
                heading("selection.desk_title"),
                text("selection.desk_intro"),
                heading("selection.open_title", 4),
                self.plan,
                self.plan_detail,
                self.resources,
                self.title,
                self.open_button,
                heading("selection.apply_title", 4),
                self.round,
                self.detail,
                w.HBox([self.security_level, self.capital]),
                self.statement,
                self.apply_button,
                heading("selection.score_title", 4),
                self.application,
                w.HBox(list(self.scores.values())[:2]),
                w.HBox(list(self.scores.values())[2:]),
                self.score_button,
                self.note,
                self.decide_button,
                heading("selection.award_title", 4),
                text("selection.award_intro"),
                self.operator,
                self.grounds,
                self.justification,
                self.award_button,
                self.feedback,
            ]
        )
        self.load()

    # ---------------------------------------------------------------- what is shown

    def load(self) -> None:
        from marketplace.models import ImplementationPlan
        from marketplace.vocabulary import OrganizationKind, PlanStatus

        with self.sandbox.session() as s:
            names = {o.id: o.name for o in s.exec(select(Organization)).all()}
            rounds = s.exec(select(SelectionRound).order_by(SelectionRound.id.desc()).limit(LISTED)).all()
            plans = s.exec(
                select(ImplementationPlan)
                .where(ImplementationPlan.status == PlanStatus.approved)
                .order_by(ImplementationPlan.id)
            ).all()
            round_options = [(round_label(r), r.id) for r in rounds]
            plan_options = [(f"{p.code} — {names.get(p.institution_id, '—')}", p.id) for p in plans]
            operators = s.exec(
                select(Organization.id, Organization.name)
                .where(Organization.kind == OrganizationKind.operator)
                .order_by(Organization.name)
            ).all()
        set_options(self.round, round_options)
        set_options(self.plan, plan_options)
        set_options(self.operator, [(name, oid) for oid, name in operators])
        value = self.grounds.value
        self.grounds.options = i18n.options(self.grounds_values)
        self.grounds.value = value
        self._fill_resources()
        self.show_round()

    def _fill_resources(self) -> None:
        from marketplace.models import ImplementationPlan

        if self.plan.value is None:
            self.resources.options = []
            self.plan_detail.value = ""
            return
        with self.sandbox.session() as s:
            plan = s.get(ImplementationPlan, self.plan.value)
            options = [(f"{r.code} — {r.title}", r.id) for r in sorted(plan.resources, key=lambda r: r.code)]
            self.plan_detail.value = plan_detail(plan)
        keep = tuple(v for v in self.resources.value if v in {o[1] for o in options})
        self.resources.options = options
        self.resources.value = keep

    def show_round(self) -> None:
        """The chosen round's applicants (qualified or the criterion failed, totals) and its applications
        to score."""
        self.detail.value = "" if self.round.value is None else round_detail(self.sandbox, self.round.value)
        options: list[tuple[str, int]] = []
        if self.round.value is not None:
            with self.sandbox.session() as s:
                rnd = s.get(SelectionRound, self.round.value)
                names = {o.id: o.name for o in s.exec(select(Organization)).all()}
                for a in sorted(rnd.applications if rnd else [], key=lambda a: a.id):
                    if not a.qualified:
                        state = i18n.t("selection.app.unqualified", criterion=_failed(a.refusal_rule))
                    elif a.total is None:
                        state = i18n.t("selection.app.unscored")
                    else:
                        state = i18n.t("selection.app.scored", total=str(a.total))
                    options.append((f"{names.get(a.operator_id, '—')} — {state}", a.id))
        set_options(self.application, options)

    # ---------------------------------------------------------------- steps

    def _chosen_round(self, s: Any) -> SelectionRound:
        rnd = None if self.round.value is None else s.get(SelectionRound, self.round.value)
        if rnd is None:
            raise NotFound("selection round", "(none chosen)")
        return rnd

    def _scope(self, s: Any) -> tuple[Any, list[Any]]:
        from marketplace.models import ImplementationPlan, Resource

        plan = None if self.plan.value is None else s.get(ImplementationPlan, self.plan.value)
        return plan, [s.get(Resource, rid) for rid in self.resources.value]

    def _done(self, message: str, round_id: int | None = None) -> None:
        self.sandbox.changed()
        if round_id is not None and round_id in [v for _, v in self.round.options]:
            self.round.value = round_id
        self.feedback.ok(message)

    def open_round(self) -> None:
        from marketplace.workflows.selection import open_selection

        with self.sandbox.session() as s:
            plan, scope = self._scope(s)
            rnd = open_selection(
                s, self.sandbox.account(s), resources=scope, title=self.title.value, plan=plan
            )
            code, rid, count = rnd.code, rnd.id, len(scope)
        self._done(i18n.t("selection.opened", code=code, count=count), rid)

    def apply(self) -> None:
        from marketplace.workflows.selection import apply_for_selection

        with self.sandbox.session() as s:
            rnd = self._chosen_round(s)
            app = apply_for_selection(
                s, self.sandbox.account(s), rnd, security_level=int(self.security_level.value),
                registered_capital=self.capital.value, statement=self.statement.value,
            )
            code, rid, who = rnd.code, rnd.id, s.get(Organization, app.operator_id).name
            qualified, rule = app.qualified, app.refusal_rule
        self.sandbox.changed()
        self.round.value = rid
        if qualified:
            self.feedback.ok(i18n.t("selection.applied", operator=who, code=code))
        else:
            self.feedback.info(
                i18n.t("selection.applied_unqualified", operator=who, code=code,
                       criterion=_failed(rule), rule=rule)
            )

    def score(self) -> None:
        from marketplace.models import SelectionApplication
        from marketplace.workflows.selection import score_application

        with self.sandbox.session() as s:
            chosen = self.application.value
            app = None if chosen is None else s.get(SelectionApplication, chosen)
            if app is None:
                raise NotFound("application", "(none chosen)")
            scores = {c: int(box.value) for c, box in self.scores.items()}
            score_application(s, self.sandbox.account(s), app, scores)
            who, total, rid = s.get(Organization, app.operator_id).name, str(app.total), app.selection_id
        self._done(i18n.t("selection.scored", operator=who, total=total), rid)

    def decide(self) -> None:
        from marketplace.workflows.selection import decide_selection

        with self.sandbox.session() as s:
            rnd = decide_selection(s, self.sandbox.account(s), self._chosen_round(s), self.note.value)
            code, rid, until = rnd.code, rnd.id, str(rnd.notice_until)
            winner = s.get(Organization, rnd.winner_id).name if rnd.winner_id else None
        if winner is None:
            self._done(i18n.t("selection.failed", code=code), rid)
        else:
            self._done(i18n.t("selection.decided", code=code, operator=winner, until=until), rid)

    def award(self) -> None:
        from marketplace.workflows.selection import award_directly

        with self.sandbox.session() as s:
            operator = None if self.operator.value is None else s.get(Organization, self.operator.value)
            if operator is None:
                raise NotFound("operator", "(none chosen)")
            plan, scope = self._scope(s)
            rnd = award_directly(
                s, self.sandbox.account(s), operator=operator, resources=scope, grounds=self.grounds.value,
                justification=self.justification.value, security_level=int(self.security_level.value),
                registered_capital=self.capital.value, plan=plan,
            )
            code, rid, until, who = rnd.code, rnd.id, str(rnd.notice_until), operator.name
        self._done(i18n.t("selection.awarded", code=code, operator=who, until=until), rid)


def selection_panel(sandbox: Sandbox | None = None) -> SelectionDesk:
    """Run operator selection as the acting account: open a round, apply, score, decide, award directly."""
    return SelectionDesk(sandbox)
