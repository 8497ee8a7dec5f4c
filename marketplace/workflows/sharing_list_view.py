"""Reading the sharing responsibility lists: every list with its entries, as plain values.

The list panel, the request panel and `marketplace lists show` read through here, so what a list and an
entry say (holder, resource, who may cite it, duty, purposes, status) is gathered once. Nothing here changes
state.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlmodel import Session, select

from marketplace.errors import InvalidInput
from marketplace.models import Organization, SharingList, SharingListEntry
from marketplace.vocabulary import OrganizationKind

__all__ = ["EntryView", "ListView", "entry_view", "list_views"]


@dataclass(frozen=True)
class EntryView:
    """One entry: the resource, the departments that may cite it (empty: any department with the duty), the
    purposes (empty: every purpose allowed for sharing), the duty and whether it is in force."""

    id: int
    code: str
    list_code: str
    holder: str
    resource_code: str
    resource_title: str
    recipients: tuple[str, ...]
    purposes: tuple[str, ...]
    duty: str
    status: str
    added_on: date


@dataclass(frozen=True)
class ListView:
    """One department's list: who holds it, on what basis, when published, and its entries."""

    id: int
    code: str
    holder: str
    holder_code: str
    basis: str
    published_on: date
    entries: tuple[EntryView, ...]


def entry_view(session: Session, entry: SharingListEntry) -> EntryView:
    """`entry` as plain values (recipients by name)."""
    names = [session.get(Organization, i) for i in entry.recipients]
    return EntryView(
        id=entry.id,
        code=entry.code,
        list_code=entry.sharing_list.code,
        holder=entry.sharing_list.holder.name,
        resource_code=entry.resource.code,
        resource_title=entry.resource.title,
        recipients=tuple(sorted(o.name for o in names if o is not None)),
        purposes=tuple(entry.purposes),
        duty=entry.duty,
        status=entry.status,
        added_on=entry.added_at.date(),
    )


def list_views(session: Session, department: str | None = None) -> list[ListView]:
    """Every published list (or the one of the department with code `department`), by holder name."""
    query = select(SharingList)
    if department is not None:
        org = session.exec(select(Organization).where(Organization.code == department)).first()
        if org is None or org.kind is not OrganizationKind.department:
            raise InvalidInput("department", department, "the code of a government department")
        query = query.where(SharingList.holder_id == org.id)
    rows = sorted(session.exec(query).all(), key=lambda lst: (lst.holder.name, lst.id))
    return [
        ListView(
            id=lst.id,
            code=lst.code,
            holder=lst.holder.name,
            holder_code=lst.holder.code,
            basis=lst.basis,
            published_on=lst.published_at.date(),
            entries=tuple(entry_view(session, e) for e in lst.entries),
        )
        for lst in rows
    ]
