"""Shared fixtures: in-memory SQLite, a real PostgreSQL server, and an `engine` fixture over both backends."""

from __future__ import annotations

import itertools
import os
import signal
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy.engine import Engine
from sqlalchemy.pool import StaticPool
from sqlmodel import SQLModel, create_engine

sys.path.insert(0, str(Path(__file__).parent))  # for `pgserver`

from pgserver import PgServer, start_server

from marketplace import db, models  # noqa: F401  (models: every table on SQLModel.metadata)

_db_counter = itertools.count()


def pytest_sessionstart(session: pytest.Session) -> None:
    """A run stopped by SIGTERM (a CI time limit, `kill`) ends as an interrupted run, so that its session
    fixtures are torn down: the PostgreSQL server stops instead of outliving the run. Processes the tests
    fork get the default handling back (they must die of SIGTERM as they would outside the tests)."""

    def interrupted(signum: int, _frame: object) -> None:
        raise KeyboardInterrupt(f"stopped by signal {signum}")

    signal.signal(signal.SIGTERM, interrupted)
    os.register_at_fork(after_in_child=lambda: signal.signal(signal.SIGTERM, signal.SIG_DFL))


@pytest.fixture(autouse=True)
def _isolated_sandbox(
    tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch
) -> Iterator[None]:
    """No test ever touches the user's real sandbox: default DB lives in a temp dir, engines are forgotten."""
    home = tmp_path_factory.mktemp("home")
    monkeypatch.setenv("MARKETPLACE_HOME", str(home))
    monkeypatch.delenv("MARKETPLACE_DB_URL", raising=False)
    db.dispose_engines()
    yield
    db.dispose_engines()


@pytest.fixture(scope="session")
def pg_server() -> Iterator[PgServer]:
    server = start_server()
    yield server
    server.cleanup()


@pytest.fixture
def pg_url(pg_server: PgServer) -> str:
    """A fresh, empty PostgreSQL database for one test."""
    return pg_server.createdb(f"t{os.getpid()}_{next(_db_counter)}")


def sqlite_memory_engine() -> Engine:
    return create_engine("sqlite://", connect_args={"check_same_thread": False}, poolclass=StaticPool)


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def engine(request: pytest.FixtureRequest) -> Iterator[Engine]:
    """An empty schema on SQLite (in memory) and on a real PostgreSQL server."""
    if request.param == "sqlite":
        eng = sqlite_memory_engine()
    else:
        eng = db.make_engine(request.getfixturevalue("pg_url"))
    SQLModel.metadata.create_all(eng)
    yield eng
    eng.dispose()


@pytest.fixture
def sqlite_engine() -> Iterator[Engine]:
    eng = sqlite_memory_engine()
    SQLModel.metadata.create_all(eng)
    yield eng
    eng.dispose()
