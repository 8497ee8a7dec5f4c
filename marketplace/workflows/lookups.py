"""What stands now: the registration in force, the quote in force, a fee still due, a request's conditions and
the review stage open for a decision. Read by several steps, so kept below them."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from sqlmodel import Session, select

from marketplace.models import AccessRequest, Condition, Product, Quote, Registration, Resource, Review
from marketplace.vocabulary import QuoteStatus, RegistrationStatus, ReviewStatus

__all__ = ["conditions_of", "current_quote", "current_registration", "fee_due", "open_review", "quote_taxes"]


def current_registration(session: Session, subject: Resource | Product) -> Registration | None:
    """The registered (in force) record of a resource or product, if any."""
    col = Registration.resource_id if isinstance(subject, Resource) else Registration.product_id
    return session.exec(
        select(Registration)
        .where(col == subject.id, Registration.status == RegistrationStatus.registered)
        .order_by(Registration.id.desc())
    ).first()


def current_quote(session: Session, request: AccessRequest) -> Quote | None:
    """The latest quote of a request that is not superseded."""
    return session.exec(
        select(Quote)
        .where(
            Quote.request_id == request.id,
            Quote.status.not_in((QuoteStatus.superseded, QuoteStatus.metered)),  # type: ignore[attr-defined]
        )
        .order_by(Quote.id.desc())
    ).first()


def fee_due(session: Session, request: AccessRequest) -> bool:
    """True while a paid quote has not been accepted (and paid): the request cannot be granted yet."""
    if request.product_id is None:
        return False
    q = current_quote(session, request)
    return q is None or (q.total > 0 and q.status is not QuoteStatus.accepted)


def quote_taxes(q: Quote) -> Decimal:
    """Taxes contained in a stored quote's total (recorded on its tax line when it was offered)."""
    return next(
        (Decimal(line["taxes"]) for line in q.lines if line.get("component") == "tax" and "taxes" in line),
        Decimal("0.00"),
    )


def conditions_of(session: Session, request: AccessRequest) -> list[Condition]:
    """The request's conditions in the order they were attached."""
    return list(
        session.exec(select(Condition).where(Condition.request_id == request.id).order_by(Condition.id))
    )


def open_review(request: AccessRequest) -> Review | None:
    """The stage of a request that can be decided now (pending or escalated, opened), if any."""
    for r in request.reviews:
        if r.status in (ReviewStatus.pending, ReviewStatus.escalated):
            return r if r.opened_at is not None else None
    return None


def field_names(request: AccessRequest) -> list[str]:
    """The fields a request's data has (a product's: those of all its resources)."""
    if request.resource_id is not None:
        return [f.name for f in request.resource.fields]
    return [f.name for r in request.product.resources for f in r.fields]


def first_unopened(request: AccessRequest) -> Any:
    return next(
        (r for r in request.reviews if r.status is ReviewStatus.pending and r.opened_at is None), None
    )
