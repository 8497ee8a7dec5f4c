"""Panels let go when closed, and every callback runs inside the panel's error area.

A closed panel used to stay alive for the whole kernel: the language registry and the kernel-wide sandbox
held its observers. An unexpected error inside a callback was only logged by ipywidgets, which Voila never
shows; now it is one line in the panel with the traceback behind a disclosure.
"""

from __future__ import annotations

import gc
import weakref
from collections.abc import Callable

import ipywidgets as w
import pytest
import sqlalchemy as sa

from marketplace.ui import (
    actas,
    apps,
    catalog,
    common,
    compute,
    disclosure,
    free_use,
    i18n,
    operator,
    privacy,
    registration,
    regulator,
    requests,
    review,
    scenarios,
    selection,
    sharing_lists,
    start,
)
from marketplace.ui.context import Sandbox

PANELS: dict[str, Callable[[Sandbox], w.Widget]] = {
    "act_as": actas.act_as,
    "catalog": catalog.catalog_browser,
    "registration": registration.registration_panel,
    "selection": selection.selection_rounds,
    "selection_desk": selection.selection_panel,
    "clock": registration.clock_bar,
    "sharing_lists": sharing_lists.sharing_lists_panel,
    "request": requests.request_panel,
    "review": review.review_queue,
    "operator": operator.operator_panel,
    "regulator": regulator.regulator_panel,
    "free_use": lambda _sb: free_use.free_use_sweep(seeds=1, days=5),
    "privacy_lab": privacy.privacy_lab,
    "column_roles": privacy.column_roles,
    "aggregate_lab": privacy.aggregate_lab,
    "tradeoff": privacy.tradeoff_curve,
    "compute": lambda sb: compute.compute_tradeoff(sb, rows=2_000),
    "compute_grant": compute.compute_under_grant,
    "scenario_lab": lambda _sb: scenarios.scenario_lab(seeds=1, days=5),
    "explainer": lambda _sb: scenarios.scenario_explainer(),
    "sweep": lambda _sb: scenarios.cap_sweep(seeds=1, days=5),
    "disclosure": disclosure.disclosure_panel,
    "dcat": disclosure.dcat_view,
    "import": disclosure.catalog_import,
    "tour": start.tour,
    "request_app": apps.request_and_review_app,
    "catalog_app": apps.catalog_app,
}


@pytest.mark.parametrize("name", sorted(PANELS))
def test_a_closed_panel_is_garbage_collected(sandbox: Sandbox, name: str) -> None:
    panel = PANELS[name](sandbox)
    i18n.set_language("zh")  # the listeners ran at least once
    i18n.set_language("en")
    ref = weakref.ref(panel)
    panel.close()
    del panel
    gc.collect()
    assert ref() is None, f"{name}: still referenced by {[type(r).__name__ for r in gc.get_referrers(ref())]}"
    sandbox.account_id = sandbox.account_id  # the sandbox's observers are gone: nothing runs, nothing fails
    sandbox.changed()
    i18n.set_language("zh")


def test_an_open_panel_still_follows_the_language_and_the_sandbox(sandbox: Sandbox) -> None:
    browser = catalog.catalog_browser(sandbox)
    gc.collect()
    i18n.set_language("zh")
    assert "公共数据资源目录" in browser.children[0].value
    before = len(browser.rows)
    sandbox.changed()
    assert len(browser.rows) == before


def test_an_unexpected_error_in_a_callback_is_one_line_with_the_traceback_behind_a_disclosure(
    sandbox: Sandbox, _callback_errors
) -> None:
    actas.act_as(sandbox)
    panel = requests.request_panel(sandbox)
    assert not panel.submit_button.disabled, panel.preview.value
    with sandbox.session() as s:  # a broken sandbox: not the user's fault, and not a MarketplaceError
        s.exec(sa.text("DROP TABLE auditevent"))
    panel.use_statement.value = "Study of service coverage, for the yearly report"
    panel.submit_button.click()
    assert panel.feedback.kind == "error"
    assert panel.feedback.text.startswith("Something went wrong (") and "\n" not in panel.feedback.text
    assert "<details class='mp-traceback'>" in panel.feedback.value and "Traceback" in panel.feedback.value
    assert any(r.name == "marketplace.ui" for r in _callback_errors.records)  # and it is logged
    _callback_errors.records.clear()


def test_every_panel_callback_is_guarded(sandbox: Sandbox, _callback_errors) -> None:
    """A panel method that fails unexpectedly, called from a button, ends in the error area."""
    panel = review.review_queue(sandbox)

    def broken() -> None:
        raise RuntimeError("disk on fire")

    panel.load = broken  # type: ignore[method-assign]
    panel.next_button.disabled = False
    panel.next_button.click()
    assert panel.feedback.kind == "error" and "RuntimeError: disk on fire" in panel.feedback.text
    _callback_errors.records.clear()
    assert isinstance(panel, common.Panel)
