"""Review queue: the open review stages the acting account may decide, a page at a time, and the decision
form.

Which stages an account may decide is `marketplace.workflows.reviews.review_queue`'s answer; deciding is
`reviews.decide`, which parses and checks the conditions against the policy. The panel shows one page of the
queue (`PAGE_SIZE` rows) so a queue of thousands stays fast: pages are read by key (after the last row of the
page before, along the index of open stages), and the queue's size is counted up to
`reviews.QUEUE_COUNT_CAP` ("more than 1,000").
"""

from __future__ import annotations

import html
from datetime import date
from typing import Any

import ipywidgets as w
import pandas as pd

from marketplace.errors import NotFound
from marketplace.models import Review
from marketplace.ui import i18n
from marketplace.ui.common import Downloads, Feedback, Panel, button, guard, heading, table_html, text
from marketplace.ui.context import Sandbox, resolve
from marketplace.vocabulary import Decision
from marketplace.workflows import reviews as wf_reviews
from marketplace.workflows.reviews import QueueCount, QueueKey, queue_key

PAGE_SIZE = 20
CONDITION_EXAMPLES = (
    "deidentify(k>=5, l>=2)",
    "aggregate(min_cell=10)",
    "fields(only=[...])",
    "no_onward_transfer",
    "expires_after(days=365)",
    "report_usage",
)


def queue_page(
    session: Any, actor: Any, after: QueueKey | None, limit: int
) -> tuple[list[Review], QueueCount]:
    """Up to `limit` + 1 stages of `actor`'s queue after the key `after` (the extra one says whether a next
    page exists) and the queue's capped size, from `workflows`."""
    return (wf_reviews.review_queue(session, actor, limit=limit + 1, after=after),
            wf_reviews.review_queue_count(session, actor))


class ReviewQueue(Panel):
    def __init__(self, sandbox: Sandbox | None = None, page_size: int = PAGE_SIZE) -> None:
        self.sandbox = resolve(sandbox)
        self.page_size = page_size
        self.page = 0
        self.total = 0
        self.total_capped = False  # True: the queue holds more than `total` stages
        self.starts: list[QueueKey | None] = [None]  # where each page visited so far starts
        self.has_next = False
        self.last_key: QueueKey | None = None  # the last row shown: the next page starts after it
        self.feedback = Feedback()
        self.acting = w.HTML()
        self.table = w.HTML()
        self.table.add_class("mp-queue")
        self.page_label = w.HTML()
        self.prev_button = button("common.previous")
        self.next_button = button("common.next")
        self.refresh_button = button("common.refresh", icon="refresh")
        self.item = i18n.bind(w.Dropdown(layout=w.Layout(width="640px")), "description", "review.item")
        self.detail = w.HTML()
        self.detail.add_class("mp-review-detail")
        self.decision = i18n.bind(
            w.Dropdown(options=i18n.options(Decision), value=Decision.approve.value),
            "description",
            "review.decision",
        )
        self.conditions = i18n.bind(
            w.Textarea(rows=3, layout=w.Layout(width="520px")), "description", "review.conditions"
        )
        self.conditions.placeholder = "\n".join(CONDITION_EXAMPLES[:2])
        # the typed form of conditions is what the reviewer writes: shown as code, after a sentence saying so
        typed = ", ".join(f"<code>{html.escape(c)}</code>" for c in CONDITION_EXAMPLES)
        typed = typed.replace("{", "{{").replace("}", "}}")
        self.examples = i18n.bind(
            w.HTML(), "value", "review.examples", template=f"<small>{{}} {typed}</small>"
        )
        self.reason = i18n.bind(w.Text(layout=w.Layout(width="520px")), "description", "review.reason")
        self.decide_button = button("review.decide", "primary", "gavel")
        self.deliver_code = i18n.bind(
            w.Text(layout=w.Layout(width="320px")), "description", "review.deliver_code"
        )
        self.deliver_rows = i18n.bind(
            w.BoundedIntText(value=200, min=1, max=200_000, layout=w.Layout(width="200px")),
            "description",
            "privacy.rows",
        )
        self.deliver_button = button("review.deliver", "success", "truck")
        self.delivered = w.HTML()
        self.delivered.add_class("mp-delivered")
        self.delivery_downloads = Downloads()
        self.last_delivery: Any = None
        self.rows: list[dict[str, Any]] = []
        self.prev_button.on_click(self.guarded(lambda _b: self.go(self.page - 1)))
        self.next_button.on_click(self.guarded(lambda _b: self.go(self.page + 1)))
        self.refresh_button.on_click(self.guarded(lambda _b: self.load()))
        self.decide_button.on_click(self.guarded(lambda _b: self.decide()))
        self.deliver_button.on_click(self.guarded(lambda _b: self.deliver()))
        self.item.observe(self.guarded(lambda _c: self._show_detail()), names="value")
        self.watch(self.sandbox, lambda _c: self.go(0), "account_id")
        self.watch(self.sandbox, lambda _c: self.load(), "revision")
        self.on_language(lambda _lang: self._relabel())
        super().__init__(
            [
                heading("review.title"),
                text("review.intro"),
                self.acting,
                w.HBox([self.prev_button, self.page_label, self.next_button, self.refresh_button]),
                self.table,
                self.item,
                self.detail,
                self.decision,
                self.conditions,
                self.examples,
                self.reason,
                self.decide_button,
                self.feedback,
                heading("review.deliver_title", 4),
                text("review.deliver_intro"),
                w.HBox([self.deliver_code, self.deliver_rows, self.deliver_button]),
                self.delivered,
                self.delivery_downloads,
            ]
        )
        self.add_class("mp-review")
        self.load()

    def _relabel(self) -> None:
        value = self.decision.value
        self.decision.options = i18n.options(Decision)
        self.decision.value = value
        self.load()

    def go(self, page: int) -> None:
        """Show page `page` (0: the first); a page is reached from the one before it, so one step at a time
        forward, any number back."""
        page = max(0, min(page, len(self.starts) - 1 + (1 if self.has_next else 0)))
        if page == len(self.starts) and self.last_key is not None:
            self.starts.append(self.last_key)
        del self.starts[page + 1:]
        self.page = page
        self.load()

    def load(self) -> None:
        guard(self.feedback)(self._load)()

    def _load(self) -> None:
        from marketplace.workflows import clock

        if self.sandbox.account_id is None:
            self.acting.value = f"<i>{html.escape(i18n.t('common.nobody'))}</i>"
            self.rows, self.total, self.total_capped, self.has_next = [], 0, False, False
            self.page, self.starts = 0, [None]
            self._render()
            return
        with self.sandbox.session() as session:
            actor = self.sandbox.account(session)
            reviews, count = queue_page(session, actor, self.starts[self.page], self.page_size)
            while not reviews and self.page > 0:  # everything on this page was decided: step back
                self.page -= 1
                del self.starts[self.page + 1:]
                reviews, count = queue_page(session, actor, self.starts[self.page], self.page_size)
            self.total, self.total_capped = count.n, count.capped
            self.has_next = len(reviews) > self.page_size
            reviews = reviews[: self.page_size]
            self.last_key = queue_key(reviews[-1]) if reviews else None
            today = clock.today(session)
            self.rows = [self._row(r, today) for r in reviews]
            self.acting.value = f"<b>{html.escape(i18n.t('review.acting', name=actor.display_name))}</b>"
        self._render()

    @staticmethod
    def _row(r: Review, today: date) -> dict[str, Any]:
        req = r.request
        target = req.product.code if req.product_id else req.resource.code
        days_left = (r.due_on - today).days if r.due_on else None
        return {
            "review_id": r.id,
            "code": req.code,
            "target": target,
            "channel": req.channel,
            "requester": req.requester_org.name,
            "purpose": req.purpose,
            "stage": r.stage,
            "due": r.due_on.isoformat() if r.due_on else "—",
            "days_left": days_left,
            "breached": bool(r.breached) or (days_left is not None and days_left < 0),
        }

    def _render(self) -> None:
        if self.total_capped:
            label = i18n.t("review.page_capped", page=self.page + 1, total=f"{self.total:,}")
        else:
            pages = max(1, -(-self.total // self.page_size), self.page + 1 + (1 if self.has_next else 0))
            label = i18n.t("common.page", page=self.page + 1, pages=pages, total=self.total)
        self.page_label.value = html.escape(label)
        self.prev_button.disabled = self.page == 0
        self.next_button.disabled = not self.has_next
        frame = pd.DataFrame(
            [
                (
                    r["code"],
                    r["target"],
                    i18n.label(r["channel"]),
                    r["requester"],
                    i18n.label(r["purpose"]),
                    i18n.label(r["stage"]),
                    r["due"],
                    "—" if r["days_left"] is None else r["days_left"],
                    "⚠ " + i18n.t("review.overdue") if r["breached"] else "",
                )
                for r in self.rows
            ],
            columns=[
                i18n.t("common.code"),
                i18n.t("review.target"),
                i18n.t("common.channel"),
                i18n.t("review.requester"),
                i18n.t("common.purpose"),
                i18n.t("review.stage"),
                i18n.t("review.due"),
                i18n.t("review.days_left"),
                i18n.t("review.breached"),
            ],
        )
        self.table.value = table_html(frame, max_rows=self.page_size)
        keep = self.item.value
        self.item.options = [
            (f"{r['code']} · {i18n.label(r['stage'])} · {r['target']}", r["review_id"]) for r in self.rows
        ]
        ids = [r["review_id"] for r in self.rows]
        self.item.value = keep if keep in ids else (ids[0] if ids else None)
        self._show_detail()

    def _show_detail(self) -> None:
        guard(self.feedback)(self._detail)()

    def _detail(self) -> None:
        if self.item.value is None:
            self.detail.value = ""
            return
        from marketplace.ui.requests import status_html
        from marketplace.workflows.requests import current_quote

        with self.sandbox.session() as session:
            review = session.get(Review, self.item.value)
            req = review.request
            facts = [
                (i18n.t("review.requester"), f"{req.requester.display_name} — {req.requester_org.name}"),
                (i18n.t("common.purpose"), i18n.label(req.purpose)),
                (i18n.t("request.use"), req.use_statement or "—"),
                (i18n.t("request.fields"), ", ".join(req.fields) or i18n.t("common.all")),
                (i18n.t("request.volume"), str(req.volume)),
                (i18n.t("request.duration"), str(req.duration_days)),
            ]
            frame = pd.DataFrame(facts, columns=[i18n.t("common.name"), i18n.t("common.value")])
            self.detail.value = table_html(frame) + status_html(session, req, current_quote(session, req))

    def select(self, request_code: str) -> int:
        """Choose the queue item of `request_code` on the current page; returns the review id."""
        for r in self.rows:
            if r["code"] == request_code:
                self.item.value = r["review_id"]
                return r["review_id"]
        raise NotFound("request in this page of the queue", request_code)

    def decide(self) -> None:
        guard(self.feedback)(self._decide)()

    def _decide(self) -> None:
        from marketplace.workflows.reviews import decide

        if self.item.value is None:
            raise NotFound("review", "(none chosen)")
        conditions = [line.strip() for line in self.conditions.value.splitlines() if line.strip()]
        with self.sandbox.session() as session:
            review = session.get(Review, self.item.value)
            decide(
                session,
                self.sandbox.account(session),
                review,
                self.decision.value,
                conditions=conditions,
                reason=self.reason.value,
            )
            code, status = review.request.code, review.request.status
        self.conditions.value, self.reason.value = "", ""
        self.deliver_code.value = code
        self.sandbox.changed()
        self.feedback.ok(i18n.t("review.decided", code=code, status=i18n.label(status)))

    def deliver(self) -> None:
        guard(self.feedback)(self._deliver)()

    def _deliver(self) -> None:
        """The supplier releases the data of a granted request; conditions are enforced by the workflows."""
        from sqlmodel import select

        from marketplace.models import AccessRequest
        from marketplace.workflows.delivery import deliver

        code = self.deliver_code.value.strip()
        with self.sandbox.session() as session:
            req = session.exec(select(AccessRequest).where(AccessRequest.code == code)).first()
            if req is None:
                raise NotFound("request", code)
            done = deliver(session, self.sandbox.account(session), req, rows=int(self.deliver_rows.value))
            rows, columns, status = done.delivery.row_count, list(done.delivery.columns), req.status
            self.last_delivery = done
        summary = (done.report or {}).get("summary") or _report_line(done.report)
        self.delivered.value = (
            f"<p>{html.escape(i18n.t('review.delivered', code=code, rows=rows, columns=', '.join(columns)))}"
            f"<br>{html.escape(summary)}</p>" + table_html(done.table.head(8))
        )
        self.delivery_downloads.clear()
        self.delivery_downloads.add_table(done.table, f"delivery-{code}", "download.what.delivery")
        self.sandbox.changed()
        self.feedback.ok(i18n.t("review.decided", code=code, status=i18n.label(status)))


def _report_line(report: dict[str, Any] | None) -> str:
    """k / ℓ / risk / loss of a privacy report (or the keys of an aggregate report), for one line of text."""
    if not report:
        return ""
    keys = (
        "k_achieved",
        "l_achieved",
        "prosecutor_risk_max",
        "ncp",
        "rows_suppressed",
        "min_cell",
        "epsilon",
    )
    return ", ".join(f"{k}={report[k]}" for k in keys if report.get(k) is not None)


def review_queue(sandbox: Sandbox | None = None) -> ReviewQueue:
    return ReviewQueue(sandbox)
