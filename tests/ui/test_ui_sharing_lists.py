"""Sharing responsibility lists in the panels, driven through their callbacks: a department cites a list entry
in the request panel and the request is filed citing it; the holder's rejection or added condition is refused
with the rule in words, approval goes through; the registrar publishes a list, adds and withdraws an entry in
the list panel, and someone else is refused in words."""

from __future__ import annotations

from sqlmodel import select

from marketplace import workflows as wf
from marketplace.models import (
    AccessRequest,
    Account,
    AccountRole,
    Organization,
    Resource,
    SharingListEntry,
)
from marketplace.ui import actas, i18n, requests, review, sharing_lists
from marketplace.ui.context import Sandbox
from marketplace.vocabulary import OrganizationKind, RequestStatus, ReviewStage, Role


def _cited_case(sandbox: Sandbox) -> tuple[int, int, str]:
    """(entry id, resource id, username of a requester of a department the seeded entry covers)."""
    with sandbox.session() as s:
        for entry in s.exec(select(SharingListEntry).order_by(SharingListEntry.id)).all():
            if entry.status != "in_force" or entry.resource.sharing_attribute.value != "conditional":
                continue  # an unconditional resource is shared without any review stage
            q = (
                select(Account.username, Account.organization_id)
                .join(Organization)
                .join(AccountRole)
                .where(Organization.kind == OrganizationKind.department, AccountRole.role == Role.requester,
                       Organization.id != entry.sharing_list.holder_id)
                .order_by(Account.id)
            )
            for username, org_id in s.exec(q).all():
                if entry in wf.list_entries_for(s, entry.resource, org_id):
                    return entry.id, entry.resource_id, username
    raise AssertionError("the seeded world has a list entry some department's requester may cite")


def _act_as_reviewer(sandbox: Sandbox, who: actas.ActAs, req_id: int) -> ReviewStage:
    with sandbox.session() as s:
        rv = wf.open_review(s.get(AccessRequest, req_id))
        person = wf.accounts_with_role(s, rv.reviewer_role, org_id=rv.reviewer_org_id)[0]
        who.choose(rv.reviewer_role, person.username)
        return rv.stage


def test_a_department_cites_an_entry_and_the_holder_shares_without_discretion(sandbox: Sandbox) -> None:
    entry_id, res_id, username = _cited_case(sandbox)
    who = actas.act_as(sandbox)
    who.choose(Role.requester, username)
    panel = requests.request_panel(sandbox)
    panel.resource.value = res_id
    panel.channel.value = "opening"
    assert panel.list_entry.layout.display == "none"  # only a sharing request may cite a list
    panel.channel.value = "sharing"
    assert panel.list_entry.layout.display == "" and entry_id in [v for _, v in panel.list_entry.options]
    label = dict((v, k) for k, v in panel.list_entry.options)[entry_id]
    assert "duty" in label and "purposes" in label
    panel.list_entry.value = entry_id
    assert "must share without discretion by" in panel.preview.value, panel.preview.value
    panel.use_statement.value = "Licence checks"
    panel.submit_button.click()
    assert panel.feedback.kind == "ok", panel.feedback.text
    with sandbox.session() as s:
        req = s.exec(select(AccessRequest).order_by(AccessRequest.id.desc())).first()
        req_id, code = req.id, req.code
        assert req.list_entry_id == entry_id
    assert "Cites the sharing responsibility list" in panel.status.value

    queue = review.review_queue(sandbox)
    while _act_as_reviewer(sandbox, who, req_id) is not ReviewStage.holder:
        queue.select(code)
        queue.decision.value = "approve"
        queue.decide_button.click()
        assert queue.feedback.kind == "ok", queue.feedback.text
    queue.select(code)
    assert "Cites the sharing responsibility list" in queue.detail.value
    for decision, conditions, reason in (
        ("reject", "", "we would rather not"),
        ("approve_with_conditions", "no_onward_transfer", ""),
    ):
        queue.decision.value = decision
        queue.conditions.value, queue.reason.value = conditions, reason
        queue.decide_button.click()
        assert queue.feedback.kind == "error"
        assert "shares it without discretion" in queue.feedback.text, queue.feedback.text
    acting = sandbox.account_id
    i18n.set_language("zh")
    assert "无条件共享" in queue.feedback.text
    i18n.set_language("en")
    assert sandbox.account_id == acting  # a language switch keeps who acts
    queue.select(code)
    queue.decision.value = "approve"
    queue.conditions.value = queue.reason.value = ""
    queue.decide_button.click()
    assert queue.feedback.kind == "ok", queue.feedback.text
    with sandbox.session() as s:
        assert s.get(AccessRequest, req_id).status is not RequestStatus.rejected
        assert wf.open_review(s.get(AccessRequest, req_id)) is None or (
            wf.open_review(s.get(AccessRequest, req_id)).stage is not ReviewStage.holder
        )


def _unlisted_department(sandbox: Sandbox, region: str) -> tuple[int, int]:
    """(department id, a conditionally shared resource it holds) in `region`, with no list yet."""
    with sandbox.session() as s:
        for res in s.exec(select(Resource).order_by(Resource.id)).all():
            holder = s.get(Organization, res.holder_id)
            if (
                holder.kind is OrganizationKind.department and holder.region == region
                and res.sharing_attribute.value == "conditional"
                and wf.sharing_list_of(s, holder) is None
            ):
                return holder.id, res.id
    raise AssertionError("a department of the region without a list holds a conditional resource")


def test_the_registrar_publishes_adds_and_withdraws_and_others_are_refused(sandbox: Sandbox) -> None:
    who = actas.act_as(sandbox)
    who.choose(Role.registrar)
    with sandbox.session() as s:
        region = s.get(Account, sandbox.account_id).organization.region
    dept_id, res_id = _unlisted_department(sandbox, region)
    panel = sharing_lists.sharing_lists_panel(sandbox)
    assert "<table" in panel.lists.value
    panel.holder.value = dept_id
    assert "has no published list" in panel.entries.value

    who.choose(Role.requester)
    panel.publish_button.click()
    assert panel.feedback.kind == "error" and "is published by" in panel.feedback.text

    who.choose(Role.registrar)
    panel.basis.value = "the city's sharing catalogue"
    panel.publish_button.click()
    assert panel.feedback.kind == "ok", panel.feedback.text
    panel.holder.value = dept_id
    panel.resource.value = res_id
    panel.purposes.value = ("public_governance",)
    panel.duty.value = "licence checks"
    panel.add_button.click()
    assert panel.feedback.kind == "ok", panel.feedback.text
    assert "licence checks" in panel.entries.value and "any department with the duty" in panel.entries.value
    assert panel.entry.value is not None
    entry_id = panel.entry.value
    panel.withdraw_button.click()
    assert panel.feedback.kind == "ok", panel.feedback.text
    with sandbox.session() as s:
        assert s.get(SharingListEntry, entry_id).status == "withdrawn"
    assert "withdrawn" in panel.entries.value and panel.entry.value is None
    i18n.set_language("zh")
    assert "共享责任清单" in panel.children[0].value
    i18n.set_language("en")
