"""The database: an engine from `MARKETPLACE_DB_URL`, else a SQLite file in the user's data directory.

SQLite is the embedded default (WAL mode and a busy timeout so a notebook and a CLI can share it); any
SQLAlchemy URL works, and PostgreSQL is tested as a first-class backend. One engine per URL per process is
cached, because notebooks, widgets and the CLI all ask for "the" database many times.

The schema is versioned with Alembic (`marketplace.migrations`): `upgrade_schema` creates a new database at
the head revision and upgrades one made by an older release; every entry point calls it before its first
transaction.

SQLAlchemy, SQLModel and the models are imported by the functions that need them, not by this module:
`marketplace --help` and `marketplace info` import it and must start in a fraction of a second.
"""

from __future__ import annotations

import logging
import os
import re
import sqlite3
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

from marketplace.errors import DatabaseUnavailable, InvalidInput

if TYPE_CHECKING:
    from sqlalchemy.engine import Engine
    from sqlmodel import Session

    from marketplace.migrations import SchemaChange

ENV_URL = "MARKETPLACE_DB_URL"
ENV_HOME = "MARKETPLACE_HOME"
SQLITE_BUSY_TIMEOUT_MS = 30_000

log = logging.getLogger(__name__)
_engines: dict[str, Engine] = {}
_lock = threading.Lock()


def data_dir() -> Path:
    """Where the sandbox keeps its files (never inside the repository)."""
    from platformdirs import user_data_dir

    home = os.environ.get(ENV_HOME)
    path = Path(home) if home else Path(user_data_dir("public-data-marketplace", appauthor=False))
    path.mkdir(parents=True, exist_ok=True)
    return path


def default_url() -> str:
    return f"sqlite:///{data_dir() / 'sandbox.db'}"


def database_url() -> str:
    return os.environ.get(ENV_URL) or default_url()


#: How each shipped revision file names itself and its parent (the form `migrations revision` writes).
_REVISION_LINE = re.compile(r'^(down_revision|revision)\s*:[^=]*=\s*(None|"([^"]*)")', re.M)


def shipped_head() -> str | None:
    """The head revision this version ships, read from the revision files' text (no Alembic import).

    `marketplace info` needs to know whether a SQLite sandbox is current before it reads it with the
    standard library alone; `tests/foundation/test_startup.py` checks this equals `migrations.head()`.
    None when the files cannot be read as a single chain (the caller then takes the full path).
    """
    folder = Path(__file__).resolve().parent / "migrations" / "versions"
    revisions: set[str] = set()
    parents: set[str] = set()
    for path in folder.glob("[0-9]*.py"):
        found = dict((m.group(1), m.group(3)) for m in _REVISION_LINE.finditer(path.read_text("utf-8")))
        if not found.get("revision"):
            return None
        revisions.add(found["revision"])
        if found.get("down_revision"):
            parents.add(found["down_revision"])
    heads = revisions - parents
    return heads.pop() if len(heads) == 1 else None


def quick_counts(url: str | None = None) -> dict[str, int] | None:
    """Rows per table of a SQLite sandbox file already at this version's head, read with `sqlite3` alone.

    Why: `marketplace info` is run to glance at the sandbox, and importing SQLAlchemy, SQLModel and the
    models costs most of a second. None (the caller then opens the sandbox the usual way, upgrading or
    creating it) for any other database, a missing file, or a schema that is not exactly at head.
    """
    url = url or database_url()
    prefix = "sqlite:///"
    if not url.startswith(prefix) or "?" in url or "#" in url:
        return None
    path = Path(url[len(prefix):])
    head = shipped_head()
    if not path.is_file() or head is None:
        return None
    try:
        conn = sqlite3.connect(f"{path.resolve().as_uri()}?mode=rw", uri=True,
                               timeout=SQLITE_BUSY_TIMEOUT_MS / 1000)
    except sqlite3.Error:
        return None
    try:
        cur = conn.cursor()
        names = [row[0] for row in cur.execute(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite\\_%' ESCAPE '\\'")]
        if "alembic_version" not in names:
            return None
        if [row[0] for row in cur.execute("SELECT version_num FROM alembic_version")] != [head]:
            return None
        return {name: cur.execute('SELECT COUNT(*) FROM "{}"'.format(name.replace('"', '""'))).fetchone()[0]
                for name in sorted(names) if name != "alembic_version"}
    except sqlite3.Error:
        return None
    finally:
        conn.close()


def redact(url: str) -> str:
    """The URL with any password hidden, for `marketplace info` and error messages."""
    import sqlalchemy as sa

    try:
        return sa.engine.make_url(url).render_as_string(hide_password=True)
    except Exception:
        return url


def _enter_wal(cur: sqlite3.Cursor) -> None:
    """Switch a file database to WAL, waiting out other connections doing the same.

    Changing the journal mode needs the file to itself, and SQLite answers "database is locked" at once
    instead of calling the busy handler, so processes opening a new sandbox together would fail. Once the
    file is in WAL mode (the usual case) the first read returns without a lock.
    """
    deadline = time.monotonic() + SQLITE_BUSY_TIMEOUT_MS / 1000
    pause = 0.005
    while True:
        try:
            if str(cur.execute("PRAGMA journal_mode").fetchone()[0]).lower() == "wal":
                return
            cur.execute("PRAGMA journal_mode=WAL")
            return
        except sqlite3.OperationalError as exc:
            if "locked" not in str(exc) or time.monotonic() >= deadline:
                raise
            time.sleep(pause)
            pause = min(pause * 2, 0.2)


def make_engine(url: str | None = None, *, pool_size: int | None = None) -> Engine:
    """Build a new engine; prefer `get_engine()`, which caches one per URL.

    `pool_size` keeps that many connections open on a server backend (a multi-threaded server passes its
    thread count: with SQLAlchemy's default of 5 kept plus 10 overflow, every connection past the fifth is
    opened and closed again per request, and PostgreSQL starts a backend process for each)."""
    import sqlalchemy as sa
    from sqlalchemy.pool import StaticPool

    from marketplace import models  # noqa: F401  registers every table on SQLModel.metadata

    url = url or database_url()
    try:
        parsed = sa.engine.make_url(url)
    except sa.exc.ArgumentError as exc:
        raise InvalidInput(ENV_URL, url, "a SQLAlchemy URL such as sqlite:///path.db or "
                           "postgresql+psycopg://user@host:5432/db") from exc
    if parsed.get_backend_name() == "sqlite":
        in_memory = parsed.database in (None, "", ":memory:")
        if in_memory:
            engine = sa.create_engine(url, connect_args={"check_same_thread": False}, poolclass=StaticPool)
        else:
            Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
            engine = sa.create_engine(url, connect_args={"check_same_thread": False,
                                                         "timeout": SQLITE_BUSY_TIMEOUT_MS / 1000})

        @sa.event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_conn, _record) -> None:  # pragma: no cover - exercised via every test
            cur = dbapi_conn.cursor()
            if not in_memory:
                _enter_wal(cur)
                cur.execute("PRAGMA synchronous=NORMAL")
            cur.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
            cur.execute("PRAGMA foreign_keys=ON")
            cur.close()

        return engine
    if parsed.get_backend_name() == "postgresql" and parsed.drivername == "postgresql":
        url = parsed.set(drivername="postgresql+psycopg")
    try:
        sizing = {} if pool_size is None else {"pool_size": pool_size, "max_overflow": pool_size}
        return sa.create_engine(url, pool_pre_ping=True, **sizing)
    except (ImportError, sa.exc.ArgumentError, sa.exc.NoSuchModuleError) as exc:
        raise InvalidInput(ENV_URL, redact(str(url)), f"a usable SQLAlchemy URL ({exc})") from exc


def get_engine(url: str | None = None) -> Engine:
    """The cached engine for `url` (default: `MARKETPLACE_DB_URL`, else the sandbox SQLite file)."""
    url = url or database_url()
    with _lock:
        engine = _engines.get(url)
        if engine is None:
            engine = _engines[url] = make_engine(url)
        return engine


def dispose_engines() -> None:
    """Forget cached engines (tests switch URLs; forked workers must not share connections)."""
    with _lock:
        for engine in _engines.values():
            engine.dispose()
        _engines.clear()


def check_connection(engine: Engine) -> None:
    """Fail with one clear line when the database cannot be reached."""
    import sqlalchemy as sa

    try:
        with engine.connect() as conn:
            conn.execute(sa.text("SELECT 1"))
    except sa.exc.OperationalError as exc:
        reason = str(exc.orig).strip().splitlines()[0] if exc.orig else str(exc)
        raise DatabaseUnavailable(
            f"{ENV_URL}: cannot reach {redact(str(engine.url))}: {reason}; expected a reachable database"
        ) from exc


def upgrade_schema(engine: Engine | None = None) -> SchemaChange | None:
    """Bring the schema to this version's head revision: create a new database, stamp one made before
    revisions existed, upgrade an older one. Returns what changed (None: already current).

    Raises SchemaError, changing nothing, when the database was made by a newer release.
    """
    from marketplace import migrations  # Alembic is imported only by the processes that open a database

    engine = engine or get_engine()
    check_connection(engine)
    return migrations.upgrade(engine)


def create_all(engine: Engine | None = None) -> Engine:
    """The sandbox's schema, ready to use (see `upgrade_schema`); an upgrade is logged in one line."""
    engine = engine or get_engine()
    change = upgrade_schema(engine)
    if change is not None and not change.created:
        log.warning(change.line())
    return engine


def drop_all(engine: Engine | None = None) -> None:
    """Drop every table of ours and the schema revision (a newer release's database is refused)."""
    import sqlalchemy as sa
    from sqlmodel import SQLModel

    from marketplace import migrations, models

    engine = engine or get_engine()
    check_connection(engine)
    with engine.connect() as conn:
        migrations.require_known(migrations.current(conn), redact(str(engine.url)))
    # The log first: a database from before revision 0004 still has a foreign key from it to `account`.
    models.AuditEvent.__table__.drop(engine, checkfirst=True)
    SQLModel.metadata.drop_all(engine)
    with engine.begin() as conn:
        conn.execute(sa.text(f"DROP TABLE IF EXISTS {migrations.VERSION_TABLE}"))


def reset(engine: Engine | None = None) -> Engine:
    """Drop and re-create every table at the head revision: an empty sandbox."""
    engine = engine or get_engine()
    drop_all(engine)
    upgrade_schema(engine)
    return engine


def is_seeded(engine: Engine | None = None) -> bool:
    """True when the sandbox has tables and at least one organization."""
    import sqlalchemy as sa

    engine = engine or get_engine()
    check_connection(engine)
    if not sa.inspect(engine).has_table("organization"):
        return False
    with engine.connect() as conn:
        return bool(conn.execute(sa.text("SELECT COUNT(*) FROM organization")).scalar())


@contextmanager
def session_scope(engine: Engine | None = None) -> Iterator[Session]:
    """One transaction: commit on success, roll back everything on any error."""
    from sqlmodel import Session

    session = Session(engine or get_engine(), expire_on_commit=False)
    try:
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()
