"""Choosing the operator of authorized operation: selection rounds and direct awards.

Under an approved implementation plan the designated implementing institution opens a round for resources of
the plan (发改数据规〔2025〕27号: operators are selected fairly, by competition); operators apply with their
declarations; the policy's qualification rule (`policy.qualification_refusal`) marks each application
qualified or names the criterion it fails; the institution records the evaluation panel's scores; the decision
ranks the qualified applicants by the policy's weights, names the winner (or fails the round) and goes on
public notice. A direct award skips the competition only where the policy allows it, with its grounds and a
recorded justification. `activate_authorization` then requires the operator a round chose.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import date
from typing import Any

from sqlmodel import Session, select

from marketplace.errors import InvalidInput
from marketplace.models import (
    Account,
    Authorization,
    Evaluation,
    ImplementationPlan,
    Organization,
    Resource,
    SecurityIncident,
    SelectionApplication,
    SelectionRound,
)
from marketplace.policy import (
    AWARD_GROUNDS,
    SELECTION_CRITERIA,
    Applicant,
    check_direct_award,
    check_plan_covers,
    check_qualified,
    qualification_refusal,
    rank_applicants,
    total_score,
    working_day_after,
)
from marketplace.vocabulary import OrganizationKind, Role, SelectionMethod, SelectionStatus
from marketplace.workflows.jurisdiction import (
    approved_plan_for,
    check_institution,
    institution_staff,
    scope_facts,
)
from marketplace.workflows.products import money
from marketplace.workflows.step import Step, step, temp_code

__all__ = [
    "apply_for_selection",
    "award_directly",
    "decide_selection",
    "open_selection",
    "score_application",
    "selection_for",
]

TEXT_MAX = 2000
TITLE_MAX = 300
GROUNDS = (*AWARD_GROUNDS, "other")
SANCTIONS = ("suspension", "termination")
STAFF = "an implementing institution acts through a steward or registrar account"


def _text(field: str, value: Any, limit: int, *, required: bool = True) -> str:
    if value is None and not required:
        return ""
    text = value.strip() if isinstance(value, str) else ""
    if not isinstance(value, str) or (required and not text) or len(text) > limit:
        low = 1 if required else 0
        raise InvalidInput(
            field, value, f"text of {low} to {limit} characters", "expected.text_between",
            {"low": low, "limit": limit},
        )
    return text


def _level(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= 5:
        raise InvalidInput("security_level", value, "the platform's protection level, a whole number 1 to 5")
    return value


def _operator(org: Organization) -> None:
    if org.kind is not OrganizationKind.operator:
        raise InvalidInput("operator", org.code, "an organization of kind operator")


def _years_since(today: date, day: date | None) -> int | None:
    return None if day is None else max(0, (today - day).days // 365)


def applicant_facts(
    session: Session, operator: Organization, today: date, *, security_level: int, registered_capital: Any
) -> Applicant:
    """What the qualification rule needs: the declarations, and sanctions and incidents on record."""
    evaluations = session.exec(
        select(Evaluation).where(Evaluation.operator_id == operator.id).order_by(Evaluation.id)
    ).all()
    sanctioned = [e.evaluated_at.date() for e in evaluations if e.outcome in SANCTIONS]
    rectifying = any(
        e.outcome == "rectification_order" and e.rectify_by is not None and e.rectify_by >= today
        for e in evaluations
    )
    majors = [
        i.recorded_at.date()
        for i in session.exec(
            select(SecurityIncident).where(
                SecurityIncident.operator_id == operator.id, SecurityIncident.severity == "major"
            )
        ).all()
    ]
    return Applicant(
        operator=operator.code,
        security_level=security_level,
        registered_capital=registered_capital,
        sanction_years_ago=_years_since(today, max(sanctioned, default=None)),
        rectification_open=rectifying,
        major_incident_years_ago=_years_since(today, max(majors, default=None)),
    )


def _require_institution(st: Step, selection: SelectionRound) -> None:
    st.require(
        institution_staff(st.actor) and st.actor.organization_id == selection.institution_id,
        "only the implementing institution that opened the round may do this",
        **st.acting_on("selection", selection.code),
    )


def _plan(st: Step, institution_id: int | None, scope: list[Resource],
          plan: ImplementationPlan | None) -> ImplementationPlan | None:
    """The approved plan the round rests on (the policy's plan rule, as for a proposal)."""
    if plan is None or plan.institution_id != institution_id:
        plan = approved_plan_for(st.session, institution_id, scope)
    check_plan_covers(
        st.policy,
        plan_code=None if plan is None else plan.code,
        plan_status=None if plan is None else plan.status,
        plan_resources=[] if plan is None else [r.code for r in plan.resources],
        resources=scope_facts(scope),
    )
    return plan


def open_selection(
    session: Session,
    actor: Account,
    *,
    resources: Iterable[Resource],
    title: str,
    plan: ImplementationPlan | None = None,
) -> SelectionRound:
    """The designated implementing institution opens a competitive round for resources of its approved
    plan."""
    scope = list(resources)
    if not scope:
        raise InvalidInput("resources", [], "at least one resource of the implementation plan")
    name = _text("title", title, TITLE_MAX)
    with step(session, actor, "selection.open", actor.organization) as st:
        st.require(institution_staff(actor), STAFF, doing="open a selection round")
        check_institution(st, scope)
        plan = _plan(st, actor.organization_id, scope, plan)
        rnd = SelectionRound(
            code=temp_code(),
            institution_id=actor.organization_id,
            plan_id=None if plan is None else plan.id,
            method=SelectionMethod.competitive,
            title=name,
            opened_at=st.now,
            opened_by=actor.id,
            weights=st.policy.selection.weights.model_dump(),
        )
        rnd.resources = scope
        st.add(rnd, code=("selection", st.today.year))
        st.record(
            {"title": name, "plan": None if plan is None else plan.code,
             "resources": [r.code for r in scope], "weights": rnd.weights},
            subject=rnd,
        )
    return rnd


def apply_for_selection(
    session: Session,
    actor: Account,
    selection: SelectionRound,
    *,
    security_level: int,
    registered_capital: Any,
    statement: str = "",
) -> SelectionApplication:
    """An operator applies with its declarations; the policy's qualification rule is applied at once and its
    result recorded with the application (a disqualified one names the criterion it fails)."""
    level = _level(security_level)
    capital = money("registered_capital", registered_capital)
    text = _text("statement", statement, TEXT_MAX, required=False)
    with step(session, actor, "selection.apply", selection) as st:
        st.require_role(
            Role.operator,
            doing=f"apply to selection {selection.code}",
            doing_key="permission.doing.apply_to_selection",
            doing_params={"selection": selection.code},
        )
        st.allow(selection)
        operator = actor.organization
        st.refuse_unless(
            all(a.operator_id != operator.id for a in selection.applications),
            "apply",
            f"{operator.code} has applied already",
        )
        facts = applicant_facts(session, operator, st.today, security_level=level, registered_capital=capital)
        refusal = qualification_refusal(st.policy, facts)
        app = st.add(
            SelectionApplication(
                selection_id=selection.id,
                operator_id=operator.id,
                filed_by=actor.id,
                filed_at=st.now,
                security_level=level,
                registered_capital=capital,
                statement=text,
                qualified=refusal is None,
                refusal_rule="" if refusal is None else refusal.rule,
                refusal_reason="" if refusal is None else refusal.message[:500],
            )
        )
        st.record({"operator": operator.code, "security_level": level, "registered_capital": capital,
                   "qualified": refusal is None, "rule": None if refusal is None else refusal.rule})
    return app


def score_application(
    session: Session, actor: Account, application: SelectionApplication, scores: Mapping[str, int]
) -> SelectionApplication:
    """The institution records the evaluation panel's scores (0-100 per criterion of the policy) of a
    qualified applicant; scoring a disqualified one is refused by the qualification rule."""
    if not isinstance(scores, Mapping):
        raise InvalidInput("scores", scores, "a score for each of " + ", ".join(SELECTION_CRITERIA))
    rnd = application.selection
    with step(session, actor, "selection.score", rnd) as st:
        _require_institution(st, rnd)
        st.allow(rnd)
        operator = session.get(Organization, application.operator_id)
        check_qualified(st.policy, applicant_facts(
            session, operator, st.today, security_level=application.security_level,
            registered_capital=application.registered_capital,
        ))
        try:
            total = total_score(st.policy, scores)
        except ValueError as exc:
            raise InvalidInput("scores", dict(scores), str(exc)) from None
        application.scores, application.total = {c: scores[c] for c in SELECTION_CRITERIA}, total
        st.save("the application")
        st.record({"operator": operator.code, "scores": application.scores, "total": total})
    return application


def decide_selection(
    session: Session, actor: Account, selection: SelectionRound, note: str = ""
) -> SelectionRound:
    """Qualification is checked again on today's facts; the qualified applicants are ranked by the policy's
    weights; the highest total wins (or the round fails with too few); the result goes on public notice."""
    text = _text("note", note, TEXT_MAX, required=False)
    with step(session, actor, "selection.decide", selection) as st:
        _require_institution(st, selection)
        st.allow(selection)
        apps = sorted(selection.applications, key=lambda a: a.id)
        codes = {a.operator_id: session.get(Organization, a.operator_id).code for a in apps}
        for a in apps:
            refusal = qualification_refusal(st.policy, applicant_facts(
                session, session.get(Organization, a.operator_id), st.today,
                security_level=a.security_level, registered_capital=a.registered_capital,
            ))
            a.qualified = refusal is None
            a.refusal_rule = "" if refusal is None else refusal.rule
            a.refusal_reason = "" if refusal is None else refusal.message[:500]
        qualified = [a for a in apps if a.qualified]
        unscored = [codes[a.operator_id] for a in qualified if not a.scores]
        st.refuse_unless(not unscored, "decide", "not scored yet: " + ", ".join(unscored))
        ranked = rank_applicants(st.policy, [(codes[a.operator_id], a.scores) for a in qualified])
        selection.status = st.allow(selection, "decide" if ranked.winner else "fail")
        winner = next((a.operator_id for a in qualified if codes[a.operator_id] == ranked.winner), None)
        selection.winner_id = winner
        selection.decided_at, selection.decided_by = st.now, actor.id
        selection.notice_until = working_day_after(
            st.policy, st.today, st.policy.selection.notice_working_days
        )
        selection.decision = {
            "ranking": [{"operator": op, "total": str(total)} for op, total in ranked.ranking],
            "disqualified": [
                {"operator": codes[a.operator_id], "rule": a.refusal_rule, "reason": a.refusal_reason}
                for a in apps if not a.qualified
            ],
            "winner": ranked.winner,
            "reason": ranked.reason,
            "note": text,
        }
        st.save(selection.code)
        st.record({**selection.decision, "notice_until": selection.notice_until})
    return selection


def award_directly(
    session: Session,
    actor: Account,
    *,
    operator: Organization,
    resources: Iterable[Resource],
    grounds: str,
    justification: str,
    security_level: int,
    registered_capital: Any,
    plan: ImplementationPlan | None = None,
) -> SelectionRound:
    """A direct award without competition, only where the policy allows it (`selection.direct_award`), on
    its grounds and with a recorded justification; the operator must still be qualified."""
    _operator(operator)
    scope = list(resources)
    if not scope:
        raise InvalidInput("resources", [], "at least one resource of the implementation plan")
    if grounds not in GROUNDS:
        raise InvalidInput("grounds", grounds, "one of " + ", ".join(GROUNDS))
    why = _text("justification", justification, TEXT_MAX)
    level = _level(security_level)
    capital = money("registered_capital", registered_capital)
    with step(session, actor, "selection.direct_award", operator) as st:
        st.require(institution_staff(actor), STAFF, doing="award an authorization directly")
        check_institution(st, scope)
        plan = _plan(st, actor.organization_id, scope, plan)
        check_direct_award(st.policy, operator=operator.code, grounds=grounds, justification=why)
        check_qualified(st.policy, applicant_facts(
            session, operator, st.today, security_level=level, registered_capital=capital
        ))
        notice = working_day_after(st.policy, st.today, st.policy.selection.notice_working_days)
        rnd = SelectionRound(
            code=temp_code(),
            institution_id=actor.organization_id,
            plan_id=None if plan is None else plan.id,
            method=SelectionMethod.direct_award,
            status=SelectionStatus.decided,
            title=f"direct award to {operator.code}",
            opened_at=st.now,
            opened_by=actor.id,
            decided_at=st.now,
            decided_by=actor.id,
            winner_id=operator.id,
            grounds=grounds,
            justification=why,
            notice_until=notice,
            decision={"winner": operator.code, "grounds": grounds, "reason": "direct award"},
        )
        rnd.resources = scope
        st.add(rnd, code=("selection", st.today.year))
        st.add(SelectionApplication(
            selection_id=rnd.id, operator_id=operator.id, filed_by=None, filed_at=st.now,
            security_level=level, registered_capital=capital, qualified=True,
        ))
        st.record(
            {"operator": operator.code, "grounds": grounds, "justification": why,
             "resources": [r.code for r in scope], "plan": None if plan is None else plan.code,
             "notice_until": notice},
            subject=rnd,
        )
    return rnd


def selection_for(session: Session, authorization: Authorization) -> SelectionRound | None:
    """The round an authorization rests on: the one it names, else the newest decided round of its
    institution won by its operator and covering its resources."""
    if authorization.selection_id is not None:
        return session.get(SelectionRound, authorization.selection_id)
    wanted = {r.id for r in authorization.resources}
    for rnd in session.exec(
        select(SelectionRound)
        .where(
            SelectionRound.institution_id == authorization.agency_id,
            SelectionRound.status == SelectionStatus.decided,
            SelectionRound.winner_id == authorization.operator_id,
        )
        .order_by(SelectionRound.id.desc())
    ).all():
        if wanted <= {r.id for r in rnd.resources}:
            return rnd
    return None

