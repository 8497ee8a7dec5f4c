"""Grants: the licence an approved request turns into (ODRL-shaped terms); usage reports, revocation, expiry.

A grant is issued as soon as the request is approved and nothing is left to pay. Its terms carry every
condition as ODRL permission constraints, prohibitions and duties, so the licence can be read (and exported)
on its own. A `report_usage` duty is a usage report each period: the grantee files it (`report_usage`), the
next one falls due a period later, and while one is overdue nothing more is delivered under the grant."""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlmodel import Session, select

from marketplace.errors import InvalidInput, TransitionError
from marketplace.models import AccessRequest, Account, Condition, Grant, UsageReport
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
from marketplace.workflows import clock
from marketplace.workflows.compute_grants import compute_terms, terms_for_grant
from marketplace.workflows.delivery import deliver_for, rows_may_go
from marketplace.workflows.lookups import conditions_of, fee_due
from marketplace.workflows.roles import has_role, supplies
from marketplace.workflows.step import Step, step, temp_code

__all__ = [
    "expire_grants",
    "finish_approval",
    "grant",
    "grant_terms",
    "issue_grant",
    "report_usage",
    "revoke_grant",
    "suspend_grants",
    "usage_report_due",
    "usage_report_overdue",
]


def parties_of(req: AccessRequest) -> tuple[str, str, str]:
    """(target, assigner, assignee) codes of a request's licence."""
    if req.product_id:
        return req.product.code, req.product.operator.code, req.requester_org.code
    return req.resource.code, req.resource.holder.code, req.requester_org.code


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
    return terms_of(req, (target, assigner, req.requester_org.code), code, conditions, valid_until, usage_due)


def terms_of(
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


def issue_grant(session: Session, actor: Account | None, req: AccessRequest) -> Grant:
    """Turn an approved request with nothing left to pay into a grant."""
    with step(session, actor, "request.grant", req) as st:
        nxt = st.allow(req, "grant")
        if fee_due(session, req):
            raise TransitionError(
                f"request {req.code}", req.status.value, "be granted (the quote is not accepted and paid yet)"
            )
        today = st.today
        conditions = conditions_of(session, req)
        until = grant_end(conditions, today)
        usage = usage_due_after(today, usage_period(conditions), until)
        g = st.add(
            Grant(
                code=temp_code(),
                request_id=req.id,
                terms={},
                status=GrantStatus.active,
                valid_from=today,
                valid_until=until,
                usage_report_due=usage,
                created_at=st.now,
            ),
            code=("grant", today.year),
        )
        g.terms = terms_of(req, parties_of(req), g.code, conditions, until, usage)
        computing = compute_terms(st.policy, req, g.id)
        if computing is not None:  # usable but not visible: what may be computed, within which limits
            g.terms = {**g.terms, "compute": terms_for_grant(computing, st.policy)}
        req.grant = g
        req.status = nxt
        req.updated_at = st.now
        st.save(f"request {req.code}")
        st.record(
            {
                "grant": g.code,
                "valid_until": until,
                "usage_report_due": usage,
                "prohibitions": [p["action"] for p in g.terms["prohibition"]],
                "duties": [d["action"] for d in g.terms["duty"]],
            }
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
    with step(session, actor, "request.approve", req) as st:
        action = "approve_with_conditions" if status is RequestStatus.approved_with_conditions else "approve"
        req.status = st.allow(req, action)
        req.decided_at = st.now
        req.updated_at = req.decided_at
        st.save(f"request {req.code}")
        st.record({"status": req.status, "conditions": [c.text for c in conditions_of(session, req)]})
        if fee_due(session, req):
            return
        issue_grant(session, actor, req)
        if deliver_now and rows_may_go(session, st.policy, req):  # else the grant's computations stand in
            deliver_for(session, actor, req, rows=deliver_rows, seed=seed, automatic=True)


def grant(session: Session, actor: Account, request: AccessRequest) -> Grant:
    """Issue the grant of an approved request whose fee is paid (normally this happens by itself)."""
    with step(session, actor, "request.grant", request) as st:
        require_supplier(st, request)
    return issue_grant(session, actor, request)


def require_supplier(st: Step, req: AccessRequest) -> None:
    """The data holder's steward (resources) or the product's operator, as the supplier of the request."""
    why = (
        "only the product's operator may do this"
        if req.product_id is not None
        else "only a steward of the data holder may do this"
    )
    st.require(
        supplies(st.actor, req),
        why,
        **st.acting_on("request", req.code),
    )


def revoke_grant(session: Session, actor: Account, request: AccessRequest, reason: str) -> Grant:
    """The supplier (or the regulator) revokes a grant: no more deliveries under it."""
    if not reason.strip():
        raise InvalidInput("reason", reason, "a non-empty reason for the revocation")
    with step(session, actor, "request.revoke", request) as st:
        if not has_role(actor, Role.regulator):
            require_supplier(st, request)
        new_status = st.allow(request)
        g = request.grant
        g.status = st.allow(g, "revoke")
        g.revoked_reason = reason
        request.status = new_status
        request.updated_at = st.now
        st.save(f"grant {g.code}")
        st.record({"grant": g.code, "reason": reason})
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
    text = summary.strip() if isinstance(summary, str) else ""
    if not text or len(text) > USAGE_SUMMARY_MAX:
        raise InvalidInput(
            "summary", summary, f"a description of how the data was used, 1 to {USAGE_SUMMARY_MAX} characters"
        )
    with step(session, actor, "grant.report_usage", request) as st:
        st.require_org(
            Role.requester,
            request.requester_org_id,
            doing=f"report usage of request {request.code}",
            doing_key="permission.doing.report_usage",
            doing_params={"request": request.code},
        )
        g = request.grant
        today = st.today
        due = None if g is None else g.usage_report_due
        period = usage_period(conditions_of(session, request)) or USAGE_REPORT_DAYS
        state, key, params = "", "", {"request": request.code, "date": str(today)}
        if g is None:
            state, key = "missing", "error.report_usage_no_grant"
        elif g.status is not GrantStatus.active:
            state, key = g.status.value, "error.report_usage_grant_state"
            params["state"] = g.status.value
        elif due is None:
            state, key = "without a usage report to file", "error.report_usage_none_due"
        elif today < usage_period_start(g.valid_from, due, period):
            state, key = f"next usage report due {due}, its period not begun", "error.report_usage_not_begun"
            params["due"] = str(due)
        if state:  # worded by key and params, so it reads in the language in force
            raise TransitionError(f"grant of request {request.code}", state, f"report usage on {today}",
                                  key=key, params=params)
        assert g is not None and due is not None
        nxt = next_usage_due(due, period, g.valid_until)
        g.usage_report_due = nxt
        report = st.add(
            UsageReport(
                grant_id=g.id,
                request_id=request.id,
                filed_by_id=actor.id,
                period_due=due,
                filed_at=st.now,
                late=today > due,
                summary=text,
            )
        )
        st.save(f"grant {g.code}")
        session.expire(g, ["usage_reports"])
        st.record(
            {"grant": g.code, "report_id": report.id, "period_due": due, "late": report.late, "next_due": nxt}
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
        req = g.request
        with step(session, actor, "request.expire", req) as st:
            g.status = st.allow(g, "expire")
            if req.status in (RequestStatus.granted, RequestStatus.delivered):
                req.status = st.allow(req, "expire")
                req.updated_at = st.now
            st.record({"grant": g.code, "valid_until": g.valid_until})
        out.append(g)
    return out


def suspend_grants(
    session: Session, actor: Account | None, product_ids: list[int], reason: str
) -> list[Grant]:
    """Suspend every active grant on these products: the authorization they rest on has ended, so nothing
    more is delivered under them (`authorization.suspend_grants_on_end`). Each suspension is its own step."""
    if not product_ids:
        return []
    out = []
    for g in session.exec(
        select(Grant)
        .join(AccessRequest, Grant.request_id == AccessRequest.id)
        .where(AccessRequest.product_id.in_(product_ids), Grant.status == GrantStatus.active)
        .order_by(Grant.id)
    ).all():
        with step(session, actor, "grant.suspend", g) as st:
            g.status = st.allow(g)
            g.suspended_reason = reason[:500]
            st.save(f"grant {g.code}")
            st.record({"request": g.request.code, "reason": g.suspended_reason})
        out.append(g)
    return out
