"""Registration of resources and products: submitted → accepted → under_review → public_notice → registered.

The applicant is the holder's steward (resources) or the operator (products); the registrar moves the record
through review and public notice and registers it, issuing a code. A registered record can be changed,
corrected or deregistered by a new record of that type that goes through the same steps; it expires after the
policy's validity."""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlmodel import Session, select

from marketplace.codes import make_code
from marketplace.errors import InvalidInput
from marketplace.models import Account, Product, Registration, Resource
from marketplace.policy import add_working_days, holidays_of
from marketplace.vocabulary import (
    ProductStatus,
    RegistrationStatus,
    RegistrationSubject,
    RegistrationType,
    Role,
)
from marketplace.workflows import audit, clock, facts
from marketplace.workflows._core import flush, refuse_transition, transition
from marketplace.workflows.roles import has_role, require, require_role

__all__ = [
    "accept_registration",
    "change_registration",
    "correct_registration",
    "current_registration",
    "deregister",
    "expire_registrations",
    "publish_notice",
    "register",
    "reject_registration",
    "start_registration_review",
    "submit_registration",
]

_FOLLOW_UP = {
    RegistrationType.change: "change",
    RegistrationType.correction: "correct",
    RegistrationType.deregistration: "deregister",
}


def _applicant_check(session: Session, actor: Account, subject: Resource | Product, action: str) -> None:
    if isinstance(subject, Resource):
        ok = has_role(actor, Role.steward) and actor.organization_id == subject.holder_id
        why = "only a steward of the data holder registers its resources"
    else:
        ok = has_role(actor, Role.operator) and actor.organization_id == subject.operator_id
        why = "only the product's operator registers it"
    require(session, actor, ok, f"{action} {subject.code}", subject, why, audit_action="registration.submit")


def current_registration(session: Session, subject: Resource | Product) -> Registration | None:
    """The registered (in force) record of a resource or product, if any."""
    col = Registration.resource_id if isinstance(subject, Resource) else Registration.product_id
    return session.exec(
        select(Registration)
        .where(col == subject.id, Registration.status == RegistrationStatus.registered)
        .order_by(Registration.id.desc())
    ).first()


def submit_registration(
    session: Session,
    actor: Account,
    subject: Resource | Product,
    *,
    type: RegistrationType | str = RegistrationType.initial,
    details: dict[str, Any] | None = None,
    reason: str = "",
) -> Registration:
    """File a registration record of `type` for a resource or product (follow-ups need one registered)."""
    try:
        rtype = RegistrationType(type)
    except ValueError:
        raise InvalidInput("type", type, "one of " + ", ".join(t.value for t in RegistrationType)) from None
    if not isinstance(subject, Resource | Product):
        raise InvalidInput("subject", subject, "a Resource or a Product")
    _applicant_check(session, actor, subject, "register")
    previous = current_registration(session, subject)
    if rtype is RegistrationType.initial and previous is not None:
        raise refuse_transition(
            session, actor, previous, "register again", "already registered; file a change"
        )
    if rtype is not RegistrationType.initial and previous is None:
        raise audit.refuse(
            session,
            actor,
            "registration.submit",
            subject,
            InvalidInput(
                "type", rtype.value, "initial (there is no registered record to " + _FOLLOW_UP[rtype] + ")"
            ),
        )
    now = clock.now(session)
    is_resource = isinstance(subject, Resource)
    reg = Registration(
        subject=RegistrationSubject.resource if is_resource else RegistrationSubject.product,
        resource_id=subject.id if is_resource else None,
        product_id=None if is_resource else subject.id,
        type=rtype,
        status=RegistrationStatus.submitted,
        applicant_id=actor.id,
        previous_id=previous.id if previous else None,
        submitted_at=now,
        reason=reason,
        details=audit.jsonable(details),
    )
    session.add(reg)
    flush(session)
    audit.record(
        session,
        actor,
        "registration.submit",
        reg,
        {"subject": subject.code, "type": rtype, "previous": previous.code if previous else None},
    )
    return reg


def change_registration(
    session: Session, actor: Account, subject: Resource | Product, details: dict[str, Any], reason: str = ""
) -> Registration:
    return submit_registration(
        session, actor, subject, type=RegistrationType.change, details=details, reason=reason
    )


def correct_registration(
    session: Session, actor: Account, subject: Resource | Product, details: dict[str, Any], reason: str = ""
) -> Registration:
    return submit_registration(
        session, actor, subject, type=RegistrationType.correction, details=details, reason=reason
    )


def deregister(session: Session, actor: Account, subject: Resource | Product, reason: str) -> Registration:
    return submit_registration(session, actor, subject, type=RegistrationType.deregistration, reason=reason)


def _registrar_step(session: Session, actor: Account, reg: Registration, action: str, **payload: Any) -> None:
    require_role(
        session,
        actor,
        Role.registrar,
        f"{action} registration {reg.id}",
        reg,
        audit_action=f"registration.{action}",
    )
    reg.status = transition(session, actor, reg, action)
    reg.registrar_id = actor.id


def _save(
    session: Session, actor: Account, reg: Registration, action: str, payload: dict[str, Any]
) -> Registration:
    flush(session, f"registration {reg.id}", actor=actor, action=f"registration.{action}", subject=reg)
    audit.record(session, actor, f"registration.{action}", reg, payload)
    return reg


def accept_registration(session: Session, actor: Account, registration: Registration) -> Registration:
    _registrar_step(session, actor, registration, "accept")
    return _save(session, actor, registration, "accept", {})


def start_registration_review(session: Session, actor: Account, registration: Registration) -> Registration:
    _registrar_step(session, actor, registration, "start_review")
    return _save(session, actor, registration, "start_review", {})


def publish_notice(session: Session, actor: Account, registration: Registration) -> Registration:
    """Open the public notice period (policy: working days), after which the registrar may register."""
    _registrar_step(session, actor, registration, "publish_notice")
    policy = facts.current_policy(session)
    until = add_working_days(
        clock.today(session), policy.registration.public_notice_working_days, holidays_of(policy)
    )
    registration.notice_until = until
    return _save(session, actor, registration, "publish_notice", {"notice_until": until})


def register(session: Session, actor: Account, registration: Registration) -> Registration:
    """Register after the notice period: issue the code and the validity; follow-ups close the old record."""
    require_role(
        session,
        actor,
        Role.registrar,
        f"register registration {registration.id}",
        registration,
        audit_action="registration.register",
    )
    nxt = transition(session, actor, registration, "register")
    today = clock.today(session)
    if registration.notice_until is not None and today <= registration.notice_until:
        raise refuse_transition(
            session,
            actor,
            registration,
            "register",
            f"the public notice runs until {registration.notice_until}",
        )
    policy = facts.current_policy(session)
    previous = session.get(Registration, registration.previous_id) if registration.previous_id else None
    if previous is not None:
        follow = _FOLLOW_UP[registration.type]
        previous.status = transition(session, actor, previous, follow)
    registration.status = nxt
    registration.registrar_id = actor.id
    registration.registered_at = clock.now(session)
    registration.code = make_code(
        "registration",
        registration.id,
        year=today.year,
        tag="R" if registration.subject is RegistrationSubject.resource else "P",
    )
    if registration.type is RegistrationType.deregistration:
        registration.status = RegistrationStatus.deregistered
    else:
        registration.valid_until = _add_years(today, policy.registration.validity_years)
    product = registration.product if registration.product_id else None
    _save(
        session,
        actor,
        registration,
        "register",
        {
            "code": registration.code,
            "type": registration.type,
            "valid_until": registration.valid_until,
            "previous": previous.code if previous else None,
        },
    )
    if (
        product is not None
        and registration.type is RegistrationType.deregistration
        and product.status is ProductStatus.listed
    ):
        from marketplace.workflows.products import _withdraw

        _withdraw(session, actor, product, "registration deregistered")
    return registration


def reject_registration(
    session: Session, actor: Account, registration: Registration, reason: str
) -> Registration:
    if not reason.strip():
        raise InvalidInput("reason", reason, "a reason the applicant can read")
    _registrar_step(session, actor, registration, "reject")
    registration.reason = reason
    return _save(session, actor, registration, "reject", {"reason": reason})


def expire_registrations(session: Session, actor: Account | None = None) -> list[Registration]:
    today = clock.today(session)
    out = []
    for reg in session.exec(
        select(Registration).where(
            Registration.status == RegistrationStatus.registered,
            Registration.valid_until.is_not(None),
            Registration.valid_until < today,
        )
    ).all():
        reg.status = RegistrationStatus.expired
        audit.record(session, actor, "registration.expire", reg, {"valid_until": reg.valid_until})
        out.append(reg)
    return out


def _add_years(d: date, years: int) -> date:
    try:
        return d.replace(year=d.year + years)
    except ValueError:  # 29 February
        return d.replace(year=d.year + years, day=28)
