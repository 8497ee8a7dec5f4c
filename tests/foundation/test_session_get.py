"""`marketplace.session.Session`: its lean `get` and `load_collection` give exactly what the ORM gives."""

from __future__ import annotations

from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy.orm.attributes import instance_state
from sqlmodel import Session as OrmSession
from sqlmodel import SQLModel, select

from marketplace import db
from marketplace import workflows as wf
from marketplace.models import AccessRequest, Account, Organization, Resource, Review
from marketplace.session import Session, collection
from marketplace.synth import seed_sandbox
from marketplace.vocabulary import OrganizationKind, Role


def _history(engine: sa.Engine) -> int:
    """A seeded world with one request decided at its first stage: rows in every workflow table."""
    seed_sandbox(engine, 7, "small")
    with db.session_scope(engine) as s:
        res = next(
            r
            for r in s.exec(select(Resource).order_by(Resource.id)).all()
            if r.sharing_attribute.value == "conditional"
            and wf.accounts_with_role(s, Role.steward, org_id=r.holder_id)
        )
        dept = next(
            a
            for a in wf.accounts_with_role(s, Role.requester)
            if a.organization.kind is OrganizationKind.department and a.organization_id != res.holder_id
        )
        req = wf.create_request(s, dept, resource=res, channel="sharing", purpose="public_governance")
        wf.submit_request(s, dept, req)
        rid = req.id
    with db.session_scope(engine) as s:
        req = s.get(AccessRequest, rid)
        review = wf.open_review(req)
        wf.decide(s, wf.accounts_with_role(s, review.reviewer_role)[0], review, "approve")
    return rid


def _columns(obj: Any) -> dict[str, Any]:
    mapper = sa.inspect(type(obj))
    return {p.key: getattr(obj, p.key) for p in mapper.column_attrs}


def _tables() -> list[type]:
    return sorted(
        (m.class_ for m in SQLModel._sa_registry.mappers if m.local_table is not None),
        key=lambda c: c.__name__,
    )


def test_get_matches_the_orm_on_every_table(engine):
    _history(engine)
    checked: set[str] = set()
    for model in _tables():
        pk = sa.inspect(model).primary_key
        if len(pk) != 1:
            continue
        with OrmSession(engine) as plain:
            ids = plain.exec(sa.select(pk[0]).order_by(pk[0]).limit(5)).scalars().all()
            expected = {i: _columns(plain.get(model, i)) for i in ids}
        with Session(engine) as lean:
            for i in ids:
                obj = lean.get(model, i)
                state = instance_state(obj)
                assert _columns(obj) == expected[i], model.__name__
                assert state.persistent and not state.modified and not state.expired_attributes
                assert lean.get(model, i) is obj  # the identity map answers the second time
                checked.add(model.__name__)
            assert not lean.dirty and not lean.new
    assert {"Account", "AccessRequest", "Review", "Condition", "AuditEvent", "Resource"} <= checked
    assert len(checked) >= 12


def test_get_of_a_missing_row_is_none_and_relationships_load(engine):
    _history(engine)
    with Session(engine) as s:
        assert s.get(Account, 10**9) is None
        acc = s.get(Account, wf.accounts_with_role(s, Role.steward)[0].id)
        s.expunge_all()
        acc = s.get(Account, acc.id)
        assert isinstance(acc.organization, Organization) and acc.organization.id == acc.organization_id
        assert Role.steward in {r.role for r in acc.roles}


def test_get_autoflushes_pending_changes_first(engine):
    _history(engine)
    with Session(engine) as s:
        org = s.exec(select(Organization).order_by(Organization.id)).first()
        org.name = "Renamed bureau"
        other = s.get(Resource, 1)  # a miss: the ORM would flush the rename before reading
        assert other is not None and not s.dirty
        name = s.connection().execute(
            sa.text("SELECT name FROM organization WHERE id = :i"), {"i": org.id}
        ).scalar_one()
        assert name == "Renamed bureau"
        s.rollback()


def test_rows_loaded_lean_are_written_with_their_version_checked(engine):
    _history(engine)
    with Session(engine) as s:
        acc = s.get(Account, 1)
        version = acc.version
        acc.display_name = "New name"
        s.commit()
        assert acc.version == version + 1
    with Session(engine) as a, Session(engine) as b:
        first, second = a.get(Account, 1), b.get(Account, 1)
        first.display_name, second.display_name = "A", "B"
        a.commit()
        with pytest.raises(sa.orm.exc.StaleDataError):
            b.commit()


def test_options_and_expired_rows_take_the_orm_path(engine):
    _history(engine)
    with Session(engine) as s:
        acc = s.get(Account, 1)
        s.connection().execute(sa.text("UPDATE account SET display_name = 'Changed' WHERE id = 1"))
        assert s.get(Account, 1, populate_existing=True).display_name == "Changed"
        s.expire(acc)
        s.connection().execute(sa.text("UPDATE account SET display_name = 'Again' WHERE id = 1"))
        assert s.get(Account, 1).display_name == "Again"
        s.rollback()


def test_load_collection_matches_the_lazy_load(engine):
    rid = _history(engine)
    with OrmSession(engine) as plain:
        req = plain.get(AccessRequest, rid)
        expected = {
            key: [_columns(o) for o in getattr(req, key)] for key in ("reviews", "conditions")
        }
    assert len(expected["reviews"]) >= 2 and expected["reviews"][0]["sequence"] == 0
    with Session(engine) as s:
        req = s.get(AccessRequest, rid)
        first_review = s.get(Review, expected["reviews"][0]["id"])
        for key in ("reviews", "conditions"):
            items = collection(req, key)
            assert [_columns(o) for o in items] == expected[key]
            assert getattr(req, key) is items  # the relationship holds them, no second query
        assert req.reviews[0] is first_review  # a row already in the session is that same object
        assert all(not instance_state(o).modified for o in req.reviews)
        assert not s.dirty


def test_load_collection_of_an_object_outside_our_session_is_the_orm_load(engine):
    rid = _history(engine)
    with OrmSession(engine) as plain:
        req = plain.get(AccessRequest, rid)
        assert [r.sequence for r in collection(req, "reviews")] == sorted(r.sequence for r in req.reviews)


def test_connection_is_the_one_the_transaction_holds(engine):
    """Once the transaction holds a connection, `connection()` returns it as the ORM does; a new transaction
    gets its own, and asking with execution options or an explicit bind takes the ORM's path."""
    seed_sandbox(engine, 7, "small")
    with Session(engine) as s:
        first = s.connection()
        assert s.connection() is first
        assert s.connection(bind_arguments={"mapper": sa.inspect(Account)}) is first
        assert sa.orm.Session.connection(s) is first
        with pytest.warns(sa.exc.SAWarning, match="execution_options ignored"):
            s.connection(execution_options={"isolation_level": "SERIALIZABLE"})
        s.commit()
        second = s.connection()
        assert second is not first and first.closed
        assert s.connection() is second
        s.rollback()
        with s.begin_nested():
            assert s.connection() is sa.orm.Session.connection(s)
    # inside a finished `begin()` block the session refuses, as the ORM's does
    with pytest.raises(sa.exc.InvalidRequestError), Session(engine) as s, s.begin():
        s.connection()
        s.rollback()
        s.connection()
