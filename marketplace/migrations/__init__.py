"""Schema revisions of the sandbox database, managed with Alembic.

The migration environment (`env.py`) and the revisions (`versions/`) ship inside the package and are
configured here in code, so no `alembic.ini` is needed: every entry point (the `marketplace` command, the
panels, the workshop) brings the database it opens to the head revision with `upgrade`, and
`marketplace db upgrade | current | history` does it by hand on a server.

Three kinds of database are told apart by their `alembic_version` table:

* no table of ours at all: a new database, created from the models at head and stamped (one DDL pass, no
  replay of every revision);
* our tables but no `alembic_version`: made by a release from before revisions existed; the baseline
  revision is run on it (it creates only the tables and indexes that are missing, so it also completes a
  sandbox from an even earlier release, and keeps every row), then it is upgraded;
* a recorded revision: upgraded to head, or refused with one line when it is newer than this version knows.

The whole step runs in one transaction under a lock (SQLite: `BEGIN IMMEDIATE`; PostgreSQL: an advisory
lock), so two processes opening the same new database at once neither create nor stamp it twice. On SQLite,
foreign keys are switched off for the step because batch migrations rebuild tables, and checked before the
commit.

New revisions (developers): `python -m marketplace.migrations revision -m "what changes"` compares the models
with a scratch database at head and writes the next numbered revision into `versions/`.
"""

from __future__ import annotations

import functools
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from importlib import resources
from typing import Any

import sqlalchemy as sa
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import Script, ScriptDirectory
from sqlalchemy.engine import Connection, Engine
from sqlmodel import SQLModel

from marketplace import models  # noqa: F401  (registers every table on SQLModel.metadata)
from marketplace.errors import SchemaError

BASELINE = "0001"
VERSION_TABLE = "alembic_version"
# Any constant: the PostgreSQL advisory lock that serialises schema changes between processes.
PG_LOCK_KEY = 7_031_960_001


def script_location() -> str:
    """The directory holding `env.py` and `versions/`, wherever the package is installed."""
    return str(resources.files("marketplace.migrations"))


def config(connection: Connection | None = None, *, location: str | None = None, **output: Any) -> Config:
    """An Alembic configuration built in code; `connection` is the one the migrations run on."""
    cfg = Config(**output)
    cfg.set_main_option("script_location", location or script_location())
    if connection is not None:
        cfg.attributes["connection"] = connection
    return cfg


@functools.cache
def _scripts(location: str) -> ScriptDirectory:
    return ScriptDirectory.from_config(config(location=location))


def scripts(location: str | None = None) -> ScriptDirectory:
    """The revisions shipped with this version (read once per process)."""
    return _scripts(location or script_location())


def head(location: str | None = None) -> str:
    rev = scripts(location).get_current_head()
    if rev is None:  # pragma: no cover - the package always ships the baseline
        raise SchemaError("the package ships no schema revisions")
    return rev


def history(location: str | None = None) -> list[Script]:
    """Every revision, oldest first."""
    return list(reversed(list(scripts(location).walk_revisions())))


def known(revision: str | None, location: str | None = None) -> bool:
    return revision is None or any(s.revision == revision for s in scripts(location).walk_revisions())


def current(conn: Connection) -> str | None:
    """The revision recorded in the database (None when it has no `alembic_version`)."""
    return MigrationContext.configure(conn).get_current_revision()


def has_our_tables(conn: Connection) -> bool:
    present = set(sa.inspect(conn).get_table_names())
    return bool(present & set(SQLModel.metadata.tables))


def require_known(revision: str | None, where: str, location: str | None = None) -> None:
    """Refuse a revision made by a newer release, in one line."""
    if not known(revision, location):
        raise SchemaError(
            f"{where}: schema revision {revision!r} is newer than this version of marketplace knows "
            f"(its newest is {head(location)!r}); expected revision {head(location)!r} or older: "
            "install the newer marketplace release that made it"
        )


def differences(conn: Connection) -> list[Any]:
    """What differs between the models and the schema behind `conn` (empty: they agree)."""
    ctx = MigrationContext.configure(conn, opts={"compare_type": True})
    return compare_metadata(ctx, SQLModel.metadata)


@dataclass(frozen=True)
class SchemaChange:
    """What `upgrade` did to a database, worded for the person who opened it."""

    database: str
    before: str | None
    after: str
    created: bool = False
    earlier_release: bool = False

    def line(self) -> str:
        if self.created:
            return f"created the schema of {self.database} at revision {self.after}"
        if self.earlier_release:
            return (f"upgraded the schema of {self.database}, made by an earlier release (no revision "
                    f"recorded, read as baseline {BASELINE}), to revision {self.after}")
        return f"upgraded the schema of {self.database} from revision {self.before} to {self.after}"


@contextmanager
def _schema_lock(conn: Connection) -> Iterator[None]:
    """One transaction that holds the database's write lock from its first statement."""
    sqlite = conn.dialect.name == "sqlite"
    if conn.in_transaction():
        conn.commit()
    if sqlite:
        # Batch migrations rebuild tables; with foreign keys on, dropping a referenced table would fail or
        # cascade. The pragma only takes effect outside a transaction.
        conn.exec_driver_sql("PRAGMA foreign_keys=OFF")
        conn.commit()
    try:
        with conn.begin():
            if sqlite:
                conn.exec_driver_sql("BEGIN IMMEDIATE")
            elif conn.dialect.name == "postgresql":
                conn.execute(sa.text("SELECT pg_advisory_xact_lock(:k)"), {"k": PG_LOCK_KEY})
            yield
            if sqlite:
                broken = conn.exec_driver_sql("PRAGMA foreign_key_check").all()
                if broken:
                    raise SchemaError(
                        f"schema upgrade left {len(broken)} rows whose foreign keys point nowhere "
                        f"(first: table {broken[0][0]!r}, row {broken[0][1]}); nothing was changed"
                    )
    finally:
        if sqlite:
            if conn.in_transaction():
                conn.rollback()
            conn.exec_driver_sql("PRAGMA foreign_keys=ON")
            conn.commit()


def upgrade_connection(conn: Connection, target: str = "head", *, location: str | None = None,
                       database: str = "the database") -> SchemaChange | None:
    """Bring the schema behind `conn` to `target` inside the caller's transaction (no locking)."""
    before = current(conn)
    require_known(before, database, location)
    goal = head(location) if target == "head" else target
    if before is None and not has_our_tables(conn):
        if goal == head(location):
            SQLModel.metadata.create_all(conn)
            command.stamp(config(conn, location=location), goal)
        else:
            command.upgrade(config(conn, location=location), goal)
        return SchemaChange(database, None, goal, created=True)
    earlier = before is None
    if earlier:
        command.upgrade(config(conn, location=location), BASELINE)
        before = BASELINE
    if before != goal:
        command.upgrade(config(conn, location=location), goal)
    if not earlier and before == goal:
        return None
    return SchemaChange(database, None if earlier else before, goal, earlier_release=earlier)


def upgrade(engine: Engine, target: str = "head", *, location: str | None = None) -> SchemaChange | None:
    """Bring the database to `target` (default head): create, stamp or upgrade it; None when already there.

    Raises SchemaError, with nothing changed, for a revision newer than this version knows.
    """
    name = engine.url.render_as_string(hide_password=True)
    goal = head(location) if target == "head" else target
    with engine.connect() as conn:
        before = current(conn)
        conn.rollback()
        if before == goal:  # the usual case: one read, no lock
            return None
        require_known(before, name, location)
        with _schema_lock(conn):
            return upgrade_connection(conn, goal, location=location, database=name)

