"""Sharing responsibility lists (共享责任清单): the resources a department must share, and what a request
citing an entry of such a list may and may not be met with.

Sources (docs/policy-sources.md#sharing-responsibility-lists): the Regulations on Government Data Sharing
(政务数据共享条例, State Council Decree No. 809, 2025) put government data under one catalogue with sharing
attributes and forbid a department to add conditions of its own that obstruct sharing; the State Council
General Office issues data sharing responsibility lists to departments (six batches by late 2024, as reported
when the Opinions of October 2024 were released: a secondary source). That an entry leaves the holder no
discretion (the deadline still applies) is the sandbox's reading of the two together, an **assumption** kept
as `sharing_lists.binds_holder`.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass

from marketplace.policy.schema import Policy
from marketplace.policy.types import Refusal, refusal_error
from marketplace.vocabulary import Channel, Decision, Grade, OrganizationKind, Purpose, SharingAttribute

__all__ = [
    "ENTRY_RULE",
    "LISTABLE_RULE",
    "NO_DISCRETION_RULE",
    "PUBLISHER_RULE",
    "ListEntry",
    "bound_breach_outcome",
    "check_list_decision",
    "check_list_request",
    "check_listable",
    "covers",
    "list_publisher",
    "publisher_refusal",
]

ENTRY_RULE = "sharing_list.entry"
LISTABLE_RULE = "sharing_list.listable"
NO_DISCRETION_RULE = "sharing_list.no_discretion"
PUBLISHER_RULE = "sharing_list.publisher"
#: What can keep an entry from covering a request, in the words the English catalog gives them.
PROBLEMS = {
    "lists_off": "lists do not bind under this policy",
    "withdrawn": "the entry is withdrawn",
    "channel": "only a sharing request may cite it",
    "resource": "it lists another resource",
    "kind": "only a government department may cite it",
    "recipient": "it does not name this department",
    "purpose": "it does not list this purpose",
}
PUBLISHERS = {"data_authority": "the data authority of its region", "holder": "the department itself"}


@dataclass(frozen=True, slots=True)
class ListEntry:
    """One entry of a holder's list: the resource, who may cite it (empty: any department with the duty),
    for which purposes, and whether it is in force."""

    code: str
    holder_id: int
    resource_id: int
    recipients: frozenset[int]
    purposes: frozenset[Purpose]
    in_force: bool = True


def list_publisher(policy: Policy) -> str:
    """Who publishes and maintains a department's list: "data_authority" or "holder"."""
    return policy.sharing_lists.publisher


def check_listable(
    policy: Policy, *, resource_code: str, grade: Grade, sharing_attribute: SharingAttribute
) -> None:
    """Only a resource the policy lets be shared can be on a list: a list cannot oblige what routing
    forbids."""
    channels = getattr(policy.routing.grade_channels, grade.value)
    if Channel.sharing in channels and sharing_attribute is not SharingAttribute.not_shared:
        return
    raise refusal_error(
        Refusal(
            LISTABLE_RULE,
            f"Resource {resource_code} cannot be on a sharing responsibility list: under {policy.name} it is "
            "not shared between departments",
            "refusal.sharing_list_listable",
            {"code": resource_code, "policy": policy.name},
        )
    )


def check_list_request(
    policy: Policy,
    entry: ListEntry,
    *,
    resource_id: int,
    requester_org_id: int,
    requester_kind: OrganizationKind,
    purpose: Purpose,
    channel: Channel,
) -> None:
    """A request citing `entry` must be a sharing request by a department the entry names (or any department
    when it names none), for the entry's resource and one of its purposes, while the entry is in force."""
    problems = []
    if not policy.sharing_lists.enabled:
        problems.append("lists_off")
    if not entry.in_force:
        problems.append("withdrawn")
    if channel is not Channel.sharing:
        problems.append("channel")
    if entry.resource_id != resource_id:
        problems.append("resource")
    if requester_kind is not OrganizationKind.department:
        problems.append("kind")
    elif entry.recipients and requester_org_id not in entry.recipients:
        problems.append("recipient")
    if entry.purposes and purpose not in entry.purposes:
        problems.append("purpose")
    if not problems:
        return
    raise refusal_error(
        Refusal(
            ENTRY_RULE,
            f"List entry {entry.code} does not cover this request "
            f"({', '.join(PROBLEMS[p] for p in problems)}): it obliges sharing of its resource with the "
            "departments it names, for its purposes, while in force",
            "refusal.sharing_list_entry",
            {"code": entry.code, "problems": tuple(f"sharing_list.problem.{p}" for p in problems)},
        )
    )


def check_list_decision(
    policy: Policy, *, entry_code: str | None, decision: Decision, with_conditions: bool
) -> None:
    """The holder's decision on a request that cites a list entry: only approval without conditions of its
    own (no rejection, no return, no added condition); the deadline still applies."""
    if entry_code is None or not policy.sharing_lists.binds_holder:
        return
    if decision is Decision.approve and not with_conditions:
        return
    raise refusal_error(
        Refusal(
            NO_DISCRETION_RULE,
            f"The request cites sharing responsibility list entry {entry_code}: the holder shares it "
            f"without discretion under {policy.name} (approve by the deadline; no rejection, return or added "
            "condition)",
            "refusal.sharing_list_no_discretion",
            {"code": entry_code, "policy": policy.name},
        )
    )


def bound_breach_outcome(policy: Policy, outcome: str, *, entry_code: str | None) -> str:
    """What a missed holder deadline means for a request citing a list entry: the holder's silence cannot
    refuse what it may not refuse, so a deemed rejection becomes a deemed approval (escalation stays)."""
    if entry_code is not None and policy.sharing_lists.binds_holder and outcome == "deemed_rejection":
        return "deemed_approval"
    return outcome


def publisher_refusal(policy: Policy, holder_name: str) -> Refusal:
    """The refusal when someone other than the policy's publisher edits a department's list."""
    who = list_publisher(policy)
    return Refusal(
        PUBLISHER_RULE,
        f"The sharing responsibility list of {holder_name} is published by "
        + PUBLISHERS[who]
        + f" under {policy.name}",
        "refusal.sharing_list_publisher",
        {"holder": holder_name, "publisher": f"sharing_list.publisher.{who}", "policy": policy.name},
    )


def covers(entries: Collection[ListEntry], resource_id: int, requester_org_id: int) -> list[ListEntry]:
    """The entries in force a department may cite for a resource (for panels offering the choice)."""
    return [
        e for e in entries
        if e.in_force
        and e.resource_id == resource_id
        and (not e.recipients or requester_org_id in e.recipients)
    ]
