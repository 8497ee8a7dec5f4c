"""The "act as" switcher: pick a role, then an account holding it; every panel then acts as that account.

Accounts and roles are read from the database. Who may do what is decided by `marketplace.workflows` when an
action is attempted — this panel only chooses the actor.
"""

from __future__ import annotations

from typing import Any

import ipywidgets as w
import sqlalchemy as sa
from sqlmodel import select

from marketplace.errors import InvalidInput, NotFound
from marketplace.models import Account, AccountRole, Organization
from marketplace.ui import i18n
from marketplace.ui.common import Feedback, Panel, heading
from marketplace.ui.context import Sandbox, resolve
from marketplace.vocabulary import Role

MAX_ACCOUNTS = 500


def accounts_with_role(sandbox: Sandbox, role: Role | str) -> list[tuple[int, str, str]]:
    """(account id, display name, organization name) of active accounts holding `role`, by name."""
    stmt = (
        select(Account.id, Account.display_name, Organization.name)
        .join(AccountRole, AccountRole.account_id == Account.id)
        .join(Organization, Organization.id == Account.organization_id)
        .where(AccountRole.role == Role(role), Account.active == sa.true())
        .order_by(Account.display_name, Account.id)
        .limit(MAX_ACCOUNTS)
    )
    with sandbox.session() as session:
        return [tuple(row) for row in session.exec(stmt).all()]  # type: ignore[misc]


class ActAs(Panel):
    """Role dropdown + account dropdown + a line saying who is acting."""

    def __init__(self, sandbox: Sandbox | None = None) -> None:
        self.sandbox = resolve(sandbox)
        self.role = i18n.bind(
            w.Dropdown(options=i18n.options(Role), value=Role.requester.value), "description", "actas.role"
        )
        self.account = i18n.bind(
            w.Dropdown(options=[], layout=w.Layout(width="480px")), "description", "actas.account"
        )
        self.status = w.HTML()
        self.status.add_class("mp-acting")
        self.feedback = Feedback()
        self._relabelling = False
        self.role.observe(self.guarded(lambda _c: self._role_changed()), names="value")
        self.account.observe(self.guarded(self._chosen), names="value")
        self.watch(self.sandbox, lambda _c: self._show_status(), "account_id")
        self.on_language(self._relabel)
        super().__init__(
            [heading("actas.title"), w.HBox([self.role, self.account]), self.status, self.feedback]
        )
        self.add_class("mp-actas")
        self._load_accounts()

    def _relabel(self, _lang: str) -> None:
        """New words for the roles; who acts stays (new options pass through the first role for a moment,
        which must not pick that role's first account)."""
        value = self.role.value
        self._relabelling = True
        try:
            self.role.options = i18n.options(Role)
            self.role.value = value
        finally:
            self._relabelling = False
        self._show_status()

    def _role_changed(self) -> None:
        if not self._relabelling:
            self._load_accounts()

    def _load_accounts(self) -> None:
        rows = accounts_with_role(self.sandbox, self.role.value)
        current = self.sandbox.account_id
        ids = [acc_id for acc_id, _, _ in rows]
        # One message to the browser for the new list and its choice, so a click on the new list cannot be
        # overtaken by the default choice arriving a moment later.
        with self.account.hold_sync():
            self.account.options = [(f"{name} — {org}", acc_id) for acc_id, name, org in rows]
            if current in ids:
                self.account.value = current
            elif ids:
                self.account.value = ids[0]
            else:
                self.account.value = None
        if not ids:
            self.feedback.info(i18n.t("actas.no_accounts", role=i18n.label(self.role.value)))
        self._show_status()

    def _chosen(self, change: dict[str, Any]) -> None:
        if change["new"] is not None:
            self.feedback.clear()
            self.sandbox.account_id = change["new"]

    def _show_status(self) -> None:
        if self.sandbox.account_id is None:
            self.status.value = f"<i>{i18n.t('common.nobody')}</i>"
            return
        with self.sandbox.session() as session:
            account = self.sandbox.account(session)
            roles = ", ".join(i18n.label(r) for r in sorted(account.role_names))
            text = i18n.t(
                "common.acting_as", name=account.display_name, org=account.organization.name, roles=roles
            )
        import html

        self.status.value = f"<b>{html.escape(text)}</b>"

    def choose(self, role: Role | str, username: str | None = None) -> int:
        """Act as `username` (or the first account) with `role`; returns the account id."""
        try:
            self.role.value = Role(role).value
        except ValueError:
            raise InvalidInput("role", role, "one of " + ", ".join(r.value for r in Role)) from None
        if username is not None:
            with self.sandbox.session() as session:
                acc_id = session.exec(select(Account.id).where(Account.username == username)).first()
            if acc_id is None or acc_id not in [v for _, v in self.account.options]:
                raise NotFound("account with role " + Role(role).value, username)
            self.account.value = acc_id
        if self.account.value is None:
            raise NotFound("account with role", Role(role).value)
        self.sandbox.account_id = self.account.value
        return self.account.value


def act_as(
    sandbox: Sandbox | None = None, *, role: Role | str | None = None, username: str | None = None
) -> ActAs:
    """The switcher; `role`/`username` preselect who acts (e.g. role="requester", username="req-res-001")."""
    panel = ActAs(sandbox)
    if role is not None:
        panel.choose(role, username)
    return panel
