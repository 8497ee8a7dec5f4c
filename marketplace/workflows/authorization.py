"""Authorized operation agreements: proposed → agreed → active → expired | terminated.

The implementing agency (its steward or registrar) proposes an authorization over resources (its scope) to an
operator for a term no longer than the policy allows; the operator agrees; the agency activates it once every
resource in scope is registered where the policy makes registration mandatory.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date

from sqlmodel import Session, select

from marketplace.errors import InvalidInput, PolicyRefusal
from marketplace.models import Account, Authorization, Organization, Resource
from marketplace.vocabulary import (
    AuthorizationModel,
    AuthorizationStatus,
    Channel,
    OrganizationKind,
    Role,
)
from marketplace.workflows import audit, clock, facts
from marketplace.workflows._core import assign_code, flush, temp_code, transition
from marketplace.workflows.registration import _add_years, current_registration
from marketplace.workflows.roles import has_role, require, require_org

__all__ = [
    "activate_authorization",
    "agree_authorization",
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
) -> Authorization:
    """The agency (the actor's organization) proposes to authorize `operator` over `resources` for a term."""
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
        term_end = _add_years(start, years)
    if term_end <= start:
        raise InvalidInput("term_end", term_end, f"a date after the term start {start}")
    if term_end > _add_years(start, max_years):
        raise InvalidInput(
            "term_end",
            term_end,
            f"at most {max_years} years after {start} (maximum term under {policy.name})",
        )
    require(
        session,
        actor,
        _agency_staff(actor),
        "propose an authorization",
        operator,
        "an implementing agency acts through a steward or registrar account",
        audit_action="authorization.propose",
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
        created_at=clock.now(session),
    )
    a.resources = scope
    session.add(a)
    flush(session)
    assign_code(a, "authorization", start.year)
    audit.record(
        session,
        actor,
        "authorization.propose",
        a,
        {
            "operator": operator.code,
            "resources": [r.code for r in scope],
            "model": model,
            "term_start": start,
            "term_end": term_end,
        },
    )
    return a


def _agency_staff(actor: Account) -> bool:
    return has_role(actor, Role.steward) or has_role(actor, Role.registrar)


def _require_agency(session: Session, actor: Account, authorization: Authorization, action: str) -> None:
    require(
        session,
        actor,
        _agency_staff(actor) and actor.organization_id == authorization.agency_id,
        f"{action} {authorization.code}",
        authorization,
        "only the implementing agency's steward or registrar may do this",
        audit_action=f"authorization.{action}",
    )


def agree_authorization(session: Session, actor: Account, authorization: Authorization) -> Authorization:
    require_org(
        session,
        actor,
        Role.operator,
        authorization.operator_id,
        f"agree to {authorization.code}",
        authorization,
        what="operator",
        audit_action="authorization.agree",
    )
    authorization.status = transition(session, actor, authorization, "agree")
    flush(session, authorization.code, actor=actor, action="authorization.agree", subject=authorization)
    audit.record(session, actor, "authorization.agree", authorization, {})
    return authorization


def activate_authorization(session: Session, actor: Account, authorization: Authorization) -> Authorization:
    """Activate: every resource in scope registered when the policy makes it mandatory for this channel."""
    _require_agency(session, actor, authorization, "activate")
    nxt = transition(session, actor, authorization, "activate")
    policy = facts.current_policy(session)
    if Channel.authorized_operation in policy.registration.mandatory_scopes:
        missing = [r.code for r in authorization.resources if current_registration(session, r) is None]
        if missing:
            raise audit.refuse(
                session,
                actor,
                "authorization.activate",
                authorization,
                PolicyRefusal(
                    "registration.mandatory",
                    f"Resources in authorized-operation scope must be registered under {policy.name}; "
                    f"not registered: {', '.join(missing)}",
                ),
            )
    authorization.status = nxt
    today = clock.today(session)
    if authorization.term_start is None or authorization.term_start < today:
        authorization.term_start = today
    flush(session, authorization.code, actor=actor, action="authorization.activate", subject=authorization)
    audit.record(
        session,
        actor,
        "authorization.activate",
        authorization,
        {"term_start": authorization.term_start, "term_end": authorization.term_end},
    )
    return authorization


def terminate_authorization(
    session: Session, actor: Account, authorization: Authorization, reason: str
) -> Authorization:
    """The agency (or the regulator) ends an active authorization early; its listed products are withdrawn."""
    if not reason.strip():
        raise InvalidInput("reason", reason, "a reason for the termination")
    if not has_role(actor, Role.regulator):
        _require_agency(session, actor, authorization, "terminate")
    authorization.status = transition(session, actor, authorization, "terminate")
    flush(session, authorization.code, actor=actor, action="authorization.terminate", subject=authorization)
    audit.record(session, actor, "authorization.terminate", authorization, {"reason": reason})
    _withdraw_products(session, actor, authorization, "authorization terminated")
    return authorization


def _withdraw_products(
    session: Session, actor: Account | None, authorization: Authorization, why: str
) -> None:
    from marketplace.vocabulary import ProductStatus
    from marketplace.workflows.products import _withdraw

    for p in authorization.products:
        if p.status is ProductStatus.listed:
            _withdraw(session, actor, p, why)


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
        a.status = AuthorizationStatus.expired
        audit.record(session, actor, "authorization.expire", a, {"term_end": a.term_end})
        _withdraw_products(session, actor, a, "authorization expired")
        out.append(a)
    return out
