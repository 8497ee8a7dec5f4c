"""Operator panel: authorizations (propose, agree, activate, terminate) and products (create, register, price
within the cap, list, withdraw); the regulator sets caps here too.

Each button is one `marketplace.workflows` step taking the acting account; who may take it, and whether a
price is within the cap, is decided there (through `marketplace.policy`), and a refusal is shown in the panel.
"""

from __future__ import annotations

from typing import Any

import ipywidgets as w
import pandas as pd
from sqlmodel import or_, select

from marketplace.errors import InvalidInput, NotFound
from marketplace.models import Account, Authorization, CostFiling, Organization, Product, Resource
from marketplace.policy import TRANSFORMATIONS  # raw is offered too: the policy refuses it
from marketplace.ui import i18n
from marketplace.ui.common import Feedback, Panel, button, guard, heading, set_options, table_html, text
from marketplace.ui.context import Sandbox, resolve
from marketplace.vocabulary import AuthorizationModel, BillingUnit, OrganizationKind, ProductKind, Role

LISTED = 200


def _money(value: Any) -> str:
    return "—" if value is None else f"{float(value):,.2f}"


MAX_COSTS_CHARS = 500


def parse_costs(text: str) -> dict[str, str]:
    """ "platform=1200000, staff=600000" -> {"platform": "1200000", ...}; the workflow checks the amounts."""
    if not isinstance(text, str) or not text.strip() or len(text) > MAX_COSTS_CHARS:
        raise InvalidInput("costs", text[:40] if isinstance(text, str) else text,
                           "category=amount pairs separated by commas, e.g. platform=1200000, staff=600000")
    out: dict[str, str] = {}
    for part in text.split(","):
        name, sep, amount = part.partition("=")
        if not sep or not name.strip() or not amount.strip() or name.strip() in out:
            raise InvalidInput("costs", part.strip(), "category=amount, each category once")
        out[name.strip()] = amount.strip()
    return out


class OperatorPanel(Panel):
    def __init__(self, sandbox: Sandbox | None = None) -> None:
        self.sandbox = resolve(sandbox)
        self.feedback = Feedback()
        # authorizations
        self.auth_table = w.HTML()
        self.authorization = i18n.bind(
            w.Dropdown(layout=w.Layout(width="560px")), "description", "operator.authorization"
        )
        self.agree_button = button("operator.agree")
        self.activate_button = button("operator.activate")
        self.terminate_button = button("operator.terminate", "danger")
        self.reason = i18n.bind(w.Text(layout=w.Layout(width="420px")), "description", "review.reason")
        self.partner = i18n.bind(w.Dropdown(layout=w.Layout(width="420px")), "description", "common.operator")
        self.scope = i18n.bind(
            w.SelectMultiple(rows=4, layout=w.Layout(width="560px")), "description", "operator.scope"
        )
        self.model = i18n.bind(
            w.Dropdown(options=i18n.options(AuthorizationModel)), "description", "operator.model"
        )
        self.term = i18n.bind(w.BoundedIntText(value=3, min=1, max=50), "description", "operator.term")
        self.propose_button = button("operator.propose", "primary")
        # products
        self.product_table = w.HTML()
        self.product = i18n.bind(w.Dropdown(layout=w.Layout(width="560px")), "description", "request.product")
        self.price = i18n.bind(
            w.Text(placeholder="12.50", layout=w.Layout(width="260px")), "description", "common.actual_price"
        )
        self.price_button = button("operator.set_price", "primary")
        self.register_button = button("operator.register")
        self.list_button = button("operator.list", "success")
        self.withdraw_button = button("operator.withdraw", "warning")
        self.cap = i18n.bind(
            w.Text(placeholder="20.00", layout=w.Layout(width="260px")), "description", "common.price_cap"
        )
        self.cap_button = button("operator.set_cap")
        # price formation
        self.mar_table = w.HTML()
        self.forecast = i18n.bind(
            w.BoundedIntText(value=100_000, min=1, max=10**12, layout=w.Layout(width="260px")),
            "description",
            "operator.forecast_volume",
        )
        self.file_cap_button = button("operator.file_cap", "primary")
        self.costs = i18n.bind(
            w.Text(placeholder="platform=1200000, staff=600000", layout=w.Layout(width="560px")),
            "description",
            "operator.costs",
        )
        self.cost_year = i18n.bind(
            w.BoundedIntText(value=2026, min=2000, max=2100, layout=w.Layout(width="200px")),
            "description",
            "common.year",
        )
        self.file_costs_button = button("operator.file_costs")
        self.set_mar_button = button("operator.set_mar")
        self.close_button = button("operator.close_period", "warning")
        self.new_name = i18n.bind(w.Text(layout=w.Layout(width="420px")), "description", "common.name")
        self.new_kind = i18n.bind(w.Dropdown(options=i18n.options(ProductKind)), "description", "common.kind")
        self.new_unit = i18n.bind(
            w.Dropdown(options=i18n.options(BillingUnit)), "description", "common.billing_unit"
        )
        self.new_transformation = i18n.bind(
            w.Dropdown(options=i18n.options(TRANSFORMATIONS)), "description", "operator.transformation"
        )
        self.new_resources = i18n.bind(
            w.SelectMultiple(rows=4, layout=w.Layout(width="560px")), "description", "operator.resources"
        )
        self.new_cost = i18n.bind(
            w.Text(placeholder="5.00", layout=w.Layout(width="260px")), "description", "operator.unit_cost"
        )
        self.create_button = button("operator.create", "primary")
        self.products: list[dict[str, Any]] = []
        actions = {
            self.agree_button: self.agree,
            self.activate_button: self.activate,
            self.terminate_button: self.terminate,
            self.propose_button: self.propose,
            self.price_button: self.set_price,
            self.register_button: self.register,
            self.list_button: self.list_product,
            self.withdraw_button: self.withdraw,
            self.cap_button: self.set_cap,
            self.file_cap_button: self.file_cap,
            self.file_costs_button: self.file_costs,
            self.set_mar_button: self.set_mar,
            self.close_button: self.close_period,
            self.create_button: self.create,
        }
        for btn, action in actions.items():
            btn.on_click(self.guarded(lambda _b, act=action: act()))
        self.authorization.observe(self.guarded(lambda _c: self._fill_new_resources()), names="value")
        self.watch(self.sandbox, lambda _c: self.load(), "account_id")
        self.watch(self.sandbox, lambda _c: self.load(), "revision")
        self.on_language(lambda _lang: self.load())
        super().__init__(
            [
                heading("operator.title"),
                text("operator.intro"),
                heading("operator.authorizations", 4),
                self.auth_table,
                self.authorization,
                w.HBox([self.agree_button, self.activate_button, self.terminate_button]),
                self.reason,
                heading("operator.propose_title", 4),
                self.partner,
                self.scope,
                w.HBox([self.model, self.term]),
                self.propose_button,
                heading("operator.products", 4),
                self.product_table,
                self.product,
                w.HBox(
                    [
                        self.price,
                        self.price_button,
                        self.register_button,
                        self.list_button,
                        self.withdraw_button,
                    ]
                ),
                w.HBox([self.cap, self.cap_button]),
                heading("operator.price_formation", 4),
                text("operator.price_formation_intro"),
                self.mar_table,
                w.HBox([self.costs, self.cost_year, self.file_costs_button]),
                w.HBox([self.forecast, self.file_cap_button]),
                w.HBox([self.set_mar_button, self.close_button]),
                heading("operator.create_title", 4),
                self.new_name,
                w.HBox([self.new_kind, self.new_unit]),
                w.HBox([self.new_transformation, self.new_cost]),
                self.new_resources,
                self.create_button,
                self.feedback,
            ]
        )
        self.add_class("mp-operator")
        self.load()

    # ---------------------------------------------------------------- listing

    def load(self) -> None:
        guard(self.feedback)(self._load)()

    def _load(self) -> None:
        org_id, regulator = None, False
        with self.sandbox.session() as session:
            if self.sandbox.account_id is not None:
                account = session.get(Account, self.sandbox.account_id)
                org_id, regulator = account.organization_id, Role.regulator in account.role_names
            auth_q = select(Authorization).order_by(Authorization.id.desc()).limit(LISTED)
            prod_q = select(Product).order_by(Product.id.desc()).limit(LISTED)
            if not regulator:
                auth_q = auth_q.where(
                    or_(Authorization.agency_id == org_id, Authorization.operator_id == org_id)
                )
                agency_auths = select(Authorization.id).where(Authorization.agency_id == org_id)
                # the operator's own products, and those its agency authorized (it files their caps)
                prod_q = prod_q.where(
                    or_(Product.operator_id == org_id, Product.authorization_id.in_(agency_auths))
                )
            auths = [
                {
                    "id": a.id,
                    "code": a.code,
                    "agency": a.agency.name,
                    "operator": a.operator.name,
                    "model": a.model,
                    "status": a.status,
                    "until": a.term_end,
                    "scope": ", ".join(r.code for r in a.resources),
                }
                for a in session.exec(auth_q).all()
            ]
            self.products = [
                {
                    "id": p.id,
                    "code": p.code,
                    "name": p.name,
                    "kind": p.kind,
                    "unit": p.billing_unit,
                    "status": p.status,
                    "cap": p.price_cap,
                    "price": p.actual_price,
                }
                for p in session.exec(prod_q).all()
            ]
            operators = session.exec(
                select(Organization.id, Organization.name)
                .where(Organization.kind == OrganizationKind.operator)
                .order_by(Organization.name)
            ).all()
            from marketplace.workflows import clock, current_policy
            from marketplace.workflows.price_formation import mar_positions

            policy = current_policy(session)
            year = clock.today(session).year
            if self.cost_year.value < year:
                self.cost_year.value = year
            positions = mar_positions(session, year, policy, None if regulator else org_id)
            own = session.exec(
                select(Resource.id, Resource.code, Resource.title)
                .where(Resource.holder_id == org_id)
                .order_by(Resource.code)
            ).all()
        self.auth_table.value = table_html(
            pd.DataFrame(
                [
                    (
                        a["code"],
                        a["agency"],
                        a["operator"],
                        i18n.label(a["model"]),
                        i18n.label(a["status"]),
                        a["until"].isoformat() if a["until"] else "—",
                        a["scope"],
                    )
                    for a in auths
                ],
                columns=[
                    i18n.t("common.code"),
                    i18n.t("operator.agency"),
                    i18n.t("common.operator"),
                    i18n.t("operator.model"),
                    i18n.t("common.status"),
                    i18n.t("common.valid_until"),
                    i18n.t("operator.scope"),
                ],
            )
        )
        set_options(
            self.authorization, [(f"{a['code']} · {i18n.label(a['status'])}", a["id"]) for a in auths]
        )
        self.product_table.value = table_html(
            pd.DataFrame(
                [
                    (
                        p["code"],
                        p["name"],
                        i18n.label(p["kind"]),
                        i18n.label(p["unit"]),
                        i18n.label(p["status"]),
                        _money(p["cap"]),
                        _money(p["price"]),
                    )
                    for p in self.products
                ],
                columns=[
                    i18n.t("common.code"),
                    i18n.t("common.name"),
                    i18n.t("common.kind"),
                    i18n.t("common.billing_unit"),
                    i18n.t("common.status"),
                    i18n.t("common.price_cap"),
                    i18n.t("common.actual_price"),
                ],
            )
        )
        set_options(self.product, [(f"{p['code']} · {p['name']}", p["id"]) for p in self.products])
        self.mar_table.value = table_html(
            pd.DataFrame(
                [
                    (
                        op.operator,
                        op.position.period,
                        op.cost_filing or "—",
                        _money(op.position.mar),
                        _money(op.position.deduction),
                        _money(op.position.revenue),
                        _money(op.position.headroom),
                        i18n.label(op.position.compliant),
                        i18n.label(op.closed),
                    )
                    for op in positions
                ],
                columns=[
                    i18n.t("common.operator"),
                    i18n.t("common.year"),
                    i18n.t("operator.cost_filing"),
                    i18n.t("operator.mar"),
                    i18n.t("operator.deduction"),
                    i18n.t("operator.revenue"),
                    i18n.t("operator.headroom"),
                    i18n.t("operator.within_mar"),
                    i18n.t("operator.period_closed"),
                ],
            )
        )
        set_options(self.partner, [(name, oid) for oid, name in operators])
        self.scope.options = [(f"{code} — {title}", rid) for rid, code, title in own]
        for control, enum in (
            (self.model, AuthorizationModel),
            (self.new_kind, ProductKind),
            (self.new_unit, BillingUnit),
            (self.new_transformation, TRANSFORMATIONS),
        ):
            set_options(control, i18n.options(enum))
        self._fill_new_resources()

    def _fill_new_resources(self) -> None:
        if self.authorization.value is None:
            self.new_resources.options = []
            return
        with self.sandbox.session() as session:
            auth = session.get(Authorization, self.authorization.value)
            self.new_resources.options = [(f"{r.code} — {r.title}", r.id) for r in auth.resources]

    # ---------------------------------------------------------------- steps

    def _run(self, step: Any) -> Any:
        return guard(self.feedback)(step)()

    def _authorization_step(self, fn_name: str, message: str, *args: Any) -> None:
        from marketplace.workflows import authorization as wa

        if self.authorization.value is None:
            raise NotFound("authorization", "(none chosen)")
        with self.sandbox.session() as session:
            auth = session.get(Authorization, self.authorization.value)
            getattr(wa, fn_name)(session, self.sandbox.account(session), auth, *args)
            code, status = auth.code, auth.status
        self.sandbox.changed()
        self.feedback.ok(i18n.t(message, code=code, status=i18n.label(status)))

    def agree(self) -> None:
        self._run(lambda: self._authorization_step("agree_authorization", "operator.auth_moved"))

    def activate(self) -> None:
        self._run(lambda: self._authorization_step("activate_authorization", "operator.auth_moved"))

    def terminate(self) -> None:
        self._run(
            lambda: self._authorization_step(
                "terminate_authorization", "operator.auth_moved", self.reason.value
            )
        )

    def propose(self) -> None:
        self._run(self._propose)

    def _propose(self) -> None:
        from marketplace.workflows.authorization import propose_authorization

        if self.partner.value is None:
            raise NotFound("operator", "(none chosen)")
        with self.sandbox.session() as session:
            resources = [session.get(Resource, rid) for rid in self.scope.value]
            auth = propose_authorization(
                session,
                self.sandbox.account(session),
                operator=session.get(Organization, self.partner.value),
                resources=resources,
                model=self.model.value,
                term_years=int(self.term.value),
            )
            code, status = auth.code, auth.status
        self.sandbox.changed()
        self.feedback.ok(i18n.t("operator.auth_moved", code=code, status=i18n.label(status)))

    def _product_step(self, fn_name: str, *args: Any) -> None:
        from marketplace.workflows import products as wp

        if self.product.value is None:
            raise NotFound("product", "(none chosen)")
        with self.sandbox.session() as session:
            product = session.get(Product, self.product.value)
            getattr(wp, fn_name)(session, self.sandbox.account(session), product, *args)
            code, status, cap, price = product.code, product.status, product.price_cap, product.actual_price
        self.sandbox.changed()
        self.feedback.ok(
            i18n.t(
                "operator.product_moved",
                code=code,
                status=i18n.label(status),
                cap=_money(cap),
                price=_money(price),
            )
        )

    def set_price(self) -> None:
        self._run(lambda: self._product_step("price_product", self.price.value.strip()))

    def set_cap(self) -> None:
        self._run(lambda: self._product_step("set_price_cap", self.cap.value.strip()))

    def file_cap(self) -> None:
        self._run(self._file_cap)

    def _file_cap(self) -> None:
        from marketplace.workflows.price_formation import file_cap

        if self.product.value is None:
            raise NotFound("product", "(none chosen)")
        with self.sandbox.session() as session:
            product = session.get(Product, self.product.value)
            filing = file_cap(
                session,
                self.sandbox.account(session),
                product,
                cap=self.cap.value.strip(),
                forecast_volume=int(self.forecast.value),
                basis="filed from the operator panel",
            )
            msg = i18n.t(
                "operator.cap_filed",
                cap=_money(filing.cap),
                code=product.code,
                filing=filing.code,
                kind=i18n.t("operator.cap_provisional" if filing.provisional else "operator.cap_within_mar"),
            )
        self.sandbox.changed()
        self.feedback.ok(msg)

    def file_costs(self) -> None:
        self._run(self._file_costs)

    def _file_costs(self) -> None:
        from marketplace.workflows.price_formation import file_costs

        costs = parse_costs(self.costs.value)
        with self.sandbox.session() as session:
            filing = file_costs(
                session, self.sandbox.account(session), year=int(self.cost_year.value), costs=costs,
                basis="filed from the operator panel",
            )
            msg = i18n.t("operator.costs_filed", code=filing.code, cost=_money(filing.operating_cost))
        self.sandbox.changed()
        self.feedback.ok(msg)

    def _operator_org(self, session: Any) -> Organization:
        if self.partner.value is None:
            raise NotFound("operator", "(none chosen)")
        return session.get(Organization, self.partner.value)

    def set_mar(self) -> None:
        self._run(self._set_mar)

    def _set_mar(self) -> None:
        from marketplace.workflows import clock
        from marketplace.workflows.price_formation import determine_mar

        with self.sandbox.session() as session:
            org = self._operator_org(session)
            year = clock.today(session).year
            filing = session.exec(
                select(CostFiling).where(CostFiling.operator_id == org.id, CostFiling.year == year)
            ).first()
            if filing is None:
                raise NotFound("cost filing", f"{org.name} {year}")
            period = determine_mar(session, self.sandbox.account(session), filing)
            msg = i18n.t("operator.mar_set", year=year, operator=org.name, mar=_money(period.mar))
        self.sandbox.changed()
        self.feedback.ok(msg)

    def close_period(self) -> None:
        self._run(self._close_period)

    def _close_period(self) -> None:
        from marketplace.workflows import clock
        from marketplace.workflows.price_formation import close_period

        with self.sandbox.session() as session:
            org = self._operator_org(session)
            year = clock.today(session).year - 1
            period = close_period(session, self.sandbox.account(session), org, year)
            msg = i18n.t(
                "operator.period_closed_msg",
                year=year,
                operator=org.name,
                revenue=_money(period.revenue),
                mar=_money(period.mar),
                carried=_money(period.excess),
            )
        self.sandbox.changed()
        self.feedback.ok(msg)

    def register(self) -> None:
        self._run(lambda: self._product_step("register_product"))

    def list_product(self) -> None:
        self._run(lambda: self._product_step("list_product"))

    def withdraw(self) -> None:
        self._run(lambda: self._product_step("withdraw_product", self.reason.value))

    def create(self) -> None:
        self._run(self._create)

    def _create(self) -> None:
        from marketplace.workflows.products import create_product

        if self.authorization.value is None:
            raise NotFound("authorization", "(none chosen)")
        with self.sandbox.session() as session:
            auth = session.get(Authorization, self.authorization.value)
            product = create_product(
                session,
                self.sandbox.account(session),
                auth,
                name=self.new_name.value,
                kind=self.new_kind.value,
                billing_unit=self.new_unit.value,
                resources=[session.get(Resource, rid) for rid in self.new_resources.value],
                transformation=self.new_transformation.value,
                unit_cost=self.new_cost.value.strip() or None,
            )
            code, status, cap = product.code, product.status, product.price_cap
            pid = product.id
        self.sandbox.changed()
        self.product.value = pid if pid in [v for _, v in self.product.options] else self.product.value
        self.feedback.ok(
            i18n.t("operator.product_moved", code=code, status=i18n.label(status), cap=_money(cap), price="—")
        )


def operator_panel(sandbox: Sandbox | None = None) -> OperatorPanel:
    return OperatorPanel(sandbox)
