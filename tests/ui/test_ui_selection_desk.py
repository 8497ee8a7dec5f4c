"""The selection desk, driven through its callbacks: the implementing institution opens a round over its
approved plan's resources, operators apply, the institution scores and decides, and the authorization over
that scope can then be proposed, agreed and activated in the operator panel (rule `authorization.selection`
holds it back until then); a disqualified applicant and a refused direct award are worded, in both languages.
"""

from __future__ import annotations

import re

from sqlmodel import select

from marketplace import workflows as wf
from marketplace.models import (
    Account,
    Authorization,
    ImplementationPlan,
    Organization,
    SelectionApplication,
    SelectionRound,
)
from marketplace.ui import actas, i18n, operator, selection
from marketplace.ui.context import Sandbox
from marketplace.vocabulary import AuthorizationStatus, Grade, OrganizationKind, Role, SelectionStatus

SCORES = {"technical": 80, "security": 90, "service_plan": 70, "fee_proposal": 60}  # weighted: 77.00


def _institution_and_plan(sandbox: Sandbox, who: actas.ActAs) -> tuple[int, int, int]:
    """(plan id, a registered resource of it open to authorized operation, the institution's org id),
    acting as a registrar of the plan's institution."""
    who.choose(Role.registrar)
    with sandbox.session() as s:
        org_id = s.get(Account, sandbox.account_id).organization_id
        plan = s.exec(
            select(ImplementationPlan).where(ImplementationPlan.institution_id == org_id)
            .order_by(ImplementationPlan.id)
        ).first()
        res = next(
            r for r in sorted(plan.resources, key=lambda r: r.id)
            if wf.current_registration(s, r) is not None and r.grade is not Grade.core
            and "authorized_operation" in wf.resource_channels(r)
        )
        return plan.id, res.id, org_id


def _operators(sandbox: Sandbox) -> list[tuple[int, str]]:
    """(org id, username of one of its operator accounts) of every operator organization."""
    with sandbox.session() as s:
        kind = Organization.kind == OrganizationKind.operator
        orgs = s.exec(select(Organization).where(kind).order_by(Organization.id)).all()
        return [(o.id, wf.accounts_with_role(s, Role.operator, org_id=o.id)[0].username) for o in orgs]


def _new_to(sandbox: Sandbox, res_id: int) -> list[tuple[int, str]]:
    """The operators, first one that no decided round has chosen over the resource yet (a new scope for
    it: the seeded rounds chose the other one)."""
    with sandbox.session() as s:
        chosen = {
            r.winner_id for r in s.exec(select(SelectionRound)).all()
            if r.status is SelectionStatus.decided and res_id in {x.id for x in r.resources}
        }
    return sorted(_operators(sandbox), key=lambda op: op[0] in chosen)


def test_a_round_from_open_to_decided_then_the_authorization_comes_into_force(sandbox: Sandbox) -> None:
    who = actas.act_as(sandbox)
    plan_id, res_id, inst_org = _institution_and_plan(sandbox, who)
    institution = sandbox.account_id
    (first, first_user), (second, second_user) = _new_to(sandbox, res_id)
    # without a round: proposed and agreed, but not brought into force (rule authorization.selection)
    ops = operator.operator_panel(sandbox)
    ops.partner.value = first
    ops.scope.value = (res_id,)
    ops.propose_button.click()
    assert ops.feedback.kind == "ok", ops.feedback.text
    with sandbox.session() as s:
        auth_id = s.exec(select(Authorization.id).order_by(Authorization.id.desc())).first()
    who.choose(Role.operator, first_user)
    ops.authorization.value = auth_id
    ops.agree_button.click()
    assert ops.feedback.kind == "ok", ops.feedback.text
    who.choose(Role.registrar)
    who.account.value = institution
    ops.authorization.value = auth_id
    ops.activate_button.click()
    assert ops.feedback.kind == "error" and "authorization.selection" in ops.feedback.text, ops.feedback.text
    assert "not chosen by a decided selection round" in ops.feedback.text
    # the round: opened by the institution over its plan's resource
    desk = selection.selection_panel(sandbox)
    rounds = selection.selection_rounds(sandbox)
    desk.plan.value = plan_id
    desk.resources.value = (res_id,)
    desk.title.value = "Lot 7: mobility data"
    desk.open_button.click()
    assert desk.feedback.kind == "ok", desk.feedback.text
    with sandbox.session() as s:
        rnd = s.exec(select(SelectionRound).order_by(SelectionRound.id.desc())).first()
        round_id, code = rnd.id, rnd.code
    assert desk.round.value == round_id and code in desk.feedback.text
    assert code in rounds.rounds_table.value  # the public view follows
    who.choose(Role.operator, first_user)
    desk.security_level.value, desk.capital.value = 3, "50000000"
    desk.apply_button.click()
    assert desk.feedback.kind == "ok", desk.feedback.text
    who.choose(Role.operator, second_user)
    desk.security_level.value = 2  # below the policy's level 3: recorded, not qualified
    desk.apply_button.click()
    assert desk.feedback.kind == "info" and "security protection level" in desk.feedback.text
    assert "selection.qualification.security_level" in desk.feedback.text
    who.choose(Role.registrar)
    who.account.value = institution
    with sandbox.session() as s:
        apps = {a.operator_id: a.id for a in s.exec(
            select(SelectionApplication).where(SelectionApplication.selection_id == round_id)
        ).all()}
    desk.application.value = apps[second]
    desk.score_button.click()  # a disqualified applicant is not scored: the rule, in words
    assert desk.feedback.kind == "error" and "security protection level 2" in desk.feedback.text
    desk.application.value = apps[first]
    for criterion, value in SCORES.items():
        desk.scores[criterion].value = value
    desk.score_button.click()
    assert desk.feedback.kind == "ok" and "77.00" in desk.feedback.text, desk.feedback.text
    desk.decide_button.click()
    assert desk.feedback.kind == "ok", desk.feedback.text
    with sandbox.session() as s:
        rnd = s.get(SelectionRound, round_id)
        assert rnd.status is SelectionStatus.decided and rnd.winner_id == first
    # the same authorization now comes into force: the round chose its operator over its scope
    ops.authorization.value = auth_id
    ops.activate_button.click()
    assert ops.feedback.kind == "ok", ops.feedback.text
    with sandbox.session() as s:
        auth = s.get(Authorization, auth_id)
        assert auth.status is AuthorizationStatus.active and auth.agency_id == inst_org
        assert wf.selection_for(s, auth).id == round_id
    for panel in (desk, rounds, ops, who):
        panel.close()


def test_a_disqualified_applicant_is_told_the_criterion_in_both_languages(sandbox: Sandbox) -> None:
    who = actas.act_as(sandbox)
    plan_id, res_id, _ = _institution_and_plan(sandbox, who)
    desk = selection.selection_panel(sandbox)
    desk.plan.value, desk.resources.value, desk.title.value = plan_id, (res_id,), "Lot 8"
    desk.open_button.click()
    assert desk.feedback.kind == "ok", desk.feedback.text
    who.choose(Role.operator, _operators(sandbox)[0][1])
    desk.capital.value = "100.00"  # far below the policy's registered capital
    desk.apply_button.click()
    assert desk.feedback.kind == "info", desk.feedback.text
    assert "registered capital" in desk.feedback.text and "not qualified" in desk.feedback.text
    assert "not qualified: registered capital" in desk.application.options[0][0]
    i18n.set_language("zh")
    assert "注册资本" in desk.feedback.text and "不合格" in desk.feedback.text, desk.feedback.text
    assert "注册资本" in desk.detail.value and desk.apply_button.description == "以当前运营机构身份报名"
    i18n.set_language("en")
    desk.close()


def test_a_direct_award_without_allowed_grounds_is_refused_under_national_2025(sandbox: Sandbox) -> None:
    who = actas.act_as(sandbox)
    plan_id, res_id, _ = _institution_and_plan(sandbox, who)
    desk = selection.selection_panel(sandbox)
    before = len(desk.round.options)
    desk.plan.value, desk.resources.value = plan_id, (res_id,)
    desk.operator.value = _operators(sandbox)[0][0]
    desk.grounds.value = "other"  # none of the grounds national-2025 allows
    desk.justification.value = "The only operator whose certified platform already hosts this data"
    desk.capital.value = "50000000"
    desk.award_button.click()
    assert desk.feedback.kind == "error", desk.feedback.text
    assert "Direct award" in desk.feedback.text and "not allowed under national-2025" in desk.feedback.text
    assert "selection.direct_award" in desk.feedback.text
    i18n.set_language("zh")
    assert "不允许" in desk.feedback.text and "直接授予" in desk.feedback.text, desk.feedback.text
    i18n.set_language("en")
    assert len(desk.round.options) == before  # nothing recorded
    desk.grounds.value = "continuity"  # an allowed ground: the award is recorded and on notice
    desk.award_button.click()
    assert desk.feedback.kind == "ok", desk.feedback.text
    assert len(desk.round.options) == before + 1
    desk.close()


def test_the_seeded_plan_reads_in_the_language_in_force(sandbox: Sandbox) -> None:
    """The seeded plan's scope, scenarios, measures and products were written in the seed's language; the
    desk shows them in the language in force, and a plan someone typed exactly as typed."""
    who = actas.act_as(sandbox)
    plan_id, _res, _org = _institution_and_plan(sandbox, who)
    desk = selection.selection_panel(sandbox)
    desk.plan.value = plan_id
    english = desk.plan_detail.value
    assert "transport planning" in english and "audit of every access" in english, english
    i18n.set_language("zh")
    desk.plan.value = None
    desk.plan.value = plan_id
    chinese = desk.plan_detail.value
    assert "交通规划" in chinese and "全程访问审计" in chinese and "本市部门" in chinese, chinese
    assert not re.search(r"[A-Za-z]{3,}", re.sub(r"<[^>]+>", "", chinese)), chinese
    with sandbox.session() as s:
        plan = s.get(ImplementationPlan, plan_id)
        plan.scope, plan.scenarios = "Night bus routes", ["night buses"]
        s.add(plan)
        s.commit()
    desk.plan.value = None
    desk.plan.value = plan_id
    assert "Night bus routes" in desk.plan_detail.value and "night buses" in desk.plan_detail.value
