"""The start page: what the sandbox is, the roles, a five-minute tour, and the language switch.

Kept free of database and heavy imports so the first widget appears as soon as the kernel is up; each tour
step builds its panel only when opened.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import ipywidgets as w

from marketplace.ui import i18n
from marketplace.ui.common import Panel, heading, text
from marketplace.vocabulary import Role

if TYPE_CHECKING:
    from marketplace.ui.context import Sandbox

_LANG_OPTIONS = [("English", "en"), ("中文", "zh")]


def language_toggle() -> w.ToggleButtons:
    """Two buttons, English / 中文; clicking one switches every panel on screen."""
    toggle = w.ToggleButtons(options=_LANG_OPTIONS, value=i18n.get_language())
    toggle.add_class("mp-language")
    toggle.tooltips = [i18n.t("start.language_tooltip")] * 2

    def switch(change: dict[str, Any]) -> None:
        if change["new"] != i18n.get_language():
            i18n.set_language(change["new"])

    def follow(lang: str) -> None:
        toggle.tooltips = [i18n.t("start.language_tooltip")] * 2
        if toggle.value != lang:
            toggle.value = lang

    toggle.observe(switch, names="value")
    i18n.on_language_change(follow, owner=toggle)
    return toggle


def intro() -> w.VBox:
    """What this is, in a few sentences."""
    box = w.VBox([heading("start.title", 2), text("prose.start.intro")])
    box.add_class("mp-intro")
    return box


def roles() -> w.HTML:
    """The seven roles and what each does, as a small table that follows the language."""
    widget = w.HTML()
    widget.add_class("mp-roles")

    def render(_lang: str | None = None) -> None:
        rows = "".join(
            f"<tr><td><b>{i18n.label(role)}</b></td><td>{i18n.t('start.role.' + role.value)}</td></tr>"
            for role in Role
        )
        widget.value = (
            f"<h3>{i18n.t('start.roles_title')}</h3><table class='mp-table'>"
            f"<tr><th>{i18n.t('start.role_col')}</th><th>{i18n.t('start.does_col')}</th></tr>"
            f"{rows}</table>"
        )

    render()
    i18n.on_language_change(render, owner=widget)
    return widget


def _steps() -> list[tuple[str, Callable[[Sandbox | None], w.Widget]]]:
    from marketplace.ui import actas, catalog, disclosure, requests, review

    return [
        ("start.step1", lambda sb: actas.act_as(sb)),
        ("start.step2", lambda sb: catalog.catalog_browser(sb)),
        ("start.step3", lambda sb: requests.request_panel(sb)),
        ("start.step4", lambda sb: review.review_queue(sb)),
        ("start.step5", lambda sb: disclosure.disclosure_panel(sb)),
    ]


class Tour(Panel):
    """Five steps, one per accordion section; a step's panel is built the first time it is opened."""

    def __init__(self, sandbox: Sandbox | None = None) -> None:
        self.sandbox = sandbox
        self.steps = _steps()
        self.bodies = [w.VBox([text(f"{key}.body")]) for key, _ in self.steps]
        self.panels: dict[int, w.Widget] = {}
        self.accordion = w.Accordion(children=self.bodies, selected_index=None)
        self._titles()
        self.on_language(lambda _lang: self._titles())
        self.accordion.observe(self._opened, names="selected_index")
        super().__init__([heading("start.tour_title"), text("start.tour_intro"), self.accordion])
        self.add_class("mp-tour")

    def _titles(self) -> None:
        for i, (key, _) in enumerate(self.steps):
            self.accordion.set_title(i, f"{i + 1}. {i18n.t(key)}")

    def open_step(self, index: int) -> w.Widget:
        """Open step `index` (0-based) and return its panel."""
        self.accordion.selected_index = index
        return self.panels[index]

    def _opened(self, change: dict[str, Any]) -> None:
        index = change["new"]
        if index is None or index in self.panels:
            return
        panel = self.steps[index][1](self.sandbox)
        self.panels[index] = panel
        self.bodies[index].children = (*self.bodies[index].children, panel)


def tour(sandbox: Sandbox | None = None) -> Tour:
    return Tour(sandbox)


def start_page() -> w.VBox:
    """Language switch + introduction + roles: the first thing on screen (no database needed)."""
    page = w.VBox([language_toggle(), intro(), roles()])
    page.add_class("mp-start")
    return page
