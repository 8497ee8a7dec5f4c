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


# ---------------------------------------------------------------- texts made by other layers
#
# Policy results (QuoteLine, Refusal) carry their English text plus a language-neutral `key` and `params`;
# errors carry structured fields. English is always the other layer's own text, unchanged; other languages
# are worded here from the key and fields. A param value is: an id of another message (translated), a
# vocabulary value (translated through its `enum.` label; kept raw in English, as the policy writes it),
# a (key, params) pair (a nested message), a tuple of either (a list), or anything else (shown as is).

_seen_refusals: dict[str, tuple[str, dict[str, Any] | None]] = {}


def _policy_value(value: Any, lang: str) -> str:
    if isinstance(value, tuple):
        if len(value) == 2 and isinstance(value[0], str) and isinstance(value[1], dict):
            return render_policy(value[0], value[1], lang)
        if not value:
            return t("policy.list_none", lang)
        if isinstance(value[0], tuple):
            sep = "; " if lang == "en" else "；"
        else:
            sep = ", " if lang == "en" else "、"
        return sep.join(_policy_value(v, lang) for v in value)
    if isinstance(value, str):
        if value in MESSAGES:
            return t(value, lang)
        if lang != "en" and f"enum.{value}" in MESSAGES:
            return t(f"enum.{value}", lang)
    return str(value)


def render_policy(key: str, params: dict[str, Any] | None, lang: str) -> str:
    """The message `key` with `params` (as carried by QuoteLine/Refusal) in `lang`."""
    kwargs = {name: _policy_value(v, lang) for name, v in (params or {}).items()}
    return t(key, lang, **kwargs)


def policy_text(key: str, params: dict[str, Any] | None, english: str, lang: str | None = None) -> str:
    """A policy text in the language in force: `english` as the policy wrote it, else worded from the key."""
    code = normalize(lang) if lang else get_language()
    if code == "en" or key not in MESSAGES:
        return english
    return render_policy(key, params, code)


def quote_reason(line: Any, lang: str | None = None) -> str:
    """A `QuoteLine`'s reason in the language in force."""
    return policy_text(line.key, line.params, line.reason, lang)


def refusal_text(refusal: Any, lang: str | None = None) -> str:
    """A routing `Refusal`'s message in the language in force (also remembered for the error it becomes)."""
    if len(_seen_refusals) > 512:
        _seen_refusals.clear()
    _seen_refusals[f"{refusal.message} (rule: {refusal.rule})"] = (refusal.key, refusal.params)
    return policy_text(refusal.key, refusal.params, refusal.message, lang)


def error_text(exc: BaseException, lang: str | None = None) -> str:
    """A domain error in the language in force, worded from its fields; English is `str(exc)` unchanged.

    Free-text details (what was expected, why permission is missing) stay as the raising layer wrote them.
    """
    from marketplace import errors  # the leaf module; imported here to keep the top of the module short

    english = str(exc)
    code = normalize(lang) if lang else get_language()
    if code == "en":
        return english
    if isinstance(exc, errors.PolicyRefusal):
        key, params = getattr(exc, "key", ""), getattr(exc, "params", None)
        if key not in MESSAGES:
            key, params = _seen_refusals.get(english, ("", None))
        suffix = f" (rule: {exc.rule})"
        message = (
            render_policy(key, params, code)
            if key in MESSAGES
            else english.removesuffix(suffix)
        )
        return t("error.policy", code, message=message, rule=exc.rule)
    if isinstance(exc, errors.InvalidInput):
        return t("error.invalid_input", code, field=exc.field, value=repr(exc.value), expected=exc.expected)
    if isinstance(exc, errors.TransitionError):
        state = label(exc.state, code)
        head = f"{exc.subject} is {exc.state}: cannot {exc.action}; allowed from {exc.state}: "
        if english.startswith(head):
            allowed = "、".join(label(a.strip(), code) for a in english[len(head):].split(","))
            return t(
                "error.transition_allowed", code, subject=exc.subject, state=state, action=exc.action,
                allowed=allowed,
            )
        return t("error.transition", code, subject=exc.subject, state=state, action=exc.action)
    if isinstance(exc, errors.PermissionDenied):
        reason_key = getattr(exc, "reason_key", "")
        reason = (
            render_policy(reason_key, getattr(exc, "reason_params", None), code)
            if reason_key in MESSAGES
            else exc.reason
        )
        return t("error.permission", code, actor=exc.actor, action=exc.action, reason=reason)
    if isinstance(exc, errors.NotFound):
        return t("error.not_found", code, kind=label(exc.kind, code), code=repr(exc.key))
    if isinstance(exc, errors.ConflictError):
        return t("error.conflict", code, details=english)
    if isinstance(exc, errors.PrivacyError):
        return t("error.privacy", code, details=english)
    return english
