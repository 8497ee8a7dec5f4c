"""Languages of the panels: every user-facing string exists in English and Simplified Chinese.

The strings live in `marketplace.ui.messages` (one dict, key -> (en, zh)) so a missing translation is caught
by a test. The language follows `MARKETPLACE_LANG` (default English) and can be switched while panels are on
screen: widgets register their labels with `bind`, and `set_language` re-applies every live binding. The
registry holds widgets weakly, so closed panels are forgotten. Hand-written rather than gettext because the
catalogue is small, must ship inside the package for Binder, and has to update widgets that are already
displayed.
"""

from __future__ import annotations

import html
import os
import weakref
from collections.abc import Callable
from enum import Enum
from typing import Any

from marketplace.errors import InvalidInput
from marketplace.ui.messages import MESSAGES

ENV_LANG = "MARKETPLACE_LANG"
LANGUAGES: tuple[str, ...] = ("en", "zh")
_INDEX = {lang: i for i, lang in enumerate(LANGUAGES)}

_state: dict[str, str | None] = {"lang": None}
_bindings: weakref.WeakKeyDictionary[Any, dict[str, tuple[str, str, dict[str, Any]]]] = (
    weakref.WeakKeyDictionary()
)
_listeners: list[Callable[[str], None]] = []


def normalize(lang: str, *, field: str = "language") -> str:
    """'zh', 'zh_CN', 'zh-Hans', 'EN', 'en_US' -> 'zh' / 'en'; anything else: InvalidInput naming `field`."""
    code = str(lang).strip().lower().replace("-", "_")
    base = code.split("_", 1)[0].split(".", 1)[0]
    if base not in _INDEX:
        raise InvalidInput(field, lang, "one of " + ", ".join(LANGUAGES) + " (e.g. zh_CN)")
    return base


def get_language() -> str:
    """The language in force: set at run time by `set_language`, else `MARKETPLACE_LANG`, else English."""
    if _state["lang"] is None:
        env = os.environ.get(ENV_LANG, "").strip()
        _state["lang"] = normalize(env, field=ENV_LANG) if env else "en"
    return _state["lang"]


def set_language(lang: str) -> str:
    """Switch every bound widget to `lang` ('en' or 'zh'); returns the normalized code."""
    code = normalize(lang)
    _state["lang"] = code
    for widget, traits in list(_bindings.items()):
        for trait, (key, template, kwargs) in list(traits.items()):
            setattr(widget, trait, _render(key, template, kwargs))
    for listener in list(_listeners):
        listener(code)
    return code


def reset_language(*, forget_widgets: bool = False) -> None:
    """Forget the run-time choice so `MARKETPLACE_LANG` applies again; optionally forget every binding and
    listener too (tests, where panels of earlier tests must not be re-labelled against a closed database)."""
    _state["lang"] = None
    if forget_widgets:
        _bindings.clear()
        _listeners.clear()


def on_language_change(callback: Callable[[str], None]) -> Callable[[], None]:
    """Call `callback(lang)` after every switch (for rebuilt labels); returns an unsubscribe function."""
    _listeners.append(callback)

    def unsubscribe() -> None:
        if callback in _listeners:
            _listeners.remove(callback)

    return unsubscribe


def t(key: str, lang: str | None = None, **kwargs: Any) -> str:
    """The text of `key` in `lang` (default: the language in force), formatted with `kwargs`."""
    try:
        texts = MESSAGES[key]
    except KeyError:  # a programming error (every key is checked by a test), not the user's to fix
        raise KeyError(f"no message {key!r} in marketplace.ui.messages") from None
    text = texts[_INDEX[normalize(lang) if lang else get_language()]]
    return text.format(**kwargs) if kwargs else text


def has(key: str) -> bool:
    return key in MESSAGES


def t_or(key: str, fallback: str, **kwargs: Any) -> str:
    """`t(key)` when the key exists, else `fallback`: for keys built from another module's data."""
    return t(key, **kwargs) if key in MESSAGES else fallback


def label(value: Enum | str | None, lang: str | None = None) -> str:
    """A vocabulary value for people: 'approve_with_conditions' -> 'approve with conditions'."""
    if value is None:
        return "—"
    raw = value.value if isinstance(value, Enum) else str(value)
    key = f"enum.{raw}"
    return t(key, lang) if key in MESSAGES else raw


def options(values: Any, lang: str | None = None) -> list[tuple[str, str]]:
    """(label, value) pairs for a dropdown over vocabulary values, labels in the language in force."""
    return [(label(v, lang), v.value if isinstance(v, Enum) else str(v)) for v in values]


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


def missing_translations() -> list[str]:
    """Keys whose text is empty in some language (a test keeps this list empty)."""
    return [
        key
        for key, texts in MESSAGES.items()
        if len(texts) != len(LANGUAGES) or any(not str(x).strip() for x in texts)
    ]
