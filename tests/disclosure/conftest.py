"""Fixtures of the disclosure tests: the small world of `disclosure_world` on SQLite and PostgreSQL."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session

sys.path.insert(0, str(Path(__file__).parent))  # for `disclosure_world`

from disclosure_world import build_world


@pytest.fixture
def world_engine(engine: Engine) -> Engine:
    """The `engine` fixture (SQLite and PostgreSQL) holding the small world."""
    with Session(engine) as session:
        build_world(session)
        session.commit()
    return engine


@pytest.fixture
def world_sqlite(sqlite_engine: Engine) -> Engine:
    with Session(sqlite_engine) as session:
        build_world(session)
        session.commit()
    return sqlite_engine
