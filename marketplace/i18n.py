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
import re
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


class Text(str):
    """A translated text that remembers how it was made, so a panel can re-word it after a language switch.

    It is a plain `str` everywhere else (formatting, comparison, JSON); `reworded(lang)` makes it again in
    another language, re-wording the texts it was made of (a status label inside a sentence) as well.
    """

    def __new__(cls, text: str, remake: Any) -> Text:
        obj = super().__new__(cls, text)
        obj.remake = remake
        return obj

    def reworded(self, lang: str | None = None) -> str:
        return self.remake(lang)


def reword(value: Any, lang: str | None = None) -> Any:
    """`value` in `lang` when it is a translated `Text`, else unchanged."""
    return value.reworded(lang) if isinstance(value, Text) else value


def t(key: str, lang: str | None = None, **kwargs: Any) -> str:
    """The text of `key` in `lang` (default: the language in force), formatted with `kwargs`.

    A message missing from a translation falls back to English (a test keeps every catalog complete).
    The result is a `Text`: a `str` that can be re-worded in another language.
    """
    code = normalize(lang) if lang else get_language()
    text = translations(code).gettext(key)
    if text == key and code != "en":
        text = translations("en").gettext(key)
    if text == key:  # a programming error (every key is checked by a test), not the user's to fix
        raise KeyError(f"no message {key!r} in the {DOMAIN} catalogs")
    made = text.format(**kwargs) if kwargs else text
    return Text(made, lambda other=None: t(key, other, **{k: reword(v, other) for k, v in kwargs.items()}))


def t_or(key: str, fallback: str, **kwargs: Any) -> str:
    """`t(key)` when the key exists, else `fallback`: for keys built from another module's data."""
    return t(key, **kwargs) if has(key) else fallback


def label(value: Enum | str | None, lang: str | None = None) -> str:
    """A vocabulary value for people: 'approve_with_conditions' -> 'approve with conditions'."""
    if value is None:
        return "—"
    if isinstance(value, bool):
        return t("common.yes" if value else "common.no", lang)
    raw = value.value if isinstance(value, Enum) else str(value)
    key = f"enum.{raw}"
    return t(key, lang) if has(key) else raw.replace("_", " ")


def options(values: Iterable[Any], lang: str | None = None) -> list[tuple[str, str]]:
    """(label, value) pairs for a dropdown over vocabulary values, labels in the language in force."""
    return [(label(v, lang), v.value if isinstance(v, Enum) else str(v)) for v in values]


def action_text(action: str, lang: str | None = None) -> str:
    """A lifecycle action as people say it: 'accept_quote' -> 'accept the quote' (free text stays as is)."""
    key = f"action.{action}"
    return t(key, lang) if has(key) else str(action).replace("_", " ")


#: the action key of a permission refused inside a lifecycle step, its parameters a verb, a kind and a code
STEP_DOING = "doing.step"


def kind_text(kind: str, lang: str | None = None) -> str:
    """A kind of thing as people say it ('selection round' -> '遴选'): a missing thing's, a step's subject."""
    return t(f"kind.{kind}", lang) if has(f"kind.{kind}") else label(kind, lang)


def domain_label(domain: str | None, lang: str | None = None) -> str:
    """A catalogue domain in words: 'public_safety' -> 'public safety' / '公共安全'."""
    key = f"domain.{domain}" if domain else "domain.none"
    return t(key, lang) if has(key) else str(domain).replace("_", " ")


def frequency_label(frequency: str | None, lang: str | None = None) -> str:
    """An update frequency in words ('monthly' -> '每月')."""
    key = f"frequency.{frequency}"
    return t(key, lang) if has(key) else str(frequency or "—").replace("_", " ")


def condition_label(kind: Enum | str, params: dict[str, Any] | None = None, lang: str | None = None) -> str:
    """A grant condition in words ("expires after 365 days"), not as typed ("expires_after(days=365)")."""
    raw = kind.value if isinstance(kind, Enum) else str(kind)
    params = dict(params or {})
    key = f"condition.{raw}"
    if has(key):
        try:
            shown = {
                k: listing(map(str, v), lang) if isinstance(v, list | tuple) else v for k, v in params.items()
            }
            return t(key, lang, **shown)
        except (KeyError, IndexError):
            pass  # params of another shape: the plain label below
    return label(raw, lang)


def setting_label(path: str, lang: str | None = None) -> str:
    """A policy or scenario parameter for people: 'pricing.discounts.by_size.micro' -> 'pricing › discounts ›
    by enterprise size › micro' (each part a word of the catalogs, in the language in force)."""
    parts = []
    for part in str(path).split("."):
        key = next((k for k in (f"setting.{part}", f"domain.{part}", f"enum.{part}") if has(k)), "")
        parts.append(t(key, lang) if key else part.replace("_", " "))
    return " › ".join(parts)


def setting_value(value: Any, lang: str | None = None) -> str:
    """A parameter's value for people: vocabulary values as words, lists as lists, tiers as 'from N: ×m'."""
    if value is None:
        return "—"
    if isinstance(value, bool):
        return t("common.yes" if value else "common.no", lang)
    if isinstance(value, dict):
        if {"from_volume", "multiplier"} <= value.keys():
            return t("setting.tier", lang, volume=value["from_volume"], multiplier=value["multiplier"])
        return "; ".join(f"{setting_label(k, lang)}: {setting_value(v, lang)}" for k, v in value.items())
    if isinstance(value, list | tuple):
        return listing([setting_value(v, lang) for v in value], lang) if value else "—"
    if isinstance(value, Enum | str):
        raw = value.value if isinstance(value, Enum) else value
        for key in (f"enum.{raw}", f"domain.{raw}"):
            if has(key):
                return t(key, lang)
        return str(raw)
    return str(value)


def column_label(name: str, lang: str | None = None) -> str:
    """A table column of another layer ('quote_total') as a heading people read ('quote' / '报价')."""
    key = f"column.{name}"
    return t(key, lang) if has(key) else label(name, lang)


def cell_text(value: Any, lang: str | None = None) -> str:
    """A table cell of another layer: vocabulary values as words, nothing (None) as '—', truth as yes / no."""
    if value is None or (isinstance(value, float) and value != value):
        return "—"
    if isinstance(value, bool):
        return t("common.yes" if value else "common.no", lang)
    if isinstance(value, Enum) or (isinstance(value, str) and has(f"enum.{value}")):
        return label(value, lang)
    if isinstance(value, list | tuple):
        return listing([cell_text(v, lang) for v in value], lang) if value else "—"
    return str(value)


def clock_report_lines(report: Any, lang: str | None = None) -> list[str]:
    """What moving the clock did (`workflows.admin.AdvanceReport`), worded from its fields."""
    out = [t("clock.report.moved", lang, previous=report.previous, today=report.today)]
    out += [
        t(
            "clock.report.breached",
            lang,
            request=b["request"],
            stage=label(b["stage"], lang),
            due=b["due"],
            outcome=(
                action_text(b["outcome"], lang)
                if has(f"action.{b['outcome']}")
                else cell_text(b["outcome"], lang)
            ),
        )
        for b in report.breached
    ]
    out += [
        t("clock.report.expired", lang, kind=label(e["kind"], lang), code=e["code"]) for e in report.expired
    ]
    out += [t("clock.report.warning", lang, warning=w) for w in report.warnings]
    return out


def stages_text(value: Any, lang: str | None = None) -> str:
    """A route as the policy-switch sample writes it ('compliance+holder', 'refused: <rule>', 'none') in
    words: 'compliance review + holder review' / '合规审查 + 持有方审核'."""
    raw = str(value or "")
    if raw.startswith("refused: "):
        return t("policy.switch.refused", lang, rule=raw.removeprefix("refused: "))
    if raw in ("", "none"):
        return t("policy.switch.no_stage", lang)
    return " + ".join(label(stage, lang) for stage in raw.split("+"))


def policy_switch_lines(effect: Any, lang: str | None = None) -> list[str]:
    """What switching the policy changed (`workshop.PolicyEffect`), worded from its fields."""
    out = [t("workshop.switched", lang, old=effect.old, new=effect.new)]
    for row in effect.samples.to_dict("records"):
        line = t(
            "policy.switch.line",
            lang,
            request=row["request"],
            purpose=label(row["purpose"], lang),
            old_total=cell_text(row["old_total"], lang),
            new_total=cell_text(row["new_total"], lang),
            old_stages=stages_text(row["old_stages"], lang),
            new_stages=stages_text(row["new_stages"], lang),
        )
        out.append(f"  {line}")
    return out


def list_entry_text(entry: Any, lang: str | None = None) -> str:
    """A sharing responsibility list entry (`workflows.sharing_list_view.EntryView`) in one sentence: list,
    holder, resource, who may cite it, duty and purposes."""
    recipients = listing(entry.recipients, lang) or t("sharing_list.any_department", lang)
    purposes = listing((label(p, lang) for p in entry.purposes), lang) or t("sharing_list.any_purpose", lang)
    return t(
        "sharing_list.entry_text",
        lang,
        code=entry.code,
        list=entry.list_code,
        holder=entry.holder,
        resource=f"{entry.resource_code} {entry.resource_title}",
        recipients=recipients,
        duty=seeded_text(entry.duty) or "—",
        purposes=purposes,
    )


# Descriptive text the sandbox itself writes into the data (the seeded world's filings and lists, the
# operator panel's filings): stored as written, in the seeded world's language, and shown in the language in
# force by matching it against these messages in either language. Anything else, above all what people
# typed, is shown exactly as stored.
SEEDED_TEXTS: tuple[str, ...] = (
    "seeded.cap_filing_basis",
    "seeded.cost_filing_basis",
    "seeded.operator_panel_basis",
    "seeded.sharing_list_basis",
    "seeded.sharing_list_duty",
    "stored.authorization_terminated",
    "stored.authorization_expired",
    # the implementation plan seeded per region (seed/world/world.toml, [names.plan])
    "seeded.plan_scope",
    "seeded.plan_scenario_transport",
    "seeded.plan_scenario_health",
    "seeded.plan_scenario_credit",
    "seeded.plan_measure_environment",
    "seeded.plan_measure_deidentify",
    "seeded.plan_measure_audit",
    "seeded.plan_product_datasets",
    "seeded.plan_product_reports",
    "seeded.plan_product_apis",
)


@cache
def _seeded_pattern(key: str, lang: str) -> re.Pattern[str]:
    """The message `key` of `lang` as a pattern whose groups are its placeholders."""
    template = translations(lang).gettext(key)
    parts = re.split(r"\{([a-z_]+)\}", template)
    body = "".join(re.escape(p) if i % 2 == 0 else f"(?P<{p}>.+?)" for i, p in enumerate(parts))
    return re.compile(body)


def seeded_text(text: str | None, lang: str | None = None) -> str:
    """Text the sandbox wrote (a seeded filing's basis, a seeded list's duty) in the language in force;
    any other text, what a person typed included, unchanged."""
    if not text:
        return text or ""
    for key in SEEDED_TEXTS:
        for source in LANGUAGES:
            found = _seeded_pattern(key, source).fullmatch(text)
            if found:
                return t(key, lang, **found.groupdict())
    return text


def story_text(key: str, params: dict[str, Any] | None = None, lang: str | None = None) -> str:
    """A line of the `demo` story (`workflows.demo` says it as a key with params) in `lang`.

    English keeps every value as the story has always printed it (vocabulary values, typed conditions, the
    error's own line), so output compared by scripts and tests does not move; other languages word them.
    A param value is one of:
    - an error: its message; a vocabulary Enum, or a string with an `enum.` / `action.` label: the label;
    - a condition row {"kind", "params", "text"}; a quote line {"reason", "key", "params"};
    - a clock report (`workflows.admin.AdvanceReport`): one line per effect;
    - a text in every language {"en": …, "zh": …}: the one in force;
    - a (key, params) pair: a nested line; with a "raw" param, a word of a family of messages, shown as
      written in English and where the catalogs do not know it;
    - a list of these; anything else is shown as is.
    """
    code = normalize(lang) if lang else get_language()
    return t(key, code, **{name: _story_value(v, code) for name, v in (params or {}).items()})


def _story_value(value: Any, code: str) -> str:
    english = code == "en"
    if isinstance(value, BaseException):
        return str(value) if english else error_text(value, code)
    if isinstance(value, Enum):
        return str(value.value) if english else label(value, code)
    if isinstance(value, dict) and value.keys() == set(LANGUAGES):
        return str(value[code])
    if isinstance(value, dict) and {"reason", "key", "params"} <= value.keys():
        if english:
            return str(value["reason"])
        return policy_text(value["key"], value["params"], value["reason"], code)
    if isinstance(value, dict) and {"kind", "text"} <= value.keys():
        return str(value["text"]) if english else condition_label(value["kind"], value.get("params"), code)
    if hasattr(value, "breached") and hasattr(value, "lines"):
        lines = value.lines() if english else clock_report_lines(value, code)
        return "\n".join(lines if english else lines[:1] + [f"  {line}" for line in lines[1:]])
    if isinstance(value, tuple) and len(value) == 2 and isinstance(value[0], str) and isinstance(value[1], dict):  # noqa: E501
        if not has(value[0]) and "raw" in value[1]:
            return str(value[1]["raw"])  # a word of a family the catalogs do not know: as written
        if "raw" in value[1] and english:
            return str(value[1]["raw"])  # English keeps the value as the story always printed it
        return story_text(value[0], value[1], code)
    if isinstance(value, list | tuple):
        return listing([_story_value(v, code) for v in value], code)
    if isinstance(value, str) and not english:
        for key in (f"enum.{value}", f"action.{value}"):
            if has(key):
                return t(key, code)
    return str(value)


def policy_summary_lines(summary: Any, lang: str | None = None) -> list[str]:
    """A policy's summary (`policy.PolicySummary`) as the lines `marketplace policy show` prints.

    English prints values as the policy file writes them (vocabulary values, [lists], true / false), so a
    reader can find them in the file; other languages word them. Each source note is followed by the
    official titles of the documents it cites, in the language in force.
    """
    code = normalize(lang) if lang else get_language()
    out = [t("summary.title", code, name=summary.name, version=summary.version)]
    if summary.description:
        out.append(_shipped_text(f"policy.description.{summary.name}", summary.description, code))
    out.append("")
    for line in summary.lines:
        params = dict(line.params)
        if line.key == "summary.stage_source":
            params["note"] = policy_note(f"routing.stage_sources.{params['stage']}", params["note"], code)
        text = t(line.key, code, **{k: _summary_value(v, code) for k, v in params.items()})
        out.append(text if line.heading else f"  {text}")
    if summary.sources:
        from marketplace.policy import DOCUMENTS  # a leaf of data; imported here so i18n loads without policy

        titles = {d.id: d for d in DOCUMENTS}
        out.append(t("summary.section.sources", code))
        for src in summary.sources:
            key = src.key if code == "en" else setting_label(src.key, code)
            note = policy_note(src.key, src.note, code)
            out.append("  " + t("summary.source", code, parameter=key, note=note))
            if code == "en":
                continue  # the notes name their documents in English already
            for doc_id in src.documents:
                doc = titles[doc_id]
                key = "summary.document_numbered" if doc.number else "summary.document"
                out.append("    " + t(key, code, title=doc.title_zh, number=doc.number))
    return out


def _shipped_text(key: str, text: str, code: str) -> str:
    """`text` of a shipped file (a policy's description or source note) in `code` when it is still the text
    the catalogs hold under `key`; a text someone wrote or changed is shown as written."""
    if code == "en" or not has(key) or translations("en").gettext(key) != text:
        return text
    return t(key, code)


def scenario_description(name: str, description: str, lang: str | None = None) -> str:
    """A scenario's description in the language in force when it is a shipped scenario's own text (held by
    the catalogs as `scenario.about.<name>`); a description someone wrote or changed is shown as written."""
    code = normalize(lang) if lang else get_language()
    return _shipped_text(f"scenario.about.{name}", description, code) if description else "—"


def policy_note(parameter: str, note: str, lang: str | None = None) -> str:
    """A source note of a policy file (`[sources]`, `routing.stage_sources`) in the language in force, when
    it is a shipped note; otherwise as written."""
    code = normalize(lang) if lang else get_language()
    for key in (f"policy.note.{parameter}", f"policy.note.{parameter}.study"):
        if has(key) and translations("en").gettext(key) == note:
            return _shipped_text(key, note, code)
    return note


def _summary_value(value: Any, code: str) -> str:
    """A value of a summary line: English as the policy file writes it, other languages in words."""
    english = code == "en"
    if isinstance(value, tuple) and len(value) == 2 and isinstance(value[0], str) and isinstance(value[1], dict):  # noqa: E501
        if "raw" in value[1]:  # a word of a family of messages: as the file writes it in English
            return str(value[1]["raw"]) if english or not has(value[0]) else t(value[0], code)
        return t(value[0], code, **{k: _summary_value(v, code) for k, v in value[1].items()})
    if isinstance(value, list | tuple):
        nested = bool(value) and all(isinstance(v, tuple) and len(v) == 2 for v in value)
        if not value:
            return "[]" if english else t("summary.none", code)
        parts = [_summary_value(v, code) for v in value]
        if nested:
            if english:
                sep = "; " if isinstance(value, tuple) else ", "
            else:
                sep = "；" if isinstance(value, tuple) else "、"
            return sep.join(parts)
        return "[" + ", ".join(parts) + "]" if english else listing(parts, code)
    if value is None:
        return "-" if english else "—"
    if isinstance(value, bool):
        if english:
            return "true" if value else "false"
        return t("common.yes" if value else "common.no", code)
    raw = value.value if isinstance(value, Enum) else value
    if english or not isinstance(raw, str):
        return str(raw)
    for key in (f"enum.{raw}", f"domain.{raw}", f"selection.criterion.{raw}", f"setting.{raw}",
                f"summary.word.{raw}"):
        if has(key):
            return t(key, code)
    return raw


def listing(items: Iterable[str], lang: str | None = None) -> str:
    """Items joined as the language writes a list: 'a, b' / 'a、b'."""
    code = normalize(lang) if lang else get_language()
    return ("、" if code == "zh" else ", ").join(items)


# ---------------------------------------------------------------- texts made by other layers
#
# Policy results (QuoteLine, Refusal) carry their English text plus a language-neutral `key` and `params`;
# errors carry structured fields. Policy texts are worded here from the key and params in every language (so
# people read "industry development", not the vocabulary value); errors keep their English `str()` and are
# worded from their fields in other languages. A param value is: an id of another message (translated), a
# vocabulary value (translated through its `enum.` label),
# a (key, params) pair (a nested message), a tuple of either (a list), or anything else (shown as is).

_seen_refusals: dict[str, tuple[str, dict[str, Any] | None]] = {}


def _policy_value(value: Any, lang: str, worded: bool) -> str:
    if isinstance(value, tuple):
        if len(value) == 2 and isinstance(value[0], str) and isinstance(value[1], dict):
            return render_policy(value[0], value[1], lang, worded=worded)
        if not value:
            return t("policy.list_none", lang)
        if isinstance(value[0], tuple):
            sep = "; " if lang == "en" else "；"
        else:
            sep = ", " if lang == "en" else "、"
        return sep.join(_policy_value(v, lang, worded) for v in value)
    if isinstance(value, str):
        if has(value):
            return t(value, lang)
        if (worded or lang != "en") and has(f"enum.{value}"):
            return t(f"enum.{value}", lang)
    return str(value)


def render_policy(key: str, params: dict[str, Any] | None, lang: str, *, worded: bool = False) -> str:
    """The message `key` with `params` (as carried by QuoteLine/Refusal) in `lang`.

    English keeps vocabulary values as the policy wrote them (so it matches the policy's own text, which a
    test checks) unless `worded`, as panels show it: 'industry development', not 'industry_development'.
    """
    kwargs = {name: _policy_value(v, lang, worded) for name, v in (params or {}).items()}
    return t(key, lang, **kwargs)


def policy_text(key: str, params: dict[str, Any] | None, english: str, lang: str | None = None) -> str:
    """A policy text in the language in force, worded from its key (vocabulary values as words, in English
    too); `english`, as the policy wrote it, only for a key the catalogs do not know."""
    code = normalize(lang) if lang else get_language()
    if not has(key):
        return english
    return render_policy(key, params, code, worded=True)


def quote_reason(line: Any, lang: str | None = None) -> str:
    """A `QuoteLine`'s reason in the language in force."""
    return policy_text(line.key, line.params, line.reason, lang)


def refusal_text(refusal: Any, lang: str | None = None) -> str:
    """A routing `Refusal`'s message in the language in force (also remembered for the error it becomes)."""
    if len(_seen_refusals) > 512:
        _seen_refusals.clear()
    _seen_refusals[f"{refusal.message} (rule: {refusal.rule})"] = (refusal.key, refusal.params)
    return policy_text(refusal.key, refusal.params, refusal.message, lang)


def _invalid_input_text(exc: errors.InvalidInput, code: str) -> str:
    """Bad input in `code`: the field as a form names it, what was expected from its key where it has one.
    A field without words of its own keeps its name: it is what the user typed (an option, a file's key)."""
    field = t(f"field.{exc.field}", code) if has(f"field.{exc.field}") else exc.field
    expected = render_policy(exc.key, exc.params, code, worded=True) if has(exc.key) else exc.expected
    return t("error.invalid_input", code, field=field, value=repr(exc.value), expected=expected)


def error_text(exc: BaseException, lang: str | None = None) -> str:
    """A domain error in the language in force, worded from its fields (states and actions as words, in
    English too: "is in review: cannot deliver", not "in_review"); other English errors are `str(exc)`.

    Free-text details (what was expected, why permission is missing) stay as the raising layer wrote them.
    """
    english = str(exc)
    code = normalize(lang) if lang else get_language()
    if isinstance(exc, errors.MarketplaceError) and has(exc.message_key):
        return render_policy(exc.message_key, exc.message_params, code, worded=True)
    if isinstance(exc, errors.InvalidInput) and (has(f"field.{exc.field}") or has(exc.key)):
        return _invalid_input_text(exc, code)  # a form's field: its name and what fits in words, English too
    worded_in_english = (
        errors.PolicyRefusal, errors.TransitionError, errors.PermissionDenied, errors.NotFound
    )
    if code == "en" and not isinstance(exc, worded_in_english):
        return english
    if isinstance(exc, errors.PolicyRefusal):
        key, params = getattr(exc, "key", ""), getattr(exc, "params", None)
        if not has(key):
            key, params = _seen_refusals.get(english, ("", None))
        suffix = f" (rule: {exc.rule})"
        message = render_policy(key, params, code, worded=True) if has(key) else english.removesuffix(suffix)
        return t("error.policy", code, message=message, rule=exc.rule)
    if isinstance(exc, errors.InvalidInput):
        return _invalid_input_text(exc, code)
    if isinstance(exc, errors.TransitionError):
        key = getattr(exc, "key", "")
        if has(key):  # a transition refused with its own sentence (a suspended grant and why)
            params = {k: seeded_text(v, code) if isinstance(v, str) else v
                      for k, v in (getattr(exc, "params", None) or {}).items()}
            return render_policy(key, params, code, worded=True)
        state = label(exc.state, code)
        action = action_text(exc.action, code)
        if exc.allowed:
            allowed = listing([action_text(a, code) for a in exc.allowed], code)
            return t(
                "error.transition_allowed",
                code,
                subject=exc.subject,
                state=state,
                action=action,
                allowed=allowed,
            )
        return t("error.transition", code, subject=exc.subject, state=state, action=action)
    if isinstance(exc, errors.PermissionDenied):
        reason_key = getattr(exc, "reason_key", "")
        reason = (
            render_policy(reason_key, getattr(exc, "reason_params", None), code, worded=True)
            if has(reason_key)
            else t(f"reason.{exc.reason}", code) if has(f"reason.{exc.reason}") else exc.reason
        )  # a reason written as a sentence has its words under `reason.<sentence>`, as actions do
        action_key = getattr(exc, "action_key", "")
        params = getattr(exc, "action_params", None) or {}
        if action_key == STEP_DOING:  # a lifecycle step's "<verb> <kind> <code>": each part in words
            action = t(STEP_DOING, code, action=action_text(params.get("verb", ""), code),
                       kind=kind_text(params.get("kind", ""), code), code=params.get("code", ""))
        elif has(action_key):
            action = render_policy(action_key, params, code, worded=True)
        else:
            action = action_text(exc.action, code)
        return t("error.permission", code, actor=exc.actor, action=action, reason=reason)
    if isinstance(exc, errors.NotFound):
        return t("error.not_found", code, kind=kind_text(exc.kind, code), code=repr(exc.key))
    if isinstance(exc, errors.ConflictError):
        return t("error.conflict", code, details=english)
    if isinstance(exc, errors.PrivacyError):
        return t("error.privacy", code, details=english)
    return english
