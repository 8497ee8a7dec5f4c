"""Persisting the world on SQLite and PostgreSQL: counts, byte-identical canonical dumps, sequences,
seeding.
"""

from __future__ import annotations

import json
from functools import cache

import pytest
import sqlalchemy as sa
from sqlalchemy.pool import StaticPool
from sqlmodel import Session, SQLModel, select

from marketplace import db
from marketplace.errors import ConflictError, InvalidInput
from marketplace.models import Account, AuthorizationResource, Organization, Resource, SandboxSetting
from marketplace.synth import build_world, canonical_dump, ensure_seeded, persist_world, rows, seed_sandbox
from marketplace.vocabulary import Grade, OrganizationKind


def _memory_engine() -> sa.Engine:
    eng = sa.create_engine("sqlite://", connect_args={"check_same_thread": False}, poolclass=StaticPool)
    SQLModel.metadata.create_all(eng)
    return eng


@cache
def reference_dump(seed: int, size: str = "small", locale: str = "en_US") -> str:
    """The dump of a world persisted on a fresh in-memory SQLite database."""
    eng = _memory_engine()
    persist_world(build_world(seed, size, locale), eng)
    return canonical_dump(eng)


def _count(engine: sa.Engine, table: str) -> int:
    with engine.connect() as conn:
        return conn.execute(
            sa.select(sa.func.count()).select_from(SQLModel.metadata.tables[table])
        ).scalar_one()


def test_persist_writes_every_row_and_the_settings(engine: sa.Engine) -> None:
    world = build_world(42)
    counts = persist_world(world, engine)
    assert counts == world.counts()
    for table, n in counts.items():
        assert _count(engine, table) == n, table
    with Session(engine) as session:
        settings = {s.key: s.value for s in session.exec(select(SandboxSetting))}
    assert settings == {"world": {"seed": 42, "size": "small", "locale": "en_US"}, "policy": "national-2025"}


def test_same_seed_gives_byte_identical_dump_on_both_backends(engine: sa.Engine) -> None:
    persist_world(build_world(42), engine)
    dump = canonical_dump(engine)
    assert dump == reference_dump(42)
    assert dump != reference_dump(43)
    lines = dump.splitlines()
    assert len(lines) == sum(build_world(42).counts().values())
    first = json.loads(lines[0])
    assert set(first) == {"table", "row"}


def test_zh_province_world_dump_is_identical_on_both_backends(engine: sa.Engine) -> None:
    persist_world(build_world(5, "province", "zh_CN"), engine)
    assert canonical_dump(engine) == reference_dump(5, "province", "zh_CN")


def test_orm_reads_the_world_and_new_rows_get_fresh_ids(engine: sa.Engine) -> None:
    world = build_world(42)
    persist_world(world, engine)
    with Session(engine) as session:
        res = session.exec(select(Resource).where(Resource.template == "hospital_admissions")).one()
        assert res.holder.kind is OrganizationKind.institution
        assert res.contains_personal_info and res.grade is Grade.important
        df = rows(res, 100, 1)
        assert list(df.columns) == [f.name for f in res.fields]
        pd_world = rows(world.resource(res.code), 100, 1)
        assert df.equals(pd_world)
        org = Organization(code="ORG-NEW", name="New", kind=OrganizationKind.nonprofit)
        session.add(org)
        session.flush()
        assert org.id == len(world.organizations) + 1
        acc = Account(username="newcomer", display_name="N", organization_id=org.id)
        session.add(acc)
        session.flush()
        assert acc.id == len(world.accounts) + 1
        session.commit()
        assert session.exec(select(AuthorizationResource)).first() is not None


def test_persisting_into_a_seeded_sandbox_refuses_and_changes_nothing(engine: sa.Engine) -> None:
    persist_world(build_world(42), engine)
    before = canonical_dump(engine)
    with pytest.raises(ConflictError):
        persist_world(build_world(43), engine)
    assert canonical_dump(engine) == before


def test_seed_sandbox_replaces_content_and_ensure_seeded_seeds_once(engine: sa.Engine) -> None:
    persist_world(build_world(1), engine)
    counts = seed_sandbox(engine, 42, "small", "en_US")
    assert counts["organization"] == 93  # 89 + the government + water, power and metro enterprises
    assert canonical_dump(engine) == reference_dump(42)
    assert ensure_seeded(engine) is False
    db.reset(engine)
    assert ensure_seeded(engine) is True
    assert canonical_dump(engine) == reference_dump(42)


def test_seed_sandbox_validates_before_touching_the_database(sqlite_engine: sa.Engine) -> None:
    persist_world(build_world(42), sqlite_engine)
    before = canonical_dump(sqlite_engine)
    for kwargs in ({"size": "huge"}, {"locale": "xx"}, {"seed": -1}):
        with pytest.raises(InvalidInput):
            seed_sandbox(sqlite_engine, **{"seed": 1, "size": "small", "locale": "en_US", **kwargs})
    assert canonical_dump(sqlite_engine) == before


def test_ensure_seeded_uses_the_default_database() -> None:
    assert ensure_seeded() is True
    assert db.is_seeded(db.get_engine())
    assert ensure_seeded() is False


def test_policy_routing_agrees_with_the_seeded_grades(sqlite_engine: sa.Engine) -> None:
    """Asked of the policy package (national-2025) through the workflows' facts: the catalog is consistent."""
    from marketplace.workflows.facts import resource_channels

    persist_world(build_world(42), sqlite_engine)
    with Session(sqlite_engine) as session:
        scope = {link.resource_id for link in session.exec(select(AuthorizationResource))}
        for res in session.exec(select(Resource)):
            channels = resource_channels(res)
            if res.grade is Grade.core:
                assert channels == [], res.template
                assert res.id not in scope
            elif res.grade is Grade.important:
                assert "opening" not in channels and "sharing" in channels, res.template
            else:
                assert "opening" in channels, res.template
            if res.id in scope:
                assert "authorized_operation" in channels, res.template


def test_dump_and_rows_are_the_same_in_another_process() -> None:
    """Nothing depends on per-process state (string hashing, dict order of sets, global random state)."""
    import hashlib
    import os
    import subprocess
    import sys

    code = (
        "import hashlib, sqlalchemy as sa\n"
        "from sqlalchemy.pool import StaticPool\n"
        "from sqlmodel import SQLModel\n"
        "from marketplace.synth import build_world, persist_world, canonical_dump, rows\n"
        "e = sa.create_engine('sqlite://', poolclass=StaticPool)\n"
        "SQLModel.metadata.create_all(e)\n"
        "w = build_world(42, 'small', 'zh_CN')\n"
        "persist_world(w, e)\n"
        "print(hashlib.sha256(canonical_dump(e).encode()).hexdigest())\n"
        "print(hashlib.sha256(rows(w.resource('population_register'), 500, 3, 'zh_CN')"
        ".to_csv().encode()).hexdigest())\n"
    )
    env = {**os.environ, "PYTHONHASHSEED": "12345"}
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, check=True)
    world = build_world(42, "small", "zh_CN")
    here = [
        hashlib.sha256(reference_dump(42, "small", "zh_CN").encode()).hexdigest(),
        hashlib.sha256(
            rows(world.resource("population_register"), 500, 3, "zh_CN").to_csv().encode()
        ).hexdigest(),
    ]
    assert out.stdout.split() == here
