"""Registration of resources and products: submitted → accepted → under_review → public_notice → registered.

The applicant is the holder's steward (resources) or the operator (products); the registrar moves the record
through review and public notice and registers it, issuing a code. A registered record can be changed,
corrected, deregistered or renewed (in the last days of its validity) by a new record of that type that goes
through the same steps; it expires after the policy's validity, and an expired product record takes the
product off the shelf. During the public notice anyone may file an objection; the registrar decides it
(upheld: the registration is refused; dismissed: it continues) within the policy's working days, and
registers only once every objection is decided."""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlmodel import Session, select

from marketplace.codes import make_code
from marketplace.errors import InvalidInput
from marketplace.models import Account, Objection, Product, Registration, Resource
from marketplace.policy import (
    check_no_open_objection,
    check_objection_period,
    check_renewal_window,
    renewed_until,
    working_day_after,
)
from marketplace.vocabulary import (
    ObjectionStatus,
    ProductStatus,
    RegistrationStatus,
    RegistrationSubject,
    RegistrationType,
    Role,
)
from marketplace.workflows import audit, clock, facts
from marketplace.workflows.grants import suspend_grants
from marketplace.workflows.lookups import current_registration
from marketplace.workflows.products import withdraw_listing
from marketplace.workflows.roles import has_role
from marketplace.workflows.step import Step, step

__all__ = [
    "accept_registration",
    "add_years",
    "change_registration",
    "correct_registration",
    "current_registration",
    "decide_objection",
    "deregister",
    "expire_registrations",
    "file_objection",
    "lapse_objections",
    "publish_notice",
    "register",
    "reject_registration",
    "renew_registration",
    "start_registration_review",
    "submit_registration",
]

FOLLOW_UP = {
    RegistrationType.change: "change",
    RegistrationType.correction: "correct",
    RegistrationType.deregistration: "deregister",
    RegistrationType.renewal: "renew",
}


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
    with step(session, actor, "registration.submit", subject) as st:
        if isinstance(subject, Resource):
            ok = has_role(actor, Role.steward) and actor.organization_id == subject.holder_id
            why = "only a steward of the data holder registers its resources"
        else:
            ok = has_role(actor, Role.operator) and actor.organization_id == subject.operator_id
            why = "only the product's operator registers it"
        st.require(
            ok,
            why,
            doing=f"register {subject.code}",
            doing_key="permission.doing.register",
            doing_params={"code": subject.code},
        )
        previous = current_registration(session, subject)
        if previous is not None:
            st.refuse_unless(
                rtype is not RegistrationType.initial,
                "register again",
                "already registered; file a change",
                obj=previous,
            )
            if rtype is RegistrationType.renewal:
                check_renewal_window(
                    st.policy, code=previous.code or "", valid_until=previous.valid_until, today=st.today
                )
        elif rtype is not RegistrationType.initial:
            raise st.refuse(
                InvalidInput(
                    "type", rtype.value, "initial (there is no registered record to " + FOLLOW_UP[rtype] + ")"
                )
            )
        is_resource = isinstance(subject, Resource)
        reg = st.add(
            Registration(
                subject=RegistrationSubject.resource if is_resource else RegistrationSubject.product,
                resource_id=subject.id if is_resource else None,
                product_id=None if is_resource else subject.id,
                type=rtype,
                status=RegistrationStatus.submitted,
                applicant_id=actor.id,
                previous_id=previous.id if previous else None,
                submitted_at=st.now,
                reason=reason,
                details=audit.jsonable(details),
            )
        )
        st.record(
            {"subject": subject.code, "type": rtype, "previous": previous.code if previous else None},
            subject=reg,
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


def renew_registration(
    session: Session, actor: Account, subject: Resource | Product, reason: str = ""
) -> Registration:
    """File a renewal before the record expires; the registrar reviews it like any record, and registering
    it carries the validity on from the old expiry."""
    return submit_registration(session, actor, subject, type=RegistrationType.renewal, reason=reason)


def registrar_moves(st: Step, reg: Registration) -> None:
    """The registrar moves the record one step on its lifecycle (the step's verb)."""
    st.require_role(Role.registrar, **st.acting_on("registration", str(reg.id)))
    reg.status = st.allow(reg)
    reg.registrar_id = st.actor.id if st.actor is not None else None


def accept_registration(session: Session, actor: Account, registration: Registration) -> Registration:
    with step(session, actor, "registration.accept", registration) as st:
        registrar_moves(st, registration)
        st.save(f"registration {registration.id}")
        st.record()
    return registration


def start_registration_review(session: Session, actor: Account, registration: Registration) -> Registration:
    with step(session, actor, "registration.start_review", registration) as st:
        registrar_moves(st, registration)
        st.save(f"registration {registration.id}")
        st.record()
    return registration


def publish_notice(session: Session, actor: Account, registration: Registration) -> Registration:
    """Open the public notice period (policy: working days), after which the registrar may register."""
    with step(session, actor, "registration.publish_notice", registration) as st:
        registrar_moves(st, registration)
        until = working_day_after(st.policy, st.today, st.policy.registration.public_notice_working_days)
        registration.notice_until = until
        st.save(f"registration {registration.id}")
        st.record({"notice_until": until})
    return registration


def register(session: Session, actor: Account, registration: Registration) -> Registration:
    """Register after the notice period: issue the code and the validity; follow-ups close the old record."""
    with step(session, actor, "registration.register", registration) as st:
        st.require_role(
            Role.registrar,
            doing=f"register registration {registration.id}",
            doing_key="permission.doing.register_registration",
            doing_params={"id": str(registration.id)},
        )
        nxt = st.allow(registration)
        today = st.today
        st.refuse_unless(
            registration.notice_until is None or today > registration.notice_until,
            "register",
            f"the public notice runs until {registration.notice_until}",
        )
        check_no_open_objection(
            st.policy,
            code=f"#{registration.id}",
            open_objections=len(open_objections(session, registration)),
        )
        previous = session.get(Registration, registration.previous_id) if registration.previous_id else None
        if previous is not None:
            previous.status = st.allow(previous, FOLLOW_UP[registration.type])
        registration.status = nxt
        registration.registrar_id = actor.id
        registration.registered_at = st.now
        registration.code = make_code(
            "registration",
            registration.id,
            year=today.year,
            tag="R" if registration.subject is RegistrationSubject.resource else "P",
        )
        if registration.type is RegistrationType.deregistration:
            registration.status = RegistrationStatus.deregistered
        elif registration.type is RegistrationType.renewal and previous is not None:
            registration.valid_until = renewed_until(st.policy, previous.valid_until, today)
        else:
            registration.valid_until = add_years(today, st.policy.registration.validity_years)
        product = registration.product if registration.product_id else None
        st.save(f"registration {registration.id}")
        st.record(
            {
                "code": registration.code,
                "type": registration.type,
                "valid_until": registration.valid_until,
                "previous": previous.code if previous else None,
            }
        )
        if (
            product is not None
            and registration.type is RegistrationType.deregistration
            and product.status is ProductStatus.listed
        ):
            withdraw_listing(st, product, "registration deregistered")
    return registration


def reject_registration(
    session: Session, actor: Account, registration: Registration, reason: str
) -> Registration:
    if not reason.strip():
        raise InvalidInput("reason", reason, "a reason the applicant can read")
    with step(session, actor, "registration.reject", registration) as st:
        registrar_moves(st, registration)
        registration.reason = reason
        st.save(f"registration {registration.id}")
        st.record({"reason": reason})
    return registration


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
        with step(session, actor, "registration.expire", reg) as st:
            reg.status = st.allow(reg)
            st.record({"valid_until": reg.valid_until})
            product = reg.product if reg.product_id else None
            if (
                product is not None
                and st.policy.registration.expiry_withdraws_listing
                and product.status is ProductStatus.listed
            ):
                withdraw_listing(st, product, f"registration {reg.code} expired on {reg.valid_until}")
            if product is not None and st.policy.registration.expiry_withdraws_listing:
                suspend_grants(
                    session, actor, [product.id], f"registration {reg.code} expired on {reg.valid_until}"
                )
        out.append(reg)
    return out


OBJECTION_MAX = 2000


def open_objections(session: Session, registration: Registration) -> list[Objection]:
    return list(
        session.exec(
            select(Objection).where(
                Objection.registration_id == registration.id, Objection.status == ObjectionStatus.open
            )
        ).all()
    )


def file_objection(session: Session, actor: Account, registration: Registration, grounds: str) -> Objection:
    """Anyone objects to a registration while its public notice runs; the registrar must decide by `due`."""
    text = grounds.strip() if isinstance(grounds, str) else ""
    if not text or len(text) > OBJECTION_MAX:
        raise InvalidInput(
            "grounds", grounds, f"the grounds of the objection, 1 to {OBJECTION_MAX} characters"
        )
    with step(session, actor, "objection.file", registration) as st:
        check_objection_period(
            st.policy,
            code=f"#{registration.id}",
            in_notice=registration.status is RegistrationStatus.public_notice,
            notice_until=registration.notice_until,
            today=st.today,
        )
        due = working_day_after(st.policy, st.today, st.policy.registration.objection_working_days)
        obj = st.add(
            Objection(
                registration_id=registration.id, filed_by=actor.id, filed_at=st.now, grounds=text, due=due
            )
        )
        st.record({"objection": obj.id, "due": due, "grounds": text})
    return obj


def decide_objection(
    session: Session, actor: Account, objection: Objection, decision: str, note: str = ""
) -> Objection:
    """The registrar upholds an objection (the registration is refused) or dismisses it (it continues)."""
    if decision not in ("uphold", "dismiss"):
        raise InvalidInput("decision", decision, "uphold or dismiss")
    text = note.strip() if isinstance(note, str) else ""
    if (decision == "uphold" and not text) or len(text) > OBJECTION_MAX:
        raise InvalidInput(
            "note", note, f"the reasons of the decision, 1 to {OBJECTION_MAX} characters",
            "expected.reasons_between", {"low": 1, "limit": OBJECTION_MAX},
        )  # fmt: skip
    with step(session, actor, f"objection.{decision}", objection) as st:
        st.require_role(
            Role.registrar,
            doing=f"decide objection {objection.id}",
            doing_key="permission.doing.decide_objection",
            doing_params={"id": str(objection.id)},
        )
        objection.status = st.allow(objection, decision)
        objection.decided_by, objection.decided_at, objection.decision_note = actor.id, st.now, text
        st.save(f"objection {objection.id}")
        st.record({"registration": objection.registration_id, "note": text, "late": st.today > objection.due})
        if decision == "uphold":
            reg = session.get(Registration, objection.registration_id)
            reg.status = st.allow(reg, "reject")
            reg.reason = f"objection upheld: {text}"
            reg.registrar_id = actor.id
            st.save(f"registration {reg.id}")
            st.record(
                {"reason": reg.reason, "objection": objection.id}, action="registration.reject", subject=reg
            )
    return objection


def lapse_objections(session: Session, actor: Account | None = None) -> list[Objection]:
    """Objections past their decision date, under a policy where they are deemed dismissed (clock moves)."""
    out: list[Objection] = []
    if facts.current_policy(session).registration.objection_breach != "deemed_dismissed":
        return out
    today = clock.today(session)
    for obj in session.exec(
        select(Objection).where(Objection.status == ObjectionStatus.open, Objection.due < today)
    ).all():
        with step(session, actor, "objection.deem", obj) as st:
            obj.status = st.allow(obj, "deem")
            obj.decided_at, obj.decision_note = st.now, "deemed dismissed: not decided by the due date"
            st.save(f"objection {obj.id}")
            st.record({"registration": obj.registration_id, "due": obj.due})
        out.append(obj)
    return out


def add_years(d: date, years: int) -> date:
    try:
        return d.replace(year=d.year + years)
    except ValueError:  # 29 February
        return d.replace(year=d.year + years, day=28)
