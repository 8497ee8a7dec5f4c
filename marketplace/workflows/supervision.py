"""Supervision of operators: complaints, security incidents, and the regulator's yearly evaluation.

The evaluation reads recorded facts only (complaints and incidents of the year, exit duties missed, usage
reports overdue on the operator's grants, MAR compliance from `price_formation.mar_positions`), scores them
with `policy.evaluate_operator`, and acts through the linked lifecycles: a suspension suspends every grant on
the operator's products, a termination ends each of its active authorizations (`end_authorization`).
"""

from __future__ import annotations

from datetime import date, datetime, timedelta

from sqlmodel import Session, select

from marketplace.errors import InvalidInput, TransitionError
from marketplace.models import (
    AccessRequest,
    Account,
    Authorization,
    Complaint,
    Evaluation,
    ExitDuty,
    Grant,
    Organization,
    Product,
    Publication,
    SecurityIncident,
)
from marketplace.policy import Policy, evaluate_operator
from marketplace.vocabulary import (
    AuthorizationStatus,
    ExitDutyStatus,
    GrantStatus,
    OrganizationKind,
    Role,
)
from marketplace.workflows.authorization import end_authorization
from marketplace.workflows.grants import suspend_grants
from marketplace.workflows.price_formation import mar_positions
from marketplace.workflows.roles import has_role
from marketplace.workflows.step import step

__all__ = ["evaluate", "file_complaint", "record_incident"]

TEXT_MAX = 2000
SEVERITIES = ("minor", "major")


def _text(field: str, value: object) -> str:
    text = value.strip() if isinstance(value, str) else ""
    if not text or len(text) > TEXT_MAX:
        raise InvalidInput(
            field, value, f"a description, 1 to {TEXT_MAX} characters", "expected.description_between",
            {"low": 1, "limit": TEXT_MAX},
        )
    return text


def _operator(org: Organization) -> None:
    if org.kind is not OrganizationKind.operator:
        raise InvalidInput("operator", org.code, "an organization of kind operator")


def file_complaint(session: Session, actor: Account, operator: Organization, text: str) -> Complaint:
    """Anyone files a complaint about an operator; the yearly evaluation counts it."""
    _operator(operator)
    body = _text("text", text)
    with step(session, actor, "complaint.file", operator) as st:
        c = st.add(Complaint(operator_id=operator.id, filed_by=actor.id, filed_at=st.now, text=body))
        st.record({"complaint": c.id, "text": body})
    return c


def record_incident(
    session: Session, actor: Account, operator: Organization, severity: str, description: str
) -> SecurityIncident:
    """The regulator (or the operator itself) records a security incident at the operator."""
    _operator(operator)
    if severity not in SEVERITIES:
        raise InvalidInput("severity", severity, "minor or major")
    body = _text("description", description)
    with step(session, actor, "incident.record", operator) as st:
        st.require(
            has_role(actor, Role.regulator)
            or (has_role(actor, Role.operator) and actor.organization_id == operator.id),
            "only the regulator or the operator itself records an incident",
        )
        i = st.add(SecurityIncident(operator_id=operator.id, recorded_by=actor.id, recorded_at=st.now,
                                    severity=severity, description=body))
        st.record({"incident": i.id, "severity": severity})
    return i


def facts_of(session: Session, policy: Policy, operator_id: int, year: int, today: date) -> dict[str, int]:
    """The recorded facts of one operator's year, as `policy.evaluate_operator` counts them."""
    def in_year(at: datetime | None) -> bool:
        return at is not None and at.year == year

    complaints = session.exec(select(Complaint).where(Complaint.operator_id == operator_id)).all()
    incidents = session.exec(
        select(SecurityIncident).where(SecurityIncident.operator_id == operator_id)
    ).all()
    duties = session.exec(select(ExitDuty).where(ExitDuty.operator_id == operator_id)).all()
    grants = session.exec(
        select(Grant)
        .join(AccessRequest, Grant.request_id == AccessRequest.id)
        .join(Product, AccessRequest.product_id == Product.id)
        .where(Product.operator_id == operator_id, Grant.status == GrantStatus.active)
    ).all()
    positions = mar_positions(session, year, policy, operator_id)
    return {
        "complaint": sum(1 for c in complaints if in_year(c.filed_at)),
        "incident_minor": sum(1 for i in incidents if in_year(i.recorded_at) and i.severity == "minor"),
        "incident_major": sum(1 for i in incidents if in_year(i.recorded_at) and i.severity == "major"),
        "exit_duty_overdue": sum(
            1
            for d in duties
            if (d.status is ExitDutyStatus.open and d.due < today)
            or (d.completed_at is not None and d.completed_at.date() > d.due)
        ),
        "usage_report_overdue": sum(
            1 for g in grants if g.usage_report_due is not None and g.usage_report_due < today
        ),
        "over_mar": sum(1 for p in positions if not p.position.compliant),
        # a disclosure falls due in the year after the one it covers
        "disclosure_breach": sum(
            1
            for p in session.exec(
                select(Publication).where(Publication.party_id == operator_id, Publication.year == year - 1)
            ).all()
            if p.status in ("missed", "late")
        ),
    }


def evaluate(session: Session, actor: Account, operator: Organization, year: int) -> Evaluation:
    """The regulator evaluates an operator's year once; the outcome's sanction acts at once."""
    _operator(operator)
    if isinstance(year, bool) or not isinstance(year, int) or not 2000 <= year <= 2100:
        raise InvalidInput("year", year, "a year from 2000 to 2100")
    with step(session, actor, "operator.evaluate", operator) as st:
        st.require_role(
            Role.regulator,
            doing=f"evaluate operator {operator.code}",
            doing_key="permission.doing.evaluate_operator",
            doing_params={"operator": operator.code},
        )
        done = session.exec(
            select(Evaluation).where(Evaluation.operator_id == operator.id, Evaluation.year == year)
        ).first()
        if done is not None:
            raise TransitionError(
                f"evaluation of {operator.code} for {year}", f"done ({done.outcome})", "evaluate again"
            )
        facts = facts_of(session, st.policy, operator.id, year, st.today)
        result = evaluate_operator(st.policy, facts)
        rectify_by = (
            st.today + timedelta(days=st.policy.supervision.rectification_days)
            if result.outcome == "rectification_order"
            else None
        )
        ev = st.add(Evaluation(operator_id=operator.id, year=year, facts=facts, score=result.score,
                               outcome=result.outcome, rectify_by=rectify_by, evaluated_by=actor.id,
                               evaluated_at=st.now))
        st.record({"year": year, "facts": facts, "score": result.score, "outcome": result.outcome,
                   "rectify_by": rectify_by})
        why = f"sanction after the {year} evaluation: {result.outcome} (score {result.score})"
        if result.outcome == "suspension":
            products = session.exec(select(Product.id).where(Product.operator_id == operator.id)).all()
            suspend_grants(session, actor, list(products), why)
        elif result.outcome == "termination":
            for a in session.exec(
                select(Authorization).where(
                    Authorization.operator_id == operator.id,
                    Authorization.status == AuthorizationStatus.active,
                )
            ).all():
                with step(session, actor, "authorization.terminate", a) as inner:
                    a.status = inner.allow(a)
                    a.ended_reason = f"terminated: {why}"
                    inner.save(a.code)
                    inner.record({"reason": why, "evaluation": ev.id})
                    end_authorization(inner, a)
    return ev
