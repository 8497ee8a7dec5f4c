"""50 participant processes against a real PostgreSQL server: nothing lost or doubled, kills and restarts.

Each test keeps all 50 processes (the zero-loss property is about concurrency) but runs them briefly; the
60-second run with its latency figures is `benchmarks/bench_workshop.py`. No timing is asserted here.
"""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from sqlmodel import select

from marketplace import db
from marketplace.models import ActionReceipt
from marketplace.workshop.load import LiveRun, run_workers, verify_run

from .conftest import make_workshop

pytestmark = pytest.mark.postgres

LOAD_MIX = "department=10,enterprise=14,registrar=4,steward=12,security_reviewer=4,operator=6"
WORKERS = 50


def _setup(url: str):
    engine = db.make_engine(url)
    ws = make_workshop(engine, mix=LOAD_MIX, seed=3)
    assert len(ws.seats) == WORKERS
    engine.dispose()  # forked workers must not inherit live connections
    return ws


def _common_checks(result, ws) -> None:
    assert result.unhandled == [], [r.get("trace", r) for r in result.unhandled][:2]
    assert result.problems == [], result.problems[:10]
    conflicts = [r for r in result.of("error") if r["error"] == "ConflictError"]
    assert all("someone else" in r["message"] or "reload" in r["message"] for r in conflicts)
    unexpected = {r["error"] for r in result.of("error")} - {
        "ConflictError",
        "TransitionError",
        "PolicyRefusal",
    }
    assert not unexpected, [r for r in result.of("error") if r["error"] in unexpected][:3]
    assert len(result.acks) >= 10, result.summary()  # a real mix of writes happened
    print(result.summary())


def test_fifty_participants_lose_nothing_and_a_killed_one_leaves_nothing_half_done(
    pg_url: str, tmp_path: Path
) -> None:
    ws = _setup(pg_url)
    kill = {3: 1, 12: 1, 20: 1}  # requesters that SIGKILL themselves inside a write, before it commits
    result = run_workers(
        pg_url, [e.join_code for e in ws.seats], seconds=12, log_dir=tmp_path, seed=11, kill=kill
    )
    engine = db.make_engine(pg_url)
    try:
        verify_run(engine, result, {e.account_id for e in ws.seats})
        _common_checks(result, ws)
        for i, code in enumerate(result.exit_codes):
            assert code == (-9 if i in kill else 0), (i, code)
        with db.session_scope(engine) as s:
            receipts = set(s.exec(select(ActionReceipt.key)).all())
        for worker in kill:
            mine = [r for r in result.records if r["worker"] == worker]
            assert mine[-1]["phase"] == "killing", mine[-3:]
            last_start = [r for r in mine if r["phase"] == "start"][-1]
            assert last_start["key"] not in receipts  # the killed write left nothing behind
    finally:
        engine.dispose()


def test_postgresql_restart_mid_session_loses_no_acknowledged_action(
    pg_server, pg_url: str, tmp_path: Path
) -> None:
    ws = _setup(pg_url)
    restarted: dict[str, float] = {}

    def restart(run: LiveRun) -> None:
        # Driven by what the workers logged, not by the clock: a loaded machine delays the restart
        # instead of restarting before anyone was acknowledged (or ending before anyone carried on).
        assert run.wait_for_acks(after=0.0, count=5, timeout=240), "no writes acknowledged before the restart"
        restarted["down"] = time.time()
        pg_server.restart()
        restarted["up"] = time.time()
        run.wait_for_acks(after=restarted["up"], count=10, timeout=240)
        time.sleep(2)  # let the others meet the new server too
        run.stop()

    result = run_workers(
        pg_url, [e.join_code for e in ws.seats], seconds=300, log_dir=tmp_path, seed=12, during=restart
    )
    engine = db.make_engine(pg_url)
    try:
        verify_run(engine, result, {e.account_id for e in ws.seats})
        _common_checks(result, ws)
        assert result.exit_codes == [0] * WORKERS
        assert [r for r in result.records if r.get("error") == "DatabaseUnavailable"] == []
        after = [r for r in result.acks if r["t"] > restarted["up"]]
        before = [r for r in result.acks if r["t"] < restarted["down"]]
        assert before and after, "clients acted before the restart and carried on after it"
        assert {r["worker"] for r in result.of("done")} == set(range(WORKERS))
    finally:
        engine.dispose()
