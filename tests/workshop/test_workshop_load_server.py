"""The workshop load run through the server: participant processes that hold only its URL, on SQLite and on
a real PostgreSQL server. Light (8 processes for a few seconds); the 50-process comparison with the direct run
is `benchmarks/bench_workshop_server.py`. No timing is asserted."""

from __future__ import annotations

from pathlib import Path

import pytest

from marketplace import db
from marketplace.workshop.load import run_workers, verify_run
from marketplace.workshop.server import ServerSettings, ServerThread, WorkshopServer

from .conftest import make_workshop

MIX = "department=2,enterprise=2,registrar=1,steward=2,operator=1"
EXPECTED_REFUSALS = {"ConflictError", "PermissionDenied", "TransitionError", "PolicyRefusal", "InvalidInput"}


@pytest.mark.timeout(600)
@pytest.mark.parametrize("backend", ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def test_load_through_the_server_loses_and_doubles_nothing(
    backend: str, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    url = f"sqlite:///{tmp_path / 'ws.db'}" if backend == "sqlite" else request.getfixturevalue("pg_url")
    engine = db.make_engine(url)
    ws = make_workshop(engine, mix=MIX, seed=2)
    server = WorkshopServer(engine, ServerSettings())
    with ServerThread(server.app) as running:
        # The workers get no database URL at all: only the server's address and their code.
        result = run_workers(
            "",
            [s.join_code for s in ws.seats],
            seconds=4,
            log_dir=tmp_path / "logs",
            seed=2,
            think_s=(0.05, 0.2),
            server_url=running.url,
        )
    verify_run(engine, result, {s.account_id for s in ws.seats})
    engine.dispose()
    assert result.unhandled == [], [r.get("trace", r) for r in result.unhandled][:2]
    assert result.problems == [], result.problems[:10]
    assert {r["error"] for r in result.of("error")} <= EXPECTED_REFUSALS
    assert len(result.of("ready")) == len(ws.seats)
    assert result.acks and result.checked_events > 0
