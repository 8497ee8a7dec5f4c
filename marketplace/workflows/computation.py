"""Computation under a grant ("usable but not visible"): the requester's computations run where the data is.

Where the policy's delivery mode for the data's grade and channel is `compute` or `either`
(`policy.delivery_mode`), a granted request carries compute terms (`grant.terms["compute"]`: the kinds, the
readable columns, the ε budgets and the daily limits, from `policy.compute_grant`) and its requester runs
computations through `run_computation`: one step each, checked and executed by `marketplace.compute` over the
resource's synthetic rows, charged to the one ε ledger and to the grant's limits, and recorded in the audit
chain with the computation's fingerprint and privacy cost, never its result. A refused computation is audited
with its fingerprint too, so a sequence of refusals (a tracker or differencing attempt) shows in the log.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from sqlmodel import Session, select

from marketplace import policy as pol
from marketplace.errors import InvalidInput, PolicyRefusal
from marketplace.models import AccessRequest, Account, ComputeRun, Payment, Quote
from marketplace.policy.compute import compute_target
from marketplace.policy.types import RequestFacts
from marketplace.privacy.differencing import Release
from marketplace.privacy.sqlcheck import fingerprint
from marketplace.vocabulary import ComputeKind, GrantStatus, QuoteStatus, Role
from marketplace.workflows.compute_grants import compute_terms, source_resource, terms_for_grant
from marketplace.workflows.facts import requester_facts, target_of
from marketplace.workflows.price_formation import take_payment
from marketplace.workflows.step import REFUSALS, Step, step

__all__ = ["ENVIRONMENT_ROWS", "compute_terms", "run_computation", "terms_for_grant"]

ENVIRONMENT_ROWS = 20_000  # assumption: the synthetic rows a holder's environment holds for one grant
MAX_SPEC_CHARS = 20_000  # a computation's description (SQL, columns, a record) is bounded like any text field
_KEYS = {
    ComputeKind.aggregate_query: {"sql"},
    ComputeKind.dp_release: {"measure", "epsilon", "column", "bounds", "by", "quantile"},
    ComputeKind.model_training: {"target", "features", "task", "seed"},
    ComputeKind.verification: {"record"},
}


def released_cells(session: Session, grant_id: int) -> list[Release]:
    """The cells the grant's earlier aggregate queries released: the state the differencing rule
    (`privacy.check_differencing`) checks each new query against."""
    runs = session.exec(
        select(ComputeRun).where(
            ComputeRun.grant_id == grant_id,
            ComputeRun.accepted == True,  # noqa: E712 - SQL comparison
            ComputeRun.kind == ComputeKind.aggregate_query,
        ).order_by(ComputeRun.id)
    ).all()
    return [Release.from_dict(r.detail["release"]) for r in runs if "release" in (r.detail or {})]


def charge(st: Step, request: AccessRequest, kind: ComputeKind, units: int) -> Payment | None:
    """Bill `units` of a computation at the grant's quoted unit price (`terms["compute"]["prices"]`), through
    `policy.quote` (discount, cap and tax as for any purchase): a metered quote row and its Payment, which
    counts in the operator's revenue against MAR like any fee (`price_formation.take_payment`). Free channels
    and free purposes quote 0.00 and record nothing. Called inside the computation's step."""
    if units <= 0 or request.product_id is None:
        return None
    prices = (request.grant.terms.get("compute") or {}).get("prices") or {}
    quoted = prices.get(kind.value)
    target = compute_target(st.policy, target_of(request), kind, Decimal(quoted) if quoted else None)
    priced = pol.quote(
        st.policy, target, RequestFacts(purpose=request.purpose, volume=units),
        requester_facts(request.requester_org),
    )
    if priced.free or priced.total <= 0:
        return None
    lines = priced.as_dict()["lines"]
    row = Quote(
        request_id=request.id, policy_name=st.policy.name, currency=priced.currency, total=priced.total,
        lines=lines, status=QuoteStatus.metered, created_at=st.now, accepted_at=st.now,
    )
    st.session.add(row)
    st.session.flush()
    return take_payment(st, request, row.id, priced)


def _spec(kind: ComputeKind, spec: Mapping[str, Any]) -> dict[str, Any]:
    if not isinstance(spec, Mapping):
        raise InvalidInput("computation", type(spec).__name__, "a mapping of the computation's parameters")
    unknown = sorted(set(map(str, spec)) - _KEYS[kind])
    if unknown:
        raise InvalidInput(
            "computation", unknown[0], f"one of {', '.join(sorted(_KEYS[kind]))} for {kind.value}"
        )
    text = json.dumps(spec, sort_keys=True, default=str)
    if len(text) > MAX_SPEC_CHARS:
        raise InvalidInput(
            "computation", f"{len(text):,} characters", f"at most {MAX_SPEC_CHARS:,} characters"
        )
    return dict(spec)


def run_computation(
    session: Session,
    actor: Account,
    request: AccessRequest,
    kind: ComputeKind | str,
    spec: Mapping[str, Any],
) -> Any:
    """Run one of the requester's computations under the request's grant; `marketplace.compute`'s result.

    `spec` by kind: aggregate_query {"sql"}; dp_release {"measure", "epsilon", "column", "bounds", "by",
    "quantile"}; model_training {"target", "features", "task", "seed"}; verification {"record"}.
    """
    from marketplace import compute

    try:
        kind = ComputeKind(kind)
    except ValueError:
        raise InvalidInput("kind", kind, "one of " + ", ".join(k.value for k in ComputeKind)) from None
    args = _spec(kind, spec)
    attempt = {"kind": kind.value, "fingerprint": fingerprint(json.dumps(args, sort_keys=True, default=str))}
    with step(session, actor, "compute.run", request) as st:
        st.require_org(Role.requester, request.requester_org_id, what="requesting organization")
        grant = request.grant
        st.refuse_unless(
            grant is not None and grant.status is GrantStatus.active, "run a computation", "no grant in force"
        )
        terms = compute_terms(st.policy, request, grant.id)
        if terms is None:
            raise st.refuse(
                PolicyRefusal(
                    "compute.not_offered",
                    f"{st.policy.name} delivers this data as rows, not as computations where it is held",
                ),
                attempt,
            )
        resource = source_resource(request)
        env = compute.resource_environment(resource, ENVIRONMENT_ROWS, seed=request.id)
        try:
            if kind is ComputeKind.aggregate_query:
                result = compute.run_query(
                    st.session, terms, env, str(args.get("sql", "")), at=st.now,
                    released=released_cells(st.session, grant.id),
                )
            elif kind is ComputeKind.dp_release:
                measure = str(args.get("measure", ""))
                result = compute.run_dp(
                    st.session,
                    terms,
                    env,
                    measure,
                    epsilon=args.get("epsilon"),
                    column=args.get("column"),
                    bounds=args.get("bounds"),
                    by=tuple(args.get("by", ())),
                    quantile=args.get("quantile", 0.5),
                    at=st.now,
                )
            elif kind is ComputeKind.model_training:
                result = compute.train_model(
                    st.session,
                    terms,
                    env,
                    target=str(args.get("target", "")),
                    features=list(args.get("features", ())),
                    task=str(args.get("task", "regression")),
                    seed=int(args.get("seed", 0)),
                    at=st.now,
                )
            else:
                result = compute.verify_record(st.session, terms, env, args.get("record", {}), at=st.now)
        except REFUSALS as err:
            raise st.refuse(err, attempt) from None
        finally:
            env.close()
        run = result.run
        payment = charge(st, request, kind, run.units)
        if payment is not None:
            run.detail = {**(run.detail or {}), "charge": str(payment.amount), "payment_id": payment.id}
        st.record(
            {
                "charge": payment.amount if payment is not None else Decimal("0.00"),
                "kind": kind.value,
                "fingerprint": run.fingerprint,
                "epsilon": run.epsilon,
                "unit": run.unit.value if run.unit is not None else None,
                "units": run.units,
                "cells_suppressed": run.cells_suppressed,
                "grant": grant.code,
            }
        )
    return result
