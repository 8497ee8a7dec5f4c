"""Languages of the panels, switched while they are on screen.

The texts and the language in force live in `marketplace.i18n` (gettext catalogs, shared with the command
line and the disclosure report); this module adds what only widgets need: `bind` registers a widget's label
with its message key, and `set_language` re-applies every live binding and tells the listeners. The registry
holds widgets weakly, so closed panels are forgotten.
"""

from __future__ import annotations

import html
import weakref
from collections.abc import Callable
from typing import Any

from marketplace import i18n as core
from marketplace.i18n import (
    ENV_LANG,
    LANGUAGES,
    Text,
    action_text,
    cell_text,
    clock_report_lines,
    column_label,
    condition_label,
    domain_label,
    error_text,
    frequency_label,
    get_language,
    has,
    label,
    list_entry_text,
    listing,
    normalize,
    options,
    policy_text,
    quote_reason,
    refusal_text,
    render_policy,
    scenario_description,
    seeded_text,
    setting_label,
    setting_value,
    stages_text,
    t,
    t_or,
)

__all__ = [
    "ENV_LANG",
    "LANGUAGES",
    "Text",
    "action_text",
    "bind",
    "cell_text",
    "clock_report_lines",
    "column_label",
    "condition_label",
    "domain_label",
    "error_text",
    "frequency_label",
    "get_language",
    "has",
    "label",
    "list_entry_text",
    "listing",
    "normalize",
    "on_language_change",
    "options",
    "policy_text",
    "quote_reason",
    "refusal_text",
    "render_policy",
    "reset_language",
    "scenario_description",
    "seeded_text",
    "set_language",
    "setting_label",
    "setting_value",
    "stages_text",
    "t",
    "t_or",
]

_bindings: weakref.WeakKeyDictionary[Any, dict[str, tuple[str, str, dict[str, Any]]]] = (
    weakref.WeakKeyDictionary()
)
_listeners: list[Any] = []


def set_language(lang: str) -> str:
    """Switch every bound widget to `lang` ('en' or 'zh'); returns the normalized code."""
    code = core.set_language(lang)
    for widget, traits in list(_bindings.items()):
        for trait, (key, template, kwargs) in list(traits.items()):
            setattr(widget, trait, _render(key, template, kwargs))
    for listener in list(_listeners):
        if isinstance(listener, weakref.ref):  # WeakMethod included: its owner may be gone
            alive = listener()
            if alive is None:
                _listeners.remove(listener)
                continue
            alive(code)
        else:
            listener(code)
    return code


def reset_language(*, forget_widgets: bool = False) -> None:
    """Forget the run-time choice so `MARKETPLACE_LANG` applies again; optionally forget every binding and
    listener too (tests, where panels of earlier tests must not be re-labelled against a closed database)."""
    core.reset_language()
    if forget_widgets:
        _bindings.clear()
        _listeners.clear()


def on_language_change(
    callback: Callable[[str], None], *, weak: bool = False, owner: Any = None
) -> Callable[[], None]:
    """Call `callback(lang)` after every switch (for rebuilt labels); returns an unsubscribe function.

    With `owner` (a panel or widget) the registry holds the callback weakly and `owner` holds it: the
    listener lives as long as its owner, so a closed panel is not kept alive by the language switch.
    `weak=True` (for a bound method) does the same with the method's own object as the owner.
    """
    entry: Any
    if weak:
        entry = weakref.WeakMethod(callback)  # type: ignore[arg-type]
    elif owner is not None:
        held = getattr(owner, "language_listeners", None)
        if held is None:
            held = []
            owner.language_listeners = held  # held by the owner, weakly by the registry
        held.append(callback)
        entry = weakref.ref(callback)
    else:
        entry = callback
    _listeners.append(entry)

    def unsubscribe() -> None:
        if entry in _listeners:
            _listeners.remove(entry)

    return unsubscribe


def _render(key: str, template: str, kwargs: dict[str, Any]) -> str:
    text = t(key, **kwargs)
    if not template:
        return text
    # prose.* messages are our own trusted markup (lists, bold); everything else is escaped
    return template.format(text if key.startswith("prose.") else html.escape(text))


def bind(widget: Any, trait: str, key: str, *, template: str = "", **kwargs: Any) -> Any:
    """Set `widget.<trait>` to the text of `key` now and again after every `set_language`; returns the widget.

    `template` (e.g. "<h3>{}</h3>") wraps the text for HTML widgets, escaped unless the key is `prose.*`.
    """
    _bindings.setdefault(widget, {})[trait] = (key, template, kwargs)
    setattr(widget, trait, _render(key, template, kwargs))
    return widget
