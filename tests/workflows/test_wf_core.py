"""`_core.insert_new` gives the same row and the same session state as building the model and flushing it."""

from __future__ import annotations

from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy.orm.attributes import instance_state
from sqlmodel import select

from marketplace.models import AccessRequest, Account
from marketplace.vocabulary import Channel, OrganizationKind, Purpose, RequestStatus
from marketplace.workflows._core import insert_new, save


def _columns(obj: Any) -> dict[str, Any]:
    return {p.key: getattr(obj, p.key) for p in sa.inspect(type(obj)).column_attrs if p.key != "id"}


def test_insert_new_matches_the_unit_of_work(world):
    with world.step() as s:
        who = world.requester(s, OrganizationKind.enterprise)
        values = {
            "requester_id": who.id,
            "requester_org_id": who.organization_id,
            "channel": Channel.opening,
            "purpose": Purpose.research,
            "fields": ["a", "b"],
        }
        orm = AccessRequest(code="REQ-ORM", **values)
        s.add(orm)
        s.flush()
        lean = insert_new(s, AccessRequest, code="REQ-LEAN", **values)
        # the same values in memory (the defaults included; created_at is "now" for each)
        expect = {**_columns(orm), "code": "REQ-LEAN", "created_at": lean.created_at}
        assert _columns(lean) == expect and lean.version == 1 and lean.status is RequestStatus.draft
        # persistent and clean, in the identity map, relationships load
        state = instance_state(lean)
        assert state.persistent and not state.modified and lean in s and not s.dirty
        assert s.get(AccessRequest, lean.id) is lean
        assert lean.requester is s.get(Account, who.id)
        lean.use_statement = "changed"
        save(s, lean)
        ids = orm.id, lean.id
    with world.step() as s:
        rows = {r.code: r for r in s.exec(select(AccessRequest).where(AccessRequest.id.in_(ids))).all()}
        assert rows["REQ-LEAN"].version == 2 and rows["REQ-LEAN"].use_statement == "changed"
        stored = {**_columns(rows["REQ-ORM"]), "code": "REQ-LEAN", "version": 2, "use_statement": "changed"}
        assert _columns(rows["REQ-LEAN"]) == {**stored, "created_at": rows["REQ-LEAN"].created_at}


def test_insert_new_refuses_unknown_and_missing_fields(world):
    with world.step() as s:
        who = world.requester(s, OrganizationKind.enterprise)
        with pytest.raises(TypeError, match=r"no field\(s\) colour"):
            insert_new(s, AccessRequest, code="X", requester_id=who.id, colour="red")
        with pytest.raises(TypeError, match="required for 'channel', 'purpose'"):
            insert_new(s, AccessRequest, code="X")
        assert s.exec(select(AccessRequest).where(AccessRequest.code == "X")).first() is None
