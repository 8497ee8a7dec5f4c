"""Sharing responsibility lists (共享责任清单): who publishes a department's list, its entries, and the
entries a department may cite in a sharing request.

A list binds its holder: a sharing request that cites an entry is shared without the holder's discretion
(`policy.check_list_decision`: approve by the deadline; no rejection, return or added condition). Who writes
the list is the policy's `sharing_lists.publisher`: nationally the data authority of the holder's region (the
registrar of the region's data bureau stands in for it, as for registration), because the lists are issued
to departments by the data-sharing authority and a holder writing its own list could narrow its own duty;
a policy may set `holder` to study departments publishing their own.
"""

from __future__ import annotations

from collections.abc import Iterable

from sqlmodel import Session, select

from marketplace import policy as pol
from marketplace.errors import InvalidInput, TransitionError
from marketplace.models import Account, Organization, Resource, SharingList, SharingListEntry
from marketplace.policy.sharing_lists import ListEntry, publisher_refusal
from marketplace.vocabulary import OrganizationKind, Purpose, Role
from marketplace.workflows.roles import has_role
from marketplace.workflows.step import Step, step

__all__ = [
    "add_list_entry",
    "entry_facts",
    "list_entries_for",
    "publish_sharing_list",
    "sharing_list_of",
    "withdraw_list_entry",
]

MAX_TEXT = 500
MAX_RECIPIENTS = 200


def _text(field: str, value: object) -> str:
    if not isinstance(value, str) or len(value) > MAX_TEXT:
        raise InvalidInput(
            field, str(value)[:40], f"a text of at most {MAX_TEXT} characters",
            "expected.text_at_most", {"limit": MAX_TEXT},
        )  # fmt: skip
    return value.strip()


def _department(field: str, org: object) -> Organization:
    if not isinstance(org, Organization) or org.kind is not OrganizationKind.department:
        raise InvalidInput(field, getattr(org, "name", org), "a government department")
    return org


def require_publisher(st: Step, holder: Organization) -> None:
    """The policy's publisher: the data authority of the holder's region (a registrar there), or the holder's
    own steward; anyone else is refused with the rule named."""
    actor = st.actor
    if pol.list_publisher(st.policy) == "data_authority":
        org = st.session.get(Organization, actor.organization_id) if actor is not None else None
        ok = has_role(actor, Role.registrar) and org is not None and org.region == holder.region
    else:
        ok = has_role(actor, Role.steward) and actor is not None and actor.organization_id == holder.id
    if not ok:
        raise pol.refusal_error(publisher_refusal(st.policy, holder.name))


def sharing_list_of(session: Session, holder: Organization) -> SharingList | None:
    """The holder's list, if it has one."""
    return session.exec(select(SharingList).where(SharingList.holder_id == holder.id)).first()


def publish_sharing_list(
    session: Session, actor: Account, holder: Organization, *, basis: str = ""
) -> SharingList:
    """Publish `holder`'s (empty) list; entries are added one by one (`add_list_entry`)."""
    holder = _department("holder", holder)
    basis = _text("basis", basis)
    with step(session, actor, "sharing_list.publish", holder) as st:
        require_publisher(st, holder)
        if sharing_list_of(session, holder) is not None:
            raise TransitionError(
                f"sharing responsibility list of {holder.name}", "published", "publish again"
            )
        row = st.add(
            SharingList(code="tmp", holder_id=holder.id, basis=basis, published_at=st.now,
                        published_by=actor.id, updated_at=st.now),
            code=("sharinglist", st.today.year),
        )
        st.save(row.code)
        st.record({"list": row.code, "basis": basis})
    return row


def add_list_entry(
    session: Session,
    actor: Account,
    sharing_list: SharingList,
    resource: Resource,
    *,
    recipients: Iterable[Organization] = (),
    purposes: Iterable[Purpose | str] = (),
    duty: str = "",
) -> SharingListEntry:
    """Put `resource` on the list: the departments that may cite it (none named: any department with the
    duty) and the purposes (none named: every purpose the policy allows for sharing)."""
    holder = sharing_list.holder
    if not isinstance(resource, Resource) or resource.holder_id != holder.id:
        raise InvalidInput(
            "resource", getattr(resource, "code", resource), f"a resource held by {holder.name}"
        )
    names = list(recipients)
    if len(names) > MAX_RECIPIENTS:
        raise InvalidInput("recipients", len(names), f"at most {MAX_RECIPIENTS} departments")
    orgs = [_department("recipients", o) for o in names]
    if any(o.id == holder.id for o in orgs):
        raise InvalidInput("recipients", holder.name, "departments other than the holder")
    duty = _text("duty", duty)
    with step(session, actor, "sharing_list.add_entry", sharing_list) as st:
        allowed = set(st.policy.purposes.allowed.sharing)
        chosen = []
        for p in purposes:
            try:
                purpose = Purpose(p)
            except ValueError:
                purpose = None
            if purpose is None or purpose not in allowed:
                raise InvalidInput("purposes", p, "purposes allowed for sharing: "
                                   + ", ".join(sorted(x.value for x in allowed)))
            chosen.append(purpose.value)
        require_publisher(st, holder)
        pol.check_listable(st.policy, resource_code=resource.code, grade=resource.grade,
                           sharing_attribute=resource.sharing_attribute)
        for e in sharing_list.entries:
            if e.resource_id == resource.id and e.status == "in_force":
                raise TransitionError(f"list entry {e.code}", e.status, f"list {resource.code} twice")
        entry = st.add(
            SharingListEntry(code="tmp", list_id=sharing_list.id, resource_id=resource.id,
                             recipients=sorted({o.id for o in orgs}), purposes=sorted(set(chosen)),
                             duty=duty, status="in_force", added_at=st.now),
            code=("listentry", st.today.year),
        )
        sharing_list.updated_at = st.now
        st.save(entry.code)
        session.expire(sharing_list, ["entries"])
        st.record({"entry": entry.code, "resource": resource.code, "recipients": [o.code for o in orgs],
                   "purposes": entry.purposes, "duty": duty})
    return entry


def withdraw_list_entry(
    session: Session, actor: Account, entry: SharingListEntry, reason: str = ""
) -> SharingListEntry:
    """Take an entry off the list: requests citing it from now on are refused (those filed before keep it)."""
    reason = _text("reason", reason)
    with step(session, actor, "sharing_list.withdraw_entry", entry.sharing_list) as st:
        require_publisher(st, entry.sharing_list.holder)
        if entry.status != "in_force":
            raise TransitionError(f"list entry {entry.code}", entry.status, "withdraw")
        entry.status, entry.withdrawn_at = "withdrawn", st.now
        entry.sharing_list.updated_at = st.now
        st.save(entry.code)
        st.record({"entry": entry.code, "reason": reason})
    return entry


def entry_facts(entry: SharingListEntry) -> ListEntry:
    """The entry as the policy reads it."""
    return ListEntry(
        code=entry.code,
        holder_id=entry.sharing_list.holder_id,
        resource_id=entry.resource_id,
        recipients=frozenset(entry.recipients),
        purposes=frozenset(Purpose(p) for p in entry.purposes),
        in_force=entry.status == "in_force",
    )


def list_entries_for(session: Session, resource: Resource, requester_org_id: int) -> list[SharingListEntry]:
    """The entries in force a department may cite when it asks for `resource`."""
    rows = session.exec(
        select(SharingListEntry).where(
            SharingListEntry.resource_id == resource.id, SharingListEntry.status == "in_force"
        ).order_by(SharingListEntry.id)
    ).all()
    return [e for e in rows if not e.recipients or requester_org_id in e.recipients]
