"""Complete request lifecycles per second through the workflows, on SQLite and PostgreSQL.

One lifecycle = a department's sharing request for another department's conditional resource, each
workflow call its own transaction that first loads its actor and subject by id, as the widgets do: create,
submit (policy routing, conditions, two review stages), compliance decision, holder decision (approval and
grant), delivery of 20 rows — with every audit event (7) and the hash chain verified at the end. The request
widget files create and submit in one transaction; five transactions is the slower, conservative shape, and
the target is checked on it (the four-transaction figure is printed beside it).
The baseline is the same number of raw single-row INSERT transactions into the request table on the same
engine, measured in the same run. Deliveries use synthetic rows made once (`--synth-each` makes them per
delivery, which adds the cost of `marketplace.synth.rows`).

    .venv/bin/python benchmarks/bench_workflows.py [--n 300] [--synth-each]
"""

from __future__ import annotations

import argparse
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

import sqlalchemy as sa
from sqlmodel import Session, SQLModel, select

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

from marketplace import db
from marketplace import workflows as wf
from marketplace.models import AccessRequest, Account, Resource
from marketplace.synth import rows as synth_rows
from marketplace.synth import seed_sandbox
from marketplace.vocabulary import OrganizationKind, Role


def _cast(engine: sa.Engine) -> tuple[int, int, int, int]:
    """(requester, resource, registrar, holder steward) ids for the lifecycle."""
    with Session(engine) as s:
        for res in s.exec(select(Resource).order_by(Resource.id)).all():
            stewards = wf.accounts_with_role(s, Role.steward, org_id=res.holder_id)
            if res.sharing_attribute.value == "conditional" and stewards:
                dept = next(
                    a
                    for a in wf.accounts_with_role(s, Role.requester)
                    if a.organization.kind is OrganizationKind.department
                    and a.organization_id != res.holder_id
                )
                return dept.id, res.id, wf.accounts_with_role(s, Role.registrar)[0].id, stewards[0].id
    raise RuntimeError("no conditional sharing resource in the seeded world")


def lifecycles(engine: sa.Engine, n: int, synth_each: bool = False, filed_at_once: bool = False) -> float:
    """Seconds for `n` lifecycles; `filed_at_once`: create and submit in one transaction (the request
    widget's and the workshop's shape: four transactions instead of five)."""
    dept_id, res_id, reg_id, steward_id = _cast(engine)
    with Session(engine) as s:
        frame = None if synth_each else synth_rows(s.get(Resource, res_id), 20, 0)
    start = time.perf_counter()
    for i in range(n):
        with db.session_scope(engine) as s:
            dept, res = s.get(Account, dept_id), s.get(Resource, res_id)
            req = wf.create_request(s, dept, resource=res, channel="sharing", purpose="public_governance")
            rid = req.id
            if filed_at_once:
                wf.submit_request(s, dept, req)
        if not filed_at_once:
            with db.session_scope(engine) as s:
                wf.submit_request(s, s.get(Account, dept_id), s.get(AccessRequest, rid))
        with db.session_scope(engine) as s:
            req = s.get(AccessRequest, rid)
            wf.decide(s, s.get(Account, reg_id), wf.open_review(req), "approve")
        with db.session_scope(engine) as s:
            req = s.get(AccessRequest, rid)
            wf.decide(s, s.get(Account, steward_id), wf.open_review(req), "approve")
        with db.session_scope(engine) as s:
            req = s.get(AccessRequest, rid)
            wf.deliver(s, s.get(Account, steward_id), req, rows=20, seed=i, frame=frame)
            assert req.status.value == "delivered"
    return time.perf_counter() - start


def raw_inserts(engine: sa.Engine, n: int) -> float:
    table = AccessRequest.__table__
    with Session(engine) as s:
        dept = s.get(Account, _cast(engine)[0])
        org_id, acc_id = dept.organization_id, dept.id
    now = datetime.now(UTC)
    start = time.perf_counter()
    for i in range(n):
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
    return time.perf_counter() - start


def run(name: str, engine: sa.Engine, n: int, synth_each: bool) -> float:
    SQLModel.metadata.create_all(engine)
    seed_sandbox(engine, 7, "small")
    lifecycles(engine, min(20, n), synth_each)  # warm caches (policy, compiled tables, synth pools)
    seed_sandbox(engine, 7, "small")
    t_life = lifecycles(engine, n, synth_each)
    t_raw = raw_inserts(engine, n)
    t_four = lifecycles(engine, n, synth_each, filed_at_once=True)
    with Session(engine) as s:
        check = wf.verify_chain(s)
    assert check.ok, check
    rate = n / t_life
    print(
        f"{name:<22} {n} lifecycles in {t_life:6.2f} s = {rate:7.1f} lifecycles/s "
        f"({1000 * t_life / n:5.2f} ms each); "
        f"{n} raw inserts in {t_raw:5.2f} s = {n / t_raw:8.1f}/s; "
        f"ratio lifecycle/insert = {t_life / t_raw:5.1f}x\n"
        f"{'':<22} filed at once (create + submit in one transaction, as the request widget does): "
        f"{n / t_four:7.1f} lifecycles/s ({t_four / t_raw:4.1f}x); "
        f"{check.checked} audit events, chain verified"
    )
    return rate


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=300, help="lifecycles per backend")
    parser.add_argument("--synth-each", action="store_true", help="generate synthetic rows per delivery")
    args = parser.parse_args()
    rates = {}
    rates["sqlite (memory)"] = run("sqlite (memory)", db.make_engine("sqlite://"), args.n, args.synth_each)
    import tempfile

    with tempfile.TemporaryDirectory() as tmp:
        eng = db.make_engine(f"sqlite:///{tmp}/bench.db")
        rates["sqlite (file, WAL)"] = run("sqlite (file, WAL)", eng, args.n, args.synth_each)
        eng.dispose()
    from pgserver import start_server

    server = start_server()
    try:
        eng = db.make_engine(server.createdb("bench"))
        rates["postgresql"] = run("postgresql", eng, args.n, args.synth_each)
        eng.dispose()
    finally:
        server.cleanup()
    target = 200
    best_sqlite = max(rates["sqlite (memory)"], rates["sqlite (file, WAL)"])
    print(
        f"target >= {target} lifecycles/s on SQLite: {'met' if best_sqlite >= target else 'NOT met'} "
        f"(memory {rates['sqlite (memory)']:.0f}/s, file {rates['sqlite (file, WAL)']:.0f}/s)"
    )


if __name__ == "__main__":
    main()
