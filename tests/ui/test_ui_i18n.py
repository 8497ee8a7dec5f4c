"""Every user-facing string exists in English and Simplified Chinese; the language changes at run time."""

from __future__ import annotations

import ast
import re
import string
from enum import Enum
from pathlib import Path

import ipywidgets as w
import pytest

from marketplace import translations, vocabulary
from marketplace.errors import InvalidInput
from marketplace.ui import i18n

UI = Path(__file__).resolve().parents[2] / "marketplace" / "ui"
CJK = re.compile(r"[\u4e00-\u9fff]")
KEY = re.compile(r"^[a-z_]+(\.[a-z0-9_]+)+$")
TEXT_CALLS = {"t", "bind", "heading", "text", "button"}
MESSAGES = translations.messages()


def _placeholders(text: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(text) if name}


def test_no_missing_translations() -> None:
    assert list(translations.problems()) == []
    assert len(MESSAGES) > 200
    assert all(len(texts) == 2 and all(x.strip() for x in texts) for texts in MESSAGES.values())


@pytest.mark.parametrize("key", sorted(MESSAGES))
def test_both_languages_take_the_same_placeholders(key: str) -> None:
    en, zh = MESSAGES[key]
    assert _placeholders(en) == _placeholders(zh)


def test_chinese_text_is_chinese() -> None:
    """Catch a copy of the English left in the Chinese column (symbols, placeholders, short ids exempt)."""
    suspicious = [
        key
        for key, (en, zh) in MESSAGES.items()
        if len(re.sub(r"[^A-Za-z]", "", re.sub(r"\{[^}]*\}", "", en))) > 3
        and not CJK.search(zh)
        and key != "enum.api"
    ]
    assert suspicious == []


def _used_keys() -> set[str]:
    keys: set[str] = set()
    for path in UI.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if not isinstance(node, ast.Call):
                continue
            name = node.func.attr if isinstance(node.func, ast.Attribute) else getattr(node.func, "id", "")
            if name not in TEXT_CALLS:
                continue
            for arg in node.args:
                if isinstance(arg, ast.Constant) and isinstance(arg.value, str) and KEY.match(arg.value):
                    keys.add(arg.value)
    return keys


def test_every_key_used_by_the_panels_exists() -> None:
    used = _used_keys()
    assert len(used) > 100, "the scan found too few keys: it is not looking at the panels"
    assert sorted(k for k in used if k not in MESSAGES) == []


def test_every_vocabulary_value_has_a_label() -> None:
    values = {
        m.value
        for obj in vars(vocabulary).values()
        if isinstance(obj, type) and issubclass(obj, Enum) and obj.__module__ == vocabulary.__name__
        for m in obj
    }
    assert values, "no vocabulary enums found"
    missing = sorted(v for v in values if f"enum.{v}" not in MESSAGES)
    assert missing == []
    assert i18n.label(vocabulary.Decision.approve_with_conditions, "zh") == "附条件批准"


def test_language_follows_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    assert i18n.get_language() == "en"
    monkeypatch.setenv("MARKETPLACE_LANG", "zh_CN.UTF-8")
    i18n.reset_language()
    assert i18n.get_language() == "zh"
    assert i18n.t("review.decide") == "提交决定"


def test_bad_language_is_refused_naming_the_field(monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(InvalidInput, match="language: got 'fr'"):
        i18n.set_language("fr")
    assert i18n.get_language() == "en"
    monkeypatch.setenv("MARKETPLACE_LANG", "klingon")
    i18n.reset_language()
    with pytest.raises(InvalidInput, match="MARKETPLACE_LANG"):
        i18n.get_language()


def test_set_language_updates_widgets_already_on_screen() -> None:
    b = i18n.bind(w.Button(), "description", "review.decide")
    h = i18n.bind(w.HTML(), "value", "catalog.title", template="<h3>{}</h3>")
    assert b.description == "Decide"
    i18n.set_language("zh")
    assert b.description == "提交决定"
    assert h.value == "<h3>公共数据资源目录</h3>"
    i18n.set_language("en")
    assert b.description == "Decide"


def test_unknown_key_is_an_error() -> None:
    with pytest.raises(LookupError):
        i18n.t("no.such.key")


def test_language_toggle_switches_everything() -> None:
    from marketplace.ui import start

    toggle = start.language_toggle()
    roles = start.roles()
    assert "Who does what" in roles.value
    toggle.value = "zh"
    assert i18n.get_language() == "zh"
    assert "角色与职责" in roles.value and "申请方" in roles.value
    i18n.set_language("en")
    assert toggle.value == "en"


def test_no_panel_keeps_its_own_table_of_translations() -> None:
    """Every text is in the catalogs: a dict of (English, Chinese) pairs in a panel module is a regression."""
    tables = []
    for path in sorted(UI.glob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Dict) and any(
                isinstance(v, ast.Tuple)
                and any(isinstance(e, ast.Constant) and CJK.search(str(e.value)) for e in v.elts)
                for v in node.values
            ):
                tables.append(f"{path.name}:{node.lineno}")
    assert tables == []
