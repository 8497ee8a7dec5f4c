"""Delivery: release data under a grant, enforcing every condition of the request.

Conditions are data (Condition rows) and are enforced here, in this order: the grant must be active and in
date; `fields(only=[...])` and the requested fields restrict the columns; `aggregate(min_cell=N)` (or an
aggregated product) releases group counts through `marketplace.privacy.aggregate`; `deidentify(k, l)` (or a
de-identified product with personal information) releases rows through `marketplace.privacy.deidentify`, and
the achieved k and ℓ are checked again before anything is recorded. If the privacy package cannot be used, a
release that needs it is refused — raw personal data is never released in its place. `no_onward_transfer` and
`report_usage` live in the grant's terms (prohibition, duty with a due date); while a usage report is overdue,
nothing more is released under the grant."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import numpy as np
import pandas as pd
import sqlalchemy as sa
from pandas.api.extensions import ExtensionDtype
from sqlalchemy.orm.attributes import set_committed_value
from sqlmodel import Session

from marketplace.errors import InvalidInput, MarketplaceError, PrivacyError, TransitionError
from marketplace.fastsql import Statement
from marketplace.models import AccessRequest, Account, Condition, Delivery, Grant, Resource
from marketplace.vocabulary import ConditionKind, DeliveryKind, FieldMarking, FieldType, GrantStatus, Role
from marketplace.workflows import audit, clock, facts
from marketplace.workflows._core import (
    NOT_LOADED,
    forget_loaded,
    insert_new,
    loaded,
    quiet_connection,
    save,
    transition,
)
from marketplace.workflows.roles import has_role, require

__all__ = ["DEFAULT_ROWS", "Delivered", "checksum_of", "deliver", "deliver_for", "source_frame"]

DEFAULT_ROWS = 500
MAX_ROWS = 200_000


@dataclass
class Delivered:
    """A recorded delivery with the released table and the privacy (or aggregate) report as a dict."""

    delivery: Delivery
    table: pd.DataFrame
    report: dict[str, Any] | None


def source_frame(resource: Resource, rows: int, seed: int) -> pd.DataFrame:
    """Synthetic rows of the resource (marketplace.synth): the sandbox never holds real records."""
    try:
        from marketplace.synth import sandbox_rows as synth_rows
    except ImportError as exc:  # pragma: no cover - synth is part of the package
        raise MarketplaceError(f"synthetic rows for {resource.code} are unavailable: {exc}") from exc
    return synth_rows(resource, rows, seed)


def _source(session: Session, req: AccessRequest, known: Any = None) -> Any:
    """The resource the rows come from: its facts (or the loaded row; `known` when the caller read them)."""
    if req.resource_id is not None:
        return known if known is not None else facts.resource_of(session, req)
    resources = list(req.product.resources)
    if not resources:
        raise MarketplaceError(f"product {req.product.code} names no resource to make a delivery from")
    return resources[0]


@dataclass(frozen=True)
class _GrantFacts:
    id: int
    code: str
    status: GrantStatus
    valid_until: Any
    usage_report_due: Any


_G, _C = Grant.__table__, Condition.__table__
_READ_GRANT = Statement(
    sa.select(
        _G.c.id,
        _G.c.code,
        _G.c.status,
        _G.c.valid_until,
        _G.c.usage_report_due,
        _C.c.kind,
        _C.c.params,
        _C.c.text,
    )
    .select_from(_G.outerjoin(_C, _C.c.request_id == _G.c.request_id))
    .where(_G.c.request_id == sa.bindparam("r"))
    .order_by(_C.c.id)
)


def _grant_of(session: Session, req: AccessRequest) -> tuple[Any, list[Any] | None]:
    """The request's grant (the loaded row, else its id, code, status and end date) and, when read along
    with it in the same query, the request's conditions (else None: `conditions_of` reads them)."""
    g = loaded(req, "grant")
    if g is not NOT_LOADED:
        return g, None
    if loaded(req, "conditions") is not NOT_LOADED:
        rows = _READ_GRANT.execute(quiet_connection(session, Grant), {"r": req.id}).all()[:1]
        return (None if not rows else _GrantFacts(*rows[0][:5])), None
    from marketplace.workflows.grants import ConditionFacts

    rows = _READ_GRANT.execute(quiet_connection(session, Grant, Condition), {"r": req.id}).all()
    if not rows:
        return None, None
    conditions = [ConditionFacts(*row[5:]) for row in rows if row[5] is not None]
    return _GrantFacts(*rows[0][:5]), conditions


_RAW_KINDS = frozenset("biufmM")  # numpy kinds hashed as their bytes: bool, int, unsigned, float, time


def checksum_of(table: pd.DataFrame) -> str:
    """SHA-256 fingerprint of a released table: its column names, types and values, in order.

    Per column: its name and a type tag, then its values — numeric, boolean and time columns as their numpy
    bytes (the tag is the numpy dtype string with its byte order, e.g. `<i8`), other columns as compact JSON
    of their values; every part is length-prefixed, so no two different tables give the same byte stream.
    Why not the CSV text: writing CSV costs ~0.3 ms for 20 rows and ~8 ms for 5,000 (four times this) and was
    the largest single cost of a small delivery. Anyone holding the table recomputes it with `checksum_of`.
    """
    digest = hashlib.sha256()
    for name, values in _columns(table):
        if values.dtype.kind in _RAW_KINDS:
            tag, data = values.dtype.str, np.ascontiguousarray(values).tobytes()
        else:
            tag = "json"
            data = json.dumps(
                values.tolist(), default=str, ensure_ascii=False, separators=(",", ":")
            ).encode()
        for part in (_head(str(name), tag), data):
            digest.update(len(part).to_bytes(8, "little"))
            digest.update(part)
    return digest.hexdigest()


def _columns(table: pd.DataFrame) -> Iterator[tuple[Any, np.ndarray]]:
    """Each column's name and values, the values as `Series.to_numpy()` gives them.

    `DataFrame.items()` builds a Series per column (~11 µs each with pandas 3, most of the checksum of a small
    table); pandas' column accessor by position gives the column's array without one. Where that accessor
    is missing (another pandas version), `items()` is used; tests/workflows check both give the same arrays.
    """
    column_array = getattr(table, "_get_column_array", None)
    if column_array is None:
        for name, column in table.items():
            yield name, column.to_numpy()
        return
    for i, name in enumerate(table.columns.tolist()):
        array = column_array(i)
        yield name, array.to_numpy() if isinstance(array.dtype, ExtensionDtype) else np.asarray(array)


@lru_cache(maxsize=4096)
def _head(name: str, tag: str) -> bytes:
    return json.dumps([name, tag], ensure_ascii=False).encode()


def _require_supplier(session: Session, actor: Account, req: AccessRequest) -> Any:
    """Only the supplier delivers; returns the resource facts it read (None for a product)."""
    resource = None
    if req.product_id is not None:
        ok = has_role(actor, Role.operator) and actor.organization_id == req.product.operator_id
        why = "only the product's operator delivers it"
    else:
        resource = facts.resource_of(session, req)
        ok = has_role(actor, Role.steward) and actor.organization_id == resource.holder_id
        why = "only a steward of the data holder delivers its data"
    require(session, actor, ok, f"deliver request {req.code}", req, why, audit_action="request.deliver")
    return resource


def deliver(
    session: Session,
    actor: Account,
    request: AccessRequest,
    *,
    rows: int | None = None,
    seed: int = 0,
    frame: pd.DataFrame | None = None,
) -> Delivered:
    """The supplier releases data under the request's grant, every condition enforced (see module doc).

    `frame` replaces the synthetic source rows (e.g. a trainer's table; it is not changed, and when nothing
    restricts or transforms it, `Delivered.table` is that same frame); `rows`/`seed` size and seed them.
    """
    audit.open_step(session, actor)
    resource = _require_supplier(session, actor, request)
    return _deliver(session, actor, request, rows=rows, seed=seed, frame=frame, resource=resource)


def _default_by(resource: Resource, columns: list[str]) -> list[str]:
    fields = {f.name: f for f in resource.fields if f.name in columns}
    cats = [
        n
        for n, f in fields.items()
        if f.marking is FieldMarking.quasi_identifier
        and f.dtype in (FieldType.category, FieldType.string, FieldType.boolean)
    ]
    if not cats:
        cats = [
            n
            for n, f in fields.items()
            if f.marking is FieldMarking.other and f.dtype in (FieldType.category, FieldType.boolean)
        ]
    return cats[:2]


def deliver_for(
    session: Session,
    actor: Account | None,
    req: AccessRequest,
    *,
    rows: int | None = None,
    seed: int | None = None,
    frame: pd.DataFrame | None = None,
    automatic: bool = False,
) -> Delivered:
    """Delivery without the supplier check: for `deliver` and for requests delivered at once."""
    return _deliver(session, actor, req, rows=rows, seed=seed, frame=frame, automatic=automatic)


def _deliver(
    session: Session,
    actor: Account | None,
    req: AccessRequest,
    *,
    rows: int | None = None,
    seed: int | None = None,
    frame: pd.DataFrame | None = None,
    automatic: bool = False,
    resource: Any = None,
) -> Delivered:
    if rows is not None and (
        isinstance(rows, bool) or not isinstance(rows, int) or not 1 <= rows <= MAX_ROWS
    ):
        raise InvalidInput("rows", rows, f"a whole number of rows from 1 to {MAX_ROWS}")
    new_status = transition(session, actor, req, "deliver", audit_action="request.deliver")
    g, conditions = _grant_of(session, req)
    today = clock.today(session)
    if (
        g is None
        or g.status is not GrantStatus.active
        or (g.valid_until is not None and g.valid_until < today)
    ):
        state = "missing" if g is None else ("expired" if g.status is GrantStatus.active else g.status.value)
        raise audit.refuse(
            session,
            actor,
            "request.deliver",
            req,
            TransitionError(f"grant of request {req.code}", state, f"deliver on {today}"),
        )
    from marketplace.workflows.grants import usage_report_overdue

    if usage_report_overdue(g, today):
        raise audit.refuse(
            session,
            actor,
            "request.deliver",
            req,
            TransitionError(
                f"grant of request {req.code}",
                f"usage report overdue since {g.usage_report_due}",
                f"deliver on {today} (the requester files the report first)",
            ),
        )

    resource = _source(session, req, resource)
    policy = facts.current_policy(session)
    if conditions is None:
        from marketplace.workflows.grants import conditions_of

        conditions = conditions_of(session, req)
    n = rows or (req.volume if req.volume > 1 else DEFAULT_ROWS)
    n = min(n, MAX_ROWS)
    seed = req.id if seed is None else seed
    if frame is not None:
        df = frame  # never changed in place here; released as is when no condition transforms it
    else:
        df = source_frame(req.resource if req.resource_id is not None else resource, n, seed)

    # fields(only=...) and the fields asked for
    columns = df.columns.tolist()  # one conversion (iterating an Index of pandas 3 strings is slow)
    keep = columns
    for c in conditions:
        if c.kind is ConditionKind.fields:
            keep = [col for col in keep if col in c.params.get("only", [])]
    if req.fields:
        keep = [col for col in keep if col in req.fields]
    if not keep:
        raise audit.refuse(
            session,
            actor,
            "request.deliver",
            req,
            InvalidInput("fields", req.fields, "at least one field the conditions allow"),
        )
    if keep != columns:
        df = df[keep]

    deid = [c for c in conditions if c.kind is ConditionKind.deidentify]
    aggr = [c for c in conditions if c.kind is ConditionKind.aggregate]
    transformation = (req.product.transformation if req.product_id else "") or ""
    personal = [f.name for f in resource.fields if f.marking is not FieldMarking.other and f.name in keep]
    kind = DeliveryKind.rows
    report: dict[str, Any] | None = None
    epsilon = None
    try:
        if aggr or transformation == "aggregated":
            from marketplace.privacy import aggregate

            min_cell = max(
                [int(c.params.get("min_cell", policy.privacy.min_cell_size)) for c in aggr]
                or [policy.privacy.min_cell_size]
            )
            by = next((c.params["by"] for c in aggr if c.params.get("by")), None) or _default_by(
                resource, keep
            )
            if not by:
                raise PrivacyError(f"aggregate release of {resource.code}: no category field to group by")
            sums = [
                f.name
                for f in resource.fields
                if f.name in keep
                and f.name not in by
                and f.marking is FieldMarking.other
                and f.dtype in (FieldType.integer, FieldType.number)
            ][:1]
            agg = aggregate(df, by, sums=sums, min_cell=min_cell, seed=seed)
            table, report, kind = agg.table, agg.report.to_dict(), DeliveryKind.aggregate
            epsilon = report.get("epsilon_spent")
        elif deid or (transformation in ("deidentified", "model") and personal):
            from marketplace.privacy import deidentify

            k = max([int(c.params.get("k", policy.privacy.k)) for c in deid] or [policy.privacy.k])
            l_ = max([int(c.params.get("l", policy.privacy.l)) for c in deid] or [policy.privacy.l])
            schema = [f for f in resource.fields if f.name in keep]
            release = deidentify(
                df, schema, k=k, l=l_, suppression_budget=float(policy.privacy.suppression_budget)
            )
            rep = release.report
            if rep.k_achieved < k or (rep.l_achieved is not None and rep.l_achieved < l_):
                raise PrivacyError(
                    f"release of {resource.code} reached k={rep.k_achieved}, "
                    f"l={rep.l_achieved}; the conditions ask k>={k}, l>={l_}"
                )
            table, report = release.table, rep.to_dict()
        else:
            table = df
    except ImportError as exc:
        raise audit.refuse(
            session,
            actor,
            "request.deliver",
            req,
            PrivacyError(f"de-identification is unavailable ({exc}); nothing was released"),
        ) from exc
    except PrivacyError as exc:
        raise audit.refuse(session, actor, "request.deliver", req, exc) from exc

    checksum = checksum_of(table)
    req.status = new_status
    req.updated_at = delivered_at = clock.now(session)
    save(session, req, what=f"request {req.code}", actor=actor, action="request.deliver", subject=req)
    d = insert_new(
        session,
        Delivery,
        grant_id=g.id,
        request_id=req.id,
        kind=kind,
        row_count=len(table),
        columns=table.columns.tolist(),
        checksum=checksum,
        privacy_report=audit.jsonable(report) if report is not None else None,
        delivered_at=delivered_at,
    )
    if isinstance(g, Grant):
        set_committed_value(d, "grant", g)
        forget_loaded(session, g, "deliveries")
    if epsilon:
        from marketplace.privacy.ledger import spend_epsilon

        spend_epsilon(session, resource.id, float(epsilon), resource.epsilon_budget, delivery_id=d.id)
    audit.record(
        session,
        actor,
        "request.deliver",
        req,
        {
            "delivery_id": d.id,
            "kind": kind,
            "rows": len(table),
            "columns": d.columns,
            "checksum": checksum,
            "automatic": automatic,
            "privacy": None
            if report is None
            else {
                k: report.get(k)
                for k in (
                    "k_achieved",
                    "l_achieved",
                    "prosecutor_risk_max",
                    "ncp",
                    "rows_suppressed",
                    "cells_suppressed",
                    "min_cell",
                )
                if k in report
            },
        },
    )
    return Delivered(d, table, report)
