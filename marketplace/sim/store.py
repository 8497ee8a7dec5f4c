"""`simulate --db`: store a run's requests, reviews, quotes, payments, grants and deliveries in the sandbox.

Mapping: the simulator's organizations, resources and products carry the codes the synthetic world gives them,
and `marketplace seed` writes the same world (same size, seed, locale) under the same codes. The sandbox's
`world` setting must equal the scenario's `[world]` (else nothing is written and the error says which
`marketplace seed` to run); rows are then mapped by code, and each organization files through its first
account. A hand-built world (tests, notebooks) is mapped by code only. Only filed requests are stored
(declined arrivals stay in `RunResult.requests`). Request codes are `SIM-<scenario>-<seed>-<n>`: storing the
same run again replaces its rows, so re-running is safe.

Speed: one transaction of bulk Core inserts (executemany) with ids assigned here, so no per-row round trip.
"""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from typing import Any

import numpy as np
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from marketplace import db
from marketplace.errors import InvalidInput, NotFound
from marketplace.models import (
    AccessRequest,
    Account,
    Delivery,
    Grant,
    Organization,
    Payment,
    Product,
    Quote,
    Resource,
    Review,
    SandboxSetting,
)
from marketplace.sim.model import CHANNELS, DELIVERED, IN_REVIEW, PURPOSES, REJECTED, STAGES
from marketplace.sim.runner import RunResult
from marketplace.vocabulary import (
    Channel,
    Decision,
    DeliveryKind,
    GrantStatus,
    QuoteStatus,
    RequestStatus,
    ReviewStatus,
)

__all__ = ["run_rows", "store_run"]


def _table(model: Any) -> sa.Table:
    return model.__table__


def _next_id(conn: sa.Connection, model: Any) -> int:
    return int(conn.execute(sa.select(sa.func.coalesce(sa.func.max(_table(model).c.id), 0))).scalar_one()) + 1


MISUSE_LINE = {"component": "misuse", "amount": "0", "reason": "charged retroactively: free use was misused"}


def _lookup(conn: sa.Connection, model: Any) -> dict[str, int]:
    t = _table(model)
    return {code: i for code, i in conn.execute(sa.select(t.c.code, t.c.id))}


def run_rows(result: RunResult, conn: sa.Connection) -> dict[str, list[dict[str, Any]]]:
    """The rows of every table for `result`, mapped onto the sandbox world behind `conn`."""
    m = result.model
    st = m.statics
    w = st.world
    prefix = f"SIM-{result.scenario}-{result.seed}-"[:48]
    orgs, resources, products = _lookup(conn, Organization), _lookup(conn, Resource), _lookup(conn, Product)
    acct = _table(Account)
    first_account = {
        o: a
        for o, a in conn.execute(
            sa.select(acct.c.organization_id, sa.func.min(acct.c.id)).group_by(acct.c.organization_id)
        )
    }
    hint = (
        f"a sandbox seeded with the scenario's world: marketplace seed --seed {st.scenario.world.seed} "
        f"--size {st.scenario.world.size} --locale {st.scenario.world.locale}"
    )

    filed = np.flatnonzero(m.filed_day >= 0)
    org_map = np.full(len(w.orgs), -1, dtype=np.int64)
    acc_map = np.full(len(w.orgs), -1, dtype=np.int64)
    for i, o in enumerate(w.orgs):
        oid = orgs.get(o.code)
        if oid is not None:
            org_map[i] = oid
            acc_map[i] = first_account.get(oid, -1)
    used_orgs = np.unique(m.org[filed])
    missing = [w.orgs[i].code for i in used_orgs if org_map[i] < 0 or acc_map[i] < 0]
    if missing:
        raise NotFound(
            "organization with an account", f"{missing[0]} ({len(missing)} missing); expected {hint}"
        )
    res_map = np.full(len(w.targets), -1, dtype=np.int64)
    prod_map = np.full(len(w.targets), -1, dtype=np.int64)
    for i, t in enumerate(w.targets):
        if t.product_id is not None:
            prod_map[i] = products.get(t.code, -1)
        else:
            res_map[i] = resources.get(t.code, -1)
    used_t = np.unique(m.target[filed])
    bad = [w.targets[i].code for i in used_t if res_map[i] < 0 and prod_map[i] < 0]
    if bad:
        raise NotFound("resource or product", f"{bad[0]} ({len(bad)} missing); expected {hint}")

    base = datetime.combine(st.start, time(9, 0), tzinfo=UTC)
    day = [base + timedelta(days=d) for d in range(st.days + 1)]
    now = datetime.now(UTC)
    req_id0 = _next_id(conn, AccessRequest)
    status_of = {
        DELIVERED: RequestStatus.delivered,
        REJECTED: RequestStatus.rejected,
        IN_REVIEW: RequestStatus.in_review,
    }
    rid = {}
    requests = []
    policy = st.policy.name
    misused = m.misuse_charges()  # free grants found misused: revoked, charged at the paid price
    for n, i in enumerate(filed.tolist()):
        rid[i] = req_id0 + n
        t = int(m.target[i])
        dd = int(m.decided_day[i])
        requests.append(
            {
                "id": req_id0 + n,
                "code": f"{prefix}{i}",
                "requester_id": int(acc_map[m.org[i]]),
                "requester_org_id": int(org_map[m.org[i]]),
                "channel": CHANNELS[int(w.target_channel[t])],
                "resource_id": int(res_map[t]) if res_map[t] >= 0 else None,
                "product_id": int(prod_map[t]) if prod_map[t] >= 0 else None,
                "purpose": PURPOSES[int(m.purpose[i])],
                "use_statement": "simulated demand",
                "project_reference": "",
                "sponsor_org_id": None,
                "list_entry_id": None,  # the simulator counts list-based requests; it does not name entries
                "fields": [],
                "volume": int(m.volume[i]),
                "duration_days": 365,
                "status": RequestStatus.revoked if i in misused else status_of[int(m.status[i])],
                "policy_name": policy,
                "created_at": day[int(m.filed_day[i])],
                "submitted_at": day[int(m.filed_day[i])],
                "decided_at": day[dd] if dd >= 0 else None,
                "updated_at": now,
                "version": 1,
            }
        )
    roles = st.policy.routing.reviewer_roles
    rv = result.reviews
    rv_status = {
        "decided": ReviewStatus.decided,
        "deemed": ReviewStatus.deemed,
        "escalated": ReviewStatus.escalated,
    }
    review_id0 = _next_id(conn, Review)
    reviews = [
        {
            "id": review_id0 + n,
            "request_id": rid[r],
            "sequence": s,
            "stage": STAGES[STAGES.index(stage)],
            "reviewer_role": getattr(roles, stage),
            "status": rv_status[status],
            "decision": Decision(dec),
            "reason": "deemed by the deadline rule" if status == "deemed" else "",
            "opened_at": day[o],
            "due_on": (st.start + timedelta(days=due)) if due < 10**8 else None,
            "decided_at": day[dd],
            "breached": bool(br),
            "version": 1,
        }
        for n, (r, s, stage, o, dd, due, dec, status, br) in enumerate(
            zip(
                rv["request"].tolist(),
                rv["sequence"].tolist(),
                rv["stage"].astype(str).tolist(),
                rv["opened_day"].tolist(),
                rv["decided_day"].tolist(),
                rv["due_day"].tolist(),
                rv["decision"].astype(str).tolist(),
                rv["status"].astype(str).tolist(),
                rv["breached"].tolist(),
                strict=True,
            )
        )
    ]
    # quotes (paid filed requests), payments (paid deliveries), grants and deliveries (every delivery)
    quote_id0, pay_id0 = _next_id(conn, Quote), _next_id(conn, Payment)
    grant_id0, del_id0 = _next_id(conn, Grant), _next_id(conn, Delivery)
    quotes, payments, grants, deliveries = [], [], [], []
    lines_cache: dict[int, list[dict[str, str]]] = {}
    op_db = {o.id: orgs[o.code] for o in w.orgs if o.code in orgs}
    def add_quote(i: int, q: Any, lines: list[dict[str, Any]], at: datetime) -> int:
        qid = quote_id0 + len(quotes)
        quotes.append(
            {
                "id": qid, "request_id": rid[i], "policy_name": policy, "currency": q.currency,
                "total": q.total,
                "lines": lines, "status": QuoteStatus.accepted, "created_at": at, "accepted_at": at,
            }
        )
        return qid

    def add_payment(i: int, qid: int, q: Any, sp: Any, at: datetime) -> None:
        payments.append(
            {
                "id": pay_id0 + len(payments), "request_id": rid[i], "quote_id": qid,
                "operator_id": op_db.get(w.targets[int(m.target[i])].operator_id or -1), "amount": q.total,
                "operator_revenue": sp.operator, "holder_share": sp.holder, "taxes": sp.taxes, "paid_at": at,
            }
        )

    for i in filed.tolist():
        q_i = int(m.quote_id[i])
        dd = int(m.decided_day[i])
        delivered = m.status[i] == DELIVERED
        if q_i >= 0 and not m.free[i]:
            q, sp = st.quote_memo[m.quote_keys[q_i]]
            if q_i not in lines_cache:
                lines_cache[q_i] = q.as_dict()["lines"]
            quoted = day[int(m.filed_day[i])]
            qid = add_quote(i, q, lines_cache[q_i], quoted)
            if delivered:
                add_payment(i, qid, q, sp, day[dd])
        if i in misused:  # charged at the paid price when the misuse is found (at delivery in the model)
            q, sp = misused[i]
            qid = add_quote(i, q, [*q.as_dict()["lines"], MISUSE_LINE], day[dd])
            add_payment(i, qid, q, sp, day[dd])
        if delivered:
            gid = grant_id0 + len(grants)
            grants.append(
                {
                    "id": gid,
                    "code": f"{prefix}{i}",
                    "request_id": rid[i],
                    "terms": {},
                    "status": GrantStatus.revoked if i in misused else GrantStatus.active,
                    "valid_from": st.start + timedelta(days=dd),
                    "valid_until": st.start + timedelta(days=dd + 365),
                    "revoked_reason": "misuse of free use" if i in misused else "",
                    "suspended_reason": "",
                    "usage_report_due": None,
                    "created_at": day[dd],
                    "version": 1,
                }
            )
            k = int(m.release_k[i])
            product = CHANNELS[int(w.target_channel[int(m.target[i])])] is Channel.authorized_operation
            deliveries.append(
                {
                    "id": del_id0 + len(deliveries),
                    "grant_id": gid,
                    "request_id": rid[i],
                    "kind": DeliveryKind.aggregate if product else DeliveryKind.rows,
                    "row_count": 0,
                    "columns": [],
                    "checksum": "",
                    "privacy_report": {"k": k, "prosecutor_risk": 1.0 / k} if k else None,
                    "delivered_at": day[dd],
                }
            )
    return {
        "accessrequest": requests,
        "review": reviews,
        "quote": quotes,
        "payment": payments,
        "grant": grants,
        "delivery": deliveries,
    }


_ORDER = [
    ("accessrequest", AccessRequest),
    ("review", Review),
    ("quote", Quote),
    ("payment", Payment),
    ("grant", Grant),
    ("delivery", Delivery),
]


def _delete_previous(conn: sa.Connection, prefix: str) -> None:
    ar = _table(AccessRequest)
    old = sa.select(ar.c.id).where(ar.c.code.like(prefix.replace("_", r"\_") + "%", escape="\\"))
    for _, model in reversed(_ORDER[1:]):
        conn.execute(sa.delete(_table(model)).where(_table(model).c.request_id.in_(old)))
    conn.execute(sa.delete(ar).where(ar.c.id.in_(old)))


def _check_world(result: RunResult, engine: Engine) -> None:
    """A run on a synthetic world goes only into a sandbox seeded with that same world."""
    st = result.model.statics
    spec = st.scenario.world
    if st.world.label != f"{spec.size}/{spec.seed}/{spec.locale}":
        return  # a hand-built world: mapped by codes only
    setting = _table(SandboxSetting)
    with engine.connect() as conn:
        have = conn.execute(sa.select(setting.c.value).where(setting.c.key == "world")).scalar_one_or_none()
    want = {"seed": spec.seed, "size": spec.size, "locale": spec.locale}
    if have != want:
        raise InvalidInput(
            "sandbox world",
            have,
            f"the scenario's world {want}: run `marketplace seed --seed {spec.seed} --size {spec.size} "
            f"--locale {spec.locale}` first (or give the scenario the sandbox's world)",
        )


def store_run(result: RunResult, engine: Engine | None = None) -> dict[str, int]:
    """Write the run into the sandbox in one transaction; returns rows written per table."""
    engine = engine or db.get_engine()
    db.check_connection(engine)
    if not db.is_seeded(engine):
        raise NotFound(
            "sandbox world", f"{db.redact(str(engine.url))} is empty; run `marketplace seed` first"
        )
    prefix = f"SIM-{result.scenario}-{result.seed}-"[:48]
    _check_world(result, engine)
    with engine.begin() as conn:
        _delete_previous(conn, prefix)
        rows = run_rows(result, conn)
        for name, model in _ORDER:
            if rows[name]:
                conn.execute(sa.insert(_table(model)), rows[name])
    return {name: len(rows[name]) for name, _ in _ORDER}
