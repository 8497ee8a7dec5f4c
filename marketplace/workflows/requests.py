"""Access requests: draft, submit (routed by the policy), resubmit, withdraw, and the quote of a paid product.

Submitting asks `policy.route` whether the request may go ahead at all (a refusal raises PolicyRefusal naming
the rule), which review stages it passes with which due dates, and which conditions it carries; for a product
it asks `policy.quote` for the price. Requests that need no review (unconditional sharing or opening) are
granted and delivered at once."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import func
from sqlmodel import Session, select

from marketplace import policy as pol
from marketplace.errors import InvalidInput, TransitionError
from marketplace.models import (
    AccessRequest,
    Account,
    Condition,
    Payment,
    Product,
    Quote,
    Resource,
    RevenuePeriod,
    Review,
)
from marketplace.vocabulary import (
    Channel,
    ProductStatus,
    Purpose,
    QuoteStatus,
    RequestStatus,
    ReviewStatus,
    Role,
)
from marketplace.workflows import facts
from marketplace.workflows.grants import finish_approval, issue_grant
from marketplace.workflows.lookups import current_quote, fee_due, quote_taxes
from marketplace.workflows.step import Step, step, temp_code

__all__ = [
    "accept_quote",
    "create_request",
    "current_quote",
    "edit_request",
    "fee_due",
    "quote_taxes",
    "resubmit",
    "submit_request",
    "withdraw",
]

MAX_VOLUME = 10_000_000
MAX_DURATION_DAYS = 3660
EDITABLE = frozenset({"use_statement", "fields", "volume", "duration_days", "purpose"})


def choice(enum: Any, field: str, value: Any) -> Any:
    try:
        return enum(value)
    except ValueError:
        raise InvalidInput(field, value, "one of " + ", ".join(m.value for m in enum)) from None


def check_numbers(volume: Any, duration_days: Any) -> None:
    if isinstance(volume, bool) or not isinstance(volume, int) or not 1 <= volume <= MAX_VOLUME:
        raise InvalidInput("volume", volume, f"a whole number from 1 to {MAX_VOLUME}")
    if (
        isinstance(duration_days, bool)
        or not isinstance(duration_days, int)
        or not 1 <= duration_days <= MAX_DURATION_DAYS
    ):
        raise InvalidInput(
            "duration_days", duration_days, f"a whole number of days from 1 to {MAX_DURATION_DAYS}"
        )


def check_fields(fields: Iterable[str], resource: Resource | None) -> list[str]:
    out = [str(f) for f in fields]
    if resource is not None and out:
        names = [f.name for f in resource.fields]
        unknown = [f for f in out if f not in names]
        if unknown:
            raise InvalidInput(
                "fields", unknown, "fields of resource " + resource.code + ": " + ", ".join(names)
            )
    if len(set(out)) != len(out):
        raise InvalidInput("fields", out, "each field at most once")
    return out


def create_request(
    session: Session,
    actor: Account,
    *,
    resource: Resource | None = None,
    product: Product | None = None,
    channel: Channel | str | None = None,
    purpose: Purpose | str,
    use_statement: str = "",
    fields: Iterable[str] = (),
    volume: int = 1,
    duration_days: int = 365,
) -> AccessRequest:
    """A draft request by `actor` (role requester) for a resource (sharing/opening) or a product."""
    if (resource is None) == (product is None):
        raise InvalidInput("resource/product", None, "exactly one of resource= or product=")
    if product is not None:
        channel = choice(Channel, "channel", channel or Channel.authorized_operation)
        if channel is not Channel.authorized_operation:
            raise InvalidInput("channel", channel.value, "authorized_operation for a product")
    else:
        if channel is None:
            raise InvalidInput("channel", None, "sharing or opening for a resource")
        channel = choice(Channel, "channel", channel)
        if channel is Channel.authorized_operation:
            raise InvalidInput(
                "channel",
                channel.value,
                "sharing or opening for a resource (authorized operation supplies products)",
            )
    purpose = choice(Purpose, "purpose", purpose)
    check_numbers(volume, duration_days)
    field_list = check_fields(fields, resource)
    target = resource if resource is not None else product
    with step(session, actor, "request.create", target) as st:
        st.require_role(Role.requester, doing="file a request")
        now = st.now
        req = st.add(
            AccessRequest(
                code=temp_code(),
                requester_id=actor.id,
                requester_org_id=actor.organization_id,
                channel=channel,
                resource_id=resource.id if resource else None,
                product_id=product.id if product else None,
                purpose=purpose,
                use_statement=use_statement,
                fields=field_list,
                volume=volume,
                duration_days=duration_days,
                status=RequestStatus.draft,
                created_at=now,
                updated_at=now,
            ),
            code=("request", now.year),
        )
        st.record(
            {
                "channel": channel,
                "purpose": purpose,
                "target": target.code,
                "fields": field_list,
                "volume": volume,
                "duration_days": duration_days,
            },
            subject=req,
        )
    return req


def require_requester(st: Step, req: AccessRequest) -> None:
    st.require(
        st.actor is not None and st.actor.id == req.requester_id,
        "only the account that filed the request may do this",
        doing=f"{st.verb} request {req.code}",
    )


def edit_request(session: Session, actor: Account, request: AccessRequest, **changes: Any) -> AccessRequest:
    """Change a draft or returned request: use_statement, fields, volume, duration_days, purpose."""
    unknown = sorted(set(changes) - EDITABLE)
    if unknown:
        raise InvalidInput("changes", unknown, "some of " + ", ".join(sorted(EDITABLE)))
    with step(session, actor, "request.edit", request) as st:
        st.allow(request)
        require_requester(st, request)
        apply_edits(st, request, changes)
    return request


def apply_edits(st: Step, request: AccessRequest, changes: dict[str, Any]) -> None:
    if "purpose" in changes:
        changes["purpose"] = choice(Purpose, "purpose", changes["purpose"])
    check_numbers(changes.get("volume", request.volume), changes.get("duration_days", request.duration_days))
    if "fields" in changes:
        changes["fields"] = check_fields(changes["fields"], request.resource)
    for key, value in changes.items():
        setattr(request, key, value)
    request.updated_at = st.now
    st.save(f"request {request.code}")
    st.record(dict(changes), action="request.edit")


def routing_of(st: Step, req: AccessRequest) -> tuple[pol.Routing, pol.Target]:
    """The policy's answer for the request (PolicyRefusal naming the rule when it may not go ahead)."""
    if req.product_id is not None and req.product.status is not ProductStatus.listed:
        raise TransitionError(
            f"product {req.product.code}", req.product.status.value, "be requested (only listed products)"
        )
    target = facts.target_of(req)
    routing = pol.route(
        st.policy,
        facts.request_facts(req),
        target,
        facts.requester_facts(req.requester_org),
        start=st.today,
    )
    if not routing.allowed:
        assert routing.refusal is not None
        raise pol.refusal_error(routing.refusal)
    return routing, target


def submit_request(
    session: Session,
    actor: Account,
    request: AccessRequest,
    *,
    deliver_rows: int | None = None,
    seed: int | None = None,
) -> AccessRequest:
    """Submit a draft: route it, attach the policy's conditions, quote a product, open the review stages."""
    with step(session, actor, "request.submit", request) as st:
        st.allow(request)
        require_requester(st, request)
        routing, target = routing_of(st, request)
        start_review(st, request, routing, target, deliver_rows, seed)
    return request


def resubmit(
    session: Session,
    actor: Account,
    request: AccessRequest,
    *,
    deliver_rows: int | None = None,
    seed: int | None = None,
    **changes: Any,
) -> AccessRequest:
    """Resubmit a returned request (optionally with changes): routed again, a new round of reviews."""
    unknown = sorted(set(changes) - EDITABLE)
    if unknown:
        raise InvalidInput("changes", unknown, "some of " + ", ".join(sorted(EDITABLE)))
    with step(session, actor, "request.resubmit", request) as st:
        st.allow(request)
        require_requester(st, request)
        if changes:
            apply_edits(st, request, changes)
        routing, target = routing_of(st, request)
        for cond in list(request.conditions):
            request.conditions.remove(cond)
            session.delete(cond)
        start_review(st, request, routing, target, deliver_rows, seed)
    return request


def start_review(
    st: Step,
    req: AccessRequest,
    routing: pol.Routing,
    target: pol.Target,
    deliver_rows: int | None,
    seed: int | None,
) -> None:
    """Attach the policy's conditions, quote a product and open the review stages (or approve at once)."""
    session, now, policy = st.session, st.now, st.policy
    last = session.exec(select(func.max(Review.sequence)).where(Review.request_id == req.id)).one()
    base = 0 if last is None else last + 1
    req.status = RequestStatus.in_review if routing.stages else RequestStatus.submitted
    req.submitted_at = now
    req.updated_at = now
    req.policy_name = policy.name
    # The version check comes first: a second submit of the same request fails here, before writing anything.
    st.save(f"request {req.code}")
    session.add_all(
        Condition(
            request_id=req.id,
            review_id=None,
            kind=spec.kind,
            params=dict(spec.params),
            text=spec.text,
            source="policy",
        )
        for spec in routing.conditions
    )
    quote_row = offer_quote(st, req) if req.product_id is not None else None
    session.add_all(
        Review(
            request_id=req.id,
            sequence=base + i,
            stage=plan.stage,
            reviewer_role=plan.reviewer_role,
            reviewer_org_id=target.holder_id if plan.reviewer_role is Role.steward else None,
            status=ReviewStatus.pending,
            opened_at=now if i == 0 else None,
            due_on=plan.due,
            breached=False,
        )
        for i, plan in enumerate(routing.stages)
    )
    st.save(f"request {req.code}")
    session.expire(req, ["reviews", "conditions"])  # read back with the rows just written, when asked for
    st.record(
        {
            "policy": policy.name,
            "free": routing.free,
            "stages": [
                {"stage": p.stage, "due": p.due, "reviewer_role": p.reviewer_role, "on_breach": p.on_breach}
                for p in routing.stages
            ],
            "conditions": [c.text for c in routing.conditions],
            "quote": quote_row.lines if quote_row is not None else None,
            "total": quote_row.total if quote_row is not None else None,
        }
    )
    if not routing.stages:  # no review needed: approved, granted and (where possible) delivered at once
        finish_approval(
            session,
            st.actor,
            req,
            RequestStatus.approved,
            deliver_rows=deliver_rows,
            seed=seed,
            deliver_now=True,
        )


def offer_quote(st: Step, req: AccessRequest) -> Quote:
    """The policy's quote for the request's product; earlier offers are superseded."""
    for old in st.session.exec(
        select(Quote).where(Quote.request_id == req.id, Quote.status == QuoteStatus.offered)
    ).all():
        old.status = QuoteStatus.superseded
    q = pol.quote(
        st.policy,
        facts.product_target(req.product),
        facts.request_facts(req),
        facts.requester_facts(req.requester_org),
    )
    lines = q.as_dict()["lines"]
    for line in lines:
        if line["component"] == "tax":
            line["taxes"] = str(q.taxes)  # tax contained in the total, kept for the exact payment split
    row = Quote(
        request_id=req.id,
        policy_name=st.policy.name,
        currency=q.currency,
        total=q.total,
        lines=lines,
        created_at=st.now,
        status=QuoteStatus.accepted if q.total == 0 else QuoteStatus.offered,
    )
    if q.total == 0:
        row.accepted_at = row.created_at
    st.session.add(row)
    return row


def accept_quote(session: Session, actor: Account, request: AccessRequest) -> Payment | None:
    """The requester accepts the offered quote and pays: a Payment split exactly by `policy.split`.

    Allowed any time before the grant; if the request is already approved it is granted at once.
    """
    with step(session, actor, "request.accept_quote", request) as st:
        st.allow(request)
        require_requester(st, request)
        q = current_quote(session, request)
        if q is None or q.status is QuoteStatus.accepted:
            raise TransitionError(
                f"quote of request {request.code}", "accepted" if q else "missing", "accept"
            )
        now = st.now
        q.status = QuoteStatus.accepted
        q.accepted_at = now
        payment = None
        if q.total > 0:
            parts = pol.split(
                st.policy,
                pol.Quote(
                    currency=q.currency,
                    lines=(),
                    total=Decimal(q.total),
                    free=False,
                    taxes=quote_taxes(q),
                    policy=q.policy_name,
                ),
            )
            payment = Payment(
                request_id=request.id,
                quote_id=q.id,
                operator_id=request.product.operator_id,
                amount=q.total,
                operator_revenue=parts.operator,
                holder_share=parts.holder,
                taxes=parts.taxes,
                paid_at=now,
            )
            session.add(payment)
            period = session.exec(
                select(RevenuePeriod).where(
                    RevenuePeriod.operator_id == request.product.operator_id, RevenuePeriod.year == now.year
                )
            ).first()
            if period is not None:
                period.revenue = Decimal(period.revenue) + Decimal(q.total)  # fees charged (policy.mar)
        request.updated_at = now
        st.save(f"request {request.code}")
        st.record(
            {
                "quote_id": q.id,
                "total": q.total,
                "currency": q.currency,
                "split": None
                if payment is None
                else {
                    "operator": payment.operator_revenue,
                    "holder": payment.holder_share,
                    "taxes": payment.taxes,
                },
            }
        )
        if request.status in (RequestStatus.approved, RequestStatus.approved_with_conditions):
            issue_grant(session, actor, request)
    return payment


def withdraw(session: Session, actor: Account, request: AccessRequest, reason: str = "") -> AccessRequest:
    """The requester withdraws before a decision; pending reviews are cancelled."""
    with step(session, actor, "request.withdraw", request) as st:
        nxt = st.allow(request)
        require_requester(st, request)
        request.status = nxt
        for review in request.reviews:
            if review.status in (ReviewStatus.pending, ReviewStatus.escalated):
                review.status = ReviewStatus.cancelled
        request.updated_at = st.now
        st.save(f"request {request.code}")
        st.record({"reason": reason})
    return request


def utc(dt: datetime) -> datetime:
    return dt if dt.tzinfo else dt.replace(tzinfo=UTC)
