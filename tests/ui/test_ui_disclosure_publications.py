"""The disclosure panel (notebook 06) shows what each implementing institution and operator published for the
year and how timely it was: words, not ids, in English and Chinese, following a language switch."""

from __future__ import annotations

from datetime import date

import pytest
from visible_text import problems, widget_texts

from marketplace import workflows as wf
from marketplace.ui import disclosure, i18n
from marketplace.vocabulary import Role


def _story(sandbox) -> None:
    """The institution publishes on time (20 Mar 2026), one operator late (3 Apr 2026), the rest are
    missing."""
    with sandbox.session() as s:
        wf.set_clock(s, wf.accounts_with_role(s, Role.trainer)[0], start=date(2026, 3, 20))
        holders = wf.duty_holders(s, 2025)
        inst = next(o for o, r in holders if r == "institution")
        op = next(o for o, r in holders if r == "operator")
        wf.publish_disclosure(s, wf.accounts_with_role(s, Role.registrar, org_id=inst.id)[0], inst, 2025)
        wf.advance_clock(s, wf.accounts_with_role(s, Role.trainer)[0], 14)
        wf.publish_disclosure(s, wf.accounts_with_role(s, Role.operator, org_id=op.id)[0], op, 2025)
        s.commit()


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_the_panel_shows_each_partys_publication_and_timeliness(sandbox, lang):
    from visible_text import data_words

    _story(sandbox)
    i18n.set_language(lang)
    panel = disclosure.disclosure_panel(sandbox, year=2025)
    words = {
        "en": ("implementing institution", "operator", "on time", "late", "missing", "Working days late",
               "2026-03-31", "2026-04-03"),
        "zh": ("实施机构", "运营机构", "按时", "逾期披露", "未披露", "逾期工作日",
               "2026-03-31", "2026-04-03"),
    }
    for word in words[lang]:
        assert word in panel.publications.value, word
    assert "on_time" not in panel.publications.value and "ORG-" not in panel.publications.value
    allowed = data_words(sandbox.engine)
    assert problems(list(widget_texts(panel.publications)), lang, allowed=allowed) == []
    other = "zh" if lang == "en" else "en"
    i18n.set_language(other)  # switched while on screen: the table follows
    for word in words[other][:5]:
        assert word in panel.publications.value, word
    panel.build_button.click()
    assert panel.feedback.kind == "ok", panel.feedback.text
    assert words[other][2] in panel.publications.value
    panel.close()
