"""Access requests: draft, submit (routed by the policy), resubmit, withdraw, and the quote of a paid product.

Submitting asks `policy.route` whether the request may go ahead at all (a refusal raises PolicyRefusal naming
the rule), which review stages it passes with which due dates, and which conditions it carries; for a product
it asks `policy.quote` for the price. Requests that need no review (unconditional sharing or opening) are
granted and delivered at once."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime, timedelta
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
    Organization,
    Payment,
    Product,
    Quote,
    Resource,
    Review,
    SharingListEntry,
)
from marketplace.vocabulary import (
    MAX_VOLUME,
    Channel,
    OrganizationKind,
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
from marketplace.workflows.price_formation import cap_filing_of, take_payment
from marketplace.workflows.sharing_lists import entry_facts
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

MAX_DURATION_DAYS = 3660
EDITABLE = frozenset(
    {"use_statement", "fields", "volume", "duration_days", "purpose", "project_reference", "sponsor_org_id"}
)
MAX_STATEMENT = 4000
MAX_PROJECT_REFERENCE = 200


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


def check_claim_texts(use_statement: Any, project_reference: Any, sponsor: Any = None) -> None:
    """Bounded texts of a request; a sponsor must be a government department."""
    if not isinstance(use_statement, str) or len(use_statement) > MAX_STATEMENT:
        raise InvalidInput(
            "use_statement", str(use_statement)[:40], f"a text of at most {MAX_STATEMENT} characters",
            "expected.text_at_most", {"limit": MAX_STATEMENT},
        )  # fmt: skip
    if not isinstance(project_reference, str) or len(project_reference) > MAX_PROJECT_REFERENCE:
        raise InvalidInput(
            "project_reference",
            str(project_reference)[:40],
            f"a text of at most {MAX_PROJECT_REFERENCE} characters",
            "expected.text_at_most",
            {"limit": MAX_PROJECT_REFERENCE},
        )
    if sponsor is not None and getattr(sponsor, "kind", None) is not OrganizationKind.department:
        raise InvalidInput("sponsor", getattr(sponsor, "name", sponsor), "a government department")


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
    project_reference: str = "",
    sponsor: Organization | None = None,
    list_entry: SharingListEntry | None = None,
) -> AccessRequest:
    """A draft request by `actor` (role requester) for a resource (sharing/opening) or a product.

    `project_reference` and `sponsor` (a department) are the evidence of a free-use claim the policy asks.
    `list_entry`: the holder's sharing responsibility list entry the request cites; the holder then shares
    without discretion (`policy.check_list_decision`).
    """
    if list_entry is not None and not isinstance(list_entry, SharingListEntry):
        raise InvalidInput("list_entry", list_entry, "an entry of a sharing responsibility list")
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
    check_claim_texts(use_statement, project_reference, sponsor)
    field_list = check_fields(fields, resource)
    target = resource if resource is not None else product
    with step(session, actor, "request.create", target) as st:
        st.require_role(Role.requester, doing="file a request")
        if list_entry is not None:
            check_list_entry(st, list_entry, resource, actor.organization_id, channel, purpose)
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
                project_reference=project_reference.strip(),
                sponsor_org_id=sponsor.id if sponsor is not None else None,
                list_entry_id=list_entry.id if list_entry is not None else None,
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
                "list_entry": list_entry.code if list_entry is not None else None,
            },
            subject=req,
        )
    return req


def check_list_entry(
    st: Step,
    entry: SharingListEntry,
    resource: Resource | None,
    org_id: int,
    channel: Channel,
    purpose: Purpose,
) -> None:
    """The cited entry covers this request (its resource, a department it names, its purposes, in force)."""
    org = st.session.get(Organization, org_id)
    pol.check_list_request(
        st.policy,
        entry_facts(entry),
        resource_id=resource.id if resource is not None else -1,
        requester_org_id=org_id,
        requester_kind=org.kind,
        purpose=purpose,
        channel=channel,
    )


def require_requester(st: Step, req: AccessRequest) -> None:
    st.require(
        st.actor is not None and st.actor.id == req.requester_id,
        "only the account that filed the request may do this",
        **st.acting_on("request", req.code),
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
    check_claim_texts(
        changes.get("use_statement", request.use_statement),
        changes.get("project_reference", request.project_reference),
    )
    for key, value in changes.items():
        setattr(request, key, value)
    request.updated_at = st.now
    st.save(f"request {request.code}")
    st.record(dict(changes), action="request.edit")


def routing_of(st: Step, req: AccessRequest, pay_if_refused: bool = False) -> tuple[pol.Routing, pol.Target]:
    """The policy's answer for the request (PolicyRefusal naming the rule when it may not go ahead).

    A free-use claim the policy refuses is refused naming the rule, or, with `pay_if_refused`, the request is
    quoted as the paid purpose the policy names (`free_use.<purpose>.paid_as`).
    """
    if req.product_id is not None and req.product.status is not ProductStatus.listed:
        raise TransitionError(
            f"product {req.product.code}", req.product.status.value, "be requested (only listed products)"
        )
    if req.list_entry_id is not None:  # the entry may have been withdrawn since the draft
        check_list_entry(st, req.list_entry, req.resource, req.requester_org_id, req.channel, req.purpose)
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
    if routing.free and req.channel is Channel.authorized_operation:
        refusal = pol.check_free_claim(st.policy, free_claim(st, req))
        if refusal is not None:
            rule = pol.free_use_rule(st.policy, req.purpose)
            if not pay_if_refused or rule is None:
                raise pol.refusal_error(refusal)
            claimed, req.purpose = req.purpose, rule.paid_as
            st.save(f"request {req.code}")
            st.record(
                {"claimed": claimed, "refused_by": refusal.rule, "priced_as": rule.paid_as},
                action="request.free_claim_refused",
            )
            return routing_of(st, req)
    return routing, target


FREE_SO_FAR = (
    RequestStatus.in_review,
    RequestStatus.approved,
    RequestStatus.approved_with_conditions,
    RequestStatus.granted,
    RequestStatus.delivered,
    RequestStatus.expired,
)


def free_claim(st: Step, req: AccessRequest) -> pol.FreeClaim:
    """The request's free-use claim with its evidence and the organization's free use in the policy period."""
    rule = pol.free_use_rule(st.policy, req.purpose)
    count = volume = 0
    if rule is not None and (rule.max_free_requests is not None or rule.max_free_volume is not None):
        since = st.now - timedelta(days=rule.period_days)
        prior = st.session.exec(
            select(func.count(), func.coalesce(func.sum(AccessRequest.volume), 0)).where(
                AccessRequest.requester_org_id == req.requester_org_id,
                AccessRequest.purpose == req.purpose,
                AccessRequest.channel == Channel.authorized_operation,
                AccessRequest.id != req.id,
                AccessRequest.status.in_(FREE_SO_FAR),
                AccessRequest.submitted_at >= since,
            )
        ).one()
        count, volume = int(prior[0]), int(prior[1])
    sponsor = st.session.get(Organization, req.sponsor_org_id) if req.sponsor_org_id else None
    return pol.FreeClaim(
        purpose=req.purpose,
        requester_kind=req.requester_org.kind,
        use_statement=req.use_statement or "",
        project_reference=req.project_reference or "",
        sponsor_is_department=sponsor is not None and sponsor.kind is OrganizationKind.department,
        volume=req.volume,
        prior_free_requests=count,
        prior_free_volume=volume,
    )


def submit_request(
    session: Session,
    actor: Account,
    request: AccessRequest,
    *,
    deliver_rows: int | None = None,
    seed: int | None = None,
    pay_if_refused: bool = False,
) -> AccessRequest:
    """Submit a draft: route it, attach the policy's conditions, quote a product, open the review stages.

    `pay_if_refused`: a free-use claim the policy refuses is quoted as paid use instead of refused.
    """
    with step(session, actor, "request.submit", request) as st:
        st.allow(request)
        require_requester(st, request)
        routing, target = routing_of(st, request, pay_if_refused)
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
    filing = cap_filing_of(st.session, req.product)
    for line in lines:
        if line["component"] == "tax":
            line["taxes"] = str(q.taxes)  # tax contained in the total, kept for the exact payment split
        if line["component"] == "cap" and filing is not None:
            line["reason"] += (
                f" (cap {filing.cap} filed as {filing.code} on {filing.filed_at:%Y-%m-%d} by the "
                "authorizing body"
                + (", provisional" if filing.provisional else f", within MAR for {filing.year}")
                + (f": {filing.basis}" if filing.basis else "")
                + ")"
            )
            line["cap_filing"] = filing.code
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
            priced = pol.Quote(
                currency=q.currency,
                lines=(),
                total=Decimal(q.total),
                free=False,
                taxes=quote_taxes(q),
                policy=q.policy_name,
            )
            payment = take_payment(st, request, q.id, priced)
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
