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

import sqlalchemy as sa
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
from marketplace.workflows import audit, clock, facts
from marketplace.workflows._core import (
    NOT_LOADED,
    assign_code,
    flush,
    insert_new,
    insert_rows,
    loaded,
    quiet_connection,
    save,
    temp_code,
    transition,
)
from marketplace.workflows.roles import require, require_role

__all__ = [
    "accept_quote",
    "create_request",
    "current_quote",
    "edit_request",
    "fee_due",
    "resubmit",
    "submit_request",
    "withdraw",
]

MAX_VOLUME = 10_000_000
MAX_DURATION_DAYS = 3660


def _enum(enum: Any, field: str, value: Any) -> Any:
    try:
        return enum(value)
    except ValueError:
        raise InvalidInput(field, value, "one of " + ", ".join(m.value for m in enum)) from None


def _check_numbers(volume: Any, duration_days: Any) -> None:
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


def _check_fields(fields: Iterable[str], resource: Resource | None) -> list[str]:
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
        channel = _enum(Channel, "channel", channel or Channel.authorized_operation)
        if channel is not Channel.authorized_operation:
            raise InvalidInput("channel", channel.value, "authorized_operation for a product")
    else:
        if channel is None:
            raise InvalidInput("channel", None, "sharing or opening for a resource")
        channel = _enum(Channel, "channel", channel)
        if channel is Channel.authorized_operation:
            raise InvalidInput(
                "channel",
                channel.value,
                "sharing or opening for a resource (authorized operation supplies products)",
            )
    purpose = _enum(Purpose, "purpose", purpose)
    _check_numbers(volume, duration_days)
    field_list = _check_fields(fields, resource)
    audit.open_step(session, actor)
    subject = resource if resource is not None else product
    require_role(session, actor, Role.requester, "file a request", subject, audit_action="request.create")
    now = clock.now(session)
    quiet_connection(session)  # anything pending is written first, as a flush would
    req = insert_new(
        session,
        AccessRequest,
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
    )
    assign_code(req, "request", now.year)
    save(session, req)
    audit.record(
        session,
        actor,
        "request.create",
        req,
        {
            "channel": channel,
            "purpose": purpose,
            "target": subject.code,
            "fields": field_list,
            "volume": volume,
            "duration_days": duration_days,
        },
    )
    return req


def _require_requester(session: Session, actor: Account, req: AccessRequest, action: str) -> None:
    require(
        session,
        actor,
        actor.id == req.requester_id,
        f"{action} request {req.code}",
        req,
        "only the account that filed the request may do this",
        audit_action=f"request.{action}",
    )


def edit_request(session: Session, actor: Account, request: AccessRequest, **changes: Any) -> AccessRequest:
    """Change a draft or returned request: use_statement, fields, volume, duration_days, purpose."""
    allowed = {"use_statement", "fields", "volume", "duration_days", "purpose"}
    unknown = sorted(set(changes) - allowed)
    if unknown:
        raise InvalidInput("changes", unknown, "some of " + ", ".join(sorted(allowed)))
    transition(session, actor, request, "edit")
    _require_requester(session, actor, request, "edit")
    if "purpose" in changes:
        changes["purpose"] = _enum(Purpose, "purpose", changes["purpose"])
    _check_numbers(changes.get("volume", request.volume), changes.get("duration_days", request.duration_days))
    if "fields" in changes:
        changes["fields"] = _check_fields(changes["fields"], request.resource)
    for key, value in changes.items():
        setattr(request, key, value)
    request.updated_at = clock.now(session)
    flush(session, f"request {request.code}", actor=actor, action="request.edit", subject=request)
    audit.record(session, actor, "request.edit", request, {k: v for k, v in changes.items()})
    return request


def _routing(
    session: Session, actor: Account, req: AccessRequest, action: str
) -> tuple[pol.Routing, pol.Target]:
    policy = facts.current_policy(session)
    if req.product_id is not None and req.product.status is not ProductStatus.listed:
        raise audit.refuse(
            session,
            actor,
            f"request.{action}",
            req,
            TransitionError(
                f"product {req.product.code}", req.product.status.value, "be requested (only listed products)"
            ),
        )
    target = facts.target_for(session, req)
    routing = pol.route(
        policy,
        facts.request_facts(req),
        target,
        facts.requester_facts(facts.requester_org_of(session, req)),
        start=clock.today(session),
    )
    if not routing.allowed:
        assert routing.refusal is not None
        raise audit.refuse(
            session,
            actor,
            f"request.{action}",
            req,
            pol.refusal_error(routing.refusal),
        )
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
    audit.open_step(session)
    transition(session, actor, request, "submit")
    _require_requester(session, actor, request, "submit")
    routing, target = _routing(session, actor, request, "submit")
    return _start(session, actor, request, routing, target, "request.submit", deliver_rows, seed)


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
    transition(session, actor, request, "resubmit")
    _require_requester(session, actor, request, "resubmit")
    if changes:
        edit_request(session, actor, request, **changes)
    routing, target = _routing(session, actor, request, "resubmit")
    for cond in list(request.conditions):
        request.conditions.remove(cond)
        session.delete(cond)
    return _start(session, actor, request, routing, target, "request.resubmit", deliver_rows, seed)


_MAX_SEQUENCE = sa.select(sa.func.max(Review.__table__.c.sequence)).where(
    Review.__table__.c.request_id == sa.bindparam("r")
)


def _start(
    session: Session,
    actor: Account,
    req: AccessRequest,
    routing: pol.Routing,
    target: pol.Target,
    action: str,
    deliver_rows: int | None,
    seed: int | None,
) -> AccessRequest:
    now = clock.now(session)
    policy = facts.current_policy(session)
    quiet_connection(session)  # pending changes (a resubmit's edits and removed conditions) are written first
    existing = loaded(req, "reviews")
    if existing is not NOT_LOADED:
        base = max((r.sequence for r in existing), default=-1) + 1
    elif req.status is RequestStatus.draft:
        base = 0  # a draft has never been reviewed
    else:
        last = session.connection().execute(_MAX_SEQUENCE, {"r": req.id}).scalar()
        base = 0 if last is None else last + 1
    req.status = RequestStatus.in_review if routing.stages else RequestStatus.submitted
    req.submitted_at = now
    req.updated_at = now
    req.policy_name = policy.name
    # The version check comes first: a second submit of the same request fails here, before writing anything.
    save(session, req, what=f"request {req.code}", actor=actor, action=action, subject=req)
    insert_rows(
        session,
        Condition,
        [
            {
                "request_id": req.id,
                "review_id": None,
                "kind": spec.kind,
                "params": dict(spec.params),
                "text": spec.text,
                "source": "policy",
            }
            for spec in routing.conditions
        ],
    )
    quote_row = None
    if req.product_id is not None:
        quote_row = _offer_quote(session, req, policy)
        flush(session, f"request {req.code}", actor=actor, action=action, subject=req)
    holder_id = target.holder_id
    insert_rows(
        session,
        Review,
        [
            {
                "version": 1,
                "request_id": req.id,
                "sequence": base + i,
                "stage": plan.stage,
                "reviewer_role": plan.reviewer_role,
                "reviewer_org_id": holder_id if plan.reviewer_role is Role.steward else None,
                "reviewer_id": None,
                "status": ReviewStatus.pending,
                "decision": None,
                "reason": "",
                "opened_at": now if i == 0 else None,
                "due_on": plan.due,
                "decided_at": None,
                "breached": False,
            }
            for i, plan in enumerate(routing.stages)
        ],
    )
    expire = [a for a in ("reviews", "conditions") if loaded(req, a) is not NOT_LOADED]
    if expire:
        session.expire(req, expire)  # read back with the rows just written, when asked for
    audit.record(
        session,
        actor,
        action,
        req,
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
        },
    )
    if routing.stages:
        return req
    # No review needed: approved, granted and (where possible) delivered at once.
    from marketplace.workflows.grants import finish_approval

    finish_approval(
        session, actor, req, RequestStatus.approved, deliver_rows=deliver_rows, seed=seed, deliver_now=True
    )
    grant = loaded(req, "grant")
    save(
        session,
        req,
        None if grant is NOT_LOADED else grant,
        what=f"request {req.code}",
        actor=actor,
        action=action,
        subject=req,
    )
    return req


def _offer_quote(session: Session, req: AccessRequest, policy: pol.Policy) -> Quote:
    for old in session.exec(
        select(Quote).where(Quote.request_id == req.id, Quote.status == QuoteStatus.offered)
    ).all():
        old.status = QuoteStatus.superseded
    q = pol.quote(
        policy,
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
        policy_name=policy.name,
        currency=q.currency,
        total=q.total,
        lines=lines,
        created_at=clock.now(session),
        status=QuoteStatus.accepted if q.total == 0 else QuoteStatus.offered,
    )
    if q.total == 0:
        row.accepted_at = row.created_at
    session.add(row)
    return row


def current_quote(session: Session, request: AccessRequest) -> Quote | None:
    """The latest quote of a request that is not superseded."""
    return session.exec(
        select(Quote)
        .where(Quote.request_id == request.id, Quote.status != QuoteStatus.superseded)
        .order_by(Quote.id.desc())
    ).first()


def fee_due(session: Session, request: AccessRequest) -> bool:
    """True while a paid quote has not been accepted (and paid): the request cannot be granted yet."""
    if request.product_id is None:
        return False
    q = current_quote(session, request)
    return q is None or (q.total > 0 and q.status is not QuoteStatus.accepted)


def accept_quote(session: Session, actor: Account, request: AccessRequest) -> Payment | None:
    """The requester accepts the offered quote and pays: a Payment split exactly by `policy.split`.

    Allowed any time before the grant; if the request is already approved it is granted at once.
    """
    transition(session, actor, request, "accept_quote")
    _require_requester(session, actor, request, "accept_quote")
    q = current_quote(session, request)
    if q is None or q.status is QuoteStatus.accepted:
        raise audit.refuse(
            session,
            actor,
            "request.accept_quote",
            request,
            TransitionError(f"quote of request {request.code}", "accepted" if q else "missing", "accept"),
        )
    policy = facts.current_policy(session)
    now = clock.now(session)
    q.status = QuoteStatus.accepted
    q.accepted_at = now
    payment = None
    if q.total > 0:
        parts = pol.split(
            policy,
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
            period.revenue = Decimal(period.revenue) + parts.operator
    request.updated_at = now
    flush(session, f"request {request.code}", actor=actor, action="request.accept_quote", subject=request)
    audit.record(
        session,
        actor,
        "request.accept_quote",
        request,
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
        },
    )
    if request.status in (RequestStatus.approved, RequestStatus.approved_with_conditions):
        from marketplace.workflows.grants import issue_grant

        issue_grant(session, actor, request)
    return payment


def quote_taxes(q: Quote) -> Decimal:
    """Taxes contained in a stored quote's total (recorded on its tax line when it was offered)."""
    return next(
        (Decimal(line["taxes"]) for line in q.lines if line.get("component") == "tax" and "taxes" in line),
        Decimal("0.00"),
    )


def withdraw(session: Session, actor: Account, request: AccessRequest, reason: str = "") -> AccessRequest:
    """The requester withdraws before a decision; pending reviews are cancelled."""
    transition(session, actor, request, "withdraw")
    _require_requester(session, actor, request, "withdraw")
    for review in request.reviews:
        if review.status in (ReviewStatus.pending, ReviewStatus.escalated):
            review.status = ReviewStatus.cancelled
    request.status = RequestStatus.withdrawn
    request.updated_at = clock.now(session)
    flush(session, f"request {request.code}", actor=actor, action="request.withdraw", subject=request)
    audit.record(session, actor, "request.withdraw", request, {"reason": reason})
    return request


def utc(dt: datetime) -> datetime:
    return dt if dt.tzinfo else dt.replace(tzinfo=UTC)
