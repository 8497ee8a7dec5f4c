"""Whole apps for Voila: each notebook under notebooks/apps/ displays one of these and nothing else."""

from __future__ import annotations

import ipywidgets as w

from marketplace.ui import i18n
from marketplace.ui.common import Panel
from marketplace.ui.context import Sandbox, resolve


def _app(title_key: str, *children: w.Widget) -> Panel:
    from marketplace.ui.start import language_toggle

    title = i18n.bind(w.HTML(), "value", title_key, template="<h2>{}</h2>")
    box = Panel([w.HBox([title, language_toggle()]), *children])  # closing the app closes its panels
    box.add_class("mp-app")
    return box


def catalog_app(sandbox: Sandbox | None = None) -> w.VBox:
    from marketplace.ui.catalog import catalog_browser

    return _app("app.catalog", catalog_browser(resolve(sandbox)))


def request_and_review_app(sandbox: Sandbox | None = None) -> w.VBox:
    """Act as anyone, file requests, review them, run computations under a grant: the whole request lifecycle
    on one page."""
    from marketplace.ui.actas import act_as
    from marketplace.ui.compute import compute_under_grant
    from marketplace.ui.requests import request_panel
    from marketplace.ui.review import review_queue

    sb = resolve(sandbox)
    tabs = w.Tab(children=[request_panel(sb), review_queue(sb), compute_under_grant(sb)])

    def titles(_lang: str | None = None) -> None:
        tabs.set_title(0, i18n.t("request.title"))
        tabs.set_title(1, i18n.t("review.title"))
        tabs.set_title(2, i18n.t("compute.grant.title"))

    titles()
    i18n.on_language_change(titles, owner=tabs)
    return _app("app.request_and_review", act_as(sb), tabs)


def privacy_lab_app(sandbox: Sandbox | None = None) -> w.VBox:
    from marketplace.ui.privacy import privacy_lab

    return _app("app.privacy_lab", privacy_lab(resolve(sandbox)))


def compute_lab_app(sandbox: Sandbox | None = None) -> w.VBox:
    from marketplace.ui.compute import compute_tradeoff

    return _app("app.compute_lab", compute_tradeoff(resolve(sandbox)))


def scenario_lab_app() -> w.VBox:
    from marketplace.ui.scenarios import scenario_lab

    return _app("app.scenario_lab", scenario_lab(seeds=2, days=60))


def disclosure_app(sandbox: Sandbox | None = None) -> w.VBox:
    from marketplace.ui.disclosure import disclosure_panel

    return _app("app.disclosure", disclosure_panel(resolve(sandbox)))
