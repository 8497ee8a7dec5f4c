"""Catalogue browser: search and filter resources by domain, grade and channel, a page at a time; see a
resource's schema and sample rows.

Which channels can serve a resource is asked of the policy in force (`workflows.facts.resource_channels`), and
sample rows come from `marketplace.synth.rows`, so the browser shows exactly what the rules and generator say.
What a search matches (code, title, description, field names) is `workflows.catalog_view`'s rule, the same as
`marketplace catalog search`.
"""

from __future__ import annotations

import html
from typing import Any

import ipywidgets as w
import pandas as pd
from sqlmodel import select

from marketplace.models import Resource
from marketplace.ui import i18n
from marketplace.ui.common import Feedback, Panel, guard, heading, set_options, table_html, text
from marketplace.ui.context import Sandbox, resolve
from marketplace.vocabulary import Channel, Grade

SAMPLE_ROWS = 8
PAGE_SIZE = 10
ALL = ""


class CatalogBrowser(Panel):
    def __init__(self, sandbox: Sandbox | None = None) -> None:
        self.sandbox = resolve(sandbox)
        self.feedback = Feedback()
        self.domain = i18n.bind(w.Dropdown(), "description", "common.domain")
        self.grade = i18n.bind(w.Dropdown(), "description", "common.grade")
        self.channel = i18n.bind(w.Dropdown(), "description", "common.channel")
        self.search = i18n.bind(
            w.Text(continuous_update=False, layout=w.Layout(width="420px")), "description", "catalog.search"
        )
        i18n.bind(self.search, "placeholder", "catalog.search_hint")
        self.previous_button = i18n.bind(
            w.Button(layout=w.Layout(width="auto")), "description", "common.previous"
        )
        self.next_button = i18n.bind(
            w.Button(layout=w.Layout(width="auto")), "description", "common.next"
        )
        self.page_label = w.HTML()
        self.page = 0
        self.listing = w.Select(rows=PAGE_SIZE, layout=w.Layout(width="640px"))
        self.count = w.HTML()
        self.detail = w.HTML()
        self.detail.add_class("mp-resource-detail")
        self.sample = w.HTML()
        self.sample.add_class("mp-sample")
        self.rows: list[dict[str, Any]] = []
        self.shown: list[dict[str, Any]] = []
        self.matching: set[int] | None = None  # ids the search text matches; None without a search
        self._load()
        self._fill_filters()
        for control in (self.domain, self.grade, self.channel):
            control.observe(self.guarded(lambda _c: self.apply_filters()), names="value")
        self.search.observe(self.guarded(lambda _c: self.find()), names="value")
        self.previous_button.on_click(self.guarded(lambda _b: self.turn(-1)))
        self.next_button.on_click(self.guarded(lambda _b: self.turn(1)))
        self.listing.observe(self.guarded(lambda c: self.show(c["new"])), names="value")
        self.watch(self.sandbox, lambda _c: self.reload(), "revision")
        self.on_language(lambda _lang: self._relabel())
        super().__init__(
            [
                heading("catalog.title"),
                text("catalog.intro"),
                self.search,
                w.HBox([self.domain, self.grade, self.channel]),
                self.count,
                self.listing,
                w.HBox([self.previous_button, self.page_label, self.next_button]),
                self.feedback,
                self.detail,
                heading("catalog.sample", 4),
                self.sample,
            ]
        )
        self.add_class("mp-catalog")
        self.apply_filters()

    def _load(self) -> None:
        from marketplace.workflows.facts import current_policy, resource_channels

        with self.sandbox.session() as session:
            policy = current_policy(session)
            resources = session.exec(select(Resource).order_by(Resource.domain, Resource.code)).all()
            self.rows = [
                {
                    "id": r.id,
                    "code": r.code,
                    "title": r.title,
                    "domain": r.domain,
                    "grade": r.grade.value,
                    "holder": r.holder.name,
                    "channels": resource_channels(r, policy),
                }
                for r in resources
            ]

    def reload(self) -> None:
        self._load()
        self.find()

    def _fill_filters(self) -> None:
        domains = sorted({r["domain"] for r in self.rows})
        set_options(self.domain, [(i18n.t("common.all"), ALL), *((i18n.domain_label(d), d) for d in domains)])
        set_options(self.grade, [(i18n.t("common.all"), ALL), *i18n.options(Grade)])
        set_options(self.channel, [(i18n.t("common.all"), ALL), *i18n.options(Channel)])

    def _relabel(self) -> None:
        """Re-word everything in the new language, keeping every filter and the selected resource."""
        self._fill_filters()
        self._show_page()
        self.show(self.listing.value)

    def find(self, text: str | None = None) -> list[dict[str, Any]]:
        """Search the catalog for `text` (default: what the search box holds); returns the matches shown."""
        if text is not None and text != self.search.value:
            self.search.value = text  # observed: comes back here with text None
            return self.shown
        guard(self.feedback)(self._find)()
        return self.shown

    def _find(self) -> None:
        from marketplace.workflows.catalog_view import matching_ids

        text = self.search.value.strip()
        if not text:
            self.matching = None
        else:
            with self.sandbox.session() as session:
                self.matching = matching_ids(session, text)
        self.feedback.clear()
        self.apply_filters()
        self.show(self.listing.value)

    def turn(self, step: int) -> None:
        """Show the previous (-1) or next (+1) page of the resources that match."""
        pages = max(1, -(-len(self.shown) // PAGE_SIZE))
        self.page = min(max(self.page + step, 0), pages - 1)
        self._show_page()

    def filter(self, domain: str = ALL, grade: str = ALL, channel: str = ALL) -> list[dict[str, Any]]:
        """Set the three filters at once; returns the resources shown."""
        self.domain.value, self.grade.value, self.channel.value = domain, grade, channel
        return self.shown

    def apply_filters(self) -> None:
        self.shown = [
            r
            for r in self.rows
            if (not self.domain.value or r["domain"] == self.domain.value)
            and (not self.grade.value or r["grade"] == self.grade.value)
            and (not self.channel.value or self.channel.value in r["channels"])
            and (self.matching is None or r["id"] in self.matching)
        ]
        self.page = 0
        self._show_page()

    def _show_page(self) -> None:
        page = self.shown[self.page * PAGE_SIZE : (self.page + 1) * PAGE_SIZE]
        pages = max(1, -(-len(self.shown) // PAGE_SIZE))
        self.page_label.value = i18n.t("common.page", page=self.page + 1, pages=pages, total=len(self.shown))
        keep = self.listing.value
        self.previous_button.disabled = self.page == 0
        self.next_button.disabled = self.page >= pages - 1
        self.listing.options = [
            (
                f"{r['code']} · {r['title']} · {i18n.label(r['grade'])} · "
                f"{', '.join(i18n.label(c) for c in r['channels']) or '—'}",
                r["id"],
            )
            for r in page
        ]
        if keep is not None and any(r["id"] == keep for r in page):
            self.listing.value = keep
        self.count.value = i18n.t("catalog.count", shown=len(self.shown), total=len(self.rows))
        if not self.shown:
            self.detail.value, self.sample.value = "", ""

    def show(self, resource_id: int | None) -> None:
        guard(self.feedback)(self._show)(resource_id)

    def _show(self, resource_id: int | None) -> None:
        """The resource's card (`workflows.catalog_view.resource_card`, as `marketplace catalog show` prints
        it) and a few synthetic rows."""
        if resource_id is None:
            return
        from marketplace.synth import sandbox_rows as synth_rows
        from marketplace.workflows.catalog_view import resource_card

        self.feedback.clear()
        with self.sandbox.session() as session:
            r = session.get(Resource, resource_id)
            card = resource_card(session, r.code)
            sample = synth_rows(r, SAMPLE_ROWS, 0)
        fields = pd.DataFrame(
            [
                {
                    i18n.t("catalog.field"): f["name"],
                    i18n.t("catalog.type"): i18n.label(f["type"]),
                    i18n.t("catalog.marking"): i18n.label(f["role"]),
                    i18n.t("catalog.description"): f["description"],
                }
                for f in card.fields
            ]
        )
        reg = card.registration
        facts = [
            (i18n.t("common.code"), card.code),
            (i18n.t("common.title"), card.title),
            (i18n.t("common.holder"), card.holder),
            (i18n.t("common.domain"), i18n.domain_label(card.domain)),
            (i18n.t("common.grade"), i18n.label(card.grade)),
            (i18n.t("catalog.sharing"), i18n.label(card.sharing)),
            (i18n.t("catalog.opening"), i18n.label(card.opening)),
            (i18n.t("catalog.channels"), ", ".join(i18n.label(c) for c in card.channels) or "—"),
            (i18n.t("catalog.frequency"), i18n.frequency_label(card.update_frequency)),
            (i18n.t("catalog.size"), f"{card.rows:,}"),
            (
                i18n.t("catalog.registration"),
                (f"{reg['code']} ({i18n.label(reg['status'])})" if reg["code"] else i18n.label(reg["status"]))
                if reg
                else i18n.t("common.none"),
            ),
            (i18n.t("catalog.description"), card.description),
        ]
        products = pd.DataFrame(
            [
                {
                    i18n.t("common.code"): p["code"],
                    i18n.t("common.name"): p["name"],
                    i18n.t("common.kind"): i18n.label(p["kind"]),
                    i18n.t("common.status"): i18n.label(p["status"]),
                    i18n.t("common.billing_unit"): i18n.label(p["billing_unit"]),
                    i18n.t("common.price_cap"): p["price_cap"] or "—",
                    i18n.t("common.actual_price"): p["actual_price"] or "—",
                }
                for p in card.products
            ]
        )
        about = pd.DataFrame(facts, columns=[i18n.t("common.name"), i18n.t("common.value")])
        self.detail.value = (
            table_html(about)
            + f"<h4>{html.escape(i18n.t('catalog.schema'))}</h4>"
            + table_html(fields)
            + f"<h4>{html.escape(i18n.t('catalog.products'))}</h4>"
            + table_html(products)
        )
        self.sample.value = table_html(sample, data=True)


def catalog_browser(sandbox: Sandbox | None = None) -> CatalogBrowser:
    return CatalogBrowser(sandbox)
