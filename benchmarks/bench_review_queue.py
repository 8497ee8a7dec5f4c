"""One page of the review queue at 10 k / 100 k / 1 M open stages, on SQLite and PostgreSQL.

    .venv/bin/python benchmarks/bench_review_queue.py [--sizes 10000,100000,1000000]
                                                      [--backends sqlite,postgresql] [--rounds 9]

The queue pages by key along the partial index of open stages (`ix_review_open_due`) and counts up to
`QUEUE_COUNT_CAP`. For each size the script prints, as medians in ms:

- `key first` / `key deep`: `review_queue(limit=21)` from the start and after the key of the stage halfway
  down the queue (what the panel asks for one page), plus the capped count (`count`);
- `offset first` / `offset deep` / `full count`: the same page as the queue read it before (every open stage
  sorted, LIMIT/OFFSET, an exact COUNT), the baseline this replaces, timed in the same run;
- `select 1`: a trivial query through a session, for the machine's speed at the moment.

Ratios: `offset deep / key deep` and `key deep / select 1`. Target (issue #21): a page within 20 ms at 1 M on
both backends. The stages are built by bulk inserts through SQLAlchemy Core (`tests/queuefill.py`) into a
seeded sandbox; PostgreSQL is analyzed after each fill (autovacuum would do the same), SQLite never is (a
sandbox file has no statistics).
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "tests"))

import sqlalchemy as sa  # noqa: E402
from queuefill import add_pending, queue_parties  # noqa: E402
from sqlmodel import Session, func, or_, select  # noqa: E402

from marketplace import db  # noqa: E402
from marketplace.models import AccessRequest, Account, AccountRole, Review  # noqa: E402
from marketplace.synth import seed_sandbox  # noqa: E402
from marketplace.vocabulary import RequestStatus, ReviewStatus  # noqa: E402
from marketplace.workflows.reviews import queue_key, review_queue, review_queue_count  # noqa: E402

PAGE = 20


def offset_query(session: Session, actor: Account) -> Any:
    """The queue as it was read before keyset paging: every open stage of the actor, to be sorted."""
    roles = [r.role for r in session.exec(select(AccountRole).where(AccountRole.account_id == actor.id))]
    return select(Review).join(AccessRequest).where(
        Review.status.in_([ReviewStatus.pending, ReviewStatus.escalated]),
        Review.opened_at.is_not(None),
        Review.reviewer_role.in_(roles),
        or_(Review.reviewer_org_id.is_(None), Review.reviewer_org_id == actor.organization_id),
        AccessRequest.status == RequestStatus.in_review,
        AccessRequest.requester_id != actor.id,
    )


def median_ms(engine: sa.Engine, rounds: int, fn: Callable[[Session], Any]) -> float:
    """Median ms of `fn(session)`, each round in a new session (as the panel opens one per page)."""
    times = []
    for i in range(rounds + 1):
        with Session(engine) as s:
            t0 = time.perf_counter()
            fn(s)
            if i:  # the first round warms the connection pool and the statement caches
                times.append((time.perf_counter() - t0) * 1000)
    return statistics.median(times)


def measure(engine: sa.Engine, steward_id: int, size: int, rounds: int) -> dict[str, float]:
    with Session(engine) as s:
        steward = s.get(Account, steward_id)
        middle = s.exec(offset_query(s, steward).order_by(Review.due_on, Review.id).offset(size // 2)
                        .limit(1)).one()
        key = queue_key(middle)

    def actor(s: Session) -> Account:
        return s.get(Account, steward_id)

    slow = max(3, rounds // 3) if size >= 100_000 else rounds
    ordered = Review.due_on, Review.id
    return {
        "select 1": median_ms(engine, rounds, lambda s: s.exec(select(1)).one()),
        "key first": median_ms(engine, rounds, lambda s: review_queue(s, actor(s), limit=PAGE + 1)),
        "key deep": median_ms(engine, rounds, lambda s: review_queue(s, actor(s), limit=PAGE + 1, after=key)),
        "count": median_ms(engine, rounds, lambda s: review_queue_count(s, actor(s))),
        "offset first": median_ms(engine, slow, lambda s: s.exec(
            offset_query(s, actor(s)).order_by(*ordered).limit(PAGE)).all()),
        "offset deep": median_ms(engine, slow, lambda s: s.exec(
            offset_query(s, actor(s)).order_by(*ordered).offset(size // 2).limit(PAGE)).all()),
        "full count": median_ms(engine, slow, lambda s: s.exec(
            select(func.count()).select_from(offset_query(s, actor(s)).subquery())).one()),
    }


def run(backend: str, url: str, sizes: list[int], rounds: int) -> None:
    engine = db.make_engine(url)
    db.upgrade_schema(engine)
    seed_sandbox(engine, 42, "small", "en_US", reset=True)
    parties = queue_parties(engine)
    filled = 0
    print(f"\n{backend}")
    print(f"{'open stages':>12} {'fill s':>7} {'select 1':>9} {'key first':>10} {'key deep':>9} "
          f"{'count':>7} {'offset first':>13} {'offset deep':>12} {'full count':>11} {'offset/key':>11} "
          f"{'key/select1':>12}")
    for size in sizes:
        t0 = time.perf_counter()
        add_pending(engine, parties, size - filled, seed=size, days=365)
        filled = size
        if engine.dialect.name == "postgresql":
            with engine.begin() as conn:
                conn.exec_driver_sql("ANALYZE review")
                conn.exec_driver_sql("ANALYZE accessrequest")
        fill = time.perf_counter() - t0
        m = measure(engine, parties.steward_id, size, rounds)
        print(f"{size:>12,} {fill:>7.1f} {m['select 1']:>9.2f} {m['key first']:>10.2f} "
              f"{m['key deep']:>9.2f} {m['count']:>7.2f} {m['offset first']:>13.1f} "
              f"{m['offset deep']:>12.1f} {m['full count']:>11.1f} "
              f"{m['offset deep'] / m['key deep']:>10.0f}x {m['key deep'] / m['select 1']:>11.1f}x",
              flush=True)
    engine.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="10000,100000,1000000")
    parser.add_argument("--backends", default="sqlite,postgresql")
    parser.add_argument("--rounds", type=int, default=9)
    args = parser.parse_args()
    sizes = sorted(int(s) for s in args.sizes.split(","))
    print(f"load average (1 min) at start: {os.getloadavg()[0]:.2f} on {os.cpu_count()} cores; "
          f"page = {PAGE} stages (+1 to know whether a next page exists)")
    backends = args.backends.split(",")
    if "sqlite" in backends:
        with tempfile.TemporaryDirectory() as tmp:
            run("sqlite", f"sqlite:///{tmp}/queue.db", sizes, args.rounds)
    if "postgresql" in backends:
        from pgserver import start_server

        server = start_server()
        try:
            run("postgresql", server.createdb("queue"), sizes, args.rounds)
        finally:
            server.cleanup()
    print(f"\nload average (1 min) at end: {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
