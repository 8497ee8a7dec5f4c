"""The participant actions, each a thin call into `marketplace.workflows` (which enforces roles and audits).

Functions take the session and the acting account resolved from the participant's join code; writes return
`(subject, result)` for the action receipt, reads return plain dicts for panels and agents. No rule lives
here.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from sqlalchemy.orm import selectinload
from sqlmodel import Session, select

from marketplace.errors import InvalidInput, NotFound
from marketplace.models import (
    AccessRequest,
    Account,
    Organization,
    Product,
    Resource,
    Review,
    SelectionApplication,
    SelectionRound,
    SharingListEntry,
)
from marketplace.vocabulary import ProductStatus, QuoteStatus, SelectionStatus
from marketplace.workflows import facts
from marketplace.workflows import requests as wf_requests
from marketplace.workflows import reviews as wf_reviews


def _by_ref(session: Session, model: Any, ref: str | int | None, kind: str) -> Any:
    if isinstance(ref, bool) or ref is None or (isinstance(ref, str) and not ref.strip()):
        raise InvalidInput(kind, ref, f"the code or id of a {kind}")
    if isinstance(ref, int) or (isinstance(ref, str) and ref.isdigit()):
        row = session.get(model, int(ref))
    else:
        row = session.exec(select(model).where(model.code == ref)).first()
    if row is None:
        raise NotFound(kind, ref)
    return row


def _request_row(req: AccessRequest, session: Session) -> dict[str, Any]:
    from marketplace.workflows.grants import usage_report_due

    q = wf_requests.current_quote(session, req) if req.product_id is not None else None
    return {
        "id": req.id,
        "code": req.code,
        "channel": req.channel.value,
        "purpose": req.purpose.value,
        "status": req.status.value,
        "target": (req.product.code if req.product_id else req.resource.code),
        "list_entry": None if req.list_entry_id is None else req.list_entry.code,
        "quote_total": None if q is None else str(q.total),
        "quote_status": None if q is None else q.status.value,
        "fee_due": bool(q is not None and q.total > 0 and q.status is QuoteStatus.offered),
        "usage_report_due": None if (due := usage_report_due(req.grant)) is None else due.isoformat(),
    }


# Catalogue entries per (engine, policy, resource id, resource version): asking the policy which channels
# serve a resource is pure but costs a few routing probes, and fifty participants browse the same catalogue.
_CATALOG_CACHE: dict[tuple[str, str, int, int], dict[str, Any] | None] = {}
_CATALOG_CACHE_MAX = 20_000


def _resource_entry(db_key: str, res: Resource, policy: Any) -> dict[str, Any] | None:
    key = (db_key, policy.name, res.id, res.version)
    if key not in _CATALOG_CACHE:
        if len(_CATALOG_CACHE) >= _CATALOG_CACHE_MAX:
            _CATALOG_CACHE.clear()
        channels = [c for c in facts.resource_channels(res, policy) if c != "authorized_operation"]
        _CATALOG_CACHE[key] = (
            {
                "kind": "resource",
                "id": res.id,
                "code": res.code,
                "title": res.title,
                "grade": res.grade.value,
                "holder_id": res.holder_id,
                "channels": channels,
                "fields": [f.name for f in res.fields],
            }
            if channels
            else None
        )
    entry = _CATALOG_CACHE[key]
    return None if entry is None else {**entry, "channels": list(entry["channels"])}


def catalog(session: Session, *, limit: int = 200) -> list[dict[str, Any]]:
    policy = facts.current_policy(session)
    bind = session.get_bind()
    db_key = f"{id(bind)}:{bind.url}"
    out: list[dict[str, Any]] = []
    for res in session.exec(select(Resource).order_by(Resource.id).limit(limit)).all():
        entry = _resource_entry(db_key, res, policy)
        if entry is not None:
            out.append(entry)
    for prod in session.exec(
        select(Product).where(Product.status == ProductStatus.listed).order_by(Product.id).limit(limit)
    ).all():
        out.append(
            {
                "kind": "product",
                "id": prod.id,
                "code": prod.code,
                "title": prod.name,
                "billing_unit": prod.billing_unit.value,
                "price": str(prod.actual_price or 0),
                "cap": None if prod.price_cap is None else str(prod.price_cap),
                "channels": ["authorized_operation"],
                "operator_id": prod.operator_id,
            }
        )
    return out


PRELOADED = "workshop.preloaded"  # session.info: rows `_preload` read for the open transaction


def _preload(session: Session, actor: Account, res: Resource | None, prod: Product | None) -> None:
    """Load what routing and pricing read (fields, holders, the requester's organization) BEFORE the first
    audit event takes the chain lock, so the locked part of the transaction issues fewer statements. The rows
    are kept in `session.info` for the transaction: the identity map alone holds none alive, and a row
    loaded and dropped is loaded again by the next lookup."""
    held: list[Any] = [session.get(Organization, actor.organization_id)]
    if prod is not None:
        held += session.exec(
            select(Product)
            .where(Product.id == prod.id)
            .options(
                selectinload(Product.resources).selectinload(Resource.fields),
                selectinload(Product.authorization),
            )
        ).all()
    if res is not None:
        held += session.exec(
            select(Resource).where(Resource.id == res.id).options(selectinload(Resource.fields))
        ).all()
        held.append(session.get(Organization, res.holder_id))
    session.info[PRELOADED] = held


def file_request(
    session: Session,
    actor: Account,
    *,
    purpose: str,
    resource: str | int | None,
    product: str | int | None,
    channel: str | None,
    use_statement: str,
    fields: Iterable[str],
    volume: int,
    duration_days: int,
    project_reference: str = "",
    sponsor: str | int | None = None,
    list_entry: str | int | None = None,
) -> tuple[AccessRequest, dict[str, Any]]:
    """File and submit a request; with `list_entry` (the code or id of a sharing responsibility list entry)
    the request cites it, and the workflows check that the entry covers it (`policy.check_list_request`)."""
    if (resource is None) == (product is None):
        raise InvalidInput("resource/product", None, "exactly one of resource= or product=")
    res = _by_ref(session, Resource, resource, "resource") if resource is not None else None
    prod = _by_ref(session, Product, product, "product") if product is not None else None
    backer = _by_ref(session, Organization, sponsor, "sponsor") if sponsor is not None else None
    cited = _by_ref(session, SharingListEntry, list_entry, "list entry") if list_entry is not None else None
    _preload(session, actor, res, prod)
    req = wf_requests.create_request(
        session,
        actor,
        resource=res,
        product=prod,
        channel=channel,
        purpose=purpose,
        use_statement=use_statement,
        fields=list(fields),
        volume=volume,
        duration_days=duration_days,
        project_reference=project_reference,
        sponsor=backer,
        list_entry=cited,
    )
    wf_requests.submit_request(session, actor, req)
    return req, _request_row(req, session)


def my_requests(session: Session, actor: Account) -> list[dict[str, Any]]:
    rows = session.exec(
        select(AccessRequest)
        .where(AccessRequest.requester_id == actor.id)
        .order_by(AccessRequest.id.desc())
        .options(selectinload(AccessRequest.grant))  # type: ignore[arg-type]  (one query for every row's grant)
    ).all()
    return [_request_row(r, session) for r in rows]


def _own_request(session: Session, actor: Account, ref: str | int) -> AccessRequest:
    return _by_ref(session, AccessRequest, ref, "request")


def accept_quote(session: Session, actor: Account, ref: str | int) -> tuple[AccessRequest, dict[str, Any]]:
    req = _own_request(session, actor, ref)
    payment = wf_requests.accept_quote(session, actor, req)
    return req, {"status": req.status.value, "paid": None if payment is None else str(payment.amount)}


def withdraw(
    session: Session, actor: Account, ref: str | int, reason: str
) -> tuple[AccessRequest, dict[str, Any]]:
    req = _own_request(session, actor, ref)
    wf_requests.withdraw(session, actor, req, reason)
    return req, {"status": req.status.value}


def report_usage(
    session: Session, actor: Account, ref: str | int, summary: str
) -> tuple[AccessRequest, dict[str, Any]]:
    from marketplace.workflows.grants import report_usage as wf_report_usage

    req = _own_request(session, actor, ref)
    report = wf_report_usage(session, actor, req, summary)
    return req, {
        "period_due": report.period_due.isoformat(),
        "late": report.late,
        "next_due": None if req.grant.usage_report_due is None else req.grant.usage_report_due.isoformat(),
    }


def review_queue(
    session: Session, actor: Account, *, limit: int = 100, after: int | None = None
) -> list[dict[str, Any]]:
    """`limit` stages of the actor's queue (in due-date order) after the stage `after` (a review id: the last
    row of the page before; None: from the start), their requests loaded in one go. Pages by key, so rows
    decided or added between two pages are neither repeated nor skipped."""
    key = None
    if after is not None:
        stage = session.get(Review, after)
        if stage is None or stage.due_on is None:
            raise InvalidInput("after", after, "the review id of a row of the page before")
        key = wf_reviews.queue_key(stage)
    reviews = list(wf_reviews.review_queue(session, actor, limit=limit, after=key))
    ids = {rv.request_id for rv in reviews}
    requests: dict[int, AccessRequest] = {}
    if ids:  # one query instead of three per row (held here: the identity map alone keeps no row alive)
        loaded = session.exec(
            select(AccessRequest)
            .where(AccessRequest.id.in_(ids))
            .options(
                selectinload(AccessRequest.product),
                selectinload(AccessRequest.resource),
                selectinload(AccessRequest.conditions),
            )
        ).all()
        requests = {r.id: r for r in loaded}
    out = []
    for rv in reviews:
        req = requests[rv.request_id]
        out.append(
            {
                "review_id": rv.id,
                "request": req.code,
                "request_id": req.id,
                "stage": rv.stage.value,
                "due_on": rv.due_on,
                "purpose": req.purpose.value,
                "channel": req.channel.value,
                "target": req.product.code if req.product_id else req.resource.code,
                "use_statement": req.use_statement,
                "fields": list(req.fields or []),
                "conditions": [c.text for c in req.conditions],
            }
        )
    return out


def decide(
    session: Session, actor: Account, review_id: int, decision: str, conditions: Iterable[Any], reason: str
) -> tuple[AccessRequest, dict[str, Any]]:
    if isinstance(review_id, bool) or not isinstance(review_id, int):
        raise InvalidInput("review", review_id, "the id of a review stage from your queue")
    review = session.get(Review, review_id)
    if review is None:
        raise NotFound("review", review_id)
    wf_reviews.decide(session, actor, review, decision, conditions=list(conditions), reason=reason)
    req = review.request
    return req, {
        "review_id": review.id,
        "decision": review.decision.value,
        "request_status": req.status.value,
    }


def deliver(session: Session, actor: Account, ref: str | int, rows: int | None) -> tuple[Any, dict[str, Any]]:
    from marketplace.workflows import delivery as wf_delivery

    req = _by_ref(session, AccessRequest, ref, "request")
    out = wf_delivery.deliver(session, actor, req, rows=rows)
    return req, {"status": req.status.value, "delivered": repr(out)[:200]}


def my_products(session: Session, actor: Account) -> list[dict[str, Any]]:
    rows = session.exec(
        select(Product).where(Product.operator_id == actor.organization_id).order_by(Product.id)
    ).all()
    return [
        {
            "id": p.id,
            "code": p.code,
            "name": p.name,
            "status": p.status.value,
            "billing_unit": p.billing_unit.value,
            "cap": None if p.price_cap is None else str(p.price_cap),
            "price": None if p.actual_price is None else str(p.actual_price),
        }
        for p in rows
    ]


def price_product(
    session: Session, actor: Account, ref: str | int, price: Any
) -> tuple[Product, dict[str, Any]]:
    from marketplace.workflows import products as wf_products

    prod = _by_ref(session, Product, ref, "product")
    wf_products.price_product(session, actor, prod, price)
    return prod, {"status": prod.status.value, "price": str(prod.actual_price)}


def list_product(session: Session, actor: Account, ref: str | int) -> tuple[Product, dict[str, Any]]:
    from marketplace.workflows import products as wf_products

    prod = _by_ref(session, Product, ref, "product")
    wf_products.list_product(session, actor, prod)
    return prod, {"status": prod.status.value}


# ------------------------------------------------------------ sharing responsibility lists


def citable_entries(session: Session, actor: Account) -> list[dict[str, Any]]:
    """The list entries in force that the actor's organization may cite, in words (holder, resource, who
    may cite it, purposes, duty), through the same lookup the request panel uses."""
    from marketplace.workflows.sharing_list_view import entry_view
    from marketplace.workflows.sharing_lists import list_entries_for

    resource_ids = session.exec(
        select(SharingListEntry.resource_id)
        .where(SharingListEntry.status == "in_force")
        .distinct()
        .order_by(SharingListEntry.resource_id)
    ).all()
    out = []
    for rid in resource_ids:
        res = session.get(Resource, rid)
        for entry in list_entries_for(session, res, actor.organization_id):
            if entry.sharing_list.holder_id == actor.organization_id:
                continue  # a department does not ask itself for its own data
            view = entry_view(session, entry)
            out.append(
                {
                    "id": view.id,
                    "code": view.code,
                    "list": view.list_code,
                    "holder": view.holder,
                    "resource": view.resource_code,
                    "resource_title": view.resource_title,
                    "recipients": list(view.recipients),
                    "purposes": list(view.purposes),
                    "duty": view.duty,
                }
            )
    return out


# ------------------------------------------------------------ operator selection


def _org_name(session: Session, org_id: int | None) -> str | None:
    org = session.get(Organization, org_id) if org_id is not None else None
    return None if org is None else org.name


def _org_name_by_code(session: Session, code: str) -> str:
    org = session.exec(select(Organization).where(Organization.code == code)).first()
    return code if org is None else org.name


def _criterion(rule: str) -> str | None:
    """The criterion a disqualified application failed ('selection.qualification.capital' -> 'capital')."""
    return rule.rsplit(".", 1)[-1] if rule else None


def _application_row(session: Session, app: SelectionApplication) -> dict[str, Any]:
    return {
        "id": app.id,
        "operator": _org_name(session, app.operator_id),
        "filed_on": app.filed_at.date().isoformat(),
        "security_level": app.security_level,
        "registered_capital": str(app.registered_capital),
        "qualified": app.qualified,
        "failed_criterion": _criterion(app.refusal_rule),
        "scores": dict(app.scores or {}),
        "total": None if app.total is None else str(app.total),
    }


def _round_row(session: Session, actor: Account, rnd: SelectionRound) -> dict[str, Any]:
    apps = sorted(rnd.applications, key=lambda a: a.id)
    mine = next((a for a in apps if a.operator_id == actor.organization_id), None)
    return {
        "id": rnd.id,
        "code": rnd.code,
        "title": rnd.title,
        "institution": _org_name(session, rnd.institution_id),
        "status": rnd.status.value,
        "method": rnd.method.value,
        "resources": [f"{r.code} {r.title}" for r in rnd.resources],
        "opened_on": rnd.opened_at.date().isoformat(),
        "criteria": dict(rnd.weights or {}),
        "applicants": len(apps),
        "my_application": None if mine is None else _application_row(session, mine),
        "run_by_my_organization": rnd.institution_id == actor.organization_id,
        "applications": [_application_row(session, a) for a in apps]
        if rnd.institution_id == actor.organization_id
        else [],
        "winner": _org_name(session, rnd.winner_id),
        "notice_until": None if rnd.notice_until is None else rnd.notice_until.isoformat(),
    }


def selection_rounds(session: Session, actor: Account, *, limit: int = 50) -> list[dict[str, Any]]:
    """Open rounds first, then the rest, newest first: what an operator may apply to and what an
    implementing institution's staff run (with the applications of their own institution's rounds)."""
    rows = session.exec(
        select(SelectionRound)
        .options(selectinload(SelectionRound.applications), selectinload(SelectionRound.resources))
        .order_by(SelectionRound.id.desc())
    ).all()
    rows = sorted(rows, key=lambda r: r.status is not SelectionStatus.open)[:limit]
    return [_round_row(session, actor, r) for r in rows]


def apply_for_selection(
    session: Session,
    actor: Account,
    ref: str | int,
    *,
    security_level: int,
    registered_capital: Any,
    statement: str,
) -> tuple[SelectionRound, dict[str, Any]]:
    from marketplace.workflows import selection as wf_selection

    rnd = _by_ref(session, SelectionRound, ref, "selection round")
    app = wf_selection.apply_for_selection(
        session,
        actor,
        rnd,
        security_level=security_level,
        registered_capital=registered_capital,
        statement=statement,
    )
    return rnd, {"round": rnd.code, **_application_row(session, app)}


def score_application(
    session: Session, actor: Account, application_id: int, scores: Any
) -> tuple[SelectionRound, dict[str, Any]]:
    from marketplace.workflows import selection as wf_selection

    if isinstance(application_id, bool) or not isinstance(application_id, int):
        raise InvalidInput("application", application_id, "the id of an application to a selection round")
    app = session.get(SelectionApplication, application_id)
    if app is None:
        raise NotFound("application", application_id)
    wf_selection.score_application(session, actor, app, scores)
    return app.selection, {"round": app.selection.code, **_application_row(session, app)}


def decide_selection(
    session: Session, actor: Account, ref: str | int, note: str
) -> tuple[SelectionRound, dict[str, Any]]:
    from marketplace.workflows import selection as wf_selection

    rnd = _by_ref(session, SelectionRound, ref, "selection round")
    wf_selection.decide_selection(session, actor, rnd, note)
    return rnd, {
        "round": rnd.code,
        "status": rnd.status.value,
        "winner": _org_name(session, rnd.winner_id),
        "ranking": [
            {"operator": _org_name_by_code(session, r["operator"]), "total": r["total"]}
            for r in rnd.decision.get("ranking", [])
        ],
        "notice_until": None if rnd.notice_until is None else rnd.notice_until.isoformat(),
    }
