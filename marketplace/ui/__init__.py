"""Widget panels over the marketplace: the only package that imports ipywidgets.

Panels hold no rules of their own: they read the database, call `marketplace.workflows` and
`marketplace.policy`, and show what those return (including refusals, as a message in the panel). Each
notebook cell stays one line:

    from marketplace.ui import start; start.tour()

Submodules are imported on first use so the start page appears quickly.
"""

from __future__ import annotations

import importlib
from typing import Any

from marketplace.ui.i18n import get_language, set_language, t

_PANELS = {
    "act_as": "actas",
    "catalog_browser": "catalog",
    "registration_panel": "registration",
    "selection_rounds": "selection",
    "selection_panel": "selection",
    "sharing_lists_panel": "sharing_lists",
    "request_panel": "requests",
    "review_queue": "review",
    "operator_panel": "operator",
    "regulator_panel": "regulator",
    "free_use_sweep": "free_use",
    "theory_check": "theory",
    "product_walkthrough": "operator",
    "privacy_lab": "privacy",
    "column_roles": "privacy",
    "tradeoff_curve": "privacy",
    "aggregate_lab": "privacy",
    "compute_tradeoff": "compute",
    "compute_under_grant": "compute",
    "scenario_lab": "scenarios",
    "scenario_explainer": "scenarios",
    "cap_sweep": "scenarios",
    "disclosure_panel": "disclosure",
    "dcat_view": "disclosure",
    "catalog_import": "disclosure",
    "tour": "start",
    "start_page": "start",
    "language_toggle": "start",
}
_MODULES = {
    "actas",
    "catalog",
    "registration",
    "selection",
    "sharing_lists",
    "requests",
    "review",
    "operator",
    "regulator",
    "free_use",
    "theory",
    "privacy",
    "compute",
    "scenarios",
    "disclosure",
    "start",
    "apps",
    "context",
    "common",
    "i18n",
}

__all__ = ["get_language", "set_language", "t", *sorted(_PANELS)]


def __getattr__(name: str) -> Any:
    if name in _PANELS:
        return getattr(importlib.import_module(f"marketplace.ui.{_PANELS[name]}"), name)
    if name in _MODULES:
        return importlib.import_module(f"marketplace.ui.{name}")
    raise AttributeError(f"module 'marketplace.ui' has no attribute {name!r}")
