"""Registration panel: an applicant files a registration; the registrar moves it to a registration code.

Every step is a `marketplace.workflows.registration` call: who may apply (the holder's steward, the product's
operator) and which step may follow which are decided there, and a refusal is shown in the panel. The sandbox
clock bar lets a trainer move past the public-notice period.
"""

from __future__ import annotations

import html
from collections.abc import Callable
from typing import Any

import ipywidgets as w
import pandas as pd
from sqlmodel import or_, select

from marketplace.errors import NotFound
from marketplace.models import Account, Product, Registration, Resource
from marketplace.ui import i18n
from marketplace.ui.common import Closing, Feedback, Panel, button, guard, heading, table_html, text
from marketplace.ui.context import Sandbox, resolve
from marketplace.vocabulary import RegistrationStatus, RegistrationType

OPEN_STATUSES = (
    RegistrationStatus.submitted,
    RegistrationStatus.accepted,
    RegistrationStatus.under_review,
    RegistrationStatus.public_notice,
)
LISTED = 200


class ClockBar(Closing, w.HBox):
    """Today's sandbox date and, for the trainer, a button to move the clock forward."""

    def __init__(self, sandbox: Sandbox | None = None) -> None:
        self.sandbox = resolve(sandbox)
        self.feedback = Feedback()
        self.today = w.HTML()
        self.days = i18n.bind(
            w.BoundedIntText(value=10, min=1, max=3660, layout=w.Layout(width="180px")),
            "description",
            "clock.days",
        )
        self.advance_button = button("clock.advance", icon="forward")
        self.advance_button.on_click(self.guarded(lambda _b: self.advance()))
        self.watch(self.sandbox, lambda _c: self.show(), "revision")
        self.on_language(lambda _lang: self.show())
        super().__init__([self.today, self.days, self.advance_button, self.feedback])
        self.add_class("mp-clock")
        self.show()

    def show(self) -> None:
        from marketplace.workflows import clock

        with self.sandbox.session() as session:
            day = clock.today(session)
        self.today.value = f"<b>{html.escape(i18n.t('clock.today', date=day.isoformat()))}</b>"

    def advance(self) -> None:
        guard(self.feedback)(self._advance)()

    def _advance(self) -> None:
        from marketplace.workflows import admin

        with self.sandbox.session() as session:
            report = admin.advance_clock(session, self.sandbox.account(session), int(self.days.value))
            day = report.today
        self.sandbox.changed()
        self.feedback.ok(i18n.t("clock.moved", date=day.isoformat()))


class RegistrationPanel(Panel):
    def __init__(self, sandbox: Sandbox | None = None) -> None:
        self.sandbox = resolve(sandbox)
        self.feedback = Feedback()
        self.clock = ClockBar(self.sandbox)
        self.subject = i18n.bind(
            w.Dropdown(layout=w.Layout(width="560px")), "description", "registration.subject"
        )
        self.type = i18n.bind(
            w.Dropdown(options=i18n.options(RegistrationType), value=RegistrationType.initial.value),
            "description",
            "common.kind",
        )
        self.reason = i18n.bind(w.Text(layout=w.Layout(width="560px")), "description", "review.reason")
        self.apply_button = button("registration.apply", "primary", "pencil")
        self.record = i18n.bind(
            w.Dropdown(layout=w.Layout(width="560px")), "description", "registration.record"
        )
        self.detail = w.HTML()
        self.detail.add_class("mp-registration-detail")
        self.step_buttons: dict[str, w.Button] = {
            name: button(f"registration.{name}")
            for name in ("accept", "start_review", "publish_notice", "register", "reject")
        }
        self.records: list[dict[str, Any]] = []
        self.apply_button.on_click(self.guarded(lambda _b: self.apply()))
        for name, btn in self.step_buttons.items():
            btn.on_click(self.guarded(lambda _b, step=name: self.step(step)))
        self.record.observe(self.guarded(lambda _c: self._show_detail()), names="value")
        self.watch(self.sandbox, lambda _c: self.load(), "account_id")
        self.watch(self.sandbox, lambda _c: self.load(), "revision")
        self.on_language(lambda _lang: self._relabel())
        super().__init__(
            [
                heading("registration.title"),
                text("registration.intro"),
                self.clock,
                heading("registration.apply_title", 4),
                self.subject,
                self.type,
                self.reason,
                self.apply_button,
                heading("registration.registrar_title", 4),
                self.record,
                self.detail,
                w.HBox(list(self.step_buttons.values())),
                self.feedback,
            ]
        )
        self.add_class("mp-registration")
        self.load()

    def _relabel(self) -> None:
        value = self.type.value
        self.type.options = i18n.options(RegistrationType)
        self.type.value = value
        self.load()

    def load(self) -> None:
        guard(self.feedback)(self._load)()

    def _load(self) -> None:
        with self.sandbox.session() as session:
            org_id = None
            if self.sandbox.account_id is not None:
                org_id = session.get(Account, self.sandbox.account_id).organization_id
            subjects: list[tuple[str, str]] = []
            if org_id is not None:
                subjects += [
                    (f"{i18n.label('resource')} · {code} — {title}", f"resource:{rid}")
                    for rid, code, title in session.exec(
                        select(Resource.id, Resource.code, Resource.title)
                        .where(Resource.holder_id == org_id)
                        .order_by(Resource.code)
                    ).all()
                ]
                subjects += [
                    (f"{i18n.label('product')} · {code} — {name}", f"product:{pid}")
                    for pid, code, name in session.exec(
                        select(Product.id, Product.code, Product.name)
                        .where(Product.operator_id == org_id)
                        .order_by(Product.code)
                    ).all()
                ]
            regs = session.exec(
                select(Registration)
                .where(or_(*(Registration.status == s for s in OPEN_STATUSES)))
                .order_by(Registration.id.desc())
                .limit(LISTED)
            ).all()
            self.records = [self._row(r) for r in regs]
        keep = self.subject.value
        self.subject.options = subjects
        values = [v for _, v in subjects]
        self.subject.value = keep if keep in values else (values[0] if values else None)
        keep = self.record.value
        self.record.options = [
            (f"#{r['id']} · {r['subject']} · {i18n.label(r['type'])} · {i18n.label(r['status'])}", r["id"])
            for r in self.records
        ]
        ids = [r["id"] for r in self.records]
        self.record.value = keep if keep in ids else (ids[0] if ids else None)
        self._show_detail()

    @staticmethod
    def _row(r: Registration) -> dict[str, Any]:
        subject = r.resource.code if r.resource_id else r.product.code
        return {"id": r.id, "subject": subject, "type": r.type, "status": r.status}

    def _show_detail(self) -> None:
        if self.record.value is None:
            self.detail.value = ""
            return
        with self.sandbox.session() as session:
            r = session.get(Registration, self.record.value)
            self.detail.value = registration_html(r)

    def _subject(self, session: Any) -> Resource | Product:
        if not self.subject.value:
            raise NotFound("resource or product of your organization", "(none)")
        kind, _, ident = self.subject.value.partition(":")
        return session.get(Resource if kind == "resource" else Product, int(ident))

    def apply(self) -> Registration | None:
        return guard(self.feedback)(self._apply)()

    def _apply(self) -> Registration:
        from marketplace.workflows.registration import submit_registration

        with self.sandbox.session() as session:
            subject = self._subject(session)
            reg = submit_registration(
                session,
                self.sandbox.account(session),
                subject,
                type=self.type.value,
                reason=self.reason.value,
            )
            reg_id, code = reg.id, subject.code
        self.reason.value = ""
        self.sandbox.changed()
        self.record.value = reg_id if reg_id in [v for _, v in self.record.options] else self.record.value
        self.feedback.ok(i18n.t("registration.filed", id=reg_id, subject=code))
        return reg

    def step(self, name: str) -> None:
        guard(self.feedback)(self._step)(name)

    def _step(self, name: str) -> None:
        from marketplace.workflows import registration as wr

        steps: dict[str, Callable[..., Registration]] = {
            "accept": wr.accept_registration,
            "start_review": wr.start_registration_review,
            "publish_notice": wr.publish_notice,
            "register": wr.register,
            "reject": lambda s, a, r: wr.reject_registration(s, a, r, self.reason.value),
        }
        if self.record.value is None:
            raise NotFound("registration", "(none chosen)")
        with self.sandbox.session() as session:
            reg = session.get(Registration, self.record.value)
            steps[name](session, self.sandbox.account(session), reg)
            reg_id, status, code = reg.id, reg.status, reg.code
        self.sandbox.changed()
        message = i18n.t("registration.moved", id=reg_id, status=i18n.label(status))
        if code:
            message += " " + i18n.t("registration.code", code=code)
        self.feedback.ok(message)


def registration_html(r: Registration) -> str:
    subject = r.resource.code if r.resource_id else r.product.code
    rows = [
        (i18n.t("registration.subject"), f"{i18n.label(r.subject)} {subject}"),
        (i18n.t("common.kind"), i18n.label(r.type)),
        (i18n.t("common.status"), i18n.label(r.status)),
        (i18n.t("common.code"), r.code or "—"),
        (i18n.t("registration.notice_until"), r.notice_until.isoformat() if r.notice_until else "—"),
        (i18n.t("common.valid_until"), r.valid_until.isoformat() if r.valid_until else "—"),
        (i18n.t("review.reason"), r.reason or "—"),
    ]
    return table_html(pd.DataFrame(rows, columns=[i18n.t("common.name"), i18n.t("common.value")]))


def registration_panel(sandbox: Sandbox | None = None) -> RegistrationPanel:
    return RegistrationPanel(sandbox)


def clock_bar(sandbox: Sandbox | None = None) -> ClockBar:
    return ClockBar(sandbox)
