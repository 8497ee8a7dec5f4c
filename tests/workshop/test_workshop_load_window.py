"""A load run's window opens when every participant has joined, not at a fixed moment after the fork.

A loaded machine (a long test run, a busy classroom server) can take longer to start and join participants
than any fixed warm-up: the run then measured nothing, or only the fastest joiners. No timing is asserted:
only the order of what the workers logged.
"""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from marketplace import db
from marketplace.workshop.agents import Agent
from marketplace.workshop.load import run_workers, verify_run

from .conftest import make_workshop

SLOW_JOIN_S = 5.0  # longer than the whole run below


@pytest.mark.timeout(300)
def test_every_participant_gets_the_whole_window_however_long_joining_takes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    url = f"sqlite:///{tmp_path / 'ws.db'}"
    engine = db.make_engine(url)
    ws = make_workshop(engine, mix="enterprise=1,registrar=1", seed=3)
    engine.dispose()
    original = Agent.warm_up

    def slow_warm_up(self: Agent) -> None:  # the forked workers inherit this
        time.sleep(SLOW_JOIN_S)
        original(self)

    monkeypatch.setattr(Agent, "warm_up", slow_warm_up)
    result = run_workers(
        url,
        [s.join_code for s in ws.seats],
        seconds=1.5,
        log_dir=tmp_path / "logs",
        seed=3,
        think_s=(0.05, 0.1),
    )
    engine = db.make_engine(url)
    verify_run(engine, result, {s.account_id for s in ws.seats})
    engine.dispose()
    assert result.unhandled == [] and result.problems == []
    ready = result.of("ready")
    assert len(ready) == 2
    assert all(r["after_s"] >= SLOW_JOIN_S for r in ready), ready
    last_ready = max(r["t"] for r in ready)
    for worker in range(2):
        acted = [
            r for r in result.records if r["worker"] == worker and r["phase"] in ("ack", "read", "error")
        ]
        assert acted, (
            f"worker {worker} did nothing: {[r['phase'] for r in result.records if r['worker'] == worker]}"
        )
        assert min(r["t"] for r in acted) >= last_ready  # nobody started before everyone had joined
    assert result.seconds == 1.5
    assert result.summary()["slowest_join_s"] >= SLOW_JOIN_S
