"""Every workshop text exists in English and Simplified Chinese with the same placeholders."""

from __future__ import annotations

import string

import pytest

from marketplace.translations import messages
from marketplace.ui import i18n

WORKSHOP = {key: texts for key, texts in messages().items() if key.startswith("workshop.")}


def _fields(template: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(template) if name}


def test_the_workshop_panels_have_their_texts() -> None:
    assert len(WORKSHOP) > 60


@pytest.mark.parametrize("key", sorted(WORKSHOP))
def test_both_languages_with_matching_placeholders(key: str) -> None:
    en, zh = WORKSHOP[key]
    assert en.strip() and zh.strip(), key
    assert _fields(en) == _fields(zh), key
    assert any("\u4e00" <= ch <= "\u9fff" for ch in zh) or zh == en, f"{key}: no Chinese in {zh!r}"


def test_text_follows_the_language_in_force() -> None:
    try:
        i18n.set_language("zh")
        assert i18n.t("workshop.join") == "加入"
        i18n.set_language("en")
        assert i18n.t("workshop.join") == "Join"
    finally:
        i18n.set_language("en")


def test_the_console_dashboard_names_its_figures_in_the_language_in_force(workshop) -> None:
    from marketplace.ui.workshop import facilitator_console

    console = facilitator_console(workshop.trainer.join_code, workshop.engine)
    assert "pending reviews" in console.figures.value
    try:
        i18n.set_language("zh")  # the console refreshes itself on a switch
        assert "待审核数" in console.figures.value and "pending" not in console.figures.value
        assert set(console.fac.dashboard().figures) == {
            key.removeprefix("workshop.figure.") for key in WORKSHOP if key.startswith("workshop.figure.")
        }
    finally:
        i18n.set_language("en")
