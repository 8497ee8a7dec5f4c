"""`simulate --db`: store a run's requests, reviews, quotes, payments, grants and deliveries in the sandbox.

Mapping: the simulator's organizations, resources and products carry the codes the synthetic world gives them,
and `marketplace seed` writes the same world (same size, seed, locale) under the same codes. The sandbox's
`world` setting must equal the scenario's `[world]` (else nothing is written and the error says which
`marketplace seed` to run); rows are then mapped by code, and each organization files through its first
account. A hand-built world (tests, notebooks) is mapped by code only. Only filed requests are stored
(declined arrivals stay in the run's events). Request codes are `SIM-<scenario>-<seed>-<n>`: storing the
same run again replaces its rows, so re-running is safe.

Speed and memory: one transaction of bulk inserts (executemany) with ids assigned here, so no per-row
round trip (on SQLite the rows go to the driver as tuples, see `_Inserts`); rows are built from the run's
event chunks `STORE_CHUNK` at a time, so memory stays flat however long the run (a run stored this way
keeps its events: `run(..., events=True)` or `events=DIR`).
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, time, timedelta
from decimal import Decimal
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
from marketplace.sim.model import (
    CHANNELS,
    DECISIONS,
    DELIVERED,
    IN_REVIEW,
    PURPOSES,
    REJECTED,
    STAGES,
    Statics,
)
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

__all__ = ["FAST_SQLITE", "STORED_TABLES", "STORE_CHUNK", "check_store", "iter_rows", "store_run"]


def _table(model: Any) -> sa.Table:
    return model.__table__


def _next_id(conn: sa.Connection, model: Any) -> int:
    return int(conn.execute(sa.select(sa.func.coalesce(sa.func.max(_table(model).c.id), 0))).scalar_one()) + 1


MISUSE_LINE = {"component": "misuse", "amount": "0", "reason": "charged retroactively: free use was misused"}


def _lookup(conn: sa.Connection, model: Any) -> dict[str, int]:
    t = _table(model)
    return {code: i for code, i in conn.execute(sa.select(t.c.code, t.c.id))}


class _Rows:
    """Turns a run's event chunks into rows of the sandbox's tables, mapped onto the world behind `conn`.

    Ids are assigned here (a request's id is the first free id plus its filing number, so a review finds its
    request's id without a lookup table of the run's size) and rows are built one chunk at a time."""

    def __init__(self, result: RunResult, conn: sa.Connection) -> None:
        st = result.statics
        w = st.world
        self.st, self.w = st, w
        self.prefix = f"SIM-{result.scenario}-{result.seed}-"[:48]
        orgs, resources = _lookup(conn, Organization), _lookup(conn, Resource)
        products = _lookup(conn, Product)
        acct = _table(Account)
        first_account = {
            o: a
            for o, a in conn.execute(
                sa.select(acct.c.organization_id, sa.func.min(acct.c.id)).group_by(acct.c.organization_id)
            )
        }
        self.hint = (
            f"a sandbox seeded with the scenario's world: marketplace seed --seed {st.scenario.world.seed} "
            f"--size {st.scenario.world.size} --locale {st.scenario.world.locale}"
        )
        self.org_map = np.full(len(w.orgs), -1, dtype=np.int64)
        self.acc_map = np.full(len(w.orgs), -1, dtype=np.int64)
        for i, o in enumerate(w.orgs):
            oid = orgs.get(o.code)
            if oid is not None:
                self.org_map[i] = oid
                self.acc_map[i] = first_account.get(oid, -1)
        self.res_map = np.full(len(w.targets), -1, dtype=np.int64)
        self.prod_map = np.full(len(w.targets), -1, dtype=np.int64)
        for i, t in enumerate(w.targets):
            if t.product_id is not None:
                self.prod_map[i] = products.get(t.code, -1)
            else:
                self.res_map[i] = resources.get(t.code, -1)
        self.op_db = {o.id: orgs[o.code] for o in w.orgs if o.code in orgs}
        base = datetime.combine(st.start, time(9, 0), tzinfo=UTC)
        self.day = [base + timedelta(days=d) for d in range(st.days + 1)]
        self.now = datetime.now(UTC)
        self.quote_keys = result.quote_keys
        self.lines: dict[int, list[dict[str, str]]] = {}
        self.req_id0 = _next_id(conn, AccessRequest)
        self.next_id = {name: _next_id(conn, model) for name, model in _ORDER[1:]}
        self.counts = dict.fromkeys((name for name, _ in _ORDER), 0)

    def _ids(self, name: str, n: int) -> int:
        first = self.next_id[name]
        self.next_id[name] += n
        self.counts[name] += n
        return first

    def requests(self, chunk: Any) -> dict[str, list[dict[str, Any]]]:
        """Rows of accessrequest, quote, payment, grant and delivery for the filed requests of `chunk`."""
        st, w, day = self.st, self.w, self.day
        c = chunk[chunk["filed_day"].to_numpy() >= 0]
        gid = c["request"].to_numpy()
        org = c["org_index"].to_numpy()
        tgt = c["target"].to_numpy()
        if org.size and ((self.org_map[org] < 0) | (self.acc_map[org] < 0)).any():
            bad = np.unique(org[(self.org_map[org] < 0) | (self.acc_map[org] < 0)])
            raise NotFound(
                "organization with an account",
                f"{w.orgs[int(bad[0])].code} ({bad.size} missing); expected {self.hint}",
            )
        if tgt.size and ((self.res_map[tgt] < 0) & (self.prod_map[tgt] < 0)).any():
            bad = np.unique(tgt[(self.res_map[tgt] < 0) & (self.prod_map[tgt] < 0)])
            raise NotFound(
                "resource or product",
                f"{w.targets[int(bad[0])].code} ({bad.size} missing); expected {self.hint}",
            )
        status_of = {
            DELIVERED: RequestStatus.delivered,
            REJECTED: RequestStatus.rejected,
            IN_REVIEW: RequestStatus.in_review,
        }
        policy = st.policy.name
        rid = self.req_id0 + c["filed_seq"].to_numpy()
        self.counts["accessrequest"] += int(gid.size)
        cols = {
            k: c[k].to_numpy().tolist()
            for k in ("purpose", "volume", "status", "filed_day", "decided_day", "misused", "quote", "free",
                      "release_k", "requester_class", "quote_volume", "channel")
        }
        requests, quotes, payments, grants, deliveries = [], [], [], [], []
        rows = zip(gid.tolist(), rid.tolist(), org.tolist(), tgt.tolist(), strict=True)
        for n, (i, r, o, t) in enumerate(rows):
            dd = cols["decided_day"][n]
            fd = cols["filed_day"][n]
            misused = cols["misused"][n]
            delivered = cols["status"][n] == DELIVERED
            requests.append(
                {
                    "id": r,
                    "code": f"{self.prefix}{i}",
                    "requester_id": int(self.acc_map[o]),
                    "requester_org_id": int(self.org_map[o]),
                    "channel": CHANNELS[cols["channel"][n]],
                    "resource_id": int(self.res_map[t]) if self.res_map[t] >= 0 else None,
                    "product_id": int(self.prod_map[t]) if self.prod_map[t] >= 0 else None,
                    "purpose": PURPOSES[cols["purpose"][n]],
                    "use_statement": "simulated demand",
                    "project_reference": "",
                    "sponsor_org_id": None,
                    "list_entry_id": None,  # the simulator counts list-based requests, names no entries
                    "fields": [],
                    "volume": cols["volume"][n],
                    "duration_days": 365,
                    "status": RequestStatus.revoked if misused else status_of[cols["status"][n]],
                    "policy_name": policy,
                    "created_at": day[fd],
                    "submitted_at": day[fd],
                    "decided_at": day[dd] if dd >= 0 else None,
                    "updated_at": self.now,
                    "version": 1,
                }
            )
            q_i = cols["quote"][n]
            if q_i >= 0 and not cols["free"][n]:
                q, sp = st.quote_for(*self.quote_keys[q_i])
                if q_i not in self.lines:
                    self.lines[q_i] = st.quote_lines(self.quote_keys[q_i])
                qid = self._quote(quotes, r, q, self.lines[q_i], day[fd], policy)
                if delivered:
                    self._payment(payments, r, qid, q, sp, t, day[dd])
            if misused:  # charged at the paid price when the misuse is found (at delivery in the model)
                paid_as = int(st.paid_as[cols["purpose"][n]])
                key = (t, paid_as, cols["requester_class"][n], cols["quote_volume"][n])
                q, sp = st.quote_for(*key)
                qid = self._quote(quotes, r, q, [*st.quote_lines(key), MISUSE_LINE], day[dd], policy)
                self._payment(payments, r, qid, q, sp, t, day[dd])
            if delivered:
                gid_ = self._ids("grant", 1)
                grants.append(
                    {
                        "id": gid_,
                        "code": f"{self.prefix}{i}",
                        "request_id": r,
                        "terms": {},
                        "status": GrantStatus.revoked if misused else GrantStatus.active,
                        "valid_from": st.start + timedelta(days=dd),
                        "valid_until": st.start + timedelta(days=dd + 365),
                        "revoked_reason": "misuse of free use" if misused else "",
                        "suspended_reason": "",
                        "usage_report_due": None,
                        "created_at": day[dd],
                        "version": 1,
                    }
                )
                k = cols["release_k"][n]
                product = CHANNELS[cols["channel"][n]] is Channel.authorized_operation
                deliveries.append(
                    {
                        "id": self._ids("delivery", 1),
                        "grant_id": gid_,
                        "request_id": r,
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
            "quote": quotes,
            "payment": payments,
            "grant": grants,
            "delivery": deliveries,
        }

    def _quote(self, quotes: list, rid: int, q: Any, lines: list, at: datetime, policy: str) -> int:
        qid = self._ids("quote", 1)
        quotes.append(
            {
                "id": qid, "request_id": rid, "policy_name": policy, "currency": q.currency,
                "total": q.total,
                "lines": lines, "status": QuoteStatus.accepted, "created_at": at, "accepted_at": at,
            }
        )
        return qid

    def _payment(self, payments: list, rid: int, qid: int, q: Any, sp: Any, t: int, at: datetime) -> None:
        payments.append(
            {
                "id": self._ids("payment", 1), "request_id": rid, "quote_id": qid,
                "operator_id": self.op_db.get(self.w.targets[t].operator_id or -1), "amount": q.total,
                "operator_revenue": sp.operator, "holder_share": sp.holder, "taxes": sp.taxes, "paid_at": at,
            }
        )

    def reviews(self, chunk: Any) -> list[dict[str, Any]]:
        """Rows of review for the decided review stages of `chunk`."""
        st, day = self.st, self.day
        roles = st.policy.routing.reviewer_roles
        rv_status = (ReviewStatus.decided, ReviewStatus.deemed, ReviewStatus.escalated)
        decisions = [Decision(d) for d in DECISIONS]
        first = self._ids("review", len(chunk))
        rid = (self.req_id0 + chunk["filed_seq"].to_numpy()).tolist()
        return [
            {
                "id": first + n,
                "request_id": r,
                "sequence": s,
                "stage": STAGES[stage],
                "reviewer_role": getattr(roles, STAGES[stage].value),
                "status": rv_status[status],
                "decision": decisions[dec],
                "reason": "deemed by the deadline rule" if status == 1 else "",
                "opened_at": day[o],
                "due_on": (st.start + timedelta(days=due)) if due < 10**8 else None,
                "decided_at": day[dd],
                "breached": br,
                "version": 1,
            }
            for n, (r, s, stage, o, dd, due, dec, status, br) in enumerate(
                zip(
                    rid,
                    chunk["sequence"].tolist(),
                    chunk["stage"].tolist(),
                    chunk["opened_day"].tolist(),
                    chunk["decided_day"].tolist(),
                    chunk["due_day"].tolist(),
                    chunk["decision"].tolist(),
                    chunk["status"].tolist(),
                    chunk["breached"].tolist(),
                    strict=True,
                )
            )
        ]


def iter_rows(result: RunResult, conn: sa.Connection) -> Iterator[tuple[str, list[dict[str, Any]]]]:
    """(table name, rows) in chunks, in an order the foreign keys accept: every request chunk's rows, then
    the reviews. Only one chunk's rows exist at a time."""
    if result.events is None:
        raise InvalidInput(
            "events", "not kept", "a run that keeps its events to store: run(..., events=True or a directory)"
        )
    rows = _Rows(result, conn)
    for chunk in result.events.request_chunks():
        for start in range(0, len(chunk), STORE_CHUNK):
            yield from rows.requests(chunk.iloc[start : start + STORE_CHUNK]).items()
    for chunk in result.events.review_chunks():
        for start in range(0, len(chunk), STORE_CHUNK):
            yield "review", rows.reviews(chunk.iloc[start : start + STORE_CHUNK])


#: rows built and inserted at a time by `store_run`
STORE_CHUNK = 5000


STORED_TABLES = _ORDER = [
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


def check_store(statics: Statics, engine: Engine) -> None:
    """Before any work: the sandbox answers, is seeded, and (for a synthetic world) holds the run's world."""
    db.check_connection(engine)
    if not db.is_seeded(engine):
        raise NotFound(
            "sandbox world", f"{db.redact(str(engine.url))} is empty; run `marketplace seed` first"
        )
    spec = statics.scenario.world
    if statics.world.label != f"{spec.size}/{spec.seed}/{spec.locale}":
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
    """Write the run's events into the sandbox in one transaction, a chunk of rows at a time; returns rows
    written per table. The run must have kept its events (`run(..., events=True)` or a directory)."""
    if result.events is None:
        raise InvalidInput(
            "events", "not kept", "a run that keeps its events to store: run(..., events=True or a directory)"
        )
    engine = engine or db.get_engine()
    check_store(result.statics, engine)
    prefix = f"SIM-{result.scenario}-{result.seed}-"[:48]
    counts = dict.fromkeys((name for name, _ in _ORDER), 0)
    tables = dict(_ORDER)
    with engine.begin() as conn:
        _delete_previous(conn, prefix)
        write = _Inserts(conn, fast=FAST_SQLITE)
        for name, rows in iter_rows(result, conn):
            if rows:
                write(_table(tables[name]), rows)
                counts[name] += len(rows)
    return counts


#: SQLite: hand rows to the driver's executemany as tuples (see `_Inserts`); False: Core's executemany
FAST_SQLITE = True
#: distinct values a column's bind conversion is remembered for (dates, times, amounts, enums repeat)
_MEMO_MAX = 4096


class _Inserts:
    """Bulk inserts of row dicts into one table at a time, in the transaction of `conn`.

    Core's executemany converts every value of every row through its type's bind processor and builds
    a parameter dict per row: over half the time of storing a run went there, not into SQLite. On SQLite
    (and when the compiled INSERT takes exactly the rows' columns), the same processors are applied column by
    column, each distinct value converted once (a run's half-million rows carry a few hundred dates), and
    the tuples go to the driver's executemany through `exec_driver_sql`. Other backends, and any table this
    does not fit, use Core's executemany unchanged.
    """

    def __init__(self, conn: sa.Connection, *, fast: bool = True) -> None:
        self.conn = conn
        self.fast = fast and conn.dialect.name == "sqlite" and conn.dialect.paramstyle == "qmark"
        self.plans: dict[tuple[str, tuple[str, ...]], Any] = {}

    def __call__(self, table: sa.Table, rows: list[dict[str, Any]]) -> None:
        cols = tuple(rows[0])
        plan = self._plan(table, cols) if self.fast else None
        if plan is None:
            self.conn.execute(sa.insert(table), rows)
            return
        sql, order, procs, memos = plan
        columns = []
        for name, proc, memo in zip(order, procs, memos, strict=True):
            values = [r[name] for r in rows]
            if proc is not None:
                values = _converted(values, proc, memo, table.c[name].type)
            columns.append(values)
        self.conn.exec_driver_sql(sql, list(zip(*columns, strict=True)))

    def _plan(self, table: sa.Table, cols: tuple[str, ...]) -> Any:
        """(SQL, its parameters' columns in order, bind processors, memos) for inserting `cols` into
        `table`, or None to use Core."""
        key = (table.name, cols)
        if key not in self.plans:
            dialect = self.conn.dialect
            compiled = sa.insert(table).compile(dialect=dialect, column_keys=list(cols))
            order = tuple(compiled.positiontup or ())
            if sorted(order) != sorted(cols):  # defaults or renamed binds: leave it to Core
                self.plans[key] = None
            else:
                procs = [table.c[c].type.dialect_impl(dialect).bind_processor(dialect) for c in order]
                self.plans[key] = (str(compiled), order, procs, [{} for _ in order])
        return self.plans[key]


def _converted(values: list[Any], proc: Any, memo: dict[Any, Any], type_: Any) -> list[Any]:
    """`proc` of every value of a column. Enums, dates and flags are looked up by value (each distinct one
    converted once); instants, amounts and JSON go through `_convert`, whose keys tell their forms apart."""
    if len(memo) > _MEMO_MAX:
        memo.clear()
    if isinstance(type_, sa.Enum | sa.Date | sa.Boolean) and not isinstance(type_, sa.DateTime):
        try:
            return [memo[v] for v in values]
        except KeyError:
            for v in set(values):
                if v not in memo:
                    memo[v] = proc(v)
            return [memo[v] for v in values]
    return [_convert(v, proc, memo) for v in values]


def _convert(value: Any, proc: Any, memo: dict[Any, Any]) -> Any:
    """`proc(value)`, remembered per distinct value (empty lists and dicts included). The key tells apart
    what compares equal but is written differently: 1 and True, Decimal 2.5 and 2.50, one instant in two
    time zones."""
    cls = value.__class__
    if cls is list or cls is dict:
        if value:
            return proc(value)
        key: Any = cls
    elif cls is Decimal:
        key = (cls, value, value.as_tuple().exponent)
    elif cls is datetime:
        key = (cls, value, value.tzinfo)
    else:
        key = (cls, value)
    hit = memo.get(key, memo)
    if hit is memo:
        if len(memo) >= _MEMO_MAX:
            memo.clear()
        hit = memo[key] = proc(value)
    return hit
