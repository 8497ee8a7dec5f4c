"""Fixtures for the workshop tests: a practice marketplace with a trainer and a few participant seats."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from sqlalchemy.engine import Engine

from marketplace import db
from marketplace.workshop import Facilitator, RosterEntry, bootstrap_trainer, facilitate
from marketplace.workshop.practice import build_practice_world

MIX = "department=2,enterprise=2,registrar=1,steward=2,security_reviewer=1,operator=1"


@dataclass
class Workshop:
    engine: Engine
    trainer: RosterEntry
    fac: Facilitator
    seats: list[RosterEntry]

    def seat(self, group: str, n: int = 0) -> RosterEntry:
        return [e for e in self.seats if e.group == group][n]


def make_workshop(engine: Engine, *, mix: str = MIX, seed: int = 0) -> Workshop:
    build_practice_world(engine, seed=seed)
    trainer = bootstrap_trainer(engine)
    fac = facilitate(trainer.join_code, engine)
    total = sum(int(part.split("=")[1]) for part in mix.split(","))
    seats = fac.create_participants(mix, participants=total, seed=seed)
    return Workshop(engine, trainer, fac, seats)


@pytest.fixture
def ws_engine(tmp_path: Path) -> Iterator[Engine]:
    """A SQLite file in WAL mode, as on a one-machine workshop."""
    engine = db.make_engine(f"sqlite:///{tmp_path / 'workshop.db'}")
    yield engine
    engine.dispose()


@pytest.fixture
def workshop(ws_engine: Engine) -> Workshop:
    return make_workshop(ws_engine)


@pytest.fixture(autouse=True)
def _widget_callback_errors() -> Iterator[None]:
    """ipywidgets only logs exceptions raised in callbacks (docs/architecture.md#testing): fail the test."""
    records: list[logging.LogRecord] = []

    class Catch(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            if record.levelno >= logging.WARNING:
                records.append(record)

    handler = Catch()
    logger = logging.getLogger("traitlets")
    logger.addHandler(handler)
    yield
    logger.removeHandler(handler)
    assert not records, [r.getMessage() for r in records]
