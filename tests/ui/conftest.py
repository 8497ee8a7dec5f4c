"""Fixtures for driving panels headlessly.

ipywidgets catches exceptions raised in button callbacks and only logs them on the `traitlets` logger
(docs/architecture.md#testing), so a crashed handler would pass a naive test. `_callback_errors` (autouse)
captures those records and fails the test. `world` is an in-memory SQLite sandbox seeded once per session and
copied for every test.
"""

from __future__ import annotations

import logging
import sqlite3
from collections.abc import Iterator

import pytest
from sqlalchemy.engine import Engine
from sqlalchemy.pool import StaticPool
from sqlmodel import create_engine

from marketplace.ui import context, i18n


class _Collector(logging.Handler):
    def __init__(self) -> None:
        super().__init__(level=logging.DEBUG)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        if (
            record.levelno >= logging.ERROR
            or record.exc_info
            or "Exception in callback" in record.getMessage()
        ):
            self.records.append(record)


@pytest.fixture(autouse=True)
def _callback_errors() -> Iterator[_Collector]:
    """Fail the test when a widget callback raised (ipywidgets only logs it) or a panel's error area caught
    an unexpected error (logged on `marketplace.ui`); a test that provokes one clears `records`."""
    loggers = [logging.getLogger("traitlets"), logging.getLogger("marketplace.ui")]
    collector = _Collector()
    old_levels = [logger.level for logger in loggers]
    for logger in loggers:
        logger.addHandler(collector)
        logger.setLevel(logging.DEBUG)
    try:
        yield collector
    finally:
        for logger, level in zip(loggers, old_levels, strict=True):
            logger.removeHandler(collector)
            logger.setLevel(level)
    if collector.records:
        formatter = logging.Formatter()
        details = "\n".join(
            r.getMessage() + ("\n" + formatter.formatException(r.exc_info) if r.exc_info else "")
            for r in collector.records
        )
        pytest.fail(f"widget callback raised:\n{details}")


@pytest.fixture(autouse=True)
def _english(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.delenv("MARKETPLACE_LANG", raising=False)
    i18n.reset_language(forget_widgets=True)
    context.set_default_sandbox(None)
    yield
    i18n.reset_language(forget_widgets=True)
    context.set_default_sandbox(None)


def _memory_engine(creator=None) -> Engine:
    kwargs = {"creator": creator} if creator else {}
    return create_engine(
        "sqlite://", connect_args={"check_same_thread": False}, poolclass=StaticPool, **kwargs
    )


@pytest.fixture(scope="session")
def _seeded_template() -> Iterator[sqlite3.Connection]:
    """One seeded world per session (seeding is the slow part); tests get a byte-for-byte copy."""
    from marketplace.synth import ensure_seeded

    template = sqlite3.connect(":memory:", check_same_thread=False)
    engine = _memory_engine(lambda: template)
    ensure_seeded(engine)
    yield template
    template.close()


@pytest.fixture
def world(_seeded_template: sqlite3.Connection) -> Iterator[Engine]:
    """A fresh copy of the seeded sandbox, in memory."""
    conn = sqlite3.connect(":memory:", check_same_thread=False)
    _seeded_template.backup(conn)
    conn.execute("PRAGMA foreign_keys=ON")
    engine = _memory_engine(lambda: conn)
    yield engine
    engine.dispose()
    conn.close()


@pytest.fixture
def sandbox(world: Engine) -> context.Sandbox:
    """Panels' shared state over the copied world, installed as the kernel-wide default."""
    sb = context.Sandbox(world)
    context.set_default_sandbox(sb)
    return sb
