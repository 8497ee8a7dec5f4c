"""Authorized operation agreements: proposed → agreed → active → expired | terminated.

The implementing institution a government designated (its steward or registrar) proposes an authorization
over resources in its jurisdiction and in an approved implementation plan (`jurisdiction`) to an operator, for
a term no longer than the policy allows; the operator agrees; the institution activates it once every resource
in scope is registered where the policy makes registration mandatory. Each rule is a `marketplace.policy`
function that names itself when it refuses.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date

from sqlmodel import Session, select

from marketplace.errors import InvalidInput
from marketplace.models import (
    Account,
    Authorization,
    ExitDuty,
    ImplementationPlan,
    Organization,
    Resource,
    SelectionRound,
)
from marketplace.policy import (
    agreement_obligations,
    check_activation_registration,
    check_operator_selected,
    check_plan_covers,
    working_day_after,
)
from marketplace.vocabulary import (
    AuthorizationModel,
    AuthorizationStatus,
    Channel,
    OrganizationKind,
    ProductStatus,
    Role,
)
from marketplace.workflows import clock, facts
from marketplace.workflows.grants import suspend_grants
from marketplace.workflows.jurisdiction import approved_plan_for, check_institution, scope_facts
from marketplace.workflows.lookups import current_registration
from marketplace.workflows.products import withdraw_listing
from marketplace.workflows.registration import add_years
from marketplace.workflows.roles import has_role
from marketplace.workflows.selection import selection_for
from marketplace.workflows.step import Step, step, temp_code

__all__ = [
    "activate_authorization",
    "agree_authorization",
    "complete_exit_duty",
    "expire_authorizations",
    "propose_authorization",
    "terminate_authorization",
]


def propose_authorization(
    session: Session,
    actor: Account,
    *,
    operator: Organization,
    resources: Iterable[Resource],
    model: AuthorizationModel | str = AuthorizationModel.overall,
    sector: str = "",
    term_start: date | None = None,
    term_end: date | None = None,
    term_years: int | None = None,
    plan: ImplementationPlan | None = None,
    selection: SelectionRound | None = None,
) -> Authorization:
    """The implementing institution (the actor's organization) proposes to authorize `operator` over
    `resources` for a term, under `plan` (default: its newest approved plan listing every resource), resting
    on `selection` (default: its newest decided round the operator won over these resources; activation
    requires one). The agreement carries the obligations of `policy.agreement_obligations`."""
    try:
        model = AuthorizationModel(model)
    except ValueError:
        raise InvalidInput(
            "model", model, "one of " + ", ".join(m.value for m in AuthorizationModel)
        ) from None
    scope = list(resources)
    if not scope:
        raise InvalidInput("resources", [], "at least one resource in scope")
    if operator.kind is not OrganizationKind.operator:
        raise InvalidInput("operator", operator.code, "an organization of kind operator")
    policy = facts.current_policy(session)
    max_years = policy.authorization.max_term_years
    start = term_start or clock.today(session)
    if term_end is None:
        years = max_years if term_years is None else term_years
        if isinstance(years, bool) or not isinstance(years, int) or not 1 <= years <= max_years:
            raise InvalidInput(
                "term_years",
                years,
                f"a whole number of years from 1 to {max_years} (maximum term under {policy.name})",
            )
        term_end = add_years(start, years)
    if term_end <= start:
        raise InvalidInput("term_end", term_end, f"a date after the term start {start}")
    if term_end > add_years(start, max_years):
        raise InvalidInput(
            "term_end",
            term_end,
            f"at most {max_years} years after {start} (maximum term under {policy.name})",
        )
    with step(session, actor, "authorization.propose", operator) as st:
        st.require(
            agency_staff(actor),
            "an implementing agency acts through a steward or registrar account",
            doing="propose an authorization",
        )
        check_institution(st, scope)
        if plan is None or plan.institution_id != actor.organization_id:
            plan = approved_plan_for(session, actor.organization_id, scope)
        check_plan_covers(
            st.policy,
            plan_code=None if plan is None else plan.code,
            plan_status=None if plan is None else plan.status,
            plan_resources=[] if plan is None else [r.code for r in plan.resources],
            resources=scope_facts(scope),
        )
        a = Authorization(
            code=temp_code(),
            agency_id=actor.organization_id,
            operator_id=operator.id,
            model=model,
            sector=sector,
            status=AuthorizationStatus.proposed,
            term_start=start,
            term_end=term_end,
            created_at=st.now,
            plan_id=None if plan is None else plan.id,
            obligations=[
                o.as_dict()
                for o in agreement_obligations(st.policy, [] if plan is None else plan.security_measures)
            ],
        )
        a.resources = scope
        if selection is None or selection.institution_id != actor.organization_id:
            selection = selection_for(session, a)
        a.selection_id = None if selection is None else selection.id
        st.add(a, code=("authorization", start.year))
        st.record(
            {
                "operator": operator.code,
                "resources": [r.code for r in scope],
                "model": model,
                "term_start": start,
                "term_end": term_end,
                "plan": None if plan is None else plan.code,
                "selection": None if selection is None else selection.code,
                "obligations": [o["kind"] for o in a.obligations],
            },
            subject=a,
        )
    return a


def agency_staff(actor: Account) -> bool:
    return has_role(actor, Role.steward) or has_role(actor, Role.registrar)


def require_agency(st: Step, authorization: Authorization) -> None:
    st.require(
        agency_staff(st.actor) and st.actor.organization_id == authorization.agency_id,
        "only the implementing agency's steward or registrar may do this",
        **st.acting_on("authorization", authorization.code),
    )


def agree_authorization(session: Session, actor: Account, authorization: Authorization) -> Authorization:
    with step(session, actor, "authorization.agree", authorization) as st:
        st.require_org(
            Role.operator,
            authorization.operator_id,
            what="operator",
            doing=f"agree to {authorization.code}",
            doing_key="permission.doing.agree_to",
            doing_params={"authorization": authorization.code},
        )
        authorization.status = st.allow(authorization)
        st.save(authorization.code)
        st.record({})
    return authorization


def activate_authorization(session: Session, actor: Account, authorization: Authorization) -> Authorization:
    """Activate: every resource in scope registered when the policy makes it mandatory for this channel, and
    the operator chosen by a decided selection round or an allowed direct award (`selection.required`)."""
    with step(session, actor, "authorization.activate", authorization) as st:
        require_agency(st, authorization)
        nxt = st.allow(authorization)
        if Channel.authorized_operation in st.policy.registration.mandatory_scopes:
            check_activation_registration(
                st.policy,
                [r.code for r in authorization.resources if current_registration(session, r) is None],
            )
        rnd = selection_for(session, authorization)
        winner = None if rnd is None or rnd.winner_id is None else session.get(Organization, rnd.winner_id)
        check_operator_selected(
            st.policy,
            authorization=authorization.code,
            operator=authorization.operator.code,
            selection=None if rnd is None else rnd.code,
            winner=None if winner is None else winner.code,
            selection_resources=[] if rnd is None else [r.code for r in rnd.resources],
            resources=[r.code for r in authorization.resources],
        )
        if rnd is not None and authorization.selection_id is None and winner is not None:
            authorization.selection_id = rnd.id
        authorization.status = nxt
        today = st.today
        if authorization.term_start is None or authorization.term_start < today:
            authorization.term_start = today
        st.save(authorization.code)
        st.record({"term_start": authorization.term_start, "term_end": authorization.term_end,
                   "selection": None if rnd is None else rnd.code})
    return authorization


def terminate_authorization(
    session: Session, actor: Account, authorization: Authorization, reason: str
) -> Authorization:
    """The agency (or the regulator) ends an active authorization early (see `end_authorization`)."""
    if not isinstance(reason, str) or not reason.strip():
        raise InvalidInput("reason", reason, "a reason for the termination")
    with step(session, actor, "authorization.terminate", authorization) as st:
        if not has_role(actor, Role.regulator):
            require_agency(st, authorization)
        authorization.status = st.allow(authorization)
        authorization.ended_reason = f"terminated: {reason.strip()}"[:500]
        st.save(authorization.code)
        st.record({"reason": reason})
        end_authorization(st, authorization)
    return authorization


def end_authorization(st: Step, authorization: Authorization) -> None:
    """What follows the end of an authorization (expiry, termination, sanction), as linked lifecycles:
    its listed products are withdrawn, every grant resting on them is suspended (when the policy says so),
    and the operator's duty to return or destroy the data opens with its due date."""
    why = authorization.ended_reason or f"authorization {authorization.code} ended"
    for p in authorization.products:
        if p.status is ProductStatus.listed:
            withdraw_listing(st, p, why)
    if st.policy.authorization.suspend_grants_on_end:
        suspend_grants(
            st.session, st.actor, [p.id for p in authorization.products],
            f"authorization {authorization.code} {why}",
        )
    due = working_day_after(st.policy, st.today, st.policy.authorization.exit_duty_working_days)
    duty = st.add(
        ExitDuty(
            authorization_id=authorization.id,
            operator_id=authorization.operator_id,
            opened_at=st.now,
            due=due,
        )
    )
    st.record(
        {"authorization": authorization.code, "operator": authorization.operator_id, "due": due},
        action="exit_duty.open",
        subject=duty,
    )


EXIT_HOW = ("returned", "destroyed")


def complete_exit_duty(
    session: Session, actor: Account, duty: ExitDuty, how: str, evidence: str
) -> ExitDuty:
    """The operator records that it returned or destroyed the data of an ended authorization."""
    if how not in EXIT_HOW:
        raise InvalidInput("how", how, "one of " + ", ".join(EXIT_HOW))
    text = evidence.strip() if isinstance(evidence, str) else ""
    if not text or len(text) > 2000:
        raise InvalidInput(
            "evidence", evidence, "what was returned or destroyed and how, 1 to 2000 characters"
        )
    with step(session, actor, "exit_duty.complete", duty) as st:
        st.require_org(Role.operator, duty.operator_id, what="operator", doing="complete the exit duty")
        duty.status = st.allow(duty, "complete")
        duty.completed_at, duty.completed_by, duty.how, duty.evidence = st.now, actor.id, how, text
        st.save("the exit duty")
        st.record({"authorization": duty.authorization_id, "how": how, "due": duty.due,
                   "late": st.today > duty.due})
    return duty


def expire_authorizations(session: Session, actor: Account | None = None) -> list[Authorization]:
    today = clock.today(session)
    out = []
    for a in session.exec(
        select(Authorization).where(
            Authorization.status == AuthorizationStatus.active,
            Authorization.term_end.is_not(None),
            Authorization.term_end < today,
        )
    ).all():
        with step(session, actor, "authorization.expire", a) as st:
            a.status = st.allow(a)
            a.ended_reason = f"expired on {a.term_end}"
            st.save(a.code)
            st.record({"term_end": a.term_end})
            end_authorization(st, a)
        out.append(a)
    return out
