"""Jurisdiction of authorized operation: designations and implementation plans.

A government designates its implementing institution (`Designation`, seeded with the world); the institution
drafts an implementation plan (scope, resources, scenarios, security measures, expected products) and the
government approves or rejects it (发改数据规〔2025〕27号). Only then may the
institution propose an authorization over the plan's resources (`authorization.propose_authorization`).
The rules are `marketplace.policy`'s (`check_proposer`); this module loads the facts and changes the rows.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from sqlmodel import Session, select

from marketplace.errors import InvalidInput
from marketplace.models import Account, Designation, ImplementationPlan, Organization, Resource
from marketplace.policy import Designated, ScopeResource, check_proposer
from marketplace.vocabulary import PlanStatus, Role
from marketplace.workflows.roles import has_role
from marketplace.workflows.step import Step, step, temp_code

__all__ = [
    "approve_plan",
    "approved_plan_for",
    "designations_of",
    "draft_plan",
    "reject_plan",
    "scope_facts",
]

PLAN_TEXT_MAX = 2000
PLAN_ITEM_MAX = 300
PLAN_ITEMS_MAX = 50


def designations_of(session: Session, organization_id: int | None) -> list[Designation]:
    """The designations that make an organization an implementing institution (none: it is not one)."""
    if organization_id is None:
        return []
    return list(
        session.exec(
            select(Designation).where(Designation.institution_id == organization_id).order_by(Designation.id)
        ).all()
    )


def designated(rows: Iterable[Designation]) -> list[Designated]:
    return [Designated(d.region, d.domain) for d in rows]


def scope_facts(resources: Iterable[Resource]) -> list[ScopeResource]:
    """What the jurisdiction and plan rules need of each resource (its holder's region, its domain)."""
    return [ScopeResource(r.code, r.holder.region if r.holder else "", r.domain) for r in resources]


def check_institution(st: Step, resources: Sequence[Resource]) -> list[Designation]:
    """The acting organization is a designated implementing institution with every resource in its reach."""
    rows = designations_of(st.session, st.actor.organization_id if st.actor else None)
    org = st.actor.organization if st.actor is not None else None
    check_proposer(
        st.policy,
        organization=org.name if org is not None else "—",
        designations=designated(rows),
        resources=scope_facts(resources),
    )
    return rows


def institution_staff(actor: Account | None) -> bool:
    return has_role(actor, Role.steward) or has_role(actor, Role.registrar)


def text_items(field: str, items: Iterable[str] | None, *, required: bool) -> list[str]:
    out = [i.strip() for i in (items or []) if isinstance(i, str) and i.strip()]
    if required and not out:
        raise InvalidInput(field, items, "at least one entry")
    if len(out) > PLAN_ITEMS_MAX or any(len(i) > PLAN_ITEM_MAX for i in out):
        raise InvalidInput(
            field, items, f"at most {PLAN_ITEMS_MAX} entries of at most {PLAN_ITEM_MAX} characters each"
        )
    return out


def draft_plan(
    session: Session,
    actor: Account,
    *,
    resources: Iterable[Resource],
    scope: str,
    scenarios: Iterable[str],
    security_measures: Iterable[str],
    expected_products: Iterable[str],
) -> ImplementationPlan:
    """The implementing institution drafts its plan for the government that designated it."""
    scope_text = scope.strip() if isinstance(scope, str) else ""
    if not scope_text or len(scope_text) > PLAN_TEXT_MAX:
        raise InvalidInput(
            "scope", scope, f"a description of the plan's scope, 1 to {PLAN_TEXT_MAX} characters"
        )
    listed = list(resources)
    if not listed:
        raise InvalidInput("resources", [], "at least one resource the plan opens to authorized operation")
    lists = {
        "scenarios": text_items("scenarios", scenarios, required=True),
        "security_measures": text_items("security_measures", security_measures, required=True),
        "expected_products": text_items("expected_products", expected_products, required=True),
    }
    with step(session, actor, "plan.draft", actor.organization) as st:
        st.require(
            institution_staff(actor),
            "an implementing institution acts through a steward or registrar account",
            doing="draft an implementation plan",
        )
        rows = check_institution(st, listed)
        if not rows:  # policy without the institution rule: the plan still needs a government to approve it
            st.require(False, "only a designated implementing institution drafts an implementation plan",
                       doing="draft an implementation plan")
        plan = ImplementationPlan(
            code=temp_code(),
            institution_id=actor.organization_id,
            government_id=rows[0].government_id,
            scope=scope_text,
            drafted_at=st.now,
            **lists,
        )
        plan.resources = listed
        st.add(plan, code=("plan", st.today.year))
        st.record(
            {"government": rows[0].government_id, "resources": [r.code for r in listed], **lists},
            subject=plan,
        )
    return plan


def require_government(st: Step, plan: ImplementationPlan) -> None:
    st.require_org(
        Role.authorizer,
        plan.government_id,
        what="designating government",
        **st.acting_on("implementation plan", plan.code),
    )


def approve_plan(
    session: Session, actor: Account, plan: ImplementationPlan, note: str = ""
) -> ImplementationPlan:
    """The designating government approves the plan: its institution may now select operators under it."""
    with step(session, actor, "plan.approve", plan) as st:
        require_government(st, plan)
        plan.status = st.allow(plan)
        plan.decided_at, plan.decided_by, plan.decision_note = st.now, actor.id, note.strip()[:PLAN_TEXT_MAX]
        st.save(plan.code)
        st.record({"note": plan.decision_note})
    return plan


def reject_plan(
    session: Session, actor: Account, plan: ImplementationPlan, reason: str
) -> ImplementationPlan:
    if not isinstance(reason, str) or not reason.strip():
        raise InvalidInput("reason", reason, "a reason for rejecting the plan")
    with step(session, actor, "plan.reject", plan) as st:
        require_government(st, plan)
        plan.status = st.allow(plan)
        plan.decided_at, plan.decided_by = st.now, actor.id
        plan.decision_note = reason.strip()[:PLAN_TEXT_MAX]
        st.save(plan.code)
        st.record({"reason": plan.decision_note})
    return plan


def approved_plan_for(
    session: Session, institution_id: int | None, resources: Sequence[Resource]
) -> ImplementationPlan | None:
    """The institution's newest approved plan listing every resource; else its newest plan of any state."""
    if institution_id is None:
        return None
    plans = session.exec(
        select(ImplementationPlan)
        .where(ImplementationPlan.institution_id == institution_id)
        .order_by(ImplementationPlan.id.desc())
    ).all()
    wanted = {r.id for r in resources}
    for p in plans:
        if p.status is PlanStatus.approved and wanted <= {r.id for r in p.resources}:
            return p
    return plans[0] if plans else None


def government_name(session: Session, plan: ImplementationPlan) -> str:
    org = session.get(Organization, plan.government_id)
    return org.name if org is not None else "—"
