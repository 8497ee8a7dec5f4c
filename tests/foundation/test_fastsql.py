"""`marketplace.fastsql.Statement`: on SQLite's driver cursor it stores and returns what SQLAlchemy does."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal

import pytest
import sqlalchemy as sa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlmodel import SQLModel

from marketplace import db
from marketplace.fastsql import Rows, Statement
from marketplace.models import AuditEvent, Quote

EVENTS = AuditEvent.__table__
INSERT = sa.insert(EVENTS)
SELECT = sa.select(EVENTS).where(EVENTS.c.seq == sa.bindparam("s"))
UPDATE = sa.update(EVENTS).where(EVENTS.c.seq == sa.bindparam("s"), EVENTS.c.hash == sa.bindparam("h"))

json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**53), 2**53) | st.floats(allow_nan=False) | st.text(),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4),
    max_leaves=12,
)
aware_times = st.datetimes(
    min_value=datetime(1990, 1, 1), max_value=datetime(2090, 1, 1), timezones=st.sampled_from(
        [UTC, timezone(timedelta(hours=8)), timezone(timedelta(hours=-5, minutes=-30))]
    )
)


def _event(seq: int, at: datetime, payload: dict, text: str) -> dict:
    return {
        "seq": seq,
        "at": at,
        "recorded_at": at + timedelta(microseconds=1),
        "actor_id": None,
        "action": text[:64],
        "subject_type": "request",
        "subject_id": seq,
        "outcome": "ok",
        "payload": payload,
        "prev_hash": "0" * 64,
        "hash": f"{seq:064d}",
    }


def _sqlite() -> sa.Engine:
    engine = db.make_engine("sqlite://")
    SQLModel.metadata.create_all(engine)
    return engine


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    payload=st.dictionaries(st.text(max_size=10), json_values, max_size=5),
    at=aware_times,
    text=st.text(min_size=0, max_size=64),
)
def test_stored_and_read_back_exactly_as_through_sqlalchemy(payload, at, text):
    engine = _sqlite()
    fast_insert, fast_select = Statement(INSERT), Statement(SELECT)
    with engine.begin() as conn:
        assert isinstance(fast_insert.execute(conn, _event(1, at, payload, text)), Rows)  # the cursor path
        conn.execute(INSERT, _event(2, at, payload, text))
        through_sqlalchemy = [tuple(conn.execute(SELECT, {"s": s}).one()) for s in (1, 2)]
        through_cursor = [fast_select.execute(conn, {"s": s}).one() for s in (1, 2)]
        stored = conn.exec_driver_sql("SELECT at, recorded_at, payload FROM auditevent ORDER BY seq").all()
    assert stored[0] == stored[1]  # the same text in the database
    assert through_cursor == through_sqlalchemy
    cols = list(EVENTS.c.keys())
    first = dict(zip(cols, through_cursor[0], strict=True))
    assert first["payload"] == payload and first["action"] == text[:64]
    assert first["at"] == at and first["at"].tzinfo is not None
    same = [c for c in cols if c not in ("id", "seq", "subject_id", "hash")]
    assert [first[c] for c in same] == [dict(zip(cols, through_cursor[1], strict=True))[c] for c in same]
    engine.dispose()


@pytest.fixture
def conn():
    """A transaction on an in-memory SQLite database through Python's sqlite3 driver (the cursor path)."""
    engine = _sqlite()
    with engine.begin() as connection:
        yield connection
    engine.dispose()


def test_many_rows_rowcount_and_version_style_updates(conn):
    now = datetime.now(UTC)
    done = Statement(INSERT).execute(conn, [_event(i, now, {"i": i}, "a") for i in range(1, 6)])
    assert done.rowcount == 5
    update = Statement(UPDATE)
    hit = update.execute(conn, {"s": 3, "h": f"{3:064d}", "action": "changed"})
    miss = update.execute(conn, {"s": 4, "h": "stale", "action": "changed"})
    assert (hit.rowcount, miss.rowcount) == (1, 0)
    assert conn.execute(sa.select(EVENTS.c.action).where(EVENTS.c.seq == 3)).scalar_one() == "changed"
    assert Statement(INSERT).execute(conn, []).rowcount == 0  # nothing to run: nothing inserted
    assert conn.execute(sa.select(sa.func.count()).select_from(EVENTS)).scalar_one() == 5


def test_driver_errors_are_sqlalchemy_errors_and_change_nothing(conn):
    fast = Statement(INSERT)
    fast.execute(conn, _event(1, datetime.now(UTC), {}, "a"))
    with pytest.raises(sa.exc.IntegrityError, match="UNIQUE"):
        fast.execute(conn, _event(1, datetime.now(UTC), {}, "again"))  # seq is unique
    with pytest.raises(sa.exc.InvalidRequestError, match="'s'"):
        Statement(SELECT).execute(conn, {})
    assert conn.execute(sa.select(EVENTS.c.action)).scalars().all() == ["a"]


def test_statements_that_need_sqlalchemy_at_run_time_take_its_path(conn):
    event = _event(1, datetime.now(UTC), {}, "a")
    del event["recorded_at"]  # a Python-side column default fills it in
    Statement(INSERT).execute(conn, event)
    assert conn.execute(sa.select(EVENTS.c.recorded_at)).scalar_one() is not None
    Statement(INSERT).execute(conn, _event(2, datetime.now(UTC), {}, "b"))
    expanding = sa.bindparam("a", expanding=True)
    listed = Statement(sa.select(EVENTS.c.seq).where(EVENTS.c.action.in_(expanding)))
    assert sorted(r[0] for r in listed.execute(conn, {"a": ["a", "b"]})) == [1, 2]


def test_decimals_and_returning(engine):
    """Money keeps its exact decimal value and RETURNING gives the new id, on SQLite and PostgreSQL."""
    table = Quote.__table__
    stmt = Statement(sa.insert(table).returning(table.c.id, table.c.total))
    rid = _a_request(engine)
    row = {
        "request_id": rid,
        "policy_name": "p",
        "currency": "CNY",
        "total": Decimal("1234.57"),
        "lines": [{"component": "base", "amount": "1234.57"}],
        "created_at": datetime.now(UTC),
        "status": "offered",
    }
    with engine.begin() as conn:
        new_id, total = stmt.execute(conn, row).one()
        assert isinstance(new_id, int) and total == Decimal("1234.57")
        read = Statement(sa.select(table.c.total, table.c.lines).where(table.c.id == sa.bindparam("i")))
        got = read.execute(conn, {"i": new_id}).one()
        assert got == tuple(conn.execute(read.stmt, {"i": new_id}).one())
        assert got[0] == Decimal("1234.57") and got[1][0]["amount"] == "1234.57"


def _a_request(engine: sa.Engine) -> int:
    from marketplace import workflows as wf
    from marketplace.models import Resource
    from marketplace.synth import seed_sandbox
    from marketplace.vocabulary import Role

    seed_sandbox(engine, 7, "small")
    with db.session_scope(engine) as s:
        res = s.get(Resource, 1)
        who = wf.accounts_with_role(s, Role.requester)[0]
        return wf.create_request(s, who, resource=res, channel="opening", purpose="research").id


def test_rows_answers_like_a_result():
    rows = Rows([(1, "a"), (2, "b")], 2)
    assert rows.first() == (1, "a") and rows.scalar() == 1 and list(rows) == rows.all()
    with pytest.raises(sa.exc.MultipleResultsFound):
        rows.one()
    with pytest.raises(sa.exc.NoResultFound):
        Rows([], 0).scalar_one()


def test_a_connection_without_a_transaction_begins_one_that_its_commit_keeps(tmp_path):
    engine = db.make_engine(f"sqlite:///{tmp_path / 'f.db'}")
    SQLModel.metadata.create_all(engine)
    with engine.connect() as conn:
        Statement(INSERT).execute(conn, _event(1, datetime.now(UTC), {}, "kept"))
        conn.commit()
    with engine.connect() as conn:
        Statement(INSERT).execute(conn, _event(2, datetime.now(UTC), {}, "dropped"))  # closed, no commit
    with engine.connect() as conn:
        assert conn.execute(sa.select(EVENTS.c.action)).scalars().all() == ["kept"]
    engine.dispose()


def test_each_engine_keeps_its_own_type_settings():
    """A prepared statement shared by two engines stores what each engine's SQLAlchemy would store."""
    import json

    shared = Statement(INSERT)
    stored = {}
    def compact(value: object) -> str:
        return json.dumps(value, ensure_ascii=False, separators=(",", ":"))

    for name, serializer in (("default", None), ("compact", compact)):
        kw = {"json_serializer": serializer} if serializer else {}
        engine = sa.create_engine("sqlite://", **kw)
        SQLModel.metadata.create_all(engine)
        with engine.begin() as conn:
            assert isinstance(shared.execute(conn, _event(1, datetime.now(UTC), {"a": "é"}, "x")), Rows)
            conn.execute(INSERT, _event(2, datetime.now(UTC), {"a": "é"}, "x"))
            stored[name] = conn.exec_driver_sql("SELECT payload FROM auditevent ORDER BY seq").scalars().all()
        engine.dispose()
    assert stored["default"][0] == stored["default"][1] and stored["compact"][0] == stored["compact"][1]
    assert stored["compact"][0] == '{"a":"é"}' and stored["default"][0] == '{"a": "\\u00e9"}'


def test_a_bound_value_of_the_statement_is_used_when_the_parameters_leave_it_out(conn):
    for seq, action in ((1, "a"), (2, "b")):
        Statement(INSERT).execute(conn, _event(seq, datetime.now(UTC), {}, action))
    stmt = Statement(sa.select(EVENTS.c.action).where(EVENTS.c.seq == sa.bindparam("s", value=2)))
    assert stmt.execute(conn, {}).scalar_one() == "b"  # the statement's own value
    assert stmt.execute(conn, {"s": 1}).scalar_one() == "a"  # the parameter wins
    one_name = Statement(sa.select(EVENTS.c.seq).where(EVENTS.c.action == sa.bindparam("a")))
    assert one_name.execute(conn, {"a": "b", "unused": 1}).scalar_one() == 2
    with pytest.raises(sa.exc.InvalidRequestError, match="'a'"):
        one_name.execute(conn, {"unused": 1})
