"""Disclosure panel: the public report for a chosen year, its tables, and downloads in every published format.

The report and its renderings come from `marketplace.disclosure`; downloads are data-URI anchors, which work
the same in JupyterLab, Voila and Binder without writing files.
"""

from __future__ import annotations

import base64
import html
from typing import Any

import ipywidgets as w

from marketplace.ui import i18n
from marketplace.ui.common import Feedback, button, guard, heading, table_html, text
from marketplace.ui.context import Sandbox, resolve

FORMATS = ("html", "md", "csv", "json", "dcat")
_MIME = {
    "html": "text/html",
    "md": "text/markdown",
    "csv": "text/csv",
    "json": "application/json",
    "dcat": "text/turtle",
}
_SUFFIX = {"html": "html", "md": "md", "csv": "csv", "json": "json", "dcat": "ttl"}


def data_uri_anchor(filename: str, mime: str, payload: bytes, caption: str) -> str:
    """An <a download> link carrying the file in its href (no file written, works offline)."""
    encoded = base64.b64encode(payload).decode("ascii")
    return (
        f'<a class="mp-download" download="{html.escape(filename)}" '
        f'href="data:{mime};charset=utf-8;base64,{encoded}" target="_blank">{html.escape(caption)}</a>'
    )


class DisclosurePanel(w.VBox):
    def __init__(self, sandbox: Sandbox | None = None, year: int | None = None) -> None:
        self.sandbox = resolve(sandbox)
        self.feedback = Feedback()
        self.year = i18n.bind(
            w.IntText(value=year or self._default_year(), layout=w.Layout(width="200px")),
            "description",
            "common.year",
        )
        self.build_button = button("disclosure.build", "primary", "file-text")
        self.summary = w.HTML()
        self.summary.add_class("mp-disclosure-summary")
        self.tabs = w.Tab()
        self.downloads = w.HTML()
        self.downloads.add_class("mp-downloads")
        self.report: Any = None
        self.files: dict[str, bytes] = {}
        self.build_button.on_click(lambda _b: self.build())
        i18n.on_language_change(lambda _lang: self._show() if self.report is not None else None)
        super().__init__(
            [
                heading("disclosure.title"),
                text("disclosure.intro"),
                w.HBox([self.year, self.build_button]),
                self.feedback,
                self.summary,
                self.downloads,
                self.tabs,
            ]
        )
        self.add_class("mp-disclosure")

    def _default_year(self) -> int:
        from marketplace.disclosure.report import default_year

        with self.sandbox.session() as session:
            return default_year(session)

    def build(self) -> None:
        guard(self.feedback)(self._build)()

    def _build(self) -> None:
        from marketplace.disclosure.dcat import export_dcat
        from marketplace.disclosure.render import render_html, render_markdown, to_csv_bytes, to_json
        from marketplace.disclosure.report import build_report

        self.feedback.clear()
        with self.sandbox.session() as session:
            report = build_report(session, int(self.year.value))
            dcat = export_dcat(session, "turtle")
        self.report = report
        self.files = {
            "html": render_html(report).encode("utf-8"),
            "md": render_markdown(report).encode("utf-8"),
            "csv": to_csv_bytes(report),
            "json": to_json(report).encode("utf-8"),
            "dcat": dcat.encode("utf-8"),
        }
        self._show()
        self.feedback.ok(i18n.t("disclosure.built", year=report.year, policy=report.policy_name or "—"))

    def _show(self) -> None:
        report = self.report
        rows = [
            (i18n.t_or(f"disclosure.summary.{key}", key.replace("_", " ")), value)
            for key, value in report.summary().items()
        ]
        import pandas as pd

        self.summary.value = table_html(
            pd.DataFrame(rows, columns=[i18n.t("common.metric"), i18n.t("common.value")])
        )
        links = " · ".join(
            data_uri_anchor(
                f"disclosure-{report.year}.{_SUFFIX[fmt]}",
                _MIME[fmt],
                self.files[fmt],
                i18n.t(f"disclosure.download.{fmt}"),
            )
            for fmt in FORMATS
        )
        self.downloads.value = f"<b>{html.escape(i18n.t('disclosure.downloads'))}</b> {links}"
        tables = report.tables()
        self.tabs.children = [w.HTML(table_html(frame, max_rows=200)) for frame in tables.values()]
        for i, name in enumerate(tables):
            self.tabs.set_title(i, i18n.t_or(f"disclosure.table.{name}", name.replace("_", " ")))


def disclosure_panel(sandbox: Sandbox | None = None, year: int | None = None) -> DisclosurePanel:
    return DisclosurePanel(sandbox, year)
