"""Workshop panels: the participant's panel (bound to one account by a join code) and the trainer's console.

The participant panel is built on a `ParticipantSession`, not on the shared "act as" sandbox: it has no
control to change account, and it only shows the sections the account's roles allow. The console calls
`marketplace.workshop.Facilitator`, whose operations check the trainer role (and audit refusals). Neither
panel holds a rule: they show what the workshop and workflows layers answer.

Texts are the catalogs' `workshop.` messages (see `marketplace.i18n`) and follow `i18n.set_language`.
"""

from __future__ import annotations

import html
import os
import threading
from typing import Any

import ipywidgets as w
import pandas as pd

from marketplace.policy import list_policies
from marketplace.ui import i18n
from marketplace.ui.common import Feedback, Panel, guard, worded_table
from marketplace.vocabulary import Decision, Purpose, Role
from marketplace.workshop import Facilitator, ParticipantSession, title_in
from marketplace.workshop.agents import REVIEWER_ROLES

WORKSHOP_URL_ENV = "MARKETPLACE_WORKSHOP_URL"  # the workshop server's address, when the trainer sets it
QUEUE_PAGE_SIZE = 20  # review stages on one page of a participant's queue (as the review panel's page)


class _Texts:
    """Widgets whose labels follow language switches."""

    def __init__(self) -> None:
        self._items: list[tuple[Any, str, str, str]] = []
        i18n.on_language_change(lambda _l: self.apply(), owner=self)

    def __call__(self, widget: Any, trait: str, key: str, template: str = "{}") -> Any:
        self._items.append((widget, trait, key, template))
        setattr(widget, trait, template.format(i18n.t(key)) if template != "{}" else i18n.t(key))
        return widget

    def apply(self) -> None:
        for widget, trait, key, template in self._items:
            setattr(widget, trait, template.format(i18n.t(key)))


def _button(texts: _Texts, key: str, style: str = "") -> w.Button:
    return texts(w.Button(button_style=style, layout=w.Layout(width="auto")), "description", key)


def _h(texts: _Texts, key: str) -> w.HTML:
    return texts(w.HTML(), "value", key, "<h4>{}</h4>")


def _set_options(dropdown: w.Dropdown, options: list[Any]) -> None:
    """Replace a dropdown's options, keeping its value when still offered, else choosing the first."""
    old = dropdown.value
    dropdown.options = options
    values = [o[1] if isinstance(o, tuple) else o for o in options]
    dropdown.value = old if old in values else (values[0] if values else None)


def _round_status(r: dict[str, Any]) -> str:
    """A round's status as the selection panels word it (open / decided / failed)."""
    return i18n.t_or(f"selection.status.{r['status']}", r["status"])


def _round_option(r: dict[str, Any]) -> tuple[str, str]:
    """A selection round as a dropdown choice: its code, title and institution."""
    text = i18n.t("workshop.round_item", code=r["code"], title=r["title"], institution=r["institution"])
    return text, r["code"]


def _language_picker() -> w.Dropdown:
    pick = w.Dropdown(
        options=[("English", "en"), ("中文", "zh")], value=i18n.get_language(), layout=w.Layout(width="120px")
    )
    pick.observe(lambda c: i18n.set_language(c["new"]), names="value")
    return pick


class ParticipantPanel(Panel):
    """What one participant may do, and nothing else."""

    def __init__(self, session: ParticipantSession, *, queue_page_size: int = QUEUE_PAGE_SIZE) -> None:
        self.session = session
        # the review queue, a page at a time by key (`review_queue(after=<last review id>)`): where each page
        # visited so far starts, and whether a page follows the one shown
        self.queue_page_size = queue_page_size
        self.queue_page = 0
        self.queue_starts: list[int | None] = [None]
        self.queue_has_next = False
        self.queue_last: int | None = None
        self.texts = _Texts()
        self.feedback = Feedback()
        me = session.whoami()
        self.roles = me.roles
        self.identity = w.HTML()
        self._me = me
        self.exercise_box = w.HTML()
        sections: list[w.Widget] = [
            w.HBox([self.identity, _language_picker()]),
            self.feedback,
            _h(self.texts, "workshop.exercises"),
            self.exercise_box,
        ]
        refresh = _button(self.texts, "workshop.refresh")
        refresh.on_click(guard(self.feedback)(lambda _b: self.refresh()))
        sections.append(refresh)
        self.allowed = set(session.allowed_actions())
        self._entries: dict[int, dict[str, Any]] = {}
        self._rounds: list[dict[str, Any]] = []
        if Role.requester in self.roles:
            sections.append(self._requester_section())
        if "citable_entries" in self.allowed:
            sections.append(self._lists_section())
        if self.roles & REVIEWER_ROLES:
            sections.append(self._reviewer_section())
        if Role.operator in self.roles:
            self.products = w.HTML()
            sections += [_h(self.texts, "workshop.products"), self.products]
        if "apply_for_selection" in self.allowed:
            sections.append(self._apply_section())
        if "decide_selection" in self.allowed:
            sections.append(self._desk_section())
        self.on_language(lambda _l: self._relabel())
        super().__init__(sections)
        self.add_class("mp-workshop-participant")
        self.refresh()

    def _relabel(self) -> None:
        """Re-word the choices (keeping what is chosen) and the tables."""
        if Role.requester in self.roles:
            _set_options(self.purpose, i18n.options(Purpose))
            self._channels()
        if self.roles & REVIEWER_ROLES:
            _set_options(self.decision, i18n.options(Decision))
        self.refresh()

    # ------------------------------------------------------------ sections

    def _requester_section(self) -> w.VBox:
        self.target = self.texts(
            w.Dropdown(options=[], layout=w.Layout(width="560px")), "description", "workshop.target"
        )
        self.channel = self.texts(w.Dropdown(options=[]), "description", "workshop.channel")
        self.purpose = self.texts(
            w.Dropdown(options=i18n.options(Purpose)), "description", "workshop.purpose"
        )
        self.volume = self.texts(
            w.BoundedIntText(value=1, min=1, max=10_000_000), "description", "workshop.volume"
        )
        self.use_statement = self.texts(
            w.Text(layout=w.Layout(width="560px")), "description", "workshop.use_statement"
        )
        self.file_button = _button(self.texts, "workshop.file", "primary")
        self.requests_table = w.HTML()
        self.quote_pick = w.Dropdown(options=[], layout=w.Layout(width="360px"))
        self.accept_button = _button(self.texts, "workshop.accept", "success")
        self.usage_pick = self.texts(
            w.Dropdown(options=[], layout=w.Layout(width="360px")), "description", "workshop.usage_pick"
        )
        self.usage_summary = self.texts(
            w.Text(layout=w.Layout(width="560px")), "description", "workshop.usage_summary"
        )
        self.report_button = _button(self.texts, "workshop.report_usage", "info")
        self.target.observe(self.guarded(lambda _c: self._channels()), names="value")
        self.file_button.on_click(guard(self.feedback)(lambda _b: self.file()))
        self.accept_button.on_click(guard(self.feedback)(lambda _b: self.accept()))
        self.report_button.on_click(guard(self.feedback)(lambda _b: self.report_usage()))
        self._catalog: dict[str, dict[str, Any]] = {}
        return w.VBox(
            [
                _h(self.texts, "workshop.request_title"),
                self.target,
                w.HBox([self.channel, self.purpose]),
                self.volume,
                self.use_statement,
                self.file_button,
                _h(self.texts, "workshop.my_requests"),
                self.requests_table,
                w.HBox([self.quote_pick, self.accept_button]),
                w.HBox([self.usage_pick, self.report_button]),
                self.usage_summary,
            ]
        )

    def _reviewer_section(self) -> w.VBox:
        self.queue_table = w.HTML()
        self.review_pick = w.Dropdown(options=[], layout=w.Layout(width="560px"))
        self.decision = self.texts(
            w.Dropdown(options=i18n.options(Decision)), "description", "workshop.decision"
        )
        self.reason = self.texts(w.Text(layout=w.Layout(width="560px")), "description", "workshop.reason")
        self.conditions = self.texts(
            w.Text(layout=w.Layout(width="560px")), "description", "workshop.conditions"
        )
        self.decide_button = _button(self.texts, "workshop.decide", "primary")
        self.decide_button.on_click(guard(self.feedback)(lambda _b: self.decide()))
        self.queue_prev = _button(self.texts, "common.previous")
        self.queue_next = _button(self.texts, "common.next")
        self.queue_page_label = w.HTML()
        self.queue_prev.on_click(guard(self.feedback)(lambda _b: self.queue_go(self.queue_page - 1)))
        self.queue_next.on_click(guard(self.feedback)(lambda _b: self.queue_go(self.queue_page + 1)))
        return w.VBox(
            [
                _h(self.texts, "workshop.queue_title"),
                self.queue_table,
                w.HBox([self.queue_prev, self.queue_page_label, self.queue_next]),
                self.review_pick,
                self.decision,
                self.reason,
                self.conditions,
                self.decide_button,
            ]
        )

    def _lists_section(self) -> w.VBox:
        """A department cites another department's sharing responsibility list entry when it files."""
        self.entries_table = w.HTML()
        self.list_entry = self.texts(
            w.Dropdown(options=[], layout=w.Layout(width="560px")), "description", "workshop.list_entry"
        )
        self.list_entry.observe(self.guarded(lambda _c: self._entry_chosen()), names="value")
        return w.VBox(
            [
                _h(self.texts, "workshop.lists_title"),
                self.texts(w.HTML(), "value", "workshop.lists_intro", "<p>{}</p>"),
                self.entries_table,
                self.list_entry,
            ]
        )

    def _apply_section(self) -> w.VBox:
        """An operator reads the rounds and applies to an open one with its qualification facts."""
        self.rounds_table = w.HTML()
        self.apply_round = self.texts(
            w.Dropdown(options=[], layout=w.Layout(width="560px")), "description", "workshop.round"
        )
        self.security_level = self.texts(
            w.BoundedIntText(value=3, min=1, max=5), "description", "workshop.security_level"
        )
        self.registered_capital = self.texts(
            w.Text(value="", layout=w.Layout(width="360px")), "description", "workshop.registered_capital"
        )
        self.statement = self.texts(
            w.Text(layout=w.Layout(width="560px")), "description", "workshop.statement"
        )
        self.apply_button = _button(self.texts, "workshop.apply", "primary")
        self.apply_button.on_click(guard(self.feedback)(lambda _b: self.apply()))
        return w.VBox(
            [
                _h(self.texts, "workshop.selection_title"),
                self.rounds_table,
                self.apply_round,
                w.HBox([self.security_level, self.registered_capital]),
                self.statement,
                self.apply_button,
            ]
        )

    def _desk_section(self) -> w.VBox:
        """The implementing institution's staff score the applications of its rounds and decide them."""
        self.desk_table = w.HTML()
        self.application_pick = self.texts(
            w.Dropdown(options=[], layout=w.Layout(width="560px")), "description", "workshop.application"
        )
        self.score_boxes: dict[str, w.BoundedIntText] = {}
        self.scores_row = w.HBox([])
        self.score_button = _button(self.texts, "workshop.score", "info")
        self.decide_round = self.texts(
            w.Dropdown(options=[], layout=w.Layout(width="560px")), "description", "workshop.round"
        )
        self.note = self.texts(w.Text(layout=w.Layout(width="560px")), "description", "workshop.note")
        self.decide_round_button = _button(self.texts, "workshop.decide_round", "primary")
        self.score_button.on_click(guard(self.feedback)(lambda _b: self.score()))
        self.decide_round_button.on_click(guard(self.feedback)(lambda _b: self.decide_selection()))
        return w.VBox(
            [
                _h(self.texts, "workshop.desk_title"),
                self.desk_table,
                self.application_pick,
                self.scores_row,
                self.score_button,
                self.decide_round,
                self.note,
                self.decide_round_button,
            ]
        )

    # ------------------------------------------------------------ refresh

    def refresh(self) -> None:
        me = self._me
        roles = ", ".join(i18n.label(r) for r in sorted(me.roles))
        self.identity.value = i18n.t(
            "workshop.you_are",
            name=html.escape(me.display_name),
            org=html.escape(me.organization),
            roles=html.escape(roles),
        )
        exercises = self.session.exercises(i18n.get_language())
        if not exercises:
            self.exercise_box.value = f"<i>{html.escape(i18n.t('workshop.no_exercises'))}</i>"
        else:
            marks = {True: html.escape(i18n.t("workshop.done")), False: html.escape(i18n.t("workshop.todo"))}
            items = "".join(
                f"<li><b>{html.escape(e['title'])}</b> — "
                f"<span class='mp-ex-{'done' if e['done'] else 'todo'}'>"
                f"{marks[bool(e['done'])]} ({e['progress']})</span>"
                f"<br>{html.escape(e['instructions'])}</li>"
                for e in exercises
            )
            self.exercise_box.value = f"<ol class='mp-exercises'>{items}</ol>"
        if Role.requester in self.roles:
            if not self._catalog:
                self._catalog = {f"{c['code']} — {c['title']}": c for c in self.session.catalog()}
                _set_options(self.target, list(self._catalog))
                self._channels()
            mine = self.session.my_requests()
            self.requests_table.value = worded_table(
                pd.DataFrame(
                    mine,
                    columns=[
                        "code",
                        "channel",
                        "purpose",
                        "status",
                        "target",
                        "list_entry",
                        "quote_total",
                        "quote_status",
                        "usage_report_due",
                    ],
                ),
                keep=("code", "target", "list_entry"),
            )
            _set_options(
                self.quote_pick,
                [
                    (f"{r['code']} ({i18n.cell_text(r['quote_total'])})", r["id"])
                    for r in mine
                    if r["fee_due"]
                ],
            )
            _set_options(
                self.usage_pick,
                [(f"{r['code']} ({r['usage_report_due']})", r["id"]) for r in mine if r["usage_report_due"]],
            )
        if self.roles & REVIEWER_ROLES:
            queue = self._queue_rows()
            self.queue_table.value = worded_table(
                pd.DataFrame(
                    queue,
                    columns=[
                        "review_id",
                        "request",
                        "stage",
                        "due_on",
                        "purpose",
                        "channel",
                        "target",
                        "use_statement",
                    ],
                ),
                keep=("request", "target", "use_statement"),
            )
            _set_options(
                self.review_pick,
                [
                    (
                        i18n.t(
                            "workshop.review_item",
                            id=q["review_id"],
                            request=q["request"],
                            stage=i18n.label(q["stage"]),
                            due=q["due_on"],
                        ),
                        q["review_id"],
                    )
                    for q in queue
                ],
            )
        if Role.operator in self.roles:
            products = pd.DataFrame(self.session.my_products())
            self.products.value = worded_table(products, keep=("code", "name"))
        if "citable_entries" in self.allowed:
            self._show_entries(self.session.citable_entries())
        if self.allowed & {"apply_for_selection", "decide_selection"}:
            self._rounds = self.session.selection_rounds()
        if "apply_for_selection" in self.allowed:
            self._show_rounds()
        if "decide_selection" in self.allowed:
            self._show_desk()

    def queue_go(self, page: int) -> None:
        """Show page `page` of the review queue (0: the first); a page is reached from the one before it, so
        one step at a time forward, any number back."""
        page = max(0, min(page, len(self.queue_starts) - 1 + (1 if self.queue_has_next else 0)))
        if page == len(self.queue_starts) and self.queue_last is not None:
            self.queue_starts.append(self.queue_last)
        del self.queue_starts[page + 1 :]
        self.queue_page = page
        self.refresh()

    def _queue_rows(self) -> list[dict[str, Any]]:
        """The rows of the queue's current page (one more is read to learn whether a next page exists); a
        page whose rows were all decided meanwhile steps back to the one before."""
        size = self.queue_page_size
        rows = self.session.review_queue(limit=size + 1, after=self.queue_starts[self.queue_page])
        while not rows and self.queue_page > 0:
            self.queue_page -= 1
            del self.queue_starts[self.queue_page + 1 :]
            rows = self.session.review_queue(limit=size + 1, after=self.queue_starts[self.queue_page])
        self.queue_has_next = len(rows) > size
        rows = rows[:size]
        self.queue_last = rows[-1]["review_id"] if rows else None
        self.queue_page_label.value = html.escape(
            i18n.t("workshop.queue_page", page=self.queue_page + 1, count=len(rows))
        )
        self.queue_prev.disabled = self.queue_page == 0
        self.queue_next.disabled = not self.queue_has_next
        return rows

    def _show_entries(self, entries: list[dict[str, Any]]) -> None:
        self._entries = {e["id"]: e for e in entries}
        rows = [
            {
                "list_entry": e["code"],
                "holder": e["holder"],
                "resource": f"{e['resource']} {e['resource_title']}",
                "purposes": e["purposes"],
                "duty": e["duty"],
            }
            for e in entries
        ]
        cols = ["list_entry", "holder", "resource", "purposes", "duty"]
        self.entries_table.value = (
            worded_table(pd.DataFrame(rows, columns=cols), keep=("list_entry", "holder", "resource", "duty"))
            if rows
            else f"<i>{html.escape(i18n.t('workshop.no_entries'))}</i>"
        )
        _set_options(
            self.list_entry,
            [(i18n.t("workshop.no_list_entry"), None)]
            + [
                (
                    i18n.t(
                        "workshop.list_entry_item", code=e["code"], resource=e["resource"], holder=e["holder"]
                    ),
                    e["id"],
                )
                for e in entries
            ],
        )

    def _application_text(self, app: dict[str, Any] | None) -> str:
        """An application's outcome in words: qualified (its total once scored) or the criterion it failed."""
        if app is None:
            return "—"
        if not app["qualified"]:
            criterion = app["failed_criterion"] or ""
            key = f"selection.criterion.{criterion}"
            return i18n.t("workshop.not_qualified", criterion=i18n.t_or(key, criterion))
        if app["total"] is not None:
            return i18n.t("workshop.qualified_total", total=app["total"])
        return i18n.t("workshop.qualified")

    def _show_rounds(self) -> None:
        rows = [
            {
                "code": r["code"],
                "title": r["title"],
                "institution": r["institution"],
                "status": _round_status(r),
                "resources": r["resources"],
                "applicants": r["applicants"],
                "my_application": self._application_text(r["my_application"]),
                "winner": r["winner"] or "—",
            }
            for r in self._rounds
        ]
        cols = list(rows[0]) if rows else ["code", "title", "institution", "status", "winner"]
        self.rounds_table.value = worded_table(
            pd.DataFrame(rows, columns=cols),
            keep=("code", "title", "institution", "status", "resources", "my_application", "winner"),
        )
        _set_options(
            self.apply_round,
            [
                _round_option(r)
                for r in self._rounds
                if r["status"] == "open" and r["my_application"] is None
            ],
        )

    def _show_desk(self) -> None:
        mine = [r for r in self._rounds if r["run_by_my_organization"]]
        rows = [
            {
                "round": r["code"],
                "status": _round_status(r),
                "operator": a["operator"],
                "my_application": self._application_text(a),
                "winner": r["winner"] or "—",
                "notice_until": r["notice_until"],
            }
            for r in mine
            for a in r["applications"]
        ]
        cols = ["round", "status", "operator", "my_application", "winner", "notice_until"]
        frame = pd.DataFrame(rows, columns=cols).rename(columns={"my_application": "qualification"})
        self.desk_table.value = (
            worded_table(frame, keep=("round", "status", "operator", "qualification", "winner"))
            if mine
            else f"<i>{html.escape(i18n.t('workshop.no_rounds_to_run'))}</i>"
        )
        open_rounds = [r for r in mine if r["status"] == "open"]
        _set_options(
            self.application_pick,
            [
                (i18n.t("workshop.application_item", operator=a["operator"], round=r["code"]), a["id"])
                for r in open_rounds
                for a in r["applications"]
                if a["qualified"]
            ],
        )
        _set_options(
            self.decide_round,
            [
                _round_option(r)
                for r in open_rounds
            ],
        )
        criteria = list(open_rounds[0]["criteria"]) if open_rounds else []
        if criteria != list(self.score_boxes):
            self.score_boxes = {
                c: w.BoundedIntText(value=70, min=0, max=100, layout=w.Layout(width="220px"))
                for c in criteria
            }
            self.scores_row.children = list(self.score_boxes.values())
        for c, box in self.score_boxes.items():
            box.description = i18n.t_or(f"selection.criterion.{c}", c)

    def _channels(self) -> None:
        item = self._catalog.get(self.target.value) if self.target.value else None
        _set_options(self.channel, i18n.options(item["channels"]) if item else [])

    # ------------------------------------------------------------ actions

    def _entry_chosen(self) -> None:
        """Citing an entry: the request's target becomes the listed resource on the sharing channel, and the
        purpose one the entry names (the server still checks that the entry covers the request)."""
        entry = self._entries.get(self.list_entry.value)
        if entry is None:
            return
        key = next((k for k, c in self._catalog.items() if c["code"] == entry["resource"]), None)
        if key is not None:
            self.target.value = key
            if "sharing" in self._catalog[key]["channels"]:
                self.channel.value = "sharing"
        if entry["purposes"] and self.purpose.value not in entry["purposes"]:
            self.purpose.value = entry["purposes"][0]

    def file(self) -> Any:
        item = self._catalog[self.target.value]
        ref = (
            {"product": item["code"]}
            if item["kind"] == "product"
            else {"resource": item["code"], "channel": self.channel.value}
        )
        if "citable_entries" in self.allowed and self.list_entry.value is not None:
            ref["list_entry"] = self._entries[self.list_entry.value]["code"]
        receipt = self.session.file_request(
            purpose=self.purpose.value,
            volume=int(self.volume.value),
            use_statement=self.use_statement.value,
            **ref,
        )
        r = receipt.result
        quote = (
            i18n.t("workshop.quote_is", total=r["quote_total"]) if r.get("quote_total") is not None else ""
        )
        self.refresh()
        self.feedback.ok(
            i18n.t("workshop.filed", code=r["code"], status=i18n.label(r["status"]), quote=quote)
        )
        return receipt

    def accept(self) -> Any:
        if self.quote_pick.value is None:
            return None
        receipt = self.session.accept_quote(self.quote_pick.value)
        self.refresh()
        code = next((r["code"] for r in self.session.my_requests() if r["id"] == receipt.subject_id), "")
        self.feedback.ok(
            i18n.t(
                "workshop.accepted",
                code=code,
                paid=receipt.result.get("paid") or "0",
                status=i18n.label(receipt.result["status"]),
            )
        )
        return receipt

    def report_usage(self) -> Any:
        if self.usage_pick.value is None:
            return None
        receipt = self.session.report_usage(self.usage_pick.value, self.usage_summary.value)
        self.usage_summary.value = ""
        self.refresh()
        code = next((r["code"] for r in self.session.my_requests() if r["id"] == receipt.subject_id), "")
        r = receipt.result
        self.feedback.ok(
            i18n.t(
                "workshop.usage_reported",
                code=code,
                due=r["period_due"],
                late=i18n.t("workshop.late") if r["late"] else "",
                next=r["next_due"] or "—",
            )
        )
        return receipt

    def decide(self) -> Any:
        if self.review_pick.value is None:
            return None
        conditions = (
            [c.strip() for c in self.conditions.value.split(",") if c.strip()]
            if self.decision.value == Decision.approve_with_conditions.value
            else []
        )
        receipt = self.session.decide(
            self.review_pick.value, self.decision.value, reason=self.reason.value, conditions=conditions
        )
        self.refresh()
        self.feedback.ok(
            i18n.t(
                "workshop.decided",
                review=receipt.result["review_id"],
                decision=i18n.label(receipt.result["decision"]),
                status=i18n.label(receipt.result["request_status"]),
            )
        )
        return receipt


    def apply(self) -> Any:
        if self.apply_round.value is None:
            return None
        receipt = self.session.apply_for_selection(
            self.apply_round.value,
            security_level=int(self.security_level.value),
            registered_capital=self.registered_capital.value.strip(),
            statement=self.statement.value,
        )
        self.statement.value = ""
        self.refresh()
        r = receipt.result
        self.feedback.ok(i18n.t("workshop.applied", round=r["round"], result=self._application_text(r)))
        return receipt

    def score(self) -> Any:
        if self.application_pick.value is None:
            return None
        scores = {c: int(box.value) for c, box in self.score_boxes.items()}
        receipt = self.session.score_application(self.application_pick.value, scores)
        self.refresh()
        r = receipt.result
        self.feedback.ok(i18n.t("workshop.scored", operator=r["operator"], total=r["total"]))
        return receipt

    def decide_selection(self) -> Any:
        if self.decide_round.value is None:
            return None
        receipt = self.session.decide_selection(self.decide_round.value, note=self.note.value)
        self.note.value = ""
        self.refresh()
        r = receipt.result
        self.feedback.ok(
            i18n.t(
                "workshop.round_decided",
                round=r["round"],
                status=_round_status(r),
                winner=r["winner"] or "—",
            )
        )
        return receipt


class FacilitatorConsole(Panel):
    """The trainer's console: dashboard, exercises, clock, checkpoints, policy, background traffic."""

    AUTO_REFRESH_S = 10.0

    def __init__(self, facilitator: Facilitator) -> None:
        self.fac = facilitator
        self.texts = _Texts()
        self.feedback = Feedback()
        self.status = w.HTML()
        self.figures = w.HTML()
        self.tables = w.HTML()
        self.completion = w.HTML()
        self.refresh_button = _button(self.texts, "workshop.refresh")
        self.auto = self.texts(w.Checkbox(value=False), "description", "workshop.auto")
        self.release_button = _button(self.texts, "workshop.release_next", "primary")
        self.pause_button = _button(self.texts, "workshop.pause")
        self.resume_button = _button(self.texts, "workshop.resume")
        self.days = self.texts(
            w.BoundedIntText(value=5, min=1, max=3660, layout=w.Layout(width="200px")),
            "description",
            "workshop.advance",
        )
        self.advance_button = _button(self.texts, "workshop.advance_btn")
        self.checkpoint_name = self.texts(w.Text(value="start"), "description", "workshop.checkpoint_name")
        self.save_button = _button(self.texts, "workshop.save")
        self.checkpoint_pick = w.Dropdown(options=[])
        self.restore_button = _button(self.texts, "workshop.restore", "warning")
        self.restore_cancel = _button(self.texts, "workshop.restore_cancel")
        self.restore_cancel.layout.display = "none"
        self._restore_armed: str | None = None
        self.policy_pick = self.texts(w.Dropdown(options=list_policies()), "description", "workshop.policy")
        self.switch_button = _button(self.texts, "workshop.switch", "warning")
        self.effect = w.HTML()
        self.agents = self.texts(
            w.BoundedIntText(value=6, min=1, max=50, layout=w.Layout(width="200px")),
            "description",
            "workshop.agents",
        )
        self.seed = self.texts(
            w.IntText(value=0, layout=w.Layout(width="200px")), "description", "workshop.seed"
        )
        self.start_button = _button(self.texts, "workshop.start")
        self.stop_button = _button(self.texts, "workshop.stop")
        self.round_button = _button(self.texts, "workshop.one_round")
        self.traffic_status = w.HTML()
        self.traffic: Any = None
        self._timer: threading.Timer | None = None
        g = guard(self.feedback)
        self.refresh_button.on_click(g(lambda _b: self.refresh()))
        self.auto.observe(self.guarded(lambda c: self._auto(c["new"])), names="value")
        self.release_button.on_click(g(lambda _b: self.release_next()))
        self.pause_button.on_click(g(lambda _b: self._clock(self.fac.pause_clock)))
        self.resume_button.on_click(g(lambda _b: self._clock(self.fac.resume_clock)))
        self.advance_button.on_click(g(lambda _b: self.advance()))
        self.save_button.on_click(g(lambda _b: self.save_checkpoint()))
        self.restore_button.on_click(g(lambda _b: self.restore_checkpoint()))
        self.restore_cancel.on_click(g(lambda _b: self._disarm()))
        self.checkpoint_pick.observe(self.guarded(lambda _c: self._disarm()), names="value")
        self.switch_button.on_click(g(lambda _b: self.switch_policy()))
        self.start_button.on_click(g(lambda _b: self.start_traffic()))
        self.stop_button.on_click(g(lambda _b: self.stop_traffic()))
        self.round_button.on_click(g(lambda _b: self.traffic_round()))
        super().__init__(
            [
                w.HBox(
                    [self.texts(w.HTML(), "value", "workshop.console", "<h3>{}</h3>"), _language_picker()]
                ),
                self.feedback,
                self.status,
                _h(self.texts, "workshop.dashboard"),
                w.HBox([self.refresh_button, self.auto]),
                self.figures,
                self.tables,
                self.completion,
                _h(self.texts, "workshop.exercises"),
                self.release_button,
                w.HBox([self.pause_button, self.resume_button, self.days, self.advance_button]),
                w.HBox(
                    [
                        self.checkpoint_name,
                        self.save_button,
                        self.checkpoint_pick,
                        self.restore_button,
                        self.restore_cancel,
                    ]
                ),
                w.HBox([self.policy_pick, self.switch_button]),
                self.effect,
                _h(self.texts, "workshop.traffic"),
                w.HBox([self.agents, self.seed, self.start_button, self.stop_button, self.round_button]),
                self.traffic_status,
            ]
        )
        self.add_class("mp-workshop-console")
        self.on_language(lambda _l: self.refresh())
        self.refresh()
        self._pick_policy_in_force()

    def _pick_policy_in_force(self) -> None:
        """The policy picker shows the policy in force (a switch is then a deliberate choice)."""
        if self.data.policy in self.policy_pick.options:
            self.policy_pick.value = self.data.policy

    # ------------------------------------------------------------ dashboard

    def refresh(self) -> None:
        d = self.fac.dashboard()
        self.status.value = i18n.t(
            "workshop.status_line",
            today=d.today,
            state=i18n.t("workshop.paused") if d.clock_paused else i18n.t("workshop.running"),
            policy=html.escape(d.policy),
            at=d.at.strftime("%H:%M:%S"),
        )
        fig = "".join(
            f"<tr><td>{html.escape(i18n.t(f'workshop.figure.{k}'))}</td><td><b>{html.escape(str(v))}</b></td></tr>"
            for k, v in d.figures.items()
        )
        self.figures.value = f"<table class='mp-figures'>{fig}</table>"
        self.tables.value = "".join(
            "<div style='display:inline-block;vertical-align:top;margin-right:2em'>"
            f"{worded_table(df, keep=('exercise', 'title'))}</div>"
            for df in (d.queues, d.requests, d.decisions, exercise_titles(d.exercises))
        )
        comp = d.completion.drop(columns=["account_id", "last_seen"], errors="ignore")
        exercises = list(d.exercises["exercise"]) if not d.exercises.empty else []
        for ex in exercises:
            comp[ex] = comp[ex].map({True: "✓", False: "·", None: ""})
        self.completion.value = worded_table(
            comp, keep=("seat", "name", "organization", *exercises), max_rows=200
        )
        _set_options(self.checkpoint_pick, list(self.fac.checkpoints()["name"]))
        self.data = d

    def close(self) -> None:
        """Stop the auto-refresh timer and the background traffic, then let the console go."""
        self.auto.value = False
        self._auto(False)
        if self.traffic is not None:
            self.traffic.stop()
        super().close()

    def _auto(self, on: bool) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        if on:
            self._schedule()

    def _schedule(self) -> None:
        def tick() -> None:
            if not self.auto.value:
                return
            try:
                self.refresh()
            finally:
                self._schedule()

        self._timer = threading.Timer(self.AUTO_REFRESH_S, guard(self.feedback)(tick))
        self._timer.daemon = True
        self._timer.start()

    # ------------------------------------------------------------ operations

    def release_next(self) -> Any:
        ex = self.fac.release_next()
        self.feedback.ok(
            i18n.t("workshop.released", id=ex.id, title=ex.text(i18n.get_language())[0])
            if ex
            else i18n.t("workshop.all_released")
        )
        self.refresh()
        return ex

    def _clock(self, op: Any) -> Any:
        state = op()
        self.refresh()
        return state

    def advance(self) -> Any:
        report = self.fac.advance_clock(int(self.days.value))
        self.feedback.ok(i18n.t("workshop.clock_done", lines="; ".join(i18n.clock_report_lines(report))))
        self.refresh()
        return report

    def save_checkpoint(self) -> Any:
        counts = self.fac.checkpoint(self.checkpoint_name.value)
        saved = i18n.t("workshop.saved", name=self.checkpoint_name.value, rows=sum(counts.values()))
        if self.fac.last_anchor is not None:  # the log's head, anchored outside the database: show it
            value, path = self.fac.last_anchor
            saved += " " + i18n.t("workshop.anchored", seq=value["seq"], mac=value["hash"][:16], path=path)
        self.feedback.ok(saved)
        self.refresh()
        return counts

    def restore_checkpoint(self) -> Any:
        """Restoring loses everything done since the checkpoint: the first click asks, the second restores."""
        if not self.checkpoint_pick.value:
            return None
        name = self.checkpoint_pick.value
        if self._restore_armed != name:
            self._restore_armed = name
            self.restore_cancel.layout.display = ""
            self.feedback.info(i18n.t("workshop.restore_confirm", name=name))
            return None
        self._disarm()
        counts = self.fac.restore(name)
        self.feedback.ok(i18n.t("workshop.restored", name=name, rows=sum(counts.values())))
        self.effect.value = ""  # the last switch's sample may name requests the checkpoint does not hold
        self.refresh()
        self._pick_policy_in_force()
        return counts

    def _disarm(self) -> None:
        if self._restore_armed is not None and self.feedback.kind == "info":
            self.feedback.clear()
        self._restore_armed = None
        self.restore_cancel.layout.display = "none"

    def switch_policy(self) -> Any:
        effect = self.fac.switch_policy(self.policy_pick.value)
        samples = effect.samples.copy()
        for column in ("old_stages", "new_stages"):
            if column in samples:
                samples[column] = samples[column].map(i18n.stages_text)
        self.effect.value = worded_table(samples, keep=("request", "old_stages", "new_stages"))
        self.feedback.ok(i18n.t("workshop.switched", old=effect.old, new=effect.new))
        self.refresh()
        return effect

    def _ensure_traffic(self) -> Any:
        if self.traffic is None:
            self.traffic = self.fac.traffic(agents=int(self.agents.value), seed=int(self.seed.value))
        return self.traffic

    def start_traffic(self) -> None:
        self._ensure_traffic().start()
        self._show_traffic()

    def stop_traffic(self) -> None:
        if self.traffic is not None:
            self.traffic.stop()
        self._show_traffic()

    def traffic_round(self) -> Any:
        outs = self._ensure_traffic().step()
        self._show_traffic()
        self.refresh()
        return outs

    def _show_traffic(self) -> None:
        counts = dict(self.traffic.counts) if self.traffic is not None else {}
        shown = i18n.listing(f"{traffic_label(k)}: {v}" for k, v in sorted(counts.items()))
        self.traffic_status.value = html.escape(
            i18n.t("workshop.traffic_counts", counts=shown or i18n.t("workshop.traffic_none"))
        )


def traffic_label(key: str) -> str:
    """A background-traffic count's key ('file_request', 'accept_quote:TransitionError') in words: what the
    simulated participants did and, for a refusal, why."""
    action, _, error = key.partition(":")
    name = i18n.t_or(f"workshop.traffic.{action}", i18n.action_text(action))
    if not error:
        return name
    why = i18n.t_or(f"workshop.traffic.why.{error}", i18n.t("workshop.traffic.why.other"))
    return i18n.t("workshop.traffic.failed", action=name, why=why)


def exercise_titles(df: pd.DataFrame) -> pd.DataFrame:
    """The dashboard's exercise table with each shipped exercise's title in the language in force."""
    if df.empty or "title" not in df:
        return df
    out = df.copy()
    lang = i18n.get_language()
    out["title"] = [title_in(e, str(t), lang) for e, t in zip(out["exercise"], out["title"], strict=True)]
    return out


class JoinBox(Panel):
    """A code field and a button; on a valid code the box shows the panel that `make(code)` builds.

    With `make_remote`, the box also asks for the workshop server's address (prefilled from
    MARKETPLACE_WORKSHOP_URL): given one, `make_remote(url, code)` joins through the server and this kernel
    never holds the database; left empty, the code is checked on the database as on a one-machine sandbox.
    """

    def __init__(self, make: Any, key: str = "workshop.join_code", make_remote: Any = None) -> None:
        self.texts = _Texts()
        self.make = make
        self.make_remote = make_remote
        self.feedback = Feedback()
        self.code = self.texts(w.Password(layout=w.Layout(width="360px")), "description", key)
        self.url = self.texts(
            w.Text(value=os.environ.get(WORKSHOP_URL_ENV, ""), layout=w.Layout(width="360px")),
            "description",
            "workshop.server_url",
        )
        self.join_button = _button(self.texts, "workshop.join", "primary")
        self.panel: Any = None
        self.join_button.on_click(guard(self.feedback)(lambda _b: self.join()))
        fields: list[w.Widget] = [self.url] if make_remote is not None else []
        super().__init__([*fields, w.HBox([self.code, self.join_button]), self.feedback])

    def join(self) -> Any:
        from marketplace.errors import PermissionDenied
        from marketplace.workshop.client import ServerRefused

        url = self.url.value.strip()
        try:
            if url and self.make_remote is not None:
                self.panel = self.make_remote(url, self.code.value.strip())
            else:
                self.panel = self.make(self.code.value.strip())
        except PermissionDenied as exc:
            if exc.actor != "anyone":  # a known seat without the right: the workflow's own words
                raise
            self.feedback.error(i18n.t("workshop.bad_join_code"))  # not "anyone may not join the workshop"
            return None
        except ServerRefused as exc:
            if exc.status == 401:
                self.feedback.error(i18n.t("workshop.bad_join_code"))
            elif exc.status == 429:
                self.feedback.error(i18n.t("workshop.join_throttled"))
            elif exc.status == 0:
                self.feedback.error(i18n.t("workshop.server_unreachable", url=url))
            else:
                raise
            return None
        self.code.value = ""
        self.children = [self.panel]
        return self.panel


def participant_app(code: str | None = None, engine: Any = None, url: str | None = None) -> w.Widget:
    """The participant's notebook entry: the panel for `code` (through the workshop server at `url` when
    given, else MARKETPLACE_WORKSHOP_URL), or a box asking for the server's address and the join code."""
    url = url or os.environ.get(WORKSHOP_URL_ENV) or None
    if code:
        return remote_panel(url, code) if url else participant_panel(code, engine)
    return JoinBox(lambda c: participant_panel(c, engine), make_remote=remote_panel)


def facilitator_app(code: str | None = None, engine: Any = None) -> w.Widget:
    """The trainer's notebook entry: the console for a trainer `code`, or a box asking for it."""
    if code:
        return facilitator_console(code, engine)
    return JoinBox(lambda c: facilitator_console(c, engine), key="workshop.trainer_code")


def participant_panel(code: str, engine: Any = None) -> ParticipantPanel:
    """Join with `code` and show that account's panel."""
    from marketplace.workshop import join

    return ParticipantPanel(join(code, engine))


def remote_panel(url: str, code: str) -> ParticipantPanel:
    """Join the workshop server at `url` with `code` and show that account's panel (no database here)."""
    from marketplace.workshop.client import WorkshopClient

    return ParticipantPanel(WorkshopClient(url, code))


def facilitator_console(code: str, engine: Any = None) -> FacilitatorConsole:
    """Join with a trainer's `code` and show the console (anyone else is refused, and audited)."""
    from marketplace.workshop import facilitate

    return FacilitatorConsole(facilitate(code, engine))


__all__ = [
    "FacilitatorConsole",
    "JoinBox",
    "ParticipantPanel",
    "facilitator_app",
    "facilitator_console",
    "participant_app",
    "participant_panel",
    "remote_panel",
]
