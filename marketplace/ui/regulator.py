"""Regulator panel: the price authority's side of the price-formation chain, and supervision of free use.

The pricing notice (发改价格〔2025〕65号) has the price authority, with the data authority, set each
operator's maximum allowed revenue (MAR) in advance and close each period; the authorizing body files the caps
within it (operator panel). Here the regulator reads the operators' cost filings, sets MAR from a filing, sees
every cap filed against it, closes a period (the excess is deducted from the next MAR), and finds misused free
grants (revoked and charged at the paid price).

Each button is one `marketplace.workflows` step taking the acting account: who may take it is decided there,
and a refusal is shown in the panel. Figures come from the same functions the disclosure report and the
simulator use (`price_formation.mar_positions`).
"""

from __future__ import annotations

from typing import Any

import ipywidgets as w
import pandas as pd
from sqlmodel import select

from marketplace.errors import NotFound
from marketplace.models import Account, CapFiling, CostFiling, Organization, Product, RevenuePeriod
from marketplace.ui import i18n
from marketplace.ui.common import Feedback, Panel, button, guard, heading, set_options, table_html, text
from marketplace.ui.context import Sandbox, resolve
from marketplace.ui.operator import mar_positions_table, money
from marketplace.vocabulary import OrganizationKind, Role

LISTED = 200


class RegulatorPanel(Panel):
    def __init__(self, sandbox: Sandbox | None = None) -> None:
        self.sandbox = resolve(sandbox)
        self.feedback = Feedback()
        self.note = w.HTML()
        self.year = i18n.bind(
            w.BoundedIntText(value=2025, min=2000, max=2100, layout=w.Layout(width="200px")),
            "description",
            "common.year",
        )
        self.mar_table = w.HTML()
        self.cost_table = w.HTML()
        self.cap_table = w.HTML()
        self.free_table = w.HTML()
        self.operator = i18n.bind(
            w.Dropdown(layout=w.Layout(width="420px")), "description", "common.operator"
        )
        self.set_mar_button = button("operator.set_mar", "primary")
        self.close_button = button("operator.close_period", "warning")
        self.product = i18n.bind(w.Dropdown(layout=w.Layout(width="560px")), "description", "request.product")
        self.cap = i18n.bind(
            w.Text(placeholder="20.00", layout=w.Layout(width="260px")), "description", "common.price_cap"
        )
        self.cap_button = button("operator.set_cap")
        self.grant = i18n.bind(w.Dropdown(layout=w.Layout(width="560px")), "description", "regulator.grant")
        self.reason = i18n.bind(w.Text(layout=w.Layout(width="560px")), "description", "review.reason")
        self.misuse_button = button("regulator.find_misuse", "danger")
        actions = {
            self.set_mar_button: self._set_mar,
            self.close_button: self._close_period,
            self.cap_button: self._set_cap,
            self.misuse_button: self._find_misuse,
        }
        for btn, action in actions.items():
            btn.on_click(lambda _b, act=action: self._run(act))
        self.year.observe(self.guarded(lambda _c: self.load()), names="value")
        self.watch(self.sandbox, lambda _c: self.load(), "account_id")
        self.watch(self.sandbox, lambda _c: self.load(), "revision")
        self.on_language(lambda _lang: self.load())
        super().__init__(
            [
                heading("regulator.title"),
                text("regulator.intro"),
                self.note,
                self.year,
                heading("regulator.positions", 4),
                self.mar_table,
                heading("regulator.cost_filings", 4),
                self.cost_table,
                w.HBox([self.operator, self.set_mar_button, self.close_button]),
                heading("regulator.cap_filings", 4),
                self.cap_table,
                w.HBox([self.product, self.cap, self.cap_button]),
                heading("regulator.free_use", 4),
                text("regulator.free_use_intro"),
                self.free_table,
                self.grant,
                w.HBox([self.reason, self.misuse_button]),
                self.feedback,
            ]
        )
        self.add_class("mp-regulator")
        self._year_set = False
        self.load()

    # ---------------------------------------------------------------- listing

    def load(self) -> None:
        guard(self.feedback)(self._load)()

    def _regulator(self, session: Any) -> bool:
        if self.sandbox.account_id is None:
            return False
        return Role.regulator in session.get(Account, self.sandbox.account_id).role_names

    def _load(self) -> None:
        from marketplace.workflows import clock, current_policy, free_grants
        from marketplace.workflows.price_formation import mar_positions

        with self.sandbox.session() as session:
            if not self._year_set:  # start on the sandbox's year, then keep the user's choice
                self._year_set = True
                self.year.value = clock.today(session).year
            year = int(self.year.value)
            regulator = self._regulator(session)
            self.note.value = "" if regulator else f"<p><i>{i18n.t('regulator.act_as')}</i></p>"
            positions = mar_positions(session, year, current_policy(session)) if regulator else []
            names = dict(
                session.exec(
                    select(Organization.id, Organization.name).where(
                        Organization.kind == OrganizationKind.operator
                    )
                ).all()
            )
            mar_set = {
                p.operator_id
                for p in session.exec(
                    select(RevenuePeriod).where(
                        RevenuePeriod.year == year, RevenuePeriod.determined_at.is_not(None)
                    )
                ).all()
            }
            costs = (
                session.exec(
                    select(CostFiling)
                    .where(CostFiling.year == year)
                    .order_by(CostFiling.id.desc())
                    .limit(LISTED)
                ).all()
                if regulator
                else []
            )
            cost_rows = [
                (
                    f.code,
                    names.get(f.operator_id, "—"),
                    money(f.operating_cost),
                    money(f.taxes),
                    f.filed_at.date().isoformat(),
                    i18n.label(f.operator_id in mar_set),
                )
                for f in costs
            ]
            caps = (
                session.exec(
                    select(CapFiling, Product.code)
                    .join(Product, Product.id == CapFiling.product_id)
                    .where(CapFiling.year == year)
                    .order_by(CapFiling.id.desc())
                    .limit(LISTED)
                ).all()
                if regulator
                else []
            )
            cap_rows = [
                (
                    f.code,
                    code,
                    names.get(f.operator_id, "—"),
                    money(f.cap),
                    f"{f.forecast_volume:,}",
                    money(f.forecast_revenue),
                    i18n.t("operator.cap_provisional" if f.provisional else "operator.cap_within_mar"),
                    i18n.label(f.status == "in_force"),
                    f.filed_at.date().isoformat(),
                )
                for f, code in caps
            ]
            products = (
                session.exec(
                    select(Product.id, Product.code, Product.name).order_by(Product.id.desc()).limit(LISTED)
                ).all()
                if regulator
                else []
            )
            grants = free_grants(session, limit=LISTED) if regulator else []
            free_rows = [
                (
                    r.code,
                    r.requester_org.name,
                    i18n.label(r.purpose),
                    r.product.code if r.product is not None else "—",
                    i18n.label(r.status),
                )
                for r in grants
            ]
            grant_options = [(f"{r.code} · {r.requester_org.name}", r.id) for r in grants]
        self.mar_table.value = mar_positions_table(positions)
        self.cost_table.value = table_html(
            pd.DataFrame(
                cost_rows,
                columns=[
                    i18n.t("operator.cost_filing"),
                    i18n.t("common.operator"),
                    i18n.t("regulator.operating_cost"),
                    i18n.t("regulator.taxes"),
                    i18n.t("regulator.filed_on"),
                    i18n.t("regulator.mar_set"),
                ],
            )
        )
        self.cap_table.value = table_html(
            pd.DataFrame(
                cap_rows,
                columns=[
                    i18n.t("regulator.cap_filing"),
                    i18n.t("request.product"),
                    i18n.t("common.operator"),
                    i18n.t("common.price_cap"),
                    i18n.t("operator.forecast_volume"),
                    i18n.t("regulator.forecast_revenue"),
                    i18n.t("common.kind"),
                    i18n.t("regulator.in_force"),
                    i18n.t("regulator.filed_on"),
                ],
            )
        )
        self.free_table.value = table_html(
            pd.DataFrame(
                free_rows,
                columns=[
                    i18n.t("common.code"),
                    i18n.t("regulator.requester"),
                    i18n.t("regulator.purpose"),
                    i18n.t("request.product"),
                    i18n.t("common.status"),
                ],
            )
        )
        set_options(self.operator, sorted(((name, oid) for oid, name in names.items()), key=lambda o: o[0]))
        set_options(self.product, [(f"{code} · {name}", pid) for pid, code, name in products])
        set_options(self.grant, grant_options)

    # ---------------------------------------------------------------- steps

    def _run(self, action: Any) -> None:
        guard(self.feedback)(action)()

    def _operator_org(self, session: Any) -> Organization:
        if self.operator.value is None:
            raise NotFound("operator", "(none chosen)")
        return session.get(Organization, self.operator.value)

    def _set_mar(self) -> None:
        from marketplace.workflows.price_formation import determine_mar

        year = int(self.year.value)
        with self.sandbox.session() as session:
            org = self._operator_org(session)
            filing = session.exec(
                select(CostFiling).where(CostFiling.operator_id == org.id, CostFiling.year == year)
            ).first()
            if filing is None:
                raise NotFound("cost filing", f"{org.name} {year}")
            period = determine_mar(session, self.sandbox.account(session), filing)
            msg = i18n.t("operator.mar_set", year=year, operator=org.name, mar=money(period.mar))
        self.sandbox.changed()
        self.feedback.ok(msg)

    def _close_period(self) -> None:
        from marketplace.workflows.price_formation import close_period

        year = int(self.year.value)
        with self.sandbox.session() as session:
            org = self._operator_org(session)
            period = close_period(session, self.sandbox.account(session), org, year)
            msg = i18n.t(
                "operator.period_closed_msg",
                year=year,
                operator=org.name,
                revenue=money(period.revenue),
                mar=money(period.mar),
                carried=money(period.excess),
            )
        self.sandbox.changed()
        self.feedback.ok(msg)

    def _set_cap(self) -> None:
        from marketplace.workflows.products import set_price_cap

        if self.product.value is None:
            raise NotFound("product", "(none chosen)")
        with self.sandbox.session() as session:
            product = session.get(Product, self.product.value)
            set_price_cap(session, self.sandbox.account(session), product, self.cap.value.strip())
            msg = i18n.t(
                "operator.product_moved",
                code=product.code,
                status=i18n.label(product.status),
                cap=money(product.price_cap),
                price=money(product.actual_price),
            )
        self.sandbox.changed()
        self.feedback.ok(msg)

    def _find_misuse(self) -> None:
        from marketplace.models import AccessRequest
        from marketplace.workflows import find_misuse

        if self.grant.value is None:
            raise NotFound("request", "(none chosen)")
        with self.sandbox.session() as session:
            request = session.get(AccessRequest, self.grant.value)
            payment = find_misuse(session, self.sandbox.account(session), request, self.reason.value)
            msg = i18n.t("regulator.misuse_found", code=request.code, amount=money(payment.amount))
        self.sandbox.changed()
        self.reason.value = ""
        self.feedback.ok(msg)


def regulator_panel(sandbox: Sandbox | None = None) -> RegulatorPanel:
    return RegulatorPanel(sandbox)
