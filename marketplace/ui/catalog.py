"""Catalogue browser: filter resources by domain, grade and channel; see a resource's schema and sample rows.

Which channels can serve a resource is asked of the policy in force (`workflows.facts.resource_channels`), and
sample rows come from `marketplace.synth.rows`, so the browser shows exactly what the rules and generator say.
"""

from __future__ import annotations

from typing import Any

import ipywidgets as w
import pandas as pd
from sqlmodel import select

from marketplace.models import Registration, Resource
from marketplace.ui import i18n
from marketplace.ui.common import Feedback, Panel, guard, heading, set_options, table_html, text
from marketplace.ui.context import Sandbox, resolve
from marketplace.vocabulary import Channel, Grade

SAMPLE_ROWS = 8
ALL = ""


class CatalogBrowser(Panel):
    def __init__(self, sandbox: Sandbox | None = None) -> None:
        self.sandbox = resolve(sandbox)
        self.feedback = Feedback()
        self.domain = i18n.bind(w.Dropdown(), "description", "common.domain")
        self.grade = i18n.bind(w.Dropdown(), "description", "common.grade")
        self.channel = i18n.bind(w.Dropdown(), "description", "common.channel")
        self.listing = w.Select(rows=10, layout=w.Layout(width="640px"))
        self.count = w.HTML()
        self.detail = w.HTML()
        self.detail.add_class("mp-resource-detail")
        self.sample = w.HTML()
        self.sample.add_class("mp-sample")
        self.rows: list[dict[str, Any]] = []
        self.shown: list[dict[str, Any]] = []
        self._load()
        self._fill_filters()
        for control in (self.domain, self.grade, self.channel):
            control.observe(self.guarded(lambda _c: self.apply_filters()), names="value")
        self.listing.observe(self.guarded(lambda c: self.show(c["new"])), names="value")
        self.watch(self.sandbox, lambda _c: self.reload(), "revision")
        self.on_language(lambda _lang: self._relabel())
        super().__init__(
            [
                heading("catalog.title"),
                text("catalog.intro"),
                w.HBox([self.domain, self.grade, self.channel]),
                self.count,
                self.listing,
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
        self.apply_filters()

    def _fill_filters(self) -> None:
        domains = sorted({r["domain"] for r in self.rows})
        set_options(self.domain, [(i18n.t("common.all"), ALL), *((i18n.domain_label(d), d) for d in domains)])
        set_options(self.grade, [(i18n.t("common.all"), ALL), *i18n.options(Grade)])
        set_options(self.channel, [(i18n.t("common.all"), ALL), *i18n.options(Channel)])

    def _relabel(self) -> None:
        """Re-word everything in the new language, keeping every filter and the selected resource."""
        self._fill_filters()
        self.apply_filters()
        self.show(self.listing.value)

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
        ]
        keep = self.listing.value
        self.listing.options = [
            (
                f"{r['code']} · {r['title']} · {i18n.label(r['grade'])} · "
                f"{', '.join(i18n.label(c) for c in r['channels']) or '—'}",
                r["id"],
            )
            for r in self.shown
        ]
        if keep in [r["id"] for r in self.shown]:
            self.listing.value = keep
        self.count.value = i18n.t("catalog.count", shown=len(self.shown), total=len(self.rows))
        if not self.shown:
            self.detail.value, self.sample.value = "", ""

    def show(self, resource_id: int | None) -> None:
        guard(self.feedback)(self._show)(resource_id)

    def _show(self, resource_id: int | None) -> None:
        if resource_id is None:
            return
        from marketplace.synth import sandbox_rows as synth_rows

        self.feedback.clear()
        with self.sandbox.session() as session:
            r = session.get(Resource, resource_id)
            fields = pd.DataFrame(
                [
                    {
                        i18n.t("catalog.field"): f.name,
                        i18n.t("catalog.type"): i18n.label(f.dtype),
                        i18n.t("catalog.marking"): i18n.label(f.marking),
                        i18n.t("catalog.description"): f.description,
                    }
                    for f in r.fields
                ]
            )
            regs = session.exec(
                select(Registration).where(Registration.resource_id == r.id).order_by(Registration.id.desc())
            ).all()  # type: ignore[union-attr]
            reg = next((g for g in regs if g.code), None)
            channels = next(x["channels"] for x in self.rows if x["id"] == r.id) if self.rows else []
            facts = [
                (i18n.t("common.code"), r.code),
                (i18n.t("common.title"), r.title),
                (i18n.t("common.holder"), r.holder.name),
                (i18n.t("common.domain"), i18n.domain_label(r.domain)),
                (i18n.t("common.grade"), i18n.label(r.grade)),
                (i18n.t("catalog.sharing"), i18n.label(r.sharing_attribute)),
                (i18n.t("catalog.opening"), i18n.label(r.opening_attribute)),
                (i18n.t("catalog.channels"), ", ".join(i18n.label(c) for c in channels) or "—"),
                (i18n.t("catalog.frequency"), i18n.frequency_label(r.update_frequency)),
                (i18n.t("catalog.size"), f"{r.row_count:,}"),
                (
                    i18n.t("catalog.registration"),
                    f"{reg.code} ({i18n.label(reg.status)})"
                    if reg
                    else (i18n.label(regs[0].status) if regs else i18n.t("common.none")),
                ),
                (i18n.t("catalog.description"), r.description),
            ]
            sample = synth_rows(r, SAMPLE_ROWS, 0)
        about = pd.DataFrame(facts, columns=[i18n.t("common.name"), i18n.t("common.value")])
        self.detail.value = table_html(about) + f"<h4>{i18n.t('catalog.schema')}</h4>" + table_html(fields)
        self.sample.value = table_html(sample, data=True)


def catalog_browser(sandbox: Sandbox | None = None) -> CatalogBrowser:
    return CatalogBrowser(sandbox)
