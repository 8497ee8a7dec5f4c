"""Workflow step latency as a user feels it: p50/p95 per step with 10,000 requests in the database.

One lifecycle = a department's sharing request for another department's conditional resource, each step its
own transaction that first loads its actor and subject by id, as the widgets do: create, submit (policy
routing, conditions, two review stages), compliance decision, holder decision (approval and grant), delivery
of 20 rows, every step writing its audit events through the session hook; the chain is verified at the end.
Before timing, 10,000 requests (with their review stages) are put in the database, so indexes and queue
queries work at a realistic size.
The baseline is a raw single-row INSERT transaction into the request table on the same engine, timed in the
same run: each step's p95 is also printed as a ratio to the baseline's p95.
Targets: p95 of every step <= 30 ms on SQLite, <= 50 ms on PostgreSQL.

    .venv/bin/python benchmarks/bench_workflows.py [--n 200] [--backlog 10000]
"""

from __future__ import annotations

import argparse
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlmodel import Session, SQLModel, select

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

from marketplace import db
from marketplace import workflows as wf
from marketplace.models import AccessRequest, Account, Resource, Review
from marketplace.policy import load_policy
from marketplace.policy.compute import delivery_mode
from marketplace.synth import rows as synth_rows
from marketplace.synth import seed_sandbox
from marketplace.vocabulary import Channel, DeliveryMode, OrganizationKind, Role


def _cast(engine: sa.Engine) -> tuple[int, int, int, int]:
    """(requester, resource, registrar, holder steward) ids for the lifecycle."""
    policy = load_policy("national-2025")
    with Session(engine) as s:
        for res in s.exec(select(Resource).order_by(Resource.id)).all():
            stewards = wf.accounts_with_role(s, Role.steward, org_id=res.holder_id)
            # rows may be delivered (important data goes to computation only under national-2025)
            rows = delivery_mode(
                policy, res.grade, Channel.sharing, domain=res.domain, source=res.source
            ) is not DeliveryMode.compute
            if res.sharing_attribute.value == "conditional" and stewards and rows:
                dept = next(
                    a
                    for a in wf.accounts_with_role(s, Role.requester)
                    if a.organization.kind is OrganizationKind.department
                    and a.organization_id != res.holder_id
                )
                return dept.id, res.id, wf.accounts_with_role(s, Role.registrar)[0].id, stewards[0].id
    raise RuntimeError("no conditional sharing resource with row delivery in the seeded world")


STEPS = ("create", "submit", "decide (compliance)", "decide (holder, grants)", "deliver")


def backlog(engine: sa.Engine, count: int) -> None:
    """`count` requests in various states, each with its review stages, written in bulk (not timed)."""
    dept_id, res_id, _, _ = _cast(engine)
    with Session(engine) as s:
        dept = s.get(Account, dept_id)
        org_id = dept.organization_id
    now = datetime.now(UTC)
    states = ("draft", "in_review", "approved", "granted", "delivered", "rejected", "withdrawn")
    requests = AccessRequest.__table__
    reviews = Review.__table__
    with engine.begin() as conn:
        first = conn.execute(sa.select(sa.func.coalesce(sa.func.max(requests.c.id), 0))).scalar_one() + 1
        conn.execute(
            requests.insert(),
            [
                {
                    "id": first + i,
                    "code": f"BACKLOG-{i:06d}",
                    "requester_id": dept_id,
                    "requester_org_id": org_id,
                    "channel": "sharing",
                    "resource_id": res_id,
                    "purpose": "public_governance",
                    "use_statement": "",
                    "fields": [],
                    "volume": 1,
                    "duration_days": 365,
                    "status": states[i % len(states)],
                    "policy_name": "national-2025",
                    "created_at": now,
                    "version": 1,
                }
                for i in range(count)
            ],
        )
        conn.execute(
            reviews.insert(),
            [
                {
                    "request_id": first + i,
                    "sequence": k,
                    "stage": stage,
                    "reviewer_role": role,
                    "status": "pending" if states[i % len(states)] == "in_review" else "decided",
                    "opened_at": now if k == 0 else None,
                    "due_on": now.date(),
                    "breached": False,
                    "reason": "",
                    "version": 1,
                }
                for i in range(count)
                for k, (stage, role) in enumerate((("compliance", "registrar"), ("holder", "steward")))
            ],
        )
        if engine.dialect.name == "postgresql":
            conn.execute(
                sa.text("SELECT setval(pg_get_serial_sequence('accessrequest', 'id'), :n)"),
                {"n": first + count},
            )


def lifecycles(engine: sa.Engine, n: int) -> dict[str, list[float]]:
    """Seconds each step took, per step, over `n` lifecycles."""
    dept_id, res_id, reg_id, steward_id = _cast(engine)
    with Session(engine) as s:
        frame = synth_rows(s.get(Resource, res_id), 20, 0)
    took: dict[str, list[float]] = {name: [] for name in STEPS}

    def timed(name: str, fn: Any) -> Any:
        start = time.perf_counter()
        out = fn()
        took[name].append(time.perf_counter() - start)
        return out

    def create() -> int:
        with db.session_scope(engine) as s:
            dept, res = s.get(Account, dept_id), s.get(Resource, res_id)
            return wf.create_request(s, dept, resource=res, channel="sharing", purpose="public_governance").id

    for i in range(n):
        rid = timed("create", create)

        def submit(rid: int = rid) -> None:
            with db.session_scope(engine) as s:
                wf.submit_request(s, s.get(Account, dept_id), s.get(AccessRequest, rid))

        def decide(by: int, rid: int = rid) -> Any:
            def run() -> None:
                with db.session_scope(engine) as s:
                    req = s.get(AccessRequest, rid)
                    wf.decide(s, s.get(Account, by), wf.open_review(req), "approve")

            return run

        def deliver(rid: int = rid, i: int = i) -> None:
            with db.session_scope(engine) as s:
                req = s.get(AccessRequest, rid)
                wf.deliver(s, s.get(Account, steward_id), req, rows=20, seed=i, frame=frame)
                assert req.status.value == "delivered"

        timed("submit", submit)
        timed("decide (compliance)", decide(reg_id))
        timed("decide (holder, grants)", decide(steward_id))
        timed("deliver", deliver)
    return took


def quantile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def raw_inserts(engine: sa.Engine, n: int) -> list[float]:
    """Seconds of each of `n` raw single-row INSERT transactions (the baseline)."""
    table = AccessRequest.__table__
    with Session(engine) as s:
        dept = s.get(Account, _cast(engine)[0])
        org_id, acc_id = dept.organization_id, dept.id
    now = datetime.now(UTC)
    took = []
    for i in range(n):
        start = time.perf_counter()
        with engine.begin() as conn:
            conn.execute(
                table.insert().values(
                    code=f"RAW-{i:06d}",
                    requester_id=acc_id,
                    requester_org_id=org_id,
                    channel="sharing",
                    purpose="public_governance",
                    use_statement="",
                    fields=[],
                    volume=1,
                    duration_days=365,
                    status="draft",
                    policy_name="",
                    created_at=now,
                    version=1,
                )
            )
        took.append(time.perf_counter() - start)
    return took


def run(name: str, engine: sa.Engine, n: int, count: int) -> float:
    """Print each step's p50/p95 and its ratio to the baseline; returns the worst step p95 in ms."""
    SQLModel.metadata.create_all(engine)
    seed_sandbox(engine, 7, "small")
    backlog(engine, count)
    lifecycles(engine, min(10, n))  # warm caches (policy, compiled statements, synthetic pools)
    took = lifecycles(engine, n)
    base = raw_inserts(engine, n)
    with Session(engine) as s:
        check = wf.verify_chain(s)
        total = s.exec(select(sa.func.count()).select_from(AccessRequest)).one()
    assert check.ok, check
    b95 = quantile(base, 0.95) * 1000
    print(f"{name}: {total} requests in the database; baseline raw insert p95 {b95:.2f} ms")
    worst = 0.0
    for step_name, values in took.items():
        p50, p95 = quantile(values, 0.5) * 1000, quantile(values, 0.95) * 1000
        worst = max(worst, p95)
        print(f"  {step_name:<26} p50 {p50:6.2f} ms  p95 {p95:6.2f} ms  ({p95 / b95:5.1f}x baseline p95)")
    print(f"  {check.checked} audit events, chain verified")
    return worst


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=200, help="lifecycles per backend")
    parser.add_argument("--backlog", type=int, default=10_000, help="requests put in the database first")
    args = parser.parse_args()
    worst = {}
    worst["sqlite (memory)"] = run("sqlite (memory)", db.make_engine("sqlite://"), args.n, args.backlog)
    import tempfile

    with tempfile.TemporaryDirectory() as tmp:
        eng = db.make_engine(f"sqlite:///{tmp}/bench.db")
        worst["sqlite (file, WAL)"] = run("sqlite (file, WAL)", eng, args.n, args.backlog)
        eng.dispose()
    from pgserver import start_server

    server = start_server()
    try:
        eng = db.make_engine(server.createdb("bench"))
        worst["postgresql"] = run("postgresql", eng, args.n, args.backlog)
        eng.dispose()
    finally:
        server.cleanup()
    sqlite = max(worst["sqlite (memory)"], worst["sqlite (file, WAL)"])
    print(
        f"target step p95 <= 30 ms on SQLite: {'met' if sqlite <= 30 else 'NOT met'} ({sqlite:.1f} ms); "
        f"<= 50 ms on PostgreSQL: {'met' if worst['postgresql'] <= 50 else 'NOT met'} "
        f"({worst['postgresql']:.1f} ms)"
    )


if __name__ == "__main__":
    main()
