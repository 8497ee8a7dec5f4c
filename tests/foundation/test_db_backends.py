"""The schema works on both backends: tables, indexes, enums as strings, optimistic locking."""

from __future__ import annotations

from decimal import Decimal

import pytest
import sqlalchemy as sa
from sqlalchemy.orm.exc import StaleDataError
from sqlmodel import Session, SQLModel, select

from marketplace import db
from marketplace.errors import DatabaseUnavailable, InvalidInput
from marketplace.models import Account, AccountRole, Organization, Product, Resource, ResourceField
from marketplace.vocabulary import (
    BillingUnit,
    FieldMarking,
    FieldType,
    Grade,
    OpeningAttribute,
    OrganizationKind,
    ProductKind,
    Role,
    SharingAttribute,
)


def _org(session: Session, code: str = "D1",
         kind: OrganizationKind = OrganizationKind.department) -> Organization:
    org = Organization(code=code, name=f"Org {code}", kind=kind, region="R")
    session.add(org)
    session.flush()
    return org


def test_every_vocabulary_entity_has_a_table() -> None:
    expected = {"organization", "account", "accountrole", "resource", "resourcefield", "registration",
                "authorization", "product", "accessrequest", "review", "condition", "quote", "grant",
                "delivery", "auditevent"}
    assert expected <= set(SQLModel.metadata.tables)


def test_foreign_keys_and_status_columns_are_indexed() -> None:
    for table in SQLModel.metadata.tables.values():
        indexed = {col.name for idx in table.indexes for col in idx.columns}
        indexed |= {c.name for c in table.primary_key.columns}
        indexed |= {col.name for uc in table.constraints if isinstance(uc, sa.UniqueConstraint)
                    for col in list(uc.columns)[:1]}
        for col in table.columns:
            if col.foreign_keys or col.name in ("status", "kind"):
                assert col.name in indexed, f"{table.name}.{col.name} has no index"


def test_rows_round_trip_with_enums_decimals_and_relationships(engine: sa.Engine) -> None:
    with Session(engine) as session:
        holder = _org(session)
        acc = Account(username="alice", display_name="Alice", organization_id=holder.id)
        acc.roles = [AccountRole(role=Role.requester), AccountRole(role=Role.steward)]
        res = Resource(code="R1", title="Clinic visits", domain="health", holder_id=holder.id,
                       grade=Grade.important, sharing_attribute=SharingAttribute.conditional,
                       opening_attribute=OpeningAttribute.not_open, cost_basis=Decimal("1234.50"))
        res.fields = [
            ResourceField(name="id_number", dtype=FieldType.string, marking=FieldMarking.identifier),
            ResourceField(name="age", dtype=FieldType.integer, marking=FieldMarking.quasi_identifier,
                          position=1),
        ]
        op = _org(session, "OP", OrganizationKind.operator)
        session.add_all([acc, res, Product(code="P1", name="Index", operator_id=op.id, kind=ProductKind.api,
                                           billing_unit=BillingUnit.per_call, price_cap=Decimal("0.50"))])
        session.commit()
    with Session(engine) as session:
        res = session.exec(select(Resource).where(Resource.code == "R1")).one()
        assert res.grade is Grade.important and res.cost_basis == Decimal("1234.50")
        assert [f.name for f in res.fields] == ["id_number", "age"] and res.contains_personal_info
        assert res.holder.code == "D1"
        acc = session.exec(select(Account)).one()
        assert acc.role_names == {Role.requester, Role.steward}
        raw = session.execute(sa.text("SELECT grade FROM resource")).scalar_one()
        assert raw == "important"  # stored as a plain string on every backend
        assert session.exec(select(Product)).one().price_cap == Decimal("0.50")


def test_version_column_refuses_a_stale_write(engine: sa.Engine) -> None:
    with Session(engine) as session:
        _org(session)
        session.commit()
    with Session(engine) as s1, Session(engine) as s2:
        a = s1.exec(select(Organization)).one()
        b = s2.exec(select(Organization)).one()
        a.name = "first"
        s1.commit()
        assert a.version == 2
        b.name = "second"
        with pytest.raises(StaleDataError):
            s2.commit()


def test_session_scope_rolls_back_everything_on_error(engine: sa.Engine) -> None:
    with pytest.raises(RuntimeError), db.session_scope(engine) as session:
        _org(session)
        raise RuntimeError("boom")
    with Session(engine) as session:
        assert session.exec(select(Organization)).all() == []


def test_default_database_is_a_wal_sqlite_file_in_the_data_dir(tmp_path, monkeypatch) -> None:
    monkeypatch.setenv("MARKETPLACE_HOME", str(tmp_path))
    db.dispose_engines()
    engine = db.create_all()
    assert str(engine.url) == f"sqlite:///{tmp_path / 'sandbox.db'}"
    with engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert conn.exec_driver_sql("PRAGMA busy_timeout").scalar() >= 5000
    assert db.get_engine() is engine


def test_bad_or_unreachable_url_is_a_clear_error(monkeypatch) -> None:
    with pytest.raises(InvalidInput, match="MARKETPLACE_DB_URL"):
        db.make_engine("not a url")
    engine = db.make_engine("postgresql+psycopg://nobody@127.0.0.1:1/none")
    with pytest.raises(DatabaseUnavailable, match="cannot reach"):
        db.check_connection(engine)
