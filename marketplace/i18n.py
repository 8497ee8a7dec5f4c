"""Languages of everything a user reads: panels, command line and disclosure report, in English and Chinese.

The texts are gettext catalogs managed with Babel, one per language:
`marketplace/locale/<lang>/LC_MESSAGES/marketplace.po` (sources, in the repository) and the template
`marketplace/locale/marketplace.pot`; `make messages` (`python -m marketplace.translations update`)
re-extracts the keys the code uses and merges them into the catalogs.

Message ids are stable keys ("review.decide"), and English is a catalog like Chinese, because
- the policy layer and the workflow errors already speak in keys with params (`QuoteLine.key`,
  `PermissionDenied.reason_key`), so a key is the contract between layers, not a piece of English prose;
- about 200 ids are built from data (`enum.<vocabulary value>`, `metric.<name>`), which English ids would not
  survive;
- English wording can then be edited in the en catalog without invalidating the Chinese translation.
The template carries each message's English as a translator comment, so translators still see the source.

Compiled `.mo` files are produced by the build (`setup.py`'s `build_py`, which also runs for
`pip install -e .`) and never committed. Where no build ran (a source checkout on PYTHONPATH) or a `.po` was
edited after the build, the `.po` is compiled in memory with Babel at first use: 0.19 s for both languages,
Babel's import included, against 6 ms to load built `.mo` files. Nothing is written, so a read-only install
works too. Loading is stdlib `gettext`.

The language follows `MARKETPLACE_LANG` (default English) and can be switched at run time by the panels
(`marketplace.ui.i18n.set_language` re-labels widgets already on screen on top of `set_language` here).
"""

from __future__ import annotations

import gettext
import io
import os
from collections.abc import Iterable
from enum import Enum
from functools import cache
from pathlib import Path
from typing import Any

from marketplace import errors
from marketplace.errors import InvalidInput

ENV_LANG = "MARKETPLACE_LANG"
LANGUAGES: tuple[str, ...] = ("en", "zh")
DOMAIN = "marketplace"
LOCALE_DIR = Path(__file__).resolve().parent / "locale"

_state: dict[str, str | None] = {"lang": None}


def catalog_path(lang: str, suffix: str = ".po") -> Path:
    """Where the catalog of `lang` lives (`.po` source or compiled `.mo`)."""
    return LOCALE_DIR / lang / "LC_MESSAGES" / f"{DOMAIN}{suffix}"


@cache
def translations(lang: str) -> gettext.GNUTranslations:
    """The compiled catalog of `lang`: the build's `.mo` if not older than the `.po`, else compiled now."""
    po, mo = catalog_path(lang), catalog_path(lang, ".mo")
    if mo.is_file() and (not po.is_file() or mo.stat().st_mtime >= po.stat().st_mtime):
        with mo.open("rb") as fh:
            return gettext.GNUTranslations(fh)
    from marketplace.translations import compiled  # Babel is only needed where no build ran

    return gettext.GNUTranslations(io.BytesIO(compiled(lang)))


def normalize(lang: str, *, field: str = "language") -> str:
    """'zh', 'zh_CN', 'zh-Hans', 'EN', 'en_US' -> 'zh' / 'en'; anything else: InvalidInput naming `field`."""
    code = str(lang).strip().lower().replace("-", "_")
    base = code.split("_", 1)[0].split(".", 1)[0]
    if base not in LANGUAGES:
        raise InvalidInput(field, lang, "one of " + ", ".join(LANGUAGES) + " (e.g. zh_CN)")
    return base


def get_language() -> str:
    """The language in force: set at run time by `set_language`, else `MARKETPLACE_LANG`, else English."""
    if _state["lang"] is None:
        env = os.environ.get(ENV_LANG, "").strip()
        _state["lang"] = normalize(env, field=ENV_LANG) if env else "en"
    return _state["lang"]


def set_language(lang: str) -> str:
    """Make `lang` the language in force for this process; returns the normalized code."""
    code = normalize(lang)
    _state["lang"] = code
    return code


def reset_language() -> None:
    """Forget the run-time choice so `MARKETPLACE_LANG` applies again."""
    _state["lang"] = None


def has(key: str) -> bool:
    """Whether `key` is a message (English has every message)."""
    return bool(key) and translations("en").gettext(key) != key  # "" is the catalog's header


def t(key: str, lang: str | None = None, **kwargs: Any) -> str:
    """The text of `key` in `lang` (default: the language in force), formatted with `kwargs`.

    A message missing from a translation falls back to English (a test keeps every catalog complete).
    """
    code = normalize(lang) if lang else get_language()
    text = translations(code).gettext(key)
    if text == key and code != "en":
        text = translations("en").gettext(key)
    if text == key:  # a programming error (every key is checked by a test), not the user's to fix
        raise KeyError(f"no message {key!r} in the {DOMAIN} catalogs")
    return text.format(**kwargs) if kwargs else text


def t_or(key: str, fallback: str, **kwargs: Any) -> str:
    """`t(key)` when the key exists, else `fallback`: for keys built from another module's data."""
    return t(key, **kwargs) if has(key) else fallback


def label(value: Enum | str | None, lang: str | None = None) -> str:
    """A vocabulary value for people: 'approve_with_conditions' -> 'approve with conditions'."""
    if value is None:
        return "—"
    raw = value.value if isinstance(value, Enum) else str(value)
    key = f"enum.{raw}"
    return t(key, lang) if has(key) else raw


def options(values: Iterable[Any], lang: str | None = None) -> list[tuple[str, str]]:
    """(label, value) pairs for a dropdown over vocabulary values, labels in the language in force."""
    return [(label(v, lang), v.value if isinstance(v, Enum) else str(v)) for v in values]


def listing(items: Iterable[str], lang: str | None = None) -> str:
    """Items joined as the language writes a list: 'a, b' / 'a、b'."""
    code = normalize(lang) if lang else get_language()
    return ("、" if code == "zh" else ", ").join(items)


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
        if has(value):
            return t(value, lang)
        if lang != "en" and has(f"enum.{value}"):
            return t(f"enum.{value}", lang)
    return str(value)


def render_policy(key: str, params: dict[str, Any] | None, lang: str) -> str:
    """The message `key` with `params` (as carried by QuoteLine/Refusal) in `lang`."""
    kwargs = {name: _policy_value(v, lang) for name, v in (params or {}).items()}
    return t(key, lang, **kwargs)


def policy_text(key: str, params: dict[str, Any] | None, english: str, lang: str | None = None) -> str:
    """A policy text in the language in force: `english` as the policy wrote it, else worded from the key."""
    code = normalize(lang) if lang else get_language()
    if code == "en" or not has(key):
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
    english = str(exc)
    code = normalize(lang) if lang else get_language()
    if code == "en":
        return english
    if isinstance(exc, errors.PolicyRefusal):
        key, params = getattr(exc, "key", ""), getattr(exc, "params", None)
        if not has(key):
            key, params = _seen_refusals.get(english, ("", None))
        suffix = f" (rule: {exc.rule})"
        message = render_policy(key, params, code) if has(key) else english.removesuffix(suffix)
        return t("error.policy", code, message=message, rule=exc.rule)
    if isinstance(exc, errors.InvalidInput):
        return t("error.invalid_input", code, field=exc.field, value=repr(exc.value), expected=exc.expected)
    if isinstance(exc, errors.TransitionError):
        state = label(exc.state, code)
        if exc.allowed:
            allowed = listing([label(a, code) for a in exc.allowed], code)
            return t(
                "error.transition_allowed",
                code,
                subject=exc.subject,
                state=state,
                action=exc.action,
                allowed=allowed,
            )
        return t("error.transition", code, subject=exc.subject, state=state, action=exc.action)
    if isinstance(exc, errors.PermissionDenied):
        reason_key = getattr(exc, "reason_key", "")
        reason = (
            render_policy(reason_key, getattr(exc, "reason_params", None), code)
            if has(reason_key)
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
