"""Sharing responsibility lists: the data authority publishes a department's list; a sharing request citing an
entry is shared without the holder's discretion (deadline only), a request without one keeps today's review;
who may publish, what may be listed and who may cite an entry are refused by rule name."""

from __future__ import annotations

import pytest
from sqlmodel import select

from marketplace import workflows as wf
from marketplace.errors import InvalidInput, PolicyRefusal
from marketplace.models import AccessRequest, Organization, SharingList, SharingListEntry
from marketplace.vocabulary import OrganizationKind, RequestStatus, ReviewStage, Role


def _unlisted(s, world, attribute: str):
    """A resource with `attribute` held by a department the seeded world gave no list."""
    return world.resource(
        s, lambda r: r.sharing_attribute.value == attribute
        and s.get(Organization, r.holder_id).kind is OrganizationKind.department
        and wf.sharing_list_of(s, s.get(Organization, r.holder_id)) is None
    )


def _conditional(s, world):
    return _unlisted(s, world, "conditional")


def _listed(world, *, recipients: bool = True) -> tuple[int, int, int]:
    """(entry id, requester account id, resource id): a conditional resource listed for one department."""
    with world.step() as s:
        res = _conditional(s, world)
        holder = s.get(Organization, res.holder_id)
        dept = world.requester(s, OrganizationKind.department, not_org=res.holder_id)
        registrar = world.role(s, Role.registrar)
        lst = wf.publish_sharing_list(s, registrar, holder, basis="duties under the city's sharing catalogue")
        entry = wf.add_list_entry(
            s, registrar, lst, res,
            recipients=[s.get(Organization, dept.organization_id)] if recipients else [],
            purposes=["public_governance"], duty="licence checks",
        )
        return entry.id, dept.id, res.id


def _file(world, entry_id: int | None, acct_id: int, res_id: int) -> int:
    from marketplace.models import Account, Resource, SharingListEntry

    with world.step() as s:
        dept = s.get(Account, acct_id)
        entry = s.get(SharingListEntry, entry_id) if entry_id else None
        req = wf.create_request(s, dept, resource=s.get(Resource, res_id), channel="sharing",
                                purpose="public_governance", list_entry=entry)
        wf.submit_request(s, dept, req)
        return req.id


def _to_holder_stage(world, req_id: int):
    with world.step() as s:
        req = s.get(AccessRequest, req_id)
        review = wf.open_review(req)
        if review.stage is ReviewStage.compliance:
            wf.decide(s, world.reviewer(s, review), review, "approve")


def test_a_listed_resource_is_shared_without_the_holders_discretion(world):
    entry_id, acct_id, res_id = _listed(world)
    req_id = _file(world, entry_id, acct_id, res_id)
    _to_holder_stage(world, req_id)
    for decision, extra in (
        ("reject", {"reason": "we would rather not"}),
        ("return_for_revision", {"reason": "explain again"}),
        ("approve_with_conditions", {"conditions": ["no_onward_transfer"]}),
    ):
        with pytest.raises(PolicyRefusal) as err, world.step() as s:
            req = s.get(AccessRequest, req_id)
            review = wf.open_review(req)
            assert review.stage is ReviewStage.holder and review.due_on is not None  # the deadline applies
            wf.decide(s, world.reviewer(s, review), review, decision, **extra)
        assert err.value.rule == "sharing_list.no_discretion"
    refused = world.refused_events("review.decide")
    assert len(refused) == 3 and all("sharing_list.no_discretion" in str(e.payload) for e in refused)
    with world.step() as s:
        req = s.get(AccessRequest, req_id)
        wf.decide(s, world.reviewer(s, wf.open_review(req)), wf.open_review(req), "approve")
    with world.step() as s:
        assert s.get(AccessRequest, req_id).status in (RequestStatus.granted, RequestStatus.delivered)


def test_a_request_without_a_list_entry_keeps_the_holders_review(world):
    _, acct_id, res_id = _listed(world)
    req_id = _file(world, None, acct_id, res_id)
    _to_holder_stage(world, req_id)
    with world.step() as s:
        req = s.get(AccessRequest, req_id)
        review = wf.open_review(req)
        wf.decide(s, world.reviewer(s, review), review, "reject", reason="not needed for that duty")
    with world.step() as s:
        assert s.get(AccessRequest, req_id).status is RequestStatus.rejected


def test_only_the_data_authority_publishes_a_departments_list(world):
    with world.step() as s:
        res = _conditional(s, world)
        holder = s.get(Organization, res.holder_id)
        steward = world.role(s, Role.steward, holder.id)
        with pytest.raises(PolicyRefusal) as err:
            wf.publish_sharing_list(s, steward, holder)
        assert err.value.rule == "sharing_list.publisher"
        with pytest.raises(InvalidInput):
            operator = world.role(s, Role.operator).organization
            wf.publish_sharing_list(s, world.role(s, Role.registrar), operator)
    assert world.refused_events("sharing_list.publish")


def test_a_list_cannot_oblige_what_routing_forbids(world):
    with world.step() as s:
        res = _unlisted(s, world, "not_shared")
        registrar = world.role(s, Role.registrar)
        lst = wf.publish_sharing_list(s, registrar, s.get(Organization, res.holder_id))
        lst_id, res_id = lst.id, res.id
    with pytest.raises(PolicyRefusal) as err, world.step() as s:
        from marketplace.models import Resource

        registrar = world.role(s, Role.registrar)
        wf.add_list_entry(s, registrar, s.get(SharingList, lst_id), s.get(Resource, res_id))
    assert err.value.rule == "sharing_list.listable"


def test_an_entry_covers_only_the_departments_and_purposes_it_names_while_in_force(world):
    from marketplace.models import Account, Resource, SharingListEntry

    entry_id, acct_id, res_id = _listed(world)
    with world.step() as s:
        res = s.get(Resource, res_id)
        other = world.requester(s, OrganizationKind.department, not_org=res.holder_id, index=3)
        assert other.id != acct_id
        entry = s.get(SharingListEntry, entry_id)
        with pytest.raises(PolicyRefusal) as err:
            wf.create_request(s, other, resource=res, channel="sharing", purpose="public_governance",
                              list_entry=entry)
        assert err.value.rule == "sharing_list.entry"
        assert wf.list_entries_for(s, res, other.organization_id) == []
        mine = s.get(Account, acct_id).organization_id
        assert [e.id for e in wf.list_entries_for(s, res, mine)] == [entry_id]
    with world.step() as s:  # a draft citing the entry, then the entry is withdrawn: submitting is refused
        dept = s.get(Account, acct_id)
        req = wf.create_request(s, dept, resource=s.get(Resource, res_id), channel="sharing",
                                purpose="public_governance", list_entry=s.get(SharingListEntry, entry_id))
        req_id = req.id
        wf.withdraw_list_entry(s, world.role(s, Role.registrar), s.get(SharingListEntry, entry_id), "merged")
    with pytest.raises(PolicyRefusal) as err, world.step() as s:
        wf.submit_request(s, s.get(Account, acct_id), s.get(AccessRequest, req_id))
    assert err.value.rule == "sharing_list.entry"


def test_an_entry_naming_no_department_serves_any_department_with_the_duty(world):
    entry_id, _, res_id = _listed(world, recipients=False)
    with world.step() as s:
        from marketplace.models import Resource

        res = s.get(Resource, res_id)
        other = world.requester(s, OrganizationKind.department, not_org=res.holder_id, index=2)
        assert [e.id for e in wf.list_entries_for(s, res, other.organization_id)] == [entry_id]
        assert s.get(SharingListEntry, entry_id).recipients == []


def test_the_seeded_world_gives_some_departments_lists_a_department_may_cite(world):
    from marketplace.models import Account, SharingListEntry

    with world.step() as s:
        lists = s.exec(select(SharingList)).all()
        assert lists and all(lst.holder.kind is OrganizationKind.department for lst in lists)
        departments = s.exec(
            select(Organization).where(Organization.kind == OrganizationKind.department)
        ).all()
        assert len(lists) < len(departments)  # some departments, not all
        entry = next(e for lst in lists for e in lst.entries)
        assert entry.resource.holder_id == entry.sharing_list.holder_id and entry.status == "in_force"
        who = next(
            a for a in s.exec(select(Account).order_by(Account.id)).all()
            if a.organization.kind is OrganizationKind.department
            and a.organization_id != entry.sharing_list.holder_id
            and (not entry.recipients or a.organization_id in entry.recipients)
            and wf.has_role(a, Role.requester)
        )
        req = wf.create_request(s, who, resource=entry.resource, channel="sharing",
                                purpose="public_governance", list_entry=s.get(SharingListEntry, entry.id))
        wf.submit_request(s, who, req)
        assert req.list_entry_id == entry.id


def test_a_bound_holders_missed_deadline_under_deemed_rejection_shares(world, monkeypatch):
    from datetime import timedelta

    from marketplace.policy import load_policy
    from marketplace.workflows import clock, facts

    silent_no = load_policy(
        "national-2025", overrides={"deadlines.on_breach_by_stage.holder": "deemed_rejection"}
    )
    monkeypatch.setattr(facts, "current_policy", lambda _session: silent_no)
    entry_id, acct_id, res_id = _listed(world)
    req_id = _file(world, entry_id, acct_id, res_id)
    _to_holder_stage(world, req_id)
    with world.step() as s:
        due = wf.open_review(s.get(AccessRequest, req_id)).due_on
        wf.advance_clock(s, world.role(s, Role.trainer), (due - clock.today(s)).days + 3)
    with world.step() as s:
        req = s.get(AccessRequest, req_id)
        holder = next(r for r in req.reviews if r.stage is ReviewStage.holder)
        assert holder.status.value == "deemed" and holder.decision.value == "approve"
        assert req.status in (RequestStatus.granted, RequestStatus.delivered)
        assert timedelta(0) <= clock.today(s) - due
