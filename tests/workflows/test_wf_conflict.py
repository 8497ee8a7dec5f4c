"""Two reviewers decide one stage at the same moment from two processes: one lands, one gets a conflict."""

from __future__ import annotations

import multiprocessing as mp

import pytest
from sqlmodel import Session, SQLModel, select

from marketplace import db
from marketplace import workflows as wf
from marketplace.errors import ConflictError
from marketplace.models import AccessRequest, Account, AccountRole, AuditEvent, Review
from marketplace.vocabulary import AuditOutcome, ReviewStatus, Role

from .conftest import make_world


def _decide_worker(url: str, review_id: int, username: str, decision: str, barrier, results) -> None:
    engine = db.make_engine(url)  # each process its own engine and connections
    try:
        with db.session_scope(engine) as s:
            review = s.get(Review, review_id)
            req = review.request
            actor = wf.account(s, username)
            _ = (
                wf.open_review(req),
                list(req.conditions),
                actor.role_names,
                list(req.resource.fields),
                wf.clock.today(s),
                wf.current_policy(s),
            )
            barrier.wait(timeout=60)  # both have read the same version of the stage
            wf.decide(s, actor, review, decision, reason="concurrent test" if decision != "approve" else "")
        results.put(("ok", username))
    except ConflictError as exc:
        results.put(("conflict", str(exc)))
    except Exception as exc:  # pragma: no cover - reported to the parent as a failure
        results.put(("error", repr(exc)))
    finally:
        engine.dispose()


def _second_registrar(engine) -> None:
    with db.session_scope(engine) as s:
        first = wf.accounts_with_role(s, Role.registrar)[0]
        twin = Account(
            username="registrar.twin", display_name="Second registrar", organization_id=first.organization_id
        )
        s.add(twin)
        s.flush()
        s.add(AccountRole(account_id=twin.id, role=Role.registrar))


def _race(url: str) -> tuple[list[tuple[str, str]], object]:
    engine = db.make_engine(url)
    SQLModel.metadata.create_all(engine)
    world = make_world(engine)
    _second_registrar(engine)
    rid = world.conditional_sharing()
    with Session(engine) as s:
        review_id = wf.open_review(s.get(AccessRequest, rid)).id
    engine.dispose()
    ctx = mp.get_context("fork")
    barrier, results = ctx.Barrier(2), ctx.Queue()
    procs = [
        ctx.Process(target=_decide_worker, args=(url, review_id, name, decision, barrier, results))
        for name, decision in (("registrar.data-bureau", "approve"), ("registrar.twin", "reject"))
    ]
    for p in procs:
        p.start()
    for p in procs:
        p.join(timeout=120)
    outcomes = sorted(results.get(timeout=5) for _ in procs)
    return outcomes, (world, review_id, rid)


def _check(outcomes, ctx) -> None:
    world, review_id, rid = ctx
    kinds = [k for k, _ in outcomes]
    assert kinds == ["conflict", "ok"], outcomes
    assert "changed by someone else" in outcomes[0][1]
    winner = outcomes[1][1]
    with Session(world.engine) as s:
        review = s.get(Review, review_id)
        assert review.status is ReviewStatus.decided
        assert review.reviewer_id == wf.account(s, winner).id
        decided = s.exec(select(AuditEvent).where(AuditEvent.action == "review.decide")).all()
        assert sorted(e.outcome for e in decided) == sorted([AuditOutcome.ok, AuditOutcome.refused])
        refused = next(e for e in decided if e.outcome is AuditOutcome.refused)
        assert refused.payload["error"] == "ConflictError" and refused.subject_id == rid
        req = s.get(AccessRequest, rid)
        assert req.status.value in ("in_review", "rejected")
    assert world.verify().ok


@pytest.mark.postgres
def test_two_processes_deciding_the_same_stage_on_postgresql(pg_url):
    outcomes, ctx = _race(pg_url)
    _check(outcomes, ctx)


def test_two_processes_deciding_the_same_stage_on_sqlite_file(tmp_path):
    outcomes, ctx = _race(f"sqlite:///{tmp_path / 'race.db'}")
    _check(outcomes, ctx)


def _append_worker(url: str, n: int, barrier, results) -> None:
    from marketplace.workflows import audit

    engine = db.make_engine(url)
    try:
        barrier.wait(timeout=60)
        for i in range(n):
            with db.session_scope(engine) as s:
                audit.record(s, None, "test.append", ("test", i), {"i": i})
        results.put("ok")
    except Exception as exc:  # pragma: no cover - reported to the parent as a failure
        results.put(repr(exc))
    finally:
        engine.dispose()


def _concurrent_appends(url: str, workers: int = 4, n: int = 15) -> None:
    engine = db.make_engine(url)
    SQLModel.metadata.create_all(engine)
    engine.dispose()
    ctx = mp.get_context("fork")
    barrier, results = ctx.Barrier(workers), ctx.Queue()
    procs = [ctx.Process(target=_append_worker, args=(url, n, barrier, results)) for _ in range(workers)]
    for p in procs:
        p.start()
    for p in procs:
        p.join(timeout=120)
    assert sorted(results.get(timeout=5) for _ in procs) == ["ok"] * workers
    engine = db.make_engine(url)
    with Session(engine) as s:
        check = wf.verify_chain(s)
        seqs = [e.seq for e in wf.audit_events(s)]
    engine.dispose()
    assert check.ok and check.checked == workers * n, check
    assert seqs == list(range(1, workers * n + 1))


@pytest.mark.postgres
def test_concurrent_writers_never_fork_the_chain_on_postgresql(pg_url):
    _concurrent_appends(pg_url)


def test_concurrent_writers_never_fork_the_chain_on_sqlite_file(tmp_path):
    _concurrent_appends(f"sqlite:///{tmp_path / 'chain.db'}")
