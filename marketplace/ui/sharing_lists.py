"""Sharing responsibility lists: everyone reads the departments' lists and their entries; the publisher the
policy names (nationally the data authority of the holder's region, a registrar) publishes a list for a
department, adds entries and withdraws them.

Every action is a `marketplace.workflows.sharing_lists` step taken as the account chosen in the act-as
picker; who may publish, what may be listed and the fields' bounds are decided there, and a refusal appears
in words in the panel's feedback line.
"""

from __future__ import annotations

import html
from typing import Any

import ipywidgets as w
import pandas as pd
from sqlmodel import select

from marketplace.errors import NotFound
from marketplace.models import Organization, Resource, SharingListEntry
from marketplace.ui import i18n
from marketplace.ui.common import Feedback, Panel, button, guard, heading, set_options, table_html, text
from marketplace.ui.context import Sandbox, resolve
from marketplace.vocabulary import OrganizationKind, Purpose


class SharingListsPanel(Panel):
    def __init__(self, sandbox: Sandbox | None = None) -> None:
        self.sandbox = resolve(sandbox)
        self.feedback = Feedback()
        self.lists = w.HTML()
        self.lists.add_class("mp-sharing-lists")
        self.holder = i18n.bind(
            w.Dropdown(layout=w.Layout(width="560px")), "description", "sharing_list.department"
        )
        self.entries = w.HTML()
        self.entries.add_class("mp-list-entries")
        self.basis = i18n.bind(w.Text(layout=w.Layout(width="560px")), "description", "sharing_list.basis")
        self.publish_button = button("sharing_list.publish", "primary", "book")
        self.resource = i18n.bind(
            w.Dropdown(layout=w.Layout(width="560px")), "description", "request.resource"
        )
        self.recipients = i18n.bind(
            w.SelectMultiple(rows=4, layout=w.Layout(width="560px")), "description", "sharing_list.recipients"
        )
        self.purposes = i18n.bind(
            w.SelectMultiple(options=i18n.options(Purpose), rows=4), "description", "sharing_list.purposes"
        )
        self.duty = i18n.bind(w.Text(layout=w.Layout(width="560px")), "description", "sharing_list.duty")
        self.add_button = button("sharing_list.add", "success", "plus")
        self.entry = i18n.bind(
            w.Dropdown(layout=w.Layout(width="760px")), "description", "sharing_list.entry"
        )
        self.reason = i18n.bind(w.Text(layout=w.Layout(width="560px")), "description", "review.reason")
        self.withdraw_button = button("sharing_list.withdraw", "warning", "minus")
        self.holder.observe(self.guarded(lambda _c: self._show_holder()), names="value")
        self.publish_button.on_click(self.guarded(lambda _b: self.publish()))
        self.add_button.on_click(self.guarded(lambda _b: self.add_entry()))
        self.withdraw_button.on_click(self.guarded(lambda _b: self.withdraw()))
        self.watch(self.sandbox, lambda _c: self.load(), "revision")
        self.on_language(lambda _lang: self._relabel())
        super().__init__(
            [
                heading("sharing_list.title"),
                text("sharing_list.intro"),
                self.lists,
                self.holder,
                self.entries,
                heading("sharing_list.publish_title", 4),
                self.basis,
                self.publish_button,
                heading("sharing_list.add_title", 4),
                self.resource,
                w.HBox([self.recipients, self.purposes]),
                self.duty,
                self.add_button,
                heading("sharing_list.withdraw_title", 4),
                self.entry,
                self.reason,
                self.withdraw_button,
                self.feedback,
            ]
        )
        self.add_class("mp-sharing-list-panel")
        self.load()

    def _relabel(self) -> None:
        value = self.purposes.value
        self.purposes.options = i18n.options(Purpose)
        self.purposes.value = value
        self.load()

    def load(self) -> None:
        guard(self.feedback)(self._load)()

    def _load(self) -> None:
        """Every list in one table, the departments to choose from, then the chosen department's list."""
        from marketplace.workflows.sharing_list_view import list_views

        with self.sandbox.session() as session:
            views = list_views(session)
            departments = session.exec(
                select(Organization.id, Organization.name)
                .where(Organization.kind == OrganizationKind.department)
                .order_by(Organization.name)
            ).all()
        frame = pd.DataFrame(
            [
                (v.code, v.holder, i18n.seeded_text(v.basis) or "—", v.published_on.isoformat(),
                 sum(e.status == "in_force" for e in v.entries))
                for v in views
            ],
            columns=[
                i18n.t("common.code"),
                i18n.t("common.holder"),
                i18n.t("sharing_list.basis"),
                i18n.t("sharing_list.published"),
                i18n.t("sharing_list.in_force"),
            ],
        )
        self.lists.value = table_html(frame)
        listed = {v.holder for v in views}
        options = [(f"{name} ✓" if name in listed else name, oid) for oid, name in departments]
        set_options(self.holder, options)
        keep = self.recipients.value
        self.recipients.options = [(name, oid) for oid, name in departments]
        self.recipients.value = tuple(v for v in keep if v in {oid for oid, _ in departments})
        self._show_holder()

    def _show_holder(self) -> None:
        """The chosen department's list: its entries in words, its resources, and the entries in force."""
        from marketplace.workflows.sharing_list_view import entry_view
        from marketplace.workflows.sharing_lists import sharing_list_of

        if self.holder.value is None:
            self.entries.value = ""
            return
        with self.sandbox.session() as session:
            holder = session.get(Organization, self.holder.value)
            lst = sharing_list_of(session, holder)
            entries = [entry_view(session, e) for e in lst.entries] if lst is not None else []
            resources = session.exec(
                select(Resource.id, Resource.code, Resource.title)
                .where(Resource.holder_id == holder.id)
                .order_by(Resource.code)
            ).all()
            name = holder.name
        if lst is None:
            self.entries.value = f"<p><i>{html.escape(i18n.t('sharing_list.none', holder=name))}</i></p>"
        else:
            lines = "".join(
                f"<li data-status='{e.status}'>{html.escape(i18n.list_entry_text(e))} · "
                f"{html.escape(i18n.label(e.status))}</li>"
                for e in entries
            ) or f"<li><i>{html.escape(i18n.t('common.empty'))}</i></li>"
            self.entries.value = f"<ul>{lines}</ul>"
        set_options(self.resource, [(f"{code} — {title}", rid) for rid, code, title in resources])
        set_options(self.entry, [(i18n.list_entry_text(e), e.id) for e in entries if e.status == "in_force"])
        self.recipients.value = tuple(v for v in self.recipients.value if v != self.holder.value)

    def _holder(self, session: Any) -> Organization:
        if self.holder.value is None:
            raise NotFound("department", "(none chosen)")
        return session.get(Organization, self.holder.value)

    def publish(self) -> None:
        guard(self.feedback)(self._publish)()

    def _publish(self) -> None:
        from marketplace.workflows.sharing_lists import publish_sharing_list

        with self.sandbox.session() as session:
            holder = self._holder(session)
            row = publish_sharing_list(session, self.sandbox.account(session), holder, basis=self.basis.value)
            code, name = row.code, holder.name
        self.basis.value = ""
        self.sandbox.changed()
        self.feedback.ok(i18n.t("sharing_list.published_ok", code=code, holder=name))

    def add_entry(self) -> None:
        guard(self.feedback)(self._add_entry)()

    def _add_entry(self) -> None:
        from marketplace.workflows.sharing_lists import add_list_entry, sharing_list_of

        with self.sandbox.session() as session:
            holder = self._holder(session)
            lst = sharing_list_of(session, holder)
            if lst is None:
                raise NotFound("sharing responsibility list of", holder.name)
            if self.resource.value is None:
                raise NotFound("resource", "(none chosen)")
            entry = add_list_entry(
                session,
                self.sandbox.account(session),
                lst,
                session.get(Resource, self.resource.value),
                recipients=[session.get(Organization, i) for i in self.recipients.value],
                purposes=list(self.purposes.value),
                duty=self.duty.value,
            )
            code, list_code = entry.code, lst.code
        self.duty.value = ""
        self.sandbox.changed()
        self.feedback.ok(i18n.t("sharing_list.added_ok", code=code, list=list_code))

    def withdraw(self) -> None:
        guard(self.feedback)(self._withdraw)()

    def _withdraw(self) -> None:
        from marketplace.workflows.sharing_lists import withdraw_list_entry

        if self.entry.value is None:
            raise NotFound("list entry", "(none chosen)")
        with self.sandbox.session() as session:
            entry = session.get(SharingListEntry, self.entry.value)
            withdraw_list_entry(session, self.sandbox.account(session), entry, self.reason.value)
            code = entry.code
        self.reason.value = ""
        self.sandbox.changed()
        self.feedback.ok(i18n.t("sharing_list.withdrawn_ok", code=code))


def sharing_lists_panel(sandbox: Sandbox | None = None) -> SharingListsPanel:
    return SharingListsPanel(sandbox)
