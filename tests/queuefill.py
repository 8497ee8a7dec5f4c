"""Review queues of any length, bulk-inserted through SQLAlchemy Core into a seeded sandbox.

Used by the review-queue tests (`tests/workflows/test_wf_review_queue.py`) and by
`benchmarks/bench_review_queue.py`: building a million open stages one workflow step at a time would take
hours, and what is measured is reading the queue, not filing requests.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from marketplace.models import AccessRequest, Account, AccountRole, Resource, Review

CODE_PREFIX = "REQ-QUEUE-"
OPENED = datetime(2025, 3, 3, 9, tzinfo=UTC)
FIRST_DUE = date(2025, 3, 20)


@dataclass(frozen=True)
class QueueParties:
    """Who files and who reviews the bulk requests: a requester, and a steward of the resource's holder."""

    resource_id: int
    holder_id: int
    requester_id: int
    requester_org_id: int
    steward_id: int


def queue_parties(engine: Engine) -> QueueParties:
    """A resource whose holder has a steward, and a requester of another organization (seeded world)."""
    with Session(engine) as s:
        stewards = s.exec(
            select(Account).join(AccountRole).where(AccountRole.role == "steward").order_by(Account.id)
        ).all()
        holders = {a.organization_id: a.id for a in reversed(stewards)}
        res = s.exec(select(Resource).where(Resource.holder_id.in_(holders)).order_by(Resource.id)).first()
        requester = s.exec(
            select(Account).join(AccountRole).where(AccountRole.role == "requester")
            .where(Account.organization_id != res.holder_id).order_by(Account.id)
        ).first()
        return QueueParties(res.id, res.holder_id, requester.id, requester.organization_id,
                            holders[res.holder_id])


def next_id(conn: sa.Connection, table: sa.Table) -> int:
    return int(conn.execute(sa.select(sa.func.coalesce(sa.func.max(table.c.id), 0))).scalar()) + 1


def add_pending(engine: Engine, parties: QueueParties, n: int, *, seed: int, days: int = 60,
                chunk: int = 50_000) -> list[int]:
    """Add `n` requests in review, each with one open holder stage due on a seeded day among `days` (many
    share a day, so the id breaks ties); returns the new stages' ids."""
    rng = random.Random(seed)
    request_table, review_table = AccessRequest.__table__, Review.__table__
    ids: list[int] = []
    with engine.begin() as conn:
        first_request = next_id(conn, request_table)
        first_review = next_id(conn, review_table)
        for lo in range(0, n, chunk):
            hi = min(n, lo + chunk)
            conn.execute(sa.insert(request_table), [
                {"id": first_request + i, "code": f"{CODE_PREFIX}{first_request + i}",
                 "requester_id": parties.requester_id, "requester_org_id": parties.requester_org_id,
                 "channel": "opening", "resource_id": parties.resource_id, "purpose": "research",
                 "use_statement": "queue", "project_reference": "", "fields": [], "volume": 1,
                 "duration_days": 365, "status": "in_review", "policy_name": "national-2025",
                 "created_at": OPENED, "submitted_at": OPENED, "updated_at": OPENED, "version": 1}
                for i in range(lo, hi)
            ])
            conn.execute(sa.insert(review_table), [
                {"id": first_review + i, "request_id": first_request + i, "sequence": 0, "stage": "holder",
                 "reviewer_role": "steward", "reviewer_org_id": parties.holder_id, "status": "pending",
                 "opened_at": OPENED, "due_on": FIRST_DUE + timedelta(days=rng.randrange(days)),
                 "breached": False, "reason": "", "version": 1}
                for i in range(lo, hi)
            ])
            ids.extend(range(first_review + lo, first_review + hi))
    return ids


def decide_directly(engine: Engine, review_ids: list[int]) -> None:
    """Close stages without the workflow (the queue must simply stop listing them)."""
    if review_ids:
        with engine.begin() as conn:
            conn.execute(sa.update(Review.__table__).where(Review.__table__.c.id.in_(review_ids))
                         .values(status="decided", decision="approve"))


def remove_filled(engine: Engine) -> None:
    """Delete every bulk request and its stages (tests reuse one seeded world across examples)."""
    requests, reviews = AccessRequest.__table__, Review.__table__
    filled = requests.c.code.like(f"{CODE_PREFIX}%")
    with engine.begin() as conn:
        conn.execute(sa.delete(reviews).where(reviews.c.request_id.in_(sa.select(requests.c.id).where(filled))))
        conn.execute(sa.delete(requests).where(filled))
