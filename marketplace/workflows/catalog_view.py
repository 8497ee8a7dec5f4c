"""Reading the catalog: one resource in full (its card) and a text search with paging.

Both the `marketplace catalog show | search` commands and the catalog panel read through here, so what a
resource's card says (schema with field roles, registration, channels, products) and what a search matches
are decided once. Nothing here changes state.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from sqlmodel import Session, select

from marketplace.errors import InvalidInput, NotFound
from marketplace.models import Product, ProductResource, Registration, Resource, ResourceField

__all__ = [
    "MAX_LIMIT",
    "MAX_QUERY_CHARS",
    "ResourceCard",
    "SearchPage",
    "matching_ids",
    "resource_card",
    "search_resources",
]

MAX_QUERY_CHARS = 200
MAX_LIMIT = 500


@dataclass(frozen=True)
class ResourceCard:
    """Everything the catalog says about one resource, as plain values (vocabulary values as their ids)."""

    code: str
    title: str
    description: str
    domain: str
    grade: str
    holder: str
    sharing: str
    opening: str
    update_frequency: str
    rows: int
    keywords: list[str]
    channels: list[str]
    fields: list[dict[str, Any]]
    registration: dict[str, Any] | None
    products: list[dict[str, Any]] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {name: getattr(self, name) for name in self.__dataclass_fields__}


@dataclass(frozen=True)
class SearchPage:
    """One page of a search: the matching resources in code order, and how many match in all."""

    query: str
    total: int
    limit: int
    offset: int
    rows: list[dict[str, Any]]

    @property
    def first(self) -> int:
        """1-based number of the first row shown (0 when the page is empty)."""
        return self.offset + 1 if self.rows else 0

    @property
    def last(self) -> int:
        return self.offset + len(self.rows)

    @property
    def has_next(self) -> bool:
        return self.offset + self.limit < self.total

    @property
    def has_previous(self) -> bool:
        return self.offset > 0


def _plain(value: Any) -> Any:
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, datetime | date):
        return value.isoformat()
    return getattr(value, "value", value)


def resource_card(session: Session, code: str, policy: Any | None = None) -> ResourceCard:
    """The card of resource `code`; NotFound (naming the code) when there is none."""
    from marketplace.workflows.facts import current_policy, resource_channels

    code = str(code).strip()
    resource = session.exec(select(Resource).where(Resource.code == code)).first()
    if resource is None:
        raise NotFound("resource", code)
    policy = policy or current_policy(session)
    registrations = session.exec(
        select(Registration).where(Registration.resource_id == resource.id).order_by(Registration.id.desc())
    ).all()
    reg = next((r for r in registrations if r.code), registrations[0] if registrations else None)
    products = session.exec(
        select(Product)
        .join(ProductResource, ProductResource.product_id == Product.id)
        .where(ProductResource.resource_id == resource.id)
        .order_by(Product.code)
    ).all()
    return ResourceCard(
        code=resource.code,
        title=resource.title,
        description=resource.description,
        domain=resource.domain,
        grade=resource.grade.value,
        holder=resource.holder.name,
        sharing=resource.sharing_attribute.value,
        opening=resource.opening_attribute.value,
        update_frequency=resource.update_frequency,
        rows=resource.row_count,
        keywords=list(resource.keywords or []),
        channels=resource_channels(resource, policy),
        fields=[
            {"name": f.name, "type": f.dtype.value, "role": f.marking.value, "description": f.description}
            for f in resource.fields
        ],
        registration=None
        if reg is None
        else {
            "code": reg.code,
            "status": reg.status.value,
            "registered_at": _plain(reg.registered_at),
            "valid_until": _plain(reg.valid_until),
        },
        products=[
            {
                "code": p.code,
                "name": p.name,
                "kind": p.kind.value,
                "status": p.status.value,
                "operator": p.operator.name,
                "billing_unit": p.billing_unit.value,
                "price_cap": _plain(p.price_cap),
                "actual_price": _plain(p.actual_price),
            }
            for p in products
        ],
    )


def _like(text: str) -> str:
    """A LIKE pattern matching `text` anywhere, with LIKE's own wildcards taken literally."""
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def _check_text(text: str) -> str:
    query = str(text).strip()
    if len(query) > MAX_QUERY_CHARS:
        raise InvalidInput(
            "text", query[:40] + "…", f"at most {MAX_QUERY_CHARS} characters",
            "expected.at_most_chars", {"limit": MAX_QUERY_CHARS},
        )  # fmt: skip
    return query


def _matches(query: str) -> Any:
    """The SQL condition of a search: code, title, description or a field name contains `query`, any case."""
    if not query:
        return sa.true()
    pattern = _like(query.lower())
    in_fields = select(ResourceField.resource_id).where(
        sa.func.lower(ResourceField.name).like(pattern, escape="\\")
    )
    return sa.or_(
        sa.func.lower(Resource.code).like(pattern, escape="\\"),
        sa.func.lower(Resource.title).like(pattern, escape="\\"),
        sa.func.lower(Resource.description).like(pattern, escape="\\"),
        Resource.id.in_(in_fields),  # type: ignore[union-attr]
    )


def matching_ids(session: Session, text: str) -> set[int]:
    """Ids of every resource a search for `text` matches (for a view that filters and pages by itself)."""
    condition = _matches(_check_text(text))
    return set(session.exec(select(Resource.id).where(condition)).all())


MAX_OFFSET = 10_000_000  # a catalog holds far fewer resources; larger offsets are a mistake (or a probe)


def search_resources(session: Session, text: str, *, limit: int = 20, offset: int = 0) -> SearchPage:
    """Resources whose code, title, description or a field name contains `text` (case-insensitive), in
    code order, `limit` of them from `offset`. An empty `text` lists every resource."""
    query = _check_text(text)
    if isinstance(limit, bool) or not isinstance(limit, int) or not 1 <= limit <= MAX_LIMIT:
        raise InvalidInput("limit", limit, f"a whole number from 1 to {MAX_LIMIT}")
    if isinstance(offset, bool) or not isinstance(offset, int) or not 0 <= offset <= MAX_OFFSET:
        raise InvalidInput("offset", offset, f"a whole number from 0 to {MAX_OFFSET:,}")
    condition = _matches(query)
    total = session.exec(select(sa.func.count()).select_from(Resource).where(condition)).one()
    found = session.exec(
        select(Resource).where(condition).order_by(Resource.code).offset(offset).limit(limit)
    ).all()
    needle = query.lower()
    rows = []
    for r in found:
        rows.append(
            {
                "code": r.code,
                "title": r.title,
                "domain": r.domain,
                "grade": r.grade.value,
                "holder": r.holder.name,
                "matched_fields": [f.name for f in r.fields if needle and needle in f.name.lower()],
            }
        )
    return SearchPage(query=query, total=int(total), limit=limit, offset=offset, rows=rows)
