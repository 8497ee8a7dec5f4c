"""Missed deadlines and expiries, processed whenever the sandbox clock moves.

A review stage still open after its due date is marked `breached` and handled as the policy says for that
stage (`policy.deadline_outcome`): escalated (the stage stays open, flagged for the data authority, and gets
the extension the policy allows, once), or a deemed approval / deemed rejection that moves the request on as
if decided. Then grants, registrations and authorizations past their end date expire."""

from __future__ import annotations

from typing import Any

from sqlmodel import Session, select

from marketplace import policy as pol
from marketplace.models import AccessRequest, Account, Review
from marketplace.vocabulary import Decision, RequestStatus, ReviewStage, ReviewStatus
from marketplace.workflows import clock, facts
from marketplace.workflows.authorization import expire_authorizations
from marketplace.workflows.disclosures import record_disclosure_breaches
from marketplace.workflows.grants import expire_grants
from marketplace.workflows.registration import expire_registrations, lapse_objections
from marketplace.workflows.reviews import after_decision
from marketplace.workflows.step import step

__all__ = ["overdue_reviews", "process", "process_deadlines"]


def overdue_reviews(session: Session) -> list[Review]:
    """Open stages past their due date that have not been handled yet."""
    today = clock.today(session)
    return list(
        session.exec(
            select(Review)
            .join(AccessRequest)
            .where(
                Review.status == ReviewStatus.pending,
                Review.opened_at.is_not(None),
                Review.due_on < today,
                Review.breached == False,  # noqa: E712 - SQL comparison
                AccessRequest.status == RequestStatus.in_review,
            )
            .order_by(Review.due_on, Review.id)
        ).all()
    )


def process_deadlines(session: Session, actor: Account | None) -> list[dict[str, Any]]:
    """Handle every missed deadline (again while deemed decisions open later, late stages)."""
    policy = facts.current_policy(session)
    handled: list[dict[str, Any]] = []
    while True:
        late = overdue_reviews(session)
        if not late:
            return handled
        for review in late:
            req = review.request
            outcome = pol.deadline_outcome(policy, review.stage)
            if review.stage is ReviewStage.holder and req.list_entry_id is not None:
                outcome = pol.bound_breach_outcome(policy, outcome, entry_code=req.list_entry.code)
            review.breached = True
            entry = {
                "request": req.code,
                "stage": review.stage.value,
                "due": review.due_on.isoformat(),
                "outcome": outcome,
            }
            if outcome == "escalate":
                review.status = ReviewStatus.escalated
                plan = pol.StagePlan(
                    review.stage,
                    review.due_on,
                    0,
                    review.reviewer_role,
                    outcome,
                    extension_days(session, policy, req, review),
                )
                if plan.extension_days > 0:
                    review.due_on = pol.extend_stage(policy, plan).due
                    entry["extended_to"] = review.due_on.isoformat()
                with step(session, actor, "review.escalate", req) as st:
                    st.record({"review_id": review.id, **entry})
            else:
                review.status = ReviewStatus.deemed
                review.decision = Decision.approve if outcome == "deemed_approval" else Decision.reject
                review.reason = (
                    f"deadline {review.due_on} missed: {outcome.replace('_', ' ')} under {policy.name}"
                )
                with step(session, actor, "review.deem", req) as st:
                    review.decided_at = st.now
                    st.record({"review_id": review.id, **entry})
                    after_decision(st, req, review)
            handled.append(entry)


def extension_days(session: Session, policy: pol.Policy, req: AccessRequest, review: Review) -> int:
    """The extension the policy's routing gives this stage (asked of `policy.route` for the same request)."""
    routing = pol.route(
        policy,
        facts.request_facts(req),
        facts.target_of(req),
        facts.requester_facts(req.requester_org),
        start=clock.today(session),
    )
    for plan in routing.stages:
        if plan.stage is review.stage:
            return plan.extension_days
    return 0


def process(session: Session, actor: Account | None, report: Any = None) -> None:
    """Everything time-driven: deadlines, then grant, registration and authorization expiry."""
    breached = process_deadlines(session, actor)
    expired = [{"kind": "grant", "code": g.code} for g in expire_grants(session, actor)]
    expired += [{"kind": "registration", "code": r.code} for r in expire_registrations(session, actor)]
    lapse_objections(session, actor)
    record_disclosure_breaches(session, actor)
    expired += [{"kind": "authorization", "code": a.code} for a in expire_authorizations(session, actor)]
    if report is not None:
        report.breached.extend(breached)
        report.expired.extend(expired)
