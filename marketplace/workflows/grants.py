"""Grants: the licence an approved request turns into (ODRL-shaped terms); usage reports, revocation, expiry.

A grant is issued as soon as the request is approved and nothing is left to pay. Its terms carry every
condition as ODRL permission constraints, prohibitions and duties, so the licence can be read (and exported)
on its own. A `report_usage` duty is a usage report each period: the grantee files it (`report_usage`), the
next one falls due a period later, and while one is overdue nothing more is delivered under the grant."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm.attributes import set_committed_value
from sqlmodel import Session, select

from marketplace.errors import InvalidInput, TransitionError
from marketplace.fastsql import Statement
from marketplace.models import AccessRequest, Account, Condition, Grant, Organization, Resource, UsageReport
from marketplace.policy.grants import (
    USAGE_REPORT_DAYS,
    grant_end,
    next_usage_due,
    usage_due_after,
    usage_overdue,
    usage_period,
    usage_period_start,
)
from marketplace.vocabulary import ConditionKind, GrantStatus, RequestStatus, Role
from marketplace.workflows import audit, clock
from marketplace.workflows._core import (
    NOT_LOADED,
    assign_code,
    flush,
    forget_loaded,
    insert_new,
    loaded,
    quiet_connection,
    save,
    temp_code,
    transition,
)
from marketplace.workflows.roles import has_role, require, require_org

__all__ = [
    "expire_grants",
    "finish_approval",
    "grant",
    "grant_terms",
    "issue_grant",
    "report_usage",
    "revoke_grant",
    "usage_report_due",
    "usage_report_overdue",
]

@dataclass(frozen=True)
class ConditionFacts:
    """A condition as read with one Core query: what grants and deliveries read of a `Condition` row."""

    kind: ConditionKind
    params: dict[str, Any]
    text: str


_C = Condition.__table__
_READ_CONDITIONS = Statement(
    sa.select(_C.c.kind, _C.c.params, _C.c.text).where(_C.c.request_id == sa.bindparam("r")).order_by(_C.c.id)
)


def conditions_of(session: Session, req: AccessRequest) -> list[Any]:
    """The request's conditions: the loaded `conditions`, else read with one Core query (insertion order)."""
    found = loaded(req, "conditions")
    if found is not NOT_LOADED:
        return list(found)
    rows = _READ_CONDITIONS.execute(quiet_connection(session, Condition), {"r": req.id}).all()
    return [ConditionFacts(*row) for row in rows]


_AR, _RS, _HOLDER, _ASSIGNEE = (
    AccessRequest.__table__,
    Resource.__table__,
    Organization.__table__.alias("holder"),
    Organization.__table__.alias("assignee"),
)
_READ_PARTIES = Statement(
    sa.select(_RS.c.code, _HOLDER.c.code, _ASSIGNEE.c.code)
    .select_from(
        _AR.join(_RS, _RS.c.id == _AR.c.resource_id)
        .join(_HOLDER, _HOLDER.c.id == _RS.c.holder_id)
        .join(_ASSIGNEE, _ASSIGNEE.c.id == _AR.c.requester_org_id)
    )
    .where(_AR.c.id == sa.bindparam("r"))
)


_READ_PARTIES_AND_CONDITIONS = Statement(
    sa.select(_RS.c.code, _HOLDER.c.code, _ASSIGNEE.c.code, _C.c.kind, _C.c.params, _C.c.text)
    .select_from(
        _AR.join(_RS, _RS.c.id == _AR.c.resource_id)
        .join(_HOLDER, _HOLDER.c.id == _RS.c.holder_id)
        .join(_ASSIGNEE, _ASSIGNEE.c.id == _AR.c.requester_org_id)
        .outerjoin(_C, _C.c.request_id == _AR.c.id)
    )
    .where(_AR.c.id == sa.bindparam("r"))
    .order_by(_C.c.id)
)


def _parties_and_conditions(
    session: Session, req: AccessRequest
) -> tuple[tuple[str, str, str] | None, list[Any]]:
    """The licence's parties (of a resource request) and the conditions: one query when neither is loaded."""
    if req.product_id is None and loaded(req, "conditions") is NOT_LOADED:
        conn = quiet_connection(session, Resource, Organization, Condition)
        rows = _READ_PARTIES_AND_CONDITIONS.execute(conn, {"r": req.id}).all()
        if rows:
            conditions = [ConditionFacts(*row[3:]) for row in rows if row[3] is not None]
            return (rows[0][0], rows[0][1], rows[0][2]), conditions
    return None, conditions_of(session, req)


def _parties(session: Session, req: AccessRequest) -> tuple[str, str, str]:
    """(target, assigner, assignee) codes of a request's licence; a resource's are read with one query."""
    if req.product_id:
        return req.product.code, req.product.operator.code, req.requester_org.code
    row = _READ_PARTIES.execute(quiet_connection(session, Resource, Organization), {"r": req.id}).one()
    return row[0], row[1], row[2]


def grant_terms(
    req: AccessRequest,
    code: str,
    conditions: list[Condition],
    valid_from: date,
    valid_until: date | None,
    usage_due: date | None,
) -> dict[str, Any]:
    """ODRL-shaped terms: permission (use, for the purpose, until the end date), prohibitions, duties."""
    target = req.product.code if req.product_id else req.resource.code
    assigner = req.product.operator.code if req.product_id else req.resource.holder.code
    return _terms(req, (target, assigner, req.requester_org.code), code, conditions, valid_until, usage_due)


def _terms(
    req: AccessRequest,
    parties: tuple[str, str, str],
    code: str,
    conditions: list[Any],
    valid_until: date | None,
    usage_due: date | None,
) -> dict[str, Any]:
    target, assigner, assignee = parties
    constraints: list[dict[str, Any]] = [
        {"leftOperand": "purpose", "operator": "eq", "rightOperand": req.purpose.value}
    ]
    if valid_until:
        constraints.append(
            {"leftOperand": "dateTime", "operator": "lteq", "rightOperand": valid_until.isoformat()}
        )
    prohibitions: list[dict[str, Any]] = []
    duties: list[dict[str, Any]] = []
    for c in conditions:
        if c.kind is ConditionKind.no_onward_transfer:
            prohibitions.append({"action": "distribute", "note": c.text})
        elif c.kind is ConditionKind.report_usage:
            duties.append(
                {
                    "action": "inform",
                    "note": c.text,
                    "constraint": [
                        {
                            "leftOperand": "dateTime",
                            "operator": "lteq",
                            "rightOperand": usage_due.isoformat() if usage_due else None,
                        }
                    ],
                }
            )
        elif c.kind is ConditionKind.deidentify:
            duties.append({"action": "anonymize", "note": c.text, "params": dict(c.params)})
        elif c.kind is ConditionKind.aggregate:
            duties.append({"action": "aggregate", "note": c.text, "params": dict(c.params)})
        elif c.kind is ConditionKind.fields:
            constraints.append(
                {
                    "leftOperand": "field",
                    "operator": "isAnyOf",
                    "rightOperand": list(c.params.get("only", [])),
                }
            )
    return {
        "@context": "http://www.w3.org/ns/odrl.jsonld",
        "@type": "Agreement",
        "uid": code,
        "assigner": assigner,
        "assignee": assignee,
        "target": target,
        "permission": [{"action": "use", "target": target, "constraint": constraints}],
        "prohibition": prohibitions,
        "duty": duties,
    }


def issue_grant(
    session: Session,
    actor: Account | None,
    req: AccessRequest,
    *,
    conditions: list[Any] | None = None,
    parties: tuple[str, str, str] | None = None,
) -> Grant:
    """Turn an approved request with nothing left to pay into a grant (internal).

    `conditions`, `parties`: the request's conditions and licence parties when the caller has just read them.
    """
    from marketplace.workflows.requests import fee_due

    transition(session, actor, req, "grant", audit_action="request.grant")
    if fee_due(session, req):
        raise audit.refuse(
            session,
            actor,
            "request.grant",
            req,
            TransitionError(
                f"request {req.code}", req.status.value, "be granted (the quote is not accepted and paid yet)"
            ),
        )
    today = clock.today(session)
    if conditions is None:
        conditions = conditions_of(session, req)
    until = grant_end(conditions, today)
    usage = usage_due_after(today, usage_period(conditions), until)
    quiet_connection(session)
    # the id makes the code; code and terms are written with the request's changes
    g = insert_new(
        session,
        Grant,
        code=temp_code(),
        request_id=req.id,
        terms={},
        status=GrantStatus.active,
        valid_from=today,
        valid_until=until,
        usage_report_due=usage,
        created_at=clock.now(session),
    )
    set_committed_value(req, "grant", g)
    set_committed_value(g, "request", req)
    assign_code(g, "grant", today.year)
    g.terms = _terms(req, parties or _parties(session, req), g.code, conditions, until, usage)
    req.status = RequestStatus.granted
    req.updated_at = clock.now(session)
    audit.record(
        session,
        actor,
        "request.grant",
        req,
        {
            "grant": g.code,
            "valid_until": until,
            "usage_report_due": usage,
            "prohibitions": [p["action"] for p in g.terms["prohibition"]],
            "duties": [d["action"] for d in g.terms["duty"]],
        },
    )
    return g


def finish_approval(
    session: Session,
    actor: Account | None,
    req: AccessRequest,
    status: RequestStatus,
    *,
    deliver_now: bool = False,
    deliver_rows: int | None = None,
    seed: int | None = None,
) -> None:
    """The last stage approved (or none was needed): approve, grant when paid, deliver at once when asked."""
    from marketplace.workflows.requests import fee_due

    action = "approve_with_conditions" if status is RequestStatus.approved_with_conditions else "approve"
    req.status = transition(session, actor, req, action, audit_action="request.approve")
    parties, conditions = _parties_and_conditions(session, req)
    req.decided_at = clock.now(session)
    req.updated_at = req.decided_at
    audit.record(
        session,
        actor,
        "request.approve",
        req,
        {"status": req.status, "conditions": [c.text for c in conditions]},
    )
    if fee_due(session, req):
        return
    issue_grant(session, actor, req, conditions=conditions, parties=parties)
    if deliver_now:
        from marketplace.workflows.delivery import deliver_for

        deliver_for(session, actor, req, rows=deliver_rows, seed=seed, automatic=True)


def grant(session: Session, actor: Account, request: AccessRequest) -> Grant:
    """Issue the grant of an approved request whose fee is paid (normally this happens by itself)."""
    _require_supplier(session, actor, request, "grant")
    return issue_grant(session, actor, request)


def _require_supplier(session: Session, actor: Account, req: AccessRequest, action: str) -> None:
    """The data holder's steward (resources) or the product's operator, as the supplier of the request."""
    if req.product_id is not None:
        ok = has_role(actor, Role.operator) and actor.organization_id == req.product.operator_id
        why = "only the product's operator may do this"
    else:
        ok = has_role(actor, Role.steward) and actor.organization_id == req.resource.holder_id
        why = "only a steward of the data holder may do this"
    require(session, actor, ok, f"{action} request {req.code}", req, why, audit_action=f"request.{action}")


def revoke_grant(session: Session, actor: Account, request: AccessRequest, reason: str) -> Grant:
    """The supplier (or the regulator) revokes a grant: no more deliveries under it."""
    if not reason.strip():
        from marketplace.errors import InvalidInput

        raise InvalidInput("reason", reason, "a non-empty reason for the revocation")
    if not has_role(actor, Role.regulator):
        _require_supplier(session, actor, request, "revoke")
    new_status = transition(session, actor, request, "revoke")
    g = request.grant
    g.status = transition(session, actor, g, "revoke")
    g.revoked_reason = reason
    request.status = new_status
    request.updated_at = clock.now(session)
    flush(session, f"grant {g.code}", actor=actor, action="request.revoke", subject=request)
    audit.record(session, actor, "request.revoke", request, {"grant": g.code, "reason": reason})
    return g


USAGE_SUMMARY_MAX = 2000


def usage_report_due(grant: Any) -> date | None:
    """When the next usage report of a grant is due (None: no duty, or the grant is no longer active)."""
    if grant is None or grant.status is not GrantStatus.active:
        return None
    return grant.usage_report_due


def usage_report_overdue(grant: Any, today: date) -> bool:
    """True while an active grant's usage report is past due: nothing is delivered until it is filed."""
    return usage_overdue(usage_report_due(grant), today)


def report_usage(session: Session, actor: Account, request: AccessRequest, summary: str) -> UsageReport:
    """The grantee reports how the data was used, answering the grant's usage report for the current period.

    Filed by a requester of the requesting organization, once the period it covers has begun; the next report
    falls due one period after this one's due date (none after the grant's end date). A report filed after its
    due date is kept and marked late; while one is overdue, `deliver` refuses to release more data.
    """
    audit.open_step(session, actor)
    text = summary.strip() if isinstance(summary, str) else ""
    if not text or len(text) > USAGE_SUMMARY_MAX:
        raise InvalidInput(
            "summary", summary, f"a description of how the data was used, 1 to {USAGE_SUMMARY_MAX} characters"
        )
    label = f"report usage of request {request.code}"
    require_org(
        session,
        actor,
        Role.requester,
        request.requester_org_id,
        label,
        request,
        audit_action="grant.report_usage",
    )
    g = request.grant
    today = clock.today(session)
    due = None if g is None else g.usage_report_due
    period = usage_period(conditions_of(session, request)) or USAGE_REPORT_DAYS
    state = ""
    if g is None:
        state = "missing"
    elif g.status is not GrantStatus.active:
        state = g.status.value
    elif due is None:
        state = "without a usage report to file"
    elif today < usage_period_start(g.valid_from, due, period):
        state = f"next usage report due {due}, its period not begun"
    if state:
        raise audit.refuse(
            session,
            actor,
            "grant.report_usage",
            request,
            TransitionError(f"grant of request {request.code}", state, f"report usage on {today}"),
        )
    assert g is not None and due is not None
    nxt = next_usage_due(due, period, g.valid_until)
    g.usage_report_due = nxt
    save(session, g, what=f"grant {g.code}", actor=actor, action="grant.report_usage", subject=request)
    report = insert_new(
        session,
        UsageReport,
        grant_id=g.id,
        request_id=request.id,
        filed_by_id=actor.id,
        period_due=due,
        filed_at=clock.now(session),
        late=today > due,
        summary=text,
    )
    forget_loaded(session, g, "usage_reports")
    audit.record(
        session,
        actor,
        "grant.report_usage",
        request,
        {"grant": g.code, "report_id": report.id, "period_due": due, "late": report.late, "next_due": nxt},
    )
    return report


def expire_grants(session: Session, actor: Account | None = None) -> list[Grant]:
    """Grants past their end date expire (called when the clock moves)."""
    today = clock.today(session)
    out = []
    for g in session.exec(
        select(Grant).where(
            Grant.status == GrantStatus.active, Grant.valid_until.is_not(None), Grant.valid_until < today
        )
    ).all():
        g.status = GrantStatus.expired
        req = g.request
        if req.status in (RequestStatus.granted, RequestStatus.delivered):
            req.status = RequestStatus.expired
            req.updated_at = clock.now(session)
        audit.record(session, actor, "request.expire", req, {"grant": g.code, "valid_until": g.valid_until})
        out.append(g)
    return out
