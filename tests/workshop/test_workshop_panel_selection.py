"""The participant panel's sections for list-based sharing and operator selection, driven through their
callbacks (buttons and choices) as a participant would, and walked for visible text in both languages."""

from __future__ import annotations

import pytest
from sqlmodel import Session, select
from visible_text import data_words, problems, widget_texts

from marketplace.models import AccessRequest, SelectionApplication, SelectionRound
from marketplace.ui import i18n
from marketplace.ui.workshop import participant_panel

from .conftest import Workshop


@pytest.fixture(autouse=True)
def _english() -> None:
    i18n.set_language("en")
    yield
    i18n.set_language("en")


def _panel(ws: Workshop, group: str, n: int = 0):
    return participant_panel(ws.seat(group, n).join_code, ws.engine)


def _institution_panel(ws: Workshop):
    """The steward panel whose organization runs the open round (and the other steward's)."""
    panels = [_panel(ws, "steward", n) for n in range(2)]
    runner = next(p for p in panels if p.decide_round.options)
    return runner, next(p for p in panels if p is not runner)


def test_a_department_cites_a_list_entry_from_its_panel(workshop: Workshop) -> None:
    panel = _panel(workshop, "department")
    assert panel.list_entry.options[0][1] is None and len(panel.list_entry.options) > 1
    assert "SCE-" in panel.entries_table.value
    entry_id = panel.list_entry.options[1][1]
    panel.list_entry.value = entry_id  # choosing the entry points the request at the listed resource
    entry = next(e for e in panel.session.citable_entries() if e["id"] == entry_id)
    assert panel.target.value.startswith(f"{entry['resource']} — ")
    assert panel.channel.value == "sharing" and panel.purpose.value in entry["purposes"]
    panel.file_button.click()
    assert panel.feedback.kind == "ok", panel.feedback.text
    with Session(workshop.engine) as s:
        req = s.exec(select(AccessRequest)).one()
        assert req.list_entry is not None and req.list_entry.code == entry["code"]
    assert entry["code"] in panel.requests_table.value
    panel.close()


def test_an_enterprise_panel_offers_no_list(workshop: Workshop) -> None:
    panel = _panel(workshop, "enterprise")
    assert not hasattr(panel, "list_entry") and not hasattr(panel, "apply_button")
    panel.close()


def test_an_operator_applies_and_the_institution_scores_and_decides(workshop: Workshop) -> None:
    op = _panel(workshop, "operator")
    assert op.apply_round.value is not None and "SEL-" in op.rounds_table.value
    op.registered_capital.value = "5000"  # below the policy's minimum: refused? no, recorded as not qualified
    op.security_level.value = 3
    op.apply_button.click()
    assert op.feedback.kind == "ok" and "not qualified" in op.feedback.text, op.feedback.text
    assert op.apply_round.options == ()  # applied: the round is no longer offered
    with Session(workshop.engine) as s:
        app = s.exec(select(SelectionApplication)).one()
        app_id = app.id
    # A second operator seat of the same organization would be refused; here the institution takes over.
    runner, elsewhere = _institution_panel(workshop)
    assert i18n.t("workshop.no_rounds_to_run") in elsewhere.desk_table.value
    assert runner.application_pick.options == ()  # the only applicant is not qualified: nothing to score
    runner.decide_round_button.click()
    assert runner.feedback.kind == "ok", runner.feedback.text
    with Session(workshop.engine) as s:
        rnd = s.exec(select(SelectionRound)).one()
        assert rnd.status.value == "failed" and s.get(SelectionApplication, app_id).total is None
    op.close()
    runner.close()
    elsewhere.close()


def test_scoring_and_deciding_from_the_desk(workshop: Workshop) -> None:
    op = _panel(workshop, "operator")
    op.registered_capital.value = "20000000"
    op.apply_button.click()
    assert op.feedback.kind == "ok" and "qualified" in op.feedback.text, op.feedback.text
    runner, elsewhere = _institution_panel(workshop)
    runner.decide_round_button.click()  # before scoring: refused in one line, nothing decided
    assert runner.feedback.kind == "error" and "not scored yet" in runner.feedback.text
    assert set(runner.score_boxes) == {"technical", "security", "service_plan", "fee_proposal"}
    assert runner.score_boxes["technical"].description == i18n.t("selection.criterion.technical")
    runner.score_boxes["technical"].value = 90
    runner.score_button.click()
    assert runner.feedback.kind == "ok" and "76.00" in runner.feedback.text, runner.feedback.text
    runner.note.value = "Strongest technical offer"
    runner.decide_round_button.click()
    assert runner.feedback.kind == "ok" and "Data Operator" in runner.feedback.text, runner.feedback.text
    assert runner.decide_round.options == ()
    op.refresh()
    assert "76.00" in op.rounds_table.value
    for p in (op, runner, elsewhere):
        p.close()


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_the_new_sections_show_words_not_ids(workshop: Workshop, lang: str) -> None:
    i18n.set_language(lang)
    op = _panel(workshop, "operator")
    op.registered_capital.value = "20000000"
    op.apply_button.click()
    dep = _panel(workshop, "department")
    dep.list_entry.value = dep.list_entry.options[1][1]
    dep.file_button.click()
    runner, elsewhere = _institution_panel(workshop)
    runner.score_button.click()
    panels = [op, dep, runner, elsewhere]
    allowed = data_words(workshop.engine)
    texts = [t for p in panels for t in widget_texts(p)]
    found = problems(texts, lang, allowed=allowed)
    other = "en" if lang == "zh" else "zh"
    i18n.set_language(other)
    texts = [t for p in panels for t in widget_texts(p)]
    found += [f"after switching to {other}: {p}" for p in problems(texts, other, allowed=allowed)]
    assert found == [], "\n".join(found)
    for p in panels:
        p.close()
