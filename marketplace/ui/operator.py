"""Operator panel: authorizations (propose, agree, activate, terminate), products (create, register, price
within the cap, list, withdraw) and the operator's and the authorizing body's part of price formation (costs
filed, caps filed within MAR). The regulator's part (MAR, period close, supervision) is the regulator panel.

Each button is one `marketplace.workflows` step taking the acting account; who may take it, and whether a
price is within the cap, is decided there (through `marketplace.policy`), and a refusal is shown in the panel.
"""

from __future__ import annotations

from typing import Any

import ipywidgets as w
import pandas as pd
from sqlmodel import or_, select

from marketplace.errors import InvalidInput, NotFound
from marketplace.models import (
    Account,
    Authorization,
    ImplementationPlan,
    Organization,
    PlanResource,
    Product,
    Resource,
)
from marketplace.policy import TRANSFORMATIONS  # raw is offered too: the policy refuses it
from marketplace.ui import i18n
from marketplace.ui.common import Feedback, Panel, button, guard, heading, set_options, table_html, text
from marketplace.ui.context import Sandbox, resolve
from marketplace.vocabulary import AuthorizationModel, BillingUnit, OrganizationKind, ProductKind, Role

LISTED = 200


def money(value: Any) -> str:
    """An amount as the panels show it (two decimals, thousands separated; "—" when unset)."""
    return "—" if value is None else f"{float(value):,.2f}"


def mar_positions_table(positions: list[Any]) -> str:
    """The table of `price_formation.mar_positions`: operator and regulator panels show the same figures."""
    return table_html(
        pd.DataFrame(
            [
                (
                    op.operator,
                    op.position.period,
                    op.cost_filing or "—",
                    money(op.position.mar),
                    money(op.position.deduction),
                    money(op.position.revenue),
                    money(op.position.headroom),
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
            self.file_cap_button: self.file_cap,
            self.file_costs_button: self.file_costs,
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
                heading("operator.price_formation", 4),
                text("operator.price_formation_intro"),
                self.mar_table,
                w.HBox([self.costs, self.cost_year, self.file_costs_button]),
                w.HBox([self.cap, self.forecast, self.file_cap_button]),
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
            # what the acting organization may propose over: the resources it holds and, for an
            # implementing institution, those of its implementation plans (the workflow decides the rest)
            planned = (
                select(PlanResource.resource_id)
                .join(ImplementationPlan, ImplementationPlan.id == PlanResource.plan_id)
                .where(ImplementationPlan.institution_id == org_id)
            )
            own = session.exec(
                select(Resource.id, Resource.code, Resource.title)
                .where(or_(Resource.holder_id == org_id, Resource.id.in_(planned)))
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
                        money(p["cap"]),
                        money(p["price"]),
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
        self.mar_table.value = mar_positions_table(positions)
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
                cap=money(cap),
                price=money(price),
            )
        )

    def set_price(self) -> None:
        self._run(lambda: self._product_step("price_product", self.price.value.strip()))

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
                cap=money(filing.cap),
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
            msg = i18n.t("operator.costs_filed", code=filing.code, cost=money(filing.operating_cost))
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
            i18n.t("operator.product_moved", code=code, status=i18n.label(status), cap=money(cap), price="—")
        )


def operator_panel(sandbox: Sandbox | None = None) -> OperatorPanel:
    return OperatorPanel(sandbox)


# ---------------------------------------------------------------- a new product, draft to a refused price

WALK_STEPS = (
    "create",
    "apply",
    "review",
    "notice",
    "clock",
    "register",
    "product_registered",
    "above_cap",
    "within_cap",
)


class ProductWalkthrough(Panel):
    """Notebook 03's own experiment: a new product from draft to a price above its cap, refused.

    Every seeded product is already listed, and a new one needs the registrar (notebook 01) and a clock
    advance; here each step is one `marketplace.workflows` call by the account whose job it is (named in
    the table), so the registration and the cap check are the real ones, and a refusal shows as it would.
    """

    def __init__(self, sandbox: Sandbox | None = None) -> None:
        self.sandbox = resolve(sandbox)
        self.feedback = Feedback()
        self.table = w.HTML()
        self.table.add_class("mp-walkthrough")
        self.next_button = button("walk.next", "primary", "forward")
        self.next_button.on_click(self.guarded(lambda _b: self.next_step()))
        self.done: list[tuple[str, str, str, str]] = []  # (step, who, outcome kind, outcome text)
        self.product_id: int | None = None
        self.registration_id: int | None = None
        self.on_language(lambda _lang: self._show())
        super().__init__(
            [heading("walk.title"), text("walk.intro"), self.next_button, self.feedback, self.table]
        )
        self.add_class("mp-product-walkthrough")
        self._show()

    @property
    def position(self) -> int:
        return len(self.done)

    def next_step(self) -> str | None:
        """Run the next step; returns its name (None when the walk is over)."""
        if self.position >= len(WALK_STEPS):
            return None
        name = WALK_STEPS[self.position]
        who, kind, outcome = self._run(name)
        self.done.append((name, who, kind, outcome))
        self.sandbox.changed()
        self._show()
        return name

    def _run(self, name: str) -> tuple[str, str, str]:
        from marketplace.errors import MarketplaceError

        with self.sandbox.session() as session:
            actor = self._actor(session, name)
            try:
                text = getattr(self, f"_{name}")(session, actor)
            except MarketplaceError as exc:
                if name != "above_cap":
                    raise
                session.rollback()
                return actor.display_name, "refused", i18n.error_text(exc)
            if name == "above_cap":  # the experiment expects a refusal: a price above the cap must not stand
                raise InvalidInput("price", text, "a refusal: the price is above the cap")
            return actor.display_name, "ok", text

    def _actor(self, session: Any, name: str) -> Account:
        from marketplace.workflows.roles import accounts_with_role

        if name in ("review", "notice", "register"):
            role, org = Role.registrar, None
        elif name == "clock":
            role, org = Role.trainer, None
        else:
            role, org = Role.operator, self._authorization(session).operator_id
        people = accounts_with_role(session, role, org_id=org)
        if not people:
            raise NotFound(f"account with role {role.value}", "(none in this sandbox)")
        return people[0]

    def _authorization(self, session: Any) -> Authorization:
        from marketplace.vocabulary import AuthorizationStatus

        auth = session.exec(
            select(Authorization)
            .where(Authorization.status == AuthorizationStatus.active)
            .order_by(Authorization.id)
        ).first()
        if auth is None:
            raise NotFound("active authorization", "(none: propose and activate one above)")
        return auth

    def _product(self, session: Any) -> Product:
        return session.get(Product, self.product_id)

    def _registration(self, session: Any) -> Any:
        from marketplace.models import Registration

        return session.get(Registration, self.registration_id)

    # one method per step: what it did, in words

    def _create(self, session: Any, actor: Account) -> str:
        from marketplace.workflows.products import create_product

        auth = self._authorization(session)
        product = create_product(
            session,
            actor,
            auth,
            name=i18n.t("walk.product_name", n=len(session.exec(select(Product.id)).all()) + 1),
            kind=ProductKind.dataset,
            billing_unit=BillingUnit.per_record,
            resources=list(auth.resources)[:1],
            transformation="aggregated",
        )
        session.flush()
        self.product_id = product.id
        cap = money(product.price_cap)
        return i18n.t("walk.created", code=product.code, status=i18n.label(product.status), cap=cap)

    def _apply(self, session: Any, actor: Account) -> str:
        from marketplace.workflows.registration import submit_registration

        reg = submit_registration(session, actor, self._product(session))
        session.flush()
        self.registration_id = reg.id
        return i18n.t("registration.filed", id=reg.id, subject=self._product(session).code)

    def _review(self, session: Any, actor: Account) -> str:
        from marketplace.workflows import registration as wr

        reg = self._registration(session)
        wr.accept_registration(session, actor, reg)
        wr.start_registration_review(session, actor, reg)
        return i18n.t("registration.moved", id=reg.id, status=i18n.label(reg.status))

    def _notice(self, session: Any, actor: Account) -> str:
        from marketplace.workflows import registration as wr

        reg = wr.publish_notice(session, actor, self._registration(session))
        return i18n.t("walk.notice", until=reg.notice_until.isoformat())

    def _clock(self, session: Any, actor: Account) -> str:
        from marketplace.workflows import admin, clock

        days = (self._registration(session).notice_until - clock.today(session)).days + 1
        report = admin.advance_clock(session, actor, max(1, days))
        return i18n.Text(
            "; ".join(i18n.clock_report_lines(report)),
            lambda lang=None: "; ".join(i18n.clock_report_lines(report, lang)),
        )

    def _register(self, session: Any, actor: Account) -> str:
        from marketplace.workflows import registration as wr

        reg = wr.register(session, actor, self._registration(session))
        return i18n.t("registration.code", code=reg.code)

    def _product_registered(self, session: Any, actor: Account) -> str:
        from marketplace.workflows.products import register_product

        product = register_product(session, actor, self._product(session))
        return i18n.t("walk.moved", code=product.code, status=i18n.label(product.status))

    def _above_cap(self, session: Any, actor: Account) -> str:
        from decimal import Decimal

        from marketplace.workflows.products import price_product

        product = self._product(session)
        price = (Decimal(product.price_cap) * 2).quantize(Decimal("0.01"))
        price_product(session, actor, product, price)
        return str(price)

    def _within_cap(self, session: Any, actor: Account) -> str:
        from decimal import Decimal

        from marketplace.workflows.products import list_product, price_product

        product = self._product(session)
        price = (Decimal(product.price_cap) / 2).quantize(Decimal("0.01"))
        price_product(session, actor, product, price)
        list_product(session, actor, product)
        return i18n.t("walk.listed", code=product.code, price=money(price), cap=money(product.price_cap))

    def _show(self) -> None:
        rows = []
        for i, name in enumerate(WALK_STEPS):
            if i < len(self.done):
                _, who, kind, outcome = self.done[i]
                if isinstance(outcome, i18n.Text):  # after a language switch
                    outcome = outcome.reworded()
                mark = "✓" if kind == "ok" else "✗"
            else:
                who, mark, outcome = "", "·" if i > len(self.done) else "→", ""
            rows.append((mark, i18n.t(f"walk.step.{name}"), who, outcome))
        frame = pd.DataFrame(
            rows, columns=["", i18n.t("walk.col.step"), i18n.t("walk.col.who"), i18n.t("walk.col.outcome")]
        )
        self.table.value = table_html(frame)
        self.next_button.disabled = self.position >= len(WALK_STEPS)
        if self.done and self.done[-1][2] == "refused":
            self.feedback.info(i18n.t("walk.refused_as_expected"))


def product_walkthrough(sandbox: Sandbox | None = None) -> ProductWalkthrough:
    return ProductWalkthrough(sandbox)
