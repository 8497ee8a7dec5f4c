"""Request panel: pick a target, purpose, fields and volume, watch the live quote, submit, follow the status.

The quote and the routing preview are computed by `marketplace.policy` (`quote`, `route`) on every input
change, from facts built by `marketplace.workflows.facts`; the facts of the chosen target are loaded once per
selection so an input change costs one pure function call. Filing, submitting, accepting a quote,
withdrawing and filing a usage report are `marketplace.workflows` steps; their refusals appear in the panel.
"""

from __future__ import annotations

import html
from dataclasses import replace
from typing import Any

import ipywidgets as w
import pandas as pd
from sqlmodel import select

from marketplace.errors import NotFound
from marketplace.models import AccessRequest, Organization, Product, Resource, SharingListEntry
from marketplace.policy import FreeClaim, RequestFacts, check_free_claim, quote, route
from marketplace.ui import i18n
from marketplace.ui.common import Feedback, Panel, button, guard, heading, set_options, table_html, text
from marketplace.ui.context import Sandbox, resolve
from marketplace.vocabulary import Channel, OrganizationKind, ProductStatus, Purpose, RequestStatus

RESOURCE, PRODUCT = "resource", "product"
MY_REQUESTS = 50


def _money(value: Any, currency: str = "") -> str:
    return f"{float(value):,.2f} {currency}".strip()


class RequestPanel(Panel):
    def __init__(self, sandbox: Sandbox | None = None) -> None:
        self.sandbox = resolve(sandbox)
        self.feedback = Feedback()
        self.kind = w.ToggleButtons(options=i18n.options([RESOURCE, PRODUCT]), value=RESOURCE)
        self.resource = i18n.bind(
            w.Dropdown(layout=w.Layout(width="560px")), "description", "request.resource"
        )
        self.channel = i18n.bind(
            w.Dropdown(options=i18n.options([Channel.sharing, Channel.opening])),
            "description",
            "common.channel",
        )
        self.product = i18n.bind(w.Dropdown(layout=w.Layout(width="560px")), "description", "request.product")
        self.purpose = i18n.bind(
            w.Dropdown(options=i18n.options(Purpose), value=Purpose.research.value),
            "description",
            "common.purpose",
        )
        self.fields = i18n.bind(
            w.SelectMultiple(rows=5, layout=w.Layout(width="400px")), "description", "request.fields"
        )
        self.volume = i18n.bind(
            w.BoundedIntText(value=1, min=1, max=10_000_000), "description", "request.volume"
        )
        self.duration = i18n.bind(
            w.BoundedIntText(value=365, min=1, max=3660), "description", "request.duration"
        )
        self.use_statement = i18n.bind(
            w.Textarea(layout=w.Layout(width="560px")), "description", "request.use"
        )
        # evidence of a free-use claim (the policy's free_use rules say who needs it)
        self.project_reference = i18n.bind(
            w.Text(layout=w.Layout(width="420px")), "description", "request.project_reference"
        )
        self.sponsor = i18n.bind(w.Dropdown(layout=w.Layout(width="420px")), "description", "request.sponsor")
        # a department asking for a resource on the holder's sharing responsibility list may cite the entry
        self.list_entry = i18n.bind(
            w.Dropdown(layout=w.Layout(width="760px")), "description", "request.list_entry"
        )
        self.list_entry.add_class("mp-list-entry")
        self.list_entry.layout.display = "none"
        self._entries: dict[int, Any] = {}
        self._choosing_entry = False
        self.preview = w.HTML()
        self.preview.add_class("mp-routing")
        self.quote_html = w.HTML()
        self.quote_html.add_class("mp-quote")
        self.submit_button = button("request.submit", "primary", "paper-plane")
        self.accept_button = button("request.accept_quote", "success", "check")
        self.withdraw_button = button("request.withdraw", "warning", "undo")
        self.usage_summary = i18n.bind(
            w.Textarea(layout=w.Layout(width="560px")), "description", "request.usage_summary"
        )
        self.report_button = button("request.report_usage", "info", "file-text")
        self.usage_box = w.VBox([self.usage_summary, self.report_button])
        self.usage_box.add_class("mp-usage-report")
        self.usage_box.layout.display = "none"
        self.my_requests = i18n.bind(
            w.Dropdown(layout=w.Layout(width="560px")), "description", "request.mine"
        )
        self.status = w.HTML()
        self.status.add_class("mp-request-status")
        self.last_quote: Any = None
        self.last_routing: Any = None
        self.followed: int | None = None
        self._facts: dict[str, Any] = {}
        self._choosing = False
        self.target_box = w.VBox()
        self._load_targets()
        self._show_target_controls()
        self.kind.observe(
            self.guarded(
                lambda _c: (self._show_target_controls(), self._target_changed(), self.choose_valid_start())
            ),
            names="value",
        )
        for control in (self.resource, self.channel, self.product):
            control.observe(self.guarded(lambda _c: self._target_changed()), names="value")
        for control in (
            self.purpose, self.fields, self.volume, self.duration, self.use_statement, self.project_reference,
            self.sponsor,
        ):
            control.observe(self.guarded(lambda _c: self.refresh_quote()), names="value")
        self.submit_button.on_click(self.guarded(lambda _b: self.submit()))
        self.accept_button.on_click(self.guarded(lambda _b: self.accept_quote()))
        self.withdraw_button.on_click(self.guarded(lambda _b: self.withdraw()))
        self.report_button.on_click(self.guarded(lambda _b: self.report_usage()))
        self.my_requests.observe(self.guarded(lambda _c: self.show_status()), names="value")
        self.list_entry.observe(self.guarded(lambda _c: self._entry_chosen()), names="value")
        self.watch(self.sandbox, lambda _c: self._account_changed(), "account_id")
        self.watch(self.sandbox, lambda _c: self._database_changed(), "revision")
        self.on_language(lambda _lang: self._relabel())
        super().__init__(
            [
                heading("request.title"),
                text("request.intro"),
                self.kind,
                self.target_box,
                self.list_entry,
                self.purpose,
                self.fields,
                w.HBox([self.volume, self.duration]),
                self.use_statement,
                w.HBox([self.project_reference, self.sponsor]),
                heading("request.quote_title", 4),
                self.quote_html,
                self.preview,
                self.submit_button,
                self.feedback,
                heading("request.status_title", 4),
                self.my_requests,
                self.status,
                w.HBox([self.accept_button, self.withdraw_button]),
                self.usage_box,
            ]
        )
        self.add_class("mp-request")
        self._account_changed()

    # ---------------------------------------------------------------- targets and facts

    def _load_targets(self) -> None:
        with self.sandbox.session() as session:
            resources = session.exec(
                select(Resource.id, Resource.code, Resource.title).order_by(Resource.code)
            ).all()
            products = session.exec(
                select(Product.id, Product.code, Product.name)
                .where(Product.status == ProductStatus.listed)
                .order_by(Product.code)
            ).all()
            departments = session.exec(
                select(Organization.id, Organization.name)
                .where(Organization.kind == OrganizationKind.department)
                .order_by(Organization.name)
            ).all()
        set_options(self.sponsor, [(i18n.t("common.none"), None), *[(n, i) for i, n in departments]])
        set_options(self.resource, [(f"{code} — {title}", rid) for rid, code, title in resources])
        set_options(self.product, [(f"{code} — {name}", pid) for pid, code, name in products])

    def _show_target_controls(self) -> None:
        self.target_box.children = (
            [self.resource, self.channel] if self.kind.value == RESOURCE else [self.product]
        )

    def _relabel(self) -> None:
        for control, values in (
            (self.kind, [RESOURCE, PRODUCT]),
            (self.channel, [Channel.sharing, Channel.opening]),
            (self.purpose, list(Purpose)),
        ):
            value = control.value
            control.options = i18n.options(values)
            control.value = value
        self._load_targets()
        self._show_entries(list(self._entries.values()))
        self.refresh_quote()
        self._load_mine()

    def _database_changed(self) -> None:
        """Someone changed the sandbox: new products, prices, policy or statuses may show here."""
        self._load_targets()
        self._target_changed()
        self._load_mine()

    def _account_changed(self) -> None:
        self._target_changed()
        self.choose_valid_start()
        self._load_mine()

    def _target_changed(self) -> None:
        """Load the facts of the chosen target and requester once; input changes then only re-quote."""
        if self._choosing:
            return
        guard(self.feedback)(self._load_facts)()
        self.refresh_quote()

    def choose_valid_start(self) -> bool:
        """Move to a resource, channel and purpose the acting account may use, when the current choice is
        refused: a panel opens on something that can be filed, not on a red refusal. True when one was found.

        The policy decides (`policy.route`, the same call as the preview); the current choice is kept when
        it is allowed, and otherwise the nearest one (same resource first, then the same channel).
        """
        if self.kind.value != RESOURCE or self.sandbox.account_id is None:
            return False
        if self.last_routing is not None and self.last_routing.allowed:
            return True
        found = guard(self.feedback)(self._find_valid)()
        if not found:
            return False
        resource_id, channel, purpose = found
        self._choosing = True
        try:
            self.resource.value, self.channel.value, self.purpose.value = resource_id, channel, purpose
        finally:
            self._choosing = False
        self._target_changed()
        return True

    def _find_valid(self) -> tuple[int, str, str] | None:
        from marketplace.workflows import clock, facts

        req = self.request_facts()
        channels = [Channel.sharing.value, Channel.opening.value]
        channels.sort(key=lambda c: c != self.channel.value)
        purposes = sorted([p.value for p in Purpose], key=lambda p: p != self.purpose.value)
        with self.sandbox.session() as session:
            policy, start = facts.current_policy(session), clock.today(session)
            account = self.sandbox.account(session)
            requester = facts.requester_facts(session.get(Organization, account.organization_id))
            rows = session.exec(select(Resource).order_by(Resource.code)).all()
            rows = sorted(rows, key=lambda r: r.id != self.resource.value)
            for row in rows:
                for channel in channels:
                    target = facts.resource_target(row, channel)
                    for purpose in purposes:
                        ask = replace(req, purpose=Purpose(purpose))
                        if route(policy, ask, target, requester, start=start).allowed:
                            return row.id, channel, purpose
        return None

    def _load_facts(self) -> None:
        from marketplace.workflows import clock, facts
        from marketplace.workflows.sharing_list_view import entry_view
        from marketplace.workflows.sharing_lists import list_entries_for

        self._facts, self._entries = {}, {}
        self.list_entry.layout.display = "none"
        with self.sandbox.session() as session:
            policy = facts.current_policy(session)
            start = clock.today(session)
            if self.kind.value == RESOURCE:
                if self.resource.value is None:
                    return
                target_row: Any = session.get(Resource, self.resource.value)
                target = facts.resource_target(target_row, self.channel.value)
                names = [f.name for f in target_row.fields]
            else:
                if self.product.value is None:
                    return
                target_row = session.get(Product, self.product.value)
                target = facts.product_target(target_row)
                names = []
            requester = None
            if self.sandbox.account_id is not None:
                account = self.sandbox.account(session)
                requester = facts.requester_facts(session.get(Organization, account.organization_id))
            entries = []
            if (
                self.kind.value == RESOURCE
                and self.channel.value == Channel.sharing.value
                and requester is not None
            ):
                entries = [
                    entry_view(session, e)
                    for e in list_entries_for(session, target_row, account.organization_id)
                ]
        chosen = [f for f in self.fields.value if f in names]
        self.fields.options = names
        self.fields.value = tuple(chosen)
        self._facts = {"policy": policy, "target": target, "requester": requester, "start": start}
        self._show_entries(entries)

    def _show_entries(self, entries: list[Any]) -> None:
        """Offer the entries the acting department may cite for this resource (none: the choice hides)."""
        self._entries = {e.id: e for e in entries}
        keep = self.list_entry.value
        options = [(i18n.t("request.no_list_entry"), None)]
        options += [(i18n.list_entry_text(e), e.id) for e in entries]
        self._choosing_entry = True
        try:
            self.list_entry.options = options
            self.list_entry.value = keep if keep in self._entries else None
        finally:
            self._choosing_entry = False
        self.list_entry.layout.display = "" if entries else "none"

    def _entry_chosen(self) -> None:
        """Citing an entry: the purpose moves to one the entry lists (when the chosen one is not), then the
        preview says what citing it means."""
        if self._choosing_entry:
            return
        entry = self._entries.get(self.list_entry.value)
        if entry is not None and entry.purposes and self.purpose.value not in entry.purposes:
            self.purpose.value = entry.purposes[0]  # re-quotes through the purpose observer
        else:
            self.refresh_quote()

    def request_facts(self) -> RequestFacts:
        return RequestFacts(
            purpose=Purpose(self.purpose.value),
            volume=int(self.volume.value),
            fields=tuple(self.fields.value),
            duration_days=int(self.duration.value),
        )

    # ---------------------------------------------------------------- live quote

    def refresh_quote(self) -> None:
        """Recompute the routing preview and (for products) the quote lines from the current inputs;
        Submit is enabled only while the policy lets the request go ahead."""
        if self._choosing:
            return
        self.submit_button.disabled = True
        self.last_routing = None
        guard(self.feedback)(self._refresh_quote)()
        self.submit_button.disabled = not (self.last_routing is not None and self.last_routing.allowed)

    def _refresh_quote(self) -> None:
        f = self._facts
        if not f or f.get("requester") is None:
            self.last_quote = self.last_routing = None
            self.quote_html.value = f"<i>{html.escape(i18n.t('request.no_quote'))}</i>"
            self.preview.value = ""
            return
        req = self.request_facts()
        routing = route(f["policy"], req, f["target"], f["requester"], start=f["start"])
        if routing.allowed and routing.free and f["target"].is_product:
            claim = FreeClaim(
                purpose=req.purpose,
                requester_kind=f["requester"].kind,
                use_statement=self.use_statement.value,
                project_reference=self.project_reference.value,
                sponsor_is_department=self.sponsor.value is not None,
                volume=req.volume,
            )
            refused = check_free_claim(f["policy"], claim)
            if refused is not None:  # the free quote stands only with the evidence the policy asks
                routing = replace(routing, allowed=False, refusal=refused)
        self.last_routing = routing
        if f["target"].is_product:
            q = quote(f["policy"], f["target"], req, f["requester"])
            self.last_quote = q
            lines = pd.DataFrame(
                [(component_label(ln.component), _money(ln.amount), i18n.quote_reason(ln)) for ln in q.lines],
                columns=[i18n.t("request.component"), i18n.t("request.amount"), i18n.t("request.reason")],
            )
            total = html.escape(i18n.t("request.total", total=_money(q.total, q.currency), policy=q.policy))
            self.quote_html.value = table_html(lines) + f"<p class='mp-quote-total'><b>{total}</b></p>"
        else:
            self.last_quote = None
            self.quote_html.value = f"<p>{html.escape(i18n.t('request.free_channel'))}</p>"
        self.preview.value = self._routing_html(routing)

    def _routing_html(self, routing: Any) -> str:
        if not routing.allowed:
            ref = routing.refusal
            refused = i18n.t("request.refused", reason=i18n.refusal_text(ref), rule=ref.rule)
            return f"<p class='mp-refused' style='color:#b00020'>{html.escape(refused)}</p>"
        stages = "; ".join(f"{i18n.label(s.stage)} → {s.due.isoformat()}" for s in routing.stages) or i18n.t(
            "request.no_review"
        )
        worded = [i18n.condition_label(c.kind, c.params) for c in routing.conditions]
        conditions = i18n.listing(worded) or i18n.t("common.none")
        cited = ""
        entry = self._entries.get(self.list_entry.value)
        if entry is not None:
            due = routing.stages[-1].due.isoformat() if routing.stages else "—"
            line = i18n.t("request.list_binds", code=entry.code, holder=entry.holder, due=due)
            cited = f"<p class='mp-list-binds'><b>{html.escape(line)}</b></p>"
        return (
            f"<p>{html.escape(i18n.t('request.stages', stages=stages))}<br>"
            f"{html.escape(i18n.t('request.conditions', conditions=conditions))}</p>{cited}"
        )

    # ---------------------------------------------------------------- actions

    def submit(self) -> AccessRequest | None:
        return guard(self.feedback)(self._submit)()

    def _submit(self) -> AccessRequest:
        from marketplace.workflows.requests import create_request, submit_request

        self.feedback.clear()
        with self.sandbox.session() as session:
            actor = self.sandbox.account(session)
            target: dict[str, Any]
            if self.kind.value == RESOURCE:
                if self.resource.value is None:
                    raise NotFound("resource", "(none chosen)")
                target = {
                    "resource": session.get(Resource, self.resource.value),
                    "channel": self.channel.value,
                }
                if self.list_entry.value in self._entries and self.channel.value == Channel.sharing.value:
                    target["list_entry"] = session.get(SharingListEntry, self.list_entry.value)
            else:
                if self.product.value is None:
                    raise NotFound("product", "(none listed)")
                target = {"product": session.get(Product, self.product.value)}
            req = create_request(
                session,
                actor,
                purpose=self.purpose.value,
                fields=list(self.fields.value),
                volume=int(self.volume.value),
                duration_days=int(self.duration.value),
                use_statement=self.use_statement.value,
                project_reference=self.project_reference.value,
                sponsor=session.get(Organization, self.sponsor.value) if self.sponsor.value else None,
                **target,
            )
            submit_request(session, actor, req)
            code, status = req.code, req.status
            req_id = req.id
        self.sandbox.changed()
        self._load_mine(select_id=req_id)
        self.feedback.ok(i18n.t("request.submitted", code=code, status=i18n.label(status)))
        return req

    def _selected(self, session: Any) -> AccessRequest:
        if self.my_requests.value is None:
            raise NotFound("request", "(none chosen)")
        return session.get(AccessRequest, self.my_requests.value)

    def accept_quote(self) -> None:
        guard(self.feedback)(self._accept)()

    def _accept(self) -> None:
        from marketplace.workflows.requests import accept_quote

        with self.sandbox.session() as session:
            req = self._selected(session)
            accept_quote(session, self.sandbox.account(session), req)
            code = req.code
        self.sandbox.changed()
        self.feedback.ok(i18n.t("request.quote_accepted", code=code))

    def withdraw(self) -> None:
        guard(self.feedback)(self._withdraw)()

    def _withdraw(self) -> None:
        from marketplace.workflows.requests import withdraw

        with self.sandbox.session() as session:
            req = self._selected(session)
            withdraw(session, self.sandbox.account(session), req)
            code = req.code
        self.sandbox.changed()
        self.feedback.ok(i18n.t("request.withdrawn", code=code))

    def report_usage(self) -> None:
        guard(self.feedback)(self._report_usage)()

    def _report_usage(self) -> None:
        from marketplace.workflows.grants import report_usage

        with self.sandbox.session() as session:
            req = self._selected(session)
            report = report_usage(session, self.sandbox.account(session), req, self.usage_summary.value)
            code, due, late = req.code, report.period_due, report.late
            nxt = req.grant.usage_report_due
        self.usage_summary.value = ""
        self.sandbox.changed()
        self.feedback.ok(
            i18n.t(
                "request.usage_reported",
                code=code,
                due=due.isoformat(),
                late=i18n.t("request.usage_late") if late else "",
                next=nxt.isoformat() if nxt else "—",
            )
        )

    # ---------------------------------------------------------------- status

    def _load_mine(self, select_id: int | None = None) -> None:
        """The acting account's latest requests, plus the one last filed here (followed across account
        switches,
        so the requester's request stays in view while a reviewer decides it)."""
        if select_id is not None:
            self.followed = select_id
        keep = select_id if select_id is not None else self.my_requests.value
        with self.sandbox.session() as session:
            rows = []
            if self.sandbox.account_id is not None:
                rows = list(
                    session.exec(
                        select(AccessRequest.id, AccessRequest.code, AccessRequest.status)
                        .where(AccessRequest.requester_id == self.sandbox.account_id)
                        .order_by(AccessRequest.id.desc())
                        .limit(MY_REQUESTS)  # type: ignore[union-attr]
                    ).all()
                )
            if self.followed is not None and self.followed not in [r[0] for r in rows]:
                followed = session.get(AccessRequest, self.followed)
                if followed is not None:
                    rows.insert(0, (followed.id, followed.code, followed.status))
        options = [(f"{code} · {i18n.label(status)}", rid) for rid, code, status in rows]
        ids = [rid for rid, _, _ in rows]
        self.my_requests.options = options
        self.my_requests.value = keep if keep in ids else (ids[0] if ids else None)
        self.show_status()

    def show_status(self) -> None:
        guard(self.feedback)(self._show_status)()

    def _show_status(self) -> None:
        if self.my_requests.value is None:
            self.status.value = ""
            self.accept_button.layout.display = "none"
            self.usage_box.layout.display = "none"
            return
        from marketplace.workflows.grants import usage_report_due
        from marketplace.workflows.requests import current_quote, fee_due

        with self.sandbox.session() as session:
            req = session.get(AccessRequest, self.my_requests.value)
            self.status.value = status_html(session, req, current_quote(session, req))
            # Offer "accept quote and pay" only while the workflow says a fee is due.
            self.accept_button.layout.display = "" if fee_due(session, req) else "none"
            # ... and the usage report while the grant asks for one (the workflow checks who and when).
            self.usage_box.layout.display = "" if usage_report_due(req.grant) else "none"


def component_label(component: str) -> str:
    """A quote line's component in the language in force (the policy's own word when it is a new one)."""
    key = f"quote.component.{component}"
    return i18n.t(key) if i18n.has(key) else component.replace("_", " ")


def status_html(session: Any, req: AccessRequest, q: Any = None) -> str:
    """One request's status: state, review stages with due dates, conditions, quote, grant, usage report."""
    from marketplace.workflows.clock import today
    from marketplace.workflows.grants import usage_report_due, usage_report_overdue

    target = req.product.code if req.product_id else req.resource.code
    parts = [
        f"<p class='mp-status-line'><b>{html.escape(req.code)}</b> · {html.escape(target)} · "
        f"<span class='mp-status' data-status='{req.status.value}'>"
        f"{html.escape(i18n.t('request.status_is', status=i18n.label(req.status)))}</span></p>"
    ]
    reviews = [
        (
            i18n.label(r.stage),
            i18n.label(r.status),
            i18n.label(r.decision) if r.decision else "—",
            r.due_on.isoformat() if r.due_on else "—",
            "⚠" if r.breached else "",
        )
        for r in req.reviews
    ]
    if reviews:
        parts.append(
            table_html(
                pd.DataFrame(
                    reviews,
                    columns=[
                        i18n.t("review.stage"),
                        i18n.t("common.status"),
                        i18n.t("review.decision"),
                        i18n.t("review.due"),
                        i18n.t("review.breached"),
                    ],
                )
            )
        )
    if req.list_entry_id is not None:
        from marketplace.workflows.sharing_list_view import entry_view

        entry = entry_view(session, req.list_entry)
        line = i18n.t("request.cites_entry", entry=i18n.list_entry_text(entry), holder=entry.holder)
        parts.append(f"<p class='mp-cites-list'>{html.escape(line)}</p>")
    waiting = _waiting_for(session, req)
    if waiting:
        parts.append(f"<p class='mp-waiting'>{html.escape(waiting)}</p>")
    if req.conditions:
        conds = i18n.listing(i18n.condition_label(c.kind, c.params) for c in req.conditions)
        parts.append(f"<p>{html.escape(i18n.t('request.conditions', conditions=conds))}</p>")
    if q is not None:
        line = i18n.t("request.quote_status", total=_money(q.total, q.currency), status=i18n.label(q.status))
        parts.append(f"<p>{html.escape(line)}</p>")
    if req.grant is not None:
        until = req.grant.valid_until.isoformat() if req.grant.valid_until else "—"
        parts.append(f"<p>{html.escape(i18n.t('request.grant', code=req.grant.code, until=until))}</p>")
        due = usage_report_due(req.grant)
        if due is not None:
            line = i18n.t("request.usage_due", due=due, filed=len(req.grant.usage_reports))
            parts.append(f"<p class='mp-usage-due'>{html.escape(line)}</p>")
            if usage_report_overdue(req.grant, today(session)):
                line = i18n.t("request.usage_overdue")
                parts.append(f"<p class='mp-usage-overdue'>⚠ {html.escape(line)}</p>")
    if req.status is RequestStatus.returned:
        parts.append(f"<p>{html.escape(i18n.t('request.returned_hint'))}</p>")
    return "".join(parts)


def _waiting_for(session: Any, req: AccessRequest) -> str:
    """Who can decide the open review stage now (so a trainer knows whom to switch to)."""
    from marketplace.workflows.reviews import open_review
    from marketplace.workflows.roles import accounts_with_role

    review = open_review(req)
    if review is None:
        return ""
    people = accounts_with_role(session, review.reviewer_role, org_id=review.reviewer_org_id)
    names = ", ".join(a.display_name for a in people[:3]) or i18n.t("common.none")
    return i18n.t(
        "request.waiting_for",
        stage=i18n.label(review.stage),
        role=i18n.label(review.reviewer_role),
        names=names,
    )


def request_panel(sandbox: Sandbox | None = None, kind: str = RESOURCE) -> RequestPanel:
    panel = RequestPanel(sandbox)
    panel.kind.value = kind
    return panel
