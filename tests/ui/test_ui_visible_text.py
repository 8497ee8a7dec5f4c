"""Every panel of every notebook and Voila app, in both languages, shows words, not internal ids.

Each notebook's panels are built as the notebook builds them, driven through their callbacks (a request filed,
a review opened, a quote priced, the labs run), then every visible text is walked (descriptions, options,
HTML, table cells, tab titles) in the language the panel was built in and again after switching to the
other one. The rules are tests/visible_text.py, shared with the real-browser walk.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import ipywidgets as w
import pytest
import sqlalchemy as sa
import visible_text
from visible_text import problems, widget_texts

from marketplace.models import Account, AccountRole, Organization, Resource
from marketplace.ui import (
    actas,
    apps,
    catalog,
    compute,
    disclosure,
    free_use,
    i18n,
    operator,
    privacy,
    registration,
    regulator,
    requests,
    review,
    scenarios,
    selection,
    sharing_lists,
    start,
)
from marketplace.ui.context import Sandbox
from marketplace.vocabulary import Role

pytestmark = pytest.mark.timeout(300)

CONDITIONAL_OPEN = "RES-000003"
def data_words(sandbox: Sandbox | Any) -> set[str]:
    """Words of the synthetic data itself (see visible_text.data_words), from a sandbox or an engine."""
    return visible_text.data_words(sandbox.engine if isinstance(sandbox, Sandbox) else sandbox)


def _username(sandbox: Sandbox, role: Role, kind: str | None = None, org_id: int | None = None) -> str:
    with sandbox.session() as s:
        q = sa.select(Account.username).join(Organization).join(AccountRole).where(AccountRole.role == role)
        if kind:
            q = q.where(Organization.kind == kind)
        if org_id is not None:
            q = q.where(Account.organization_id == org_id)
        return s.exec(q.order_by(Account.id)).first()[0]


def _resource_id(sandbox: Sandbox, code: str) -> tuple[int, int]:
    with sandbox.session() as s:
        r = s.exec(sa.select(Resource).where(Resource.code == code)).one()[0]
        return r.id, r.holder_id


# ---------------------------------------------------------------- each notebook, driven


def nb00(sandbox: Sandbox) -> list[w.Widget]:
    tour = start.tour(sandbox)
    for i in range(len(tour.steps)):
        tour.open_step(i)
    return [start.language_toggle(), start.intro(), start.roles(), tour]


def nb01(sandbox: Sandbox) -> list[w.Widget]:
    who = actas.act_as(sandbox)
    browser = catalog.catalog_browser(sandbox)
    browser.listing.value = browser.shown[0]["id"]
    who.choose(Role.registrar)
    reg = registration.registration_panel(sandbox)
    rounds = selection.selection_rounds(sandbox)
    assert rounds.round.options, "the seeded rounds are listed"
    return [who, browser, reg, rounds]


def nb02(sandbox: Sandbox) -> list[w.Widget]:
    who = actas.act_as(sandbox)
    lists = sharing_lists.sharing_lists_panel(sandbox)
    lists.holder.value = next(v for k, v in lists.holder.options if k.endswith("✓"))  # one with a list
    assert "<li" in lists.entries.value, "a department's list entries are shown"
    who.choose(Role.requester, _username(sandbox, Role.requester, "research"))
    req = requests.request_panel(sandbox)
    rid, holder = _resource_id(sandbox, CONDITIONAL_OPEN)
    req.resource.value = rid
    req.channel.value = "opening"
    req.use_statement.value = "Study of service coverage"
    req.submit_button.click()
    assert req.feedback.kind == "ok", req.feedback.text
    who.choose(Role.steward, _username(sandbox, Role.steward, org_id=holder))
    queue = review.review_queue(sandbox)
    queue.select(req.feedback.text.split()[1])
    queue.decision.value = "approve_with_conditions"
    return [who, lists, req, queue]


def nb03(sandbox: Sandbox) -> list[w.Widget]:
    who = actas.act_as(sandbox, role="operator")
    who.choose(Role.registrar)  # the implementing institution opens a round; an operator applies, unqualified
    desk = selection.selection_panel(sandbox)
    desk.resources.value = desk.resources.options[0][1:]
    desk.title.value = "Lot 9"
    desk.open_button.click()
    assert desk.feedback.kind == "ok", desk.feedback.text
    who.choose(Role.operator)
    desk.capital.value = "100.00"
    desk.apply_button.click()
    assert desk.feedback.kind == "info", desk.feedback.text
    ops = operator.operator_panel(sandbox)
    who.choose(Role.requester, _username(sandbox, Role.requester, "enterprise"))
    quote = requests.request_panel(sandbox, kind="product")
    quote.purpose.value = "industry_development"
    quote.volume.value = 500
    walk = operator.product_walkthrough(sandbox)
    while walk.next_step():
        pass
    who.choose(Role.regulator)
    reg = regulator.regulator_panel(sandbox)  # every operator's MAR, the filings, free use under supervision
    who.choose(Role.operator)  # the operator's view of the price formation table (yes / no columns)
    return [who, desk, ops, quote, walk, reg]


def nb04(sandbox: Sandbox) -> list[w.Widget]:
    roles = privacy.column_roles(sandbox)
    lab = privacy.privacy_lab(sandbox)
    lab.run_button.click()
    curve = privacy.tradeoff_curve(sandbox)
    agg = privacy.aggregate_lab(sandbox)
    agg.run_button.click()
    three = compute.compute_tradeoff(sandbox, rows=2_000)
    return [roles, lab, curve, agg, three]


def nb05(sandbox: Sandbox) -> list[w.Widget]:
    explain = scenarios.scenario_explainer()
    lab = scenarios.scenario_lab(seeds=1, days=10)
    lab.run_button.click()
    assert lab.feedback.kind == "ok", lab.feedback.text
    sweep = scenarios.cap_sweep(seeds=1, days=10)
    sweep.run_button.click()
    assert sweep.feedback.kind == "ok", sweep.feedback.text
    leak = free_use.free_use_sweep(seeds=1, days=10)
    leak.false_share.value, leak.detection.value = "0, 0.3", "0.5"
    leak.run_button.click()
    assert leak.feedback.kind == "ok", leak.feedback.text
    return [explain, lab, sweep, leak]


def nb06(sandbox: Sandbox) -> list[w.Widget]:
    return [
        disclosure.disclosure_panel(sandbox),
        disclosure.dcat_view(sandbox),
        disclosure.catalog_import(sandbox),
    ]


def voila_apps(sandbox: Sandbox) -> list[w.Widget]:
    return [
        apps.catalog_app(sandbox),
        apps.request_and_review_app(sandbox),
        apps.privacy_lab_app(sandbox),
        apps.disclosure_app(sandbox),
    ]


NOTEBOOKS: dict[str, Callable[[Sandbox], list[w.Widget]]] = {
    "00_start_here": nb00,
    "01_catalog_and_registration": nb01,
    "02_request_and_review": nb02,
    "03_pricing": nb03,
    "04_privacy": nb04,
    "05_policy_scenarios": nb05,
    "06_disclosure": nb06,
    "apps": voila_apps,
}


def walk(panels: list[w.Widget], lang: str, allowed: set[str]) -> list[str]:
    texts: list[Any] = [t for p in panels for t in widget_texts(p)]
    assert texts, "nothing visible: the walk is not looking at the panels"
    return problems(texts, lang, allowed=allowed)


@pytest.mark.parametrize("lang", ["en", "zh"])
@pytest.mark.parametrize("notebook", sorted(NOTEBOOKS))
def test_every_panel_shows_words_not_ids(sandbox: Sandbox, notebook: str, lang: str) -> None:
    i18n.set_language(lang)
    panels = NOTEBOOKS[notebook](sandbox)
    allowed = data_words(sandbox)  # after the panels ran: what people typed (a use statement) is data too
    found = walk(panels, lang, allowed)
    other = "en" if lang == "zh" else "zh"
    i18n.set_language(other)  # switched while on screen: every text follows
    found += [f"after switching to {other}: {p}" for p in walk(panels, other, allowed)]
    assert found == [], "\n".join(found)


# ---------------------------------------------------------------- the workshop notebooks


@pytest.fixture
def workshop_engine(tmp_path):
    from marketplace import db
    from marketplace.workshop import bootstrap_trainer, facilitate
    from marketplace.workshop.practice import build_practice_world

    engine = db.make_engine(f"sqlite:///{tmp_path / 'workshop.db'}")
    build_practice_world(engine, seed=0)
    trainer = bootstrap_trainer(engine)
    fac = facilitate(trainer.join_code, engine)
    seats = fac.create_participants("department=1,enterprise=1,registrar=1,steward=1", participants=4, seed=0)
    yield engine, trainer, seats
    engine.dispose()


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_workshop_panels_show_words_not_ids(workshop_engine, lang: str) -> None:
    from marketplace.ui import workshop

    engine, trainer, seats = workshop_engine
    i18n.set_language(lang)
    enterprise = next(s for s in seats if s.group == "enterprise")
    participant = workshop.participant_panel(enterprise.join_code, engine)
    participant.file_button.click()
    console = workshop.facilitator_console(trainer.join_code, engine)
    panels = [
        participant,
        console,
        workshop.participant_app(None, engine),
        workshop.facilitator_app(None, engine),
    ]
    allowed = data_words(engine)
    found = walk(panels, lang, allowed)
    other = "en" if lang == "zh" else "zh"
    i18n.set_language(other)
    found += [f"after switching to {other}: {p}" for p in walk(panels, other, allowed)]
    assert found == [], "\n".join(found)


def test_trainer_console_starts_on_the_policy_in_force_and_asks_before_restore(workshop_engine) -> None:
    from marketplace.ui import workshop

    engine, trainer, _seats = workshop_engine
    console = workshop.facilitator_console(trainer.join_code, engine)
    assert console.policy_pick.value == console.data.policy == "national-2025"
    console.checkpoint_name.value = "start"
    console.save_button.click()
    console.policy_pick.value = "sme-discount"
    console.switch_button.click()
    assert console.feedback.kind == "ok", console.feedback.text
    console.checkpoint_pick.value = "start"
    console.restore_button.click()
    assert console.feedback.kind == "info" and console.restore_cancel.layout.display == ""
    assert console.data.policy == "sme-discount"  # nothing restored yet
    console.restore_cancel.click()
    assert console.feedback.kind == "" and console.data.policy == "sme-discount"
    console.restore_button.click()
    console.restore_button.click()
    assert console.feedback.kind == "ok", console.feedback.text
    assert console.data.policy == console.policy_pick.value == "national-2025" and console.effect.value == ""


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_a_bad_join_code_is_answered_in_plain_words(workshop_engine, lang: str) -> None:
    from marketplace.ui import workshop

    engine, _trainer, _seats = workshop_engine
    i18n.set_language(lang)
    box = workshop.participant_app(None, engine)
    box.code.value = "AAAA-BBBB-CCCC-DDDD"
    box.join_button.click()
    assert box.feedback.kind == "error" and "anyone" not in box.feedback.text
    assert i18n.t("workshop.bad_join_code") in box.feedback.text


def test_closed_workshop_panels_are_garbage_collected(workshop_engine) -> None:
    import gc
    import weakref

    from marketplace.ui import workshop

    engine, trainer, seats = workshop_engine
    refs = []
    for panel in (
        workshop.participant_panel(seats[0].join_code, engine),
        workshop.facilitator_console(trainer.join_code, engine),
        workshop.participant_app(None, engine),
    ):
        refs.append(weakref.ref(panel))
        panel.close()
    del panel
    gc.collect()
    assert [r() for r in refs] == [None, None, None]


def test_trainer_console_in_chinese_after_exercises_traffic_and_a_switch(workshop_engine) -> None:
    """Exercises 01-06 released, a round of background traffic, a policy switch: the console's exercise
    titles, traffic counts and switch sample (routes such as compliance+holder) are all in Chinese."""
    from marketplace.ui import workshop

    engine, trainer, _seats = workshop_engine
    i18n.set_language("zh")
    console = workshop.facilitator_console(trainer.join_code, engine)
    for _ in range(6):
        console.release_button.click()
        assert console.feedback.kind == "ok", console.feedback.text
    console.round_button.click()
    console.policy_pick.value = "sme-discount"
    console.switch_button.click()
    assert console.feedback.kind == "ok", console.feedback.text
    assert "提交第一份数据申请" in console.tables.value and "File your first" not in console.tables.value
    effect = console.effect.value
    assert "compliance" not in effect and "holder" not in effect, effect
    status = console.traffic_status.value
    assert "Error" not in status and not re.search(r"[a-z]+_[a-z]+|read |file ", status), status
    found = walk([console], "zh", data_words(engine))
    assert found == [], "\n".join(found)
    console.close()


def test_routes_of_the_policy_switch_sample_are_worded() -> None:
    assert i18n.stages_text("compliance+holder", "zh") == "合规审查 + 持有方审核"
    assert i18n.stages_text("compliance", "en") == i18n.label("compliance", "en")
    assert "rule" in i18n.stages_text("refused: purpose.allowed", "en")
    assert i18n.stages_text("none", "zh") == i18n.t("policy.switch.no_stage", "zh")
