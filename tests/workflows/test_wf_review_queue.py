"""The review queue pages by key along the partial index of open stages, on SQLite and PostgreSQL.

Pages concatenated are the whole queue in (due date, id) order; stages added or decided between pages are
never repeated and never make another stage be skipped; the page query walks `ix_review_open_due` (EXPLAIN),
and the size is counted up to a cap.
"""

from __future__ import annotations

from typing import Any

import pytest
import sqlalchemy as sa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from queuefill import add_pending, decide_directly, queue_parties, remove_filled  # tests/ is on sys.path
from sqlmodel import Session

from marketplace import workflows as wf
from marketplace.models import Account, Review
from marketplace.models.requests import OPEN_STAGE_INDEX

pytestmark = pytest.mark.timeout(900)  # a hang guard only


def walk(engine: sa.Engine, steward_id: int, page_size: int, between: Any = None) -> list[wf.QueueKey]:
    """Every page of the steward's queue, each read in its own session; `between(page_number)` may change
    the queue before the next page is read."""
    keys: list[wf.QueueKey] = []
    after = None
    for page in range(100_000):
        with Session(engine) as s:
            rows = wf.review_queue(s, s.get(Account, steward_id), limit=page_size, after=after)
            keys += [wf.queue_key(r) for r in rows]
        if len(rows) < page_size:
            return keys
        after = keys[-1]
        if between is not None:
            between(page)
    raise AssertionError("the queue never ended")


def open_keys(engine: sa.Engine, steward_id: int) -> list[wf.QueueKey]:
    with Session(engine) as s:
        return [wf.queue_key(r) for r in wf.review_queue(s, s.get(Account, steward_id))]


@pytest.fixture
def queue_world(world):
    world.parties = queue_parties(world.engine)
    yield world
    remove_filled(world.engine)


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(n=st.integers(0, 60), page_size=st.integers(1, 25), days=st.integers(1, 10), seed=st.integers(0, 99))
def test_pages_concatenated_are_the_whole_queue_in_order(queue_world, n, page_size, days, seed) -> None:
    engine, parties = queue_world.engine, queue_world.parties
    remove_filled(engine)
    add_pending(engine, parties, n, seed=seed, days=days)
    full = open_keys(engine, parties.steward_id)
    assert len(full) >= n and full == sorted(full) and len(set(full)) == len(full)
    assert walk(engine, parties.steward_id, page_size) == full


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    n=st.integers(1, 60),
    page_size=st.integers(1, 15),
    changes=st.lists(st.tuples(st.integers(0, 8), st.integers(0, 8)), min_size=1, max_size=8),
    seed=st.integers(0, 99),
)
def test_rows_added_or_decided_between_pages_are_never_repeated_or_skipped(queue_world, n, page_size,
                                                                           changes, seed) -> None:
    engine, parties = queue_world.engine, queue_world.parties
    remove_filled(engine)
    add_pending(engine, parties, n, seed=seed, days=5)
    before = open_keys(engine, parties.steward_id)
    decided: set[int] = set()

    def between(page: int) -> None:
        if page >= len(changes):  # then the walk reads on to the end (adding forever, it never would)
            return
        added, closing = changes[page]
        add_pending(engine, parties, added, seed=seed + page + 1, days=5)
        still_open = [k.id for k in open_keys(engine, parties.steward_id) if k.id not in decided]
        chosen = still_open[page % max(1, len(still_open)):][:closing]  # spread over the queue
        decide_directly(engine, chosen)
        decided.update(chosen)

    seen = walk(engine, parties.steward_id, page_size, between)
    assert seen == sorted(seen)  # strictly in queue order: nothing twice
    assert len({k.id for k in seen}) == len(seen)
    stayed_open = [k for k in before if k.id not in decided]
    assert set(stayed_open) <= set(seen)  # open throughout: listed exactly once
    with Session(engine) as s:  # nothing listed after it was decided
        listed_then_decided = [k for k in seen if k.id in decided]
        for key in listed_then_decided:
            assert s.get(Review, key.id).status.value == "decided"


def test_the_count_is_exact_below_the_cap_and_says_more_above(queue_world) -> None:
    engine, parties = queue_world.engine, queue_world.parties
    with Session(engine) as s:
        base = len(wf.review_queue(s, s.get(Account, parties.steward_id)))
    add_pending(engine, parties, 30, seed=1)
    with Session(engine) as s:
        steward = s.get(Account, parties.steward_id)
        assert wf.review_queue_count(s, steward) == wf.QueueCount(base + 30, capped=False)
        assert wf.review_queue_count(s, steward, cap=base + 30) == wf.QueueCount(base + 30, capped=False)
        assert wf.review_queue_count(s, steward, cap=10) == wf.QueueCount(10, capped=True)


def page_plans(engine: sa.Engine, steward_id: int) -> list[str]:
    """The backend's plan of the queries the queue really sends (first page, a later page, the capped
    count), captured with their parameters."""
    sent: list[tuple[str, Any]] = []

    def capture(conn, cursor, statement, parameters, context, executemany) -> None:
        if "ORDER BY review.due_on, review.id" in statement and not statement.startswith("EXPLAIN"):
            sent.append((statement, parameters))

    sa.event.listen(engine, "before_cursor_execute", capture)
    try:
        with Session(engine) as s:
            steward = s.get(Account, steward_id)
            first = wf.review_queue(s, steward, limit=20)
            wf.review_queue(s, steward, limit=20, after=wf.queue_key(first[-1]))
            wf.review_queue_count(s, steward)
    finally:
        sa.event.remove(engine, "before_cursor_execute", capture)
    assert len(sent) == 3
    explain = "EXPLAIN QUERY PLAN " if engine.dialect.name == "sqlite" else "EXPLAIN "
    with engine.connect() as conn:
        return ["\n".join(" ".join(map(str, row)) for row in conn.exec_driver_sql(explain + sql, params))
                for sql, params in sent]


def test_the_page_query_walks_the_partial_index(queue_world) -> None:
    engine, parties = queue_world.engine, queue_world.parties
    ids = add_pending(engine, parties, 20_000, seed=3, days=200)
    decide_directly(engine, ids[::2])  # a history of decided stages, which the partial index leaves out
    if engine.dialect.name == "postgresql":  # PostgreSQL plans from statistics (autovacuum gathers them);
        with engine.begin() as conn:  # a SQLite sandbox file never has any, and its plan must not need them
            conn.exec_driver_sql("ANALYZE")
    for plan in page_plans(engine, parties.steward_id):
        assert OPEN_STAGE_INDEX in plan, plan
        assert "TEMP B-TREE" not in plan and "Sort" not in plan, plan  # read in order, never sorted


def test_sqlite_walks_the_index_without_statistics(sqlite_world) -> None:
    parties = queue_parties(sqlite_world.engine)
    add_pending(sqlite_world.engine, parties, 2_000, seed=4)
    for plan in page_plans(sqlite_world.engine, parties.steward_id):
        assert OPEN_STAGE_INDEX in plan and "TEMP B-TREE" not in plan, plan
