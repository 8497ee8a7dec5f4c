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
from typing import Any

from sqlmodel import Session

from marketplace.errors import InvalidInput, PolicyRefusal
from marketplace.models import AccessRequest, Account, Resource
from marketplace.policy import Policy
from marketplace.policy.compute import ComputeGrant, compute_grant, delivery_mode
from marketplace.privacy.sqlcheck import fingerprint
from marketplace.vocabulary import ComputeKind, DeliveryMode, GrantStatus, Role
from marketplace.workflows.step import REFUSALS, step

__all__ = ["ENVIRONMENT_ROWS", "compute_terms", "run_computation", "terms_for_grant"]

ENVIRONMENT_ROWS = 20_000  # assumption: the synthetic rows a holder's environment holds for one grant
MAX_SPEC_CHARS = 20_000  # a computation's description (SQL, columns, a record) is bounded like any text field
_KEYS = {
    ComputeKind.aggregate_query: {"sql"},
    ComputeKind.dp_release: {"measure", "epsilon", "column", "bounds", "by", "quantile"},
    ComputeKind.model_training: {"target", "features", "task", "seed"},
    ComputeKind.verification: {"record"},
}


def source_resource(request: AccessRequest) -> Resource | None:
    """The resource a request's computation runs over: the one asked for, or the product's first source."""
    if request.resource is not None:
        return request.resource
    product = request.product
    return product.resources[0] if product is not None and product.resources else None


def compute_terms(policy: Policy, request: AccessRequest, grant_id: int) -> ComputeGrant | None:
    """The compute terms a grant of `request` carries, or None where the policy delivers rows only."""
    resource = source_resource(request)
    if resource is None:
        return None
    mode = delivery_mode(
        policy, resource.grade, request.channel, domain=resource.domain, source=resource.source
    )
    if mode is DeliveryMode.rows:
        return None
    fields = [(f.name, f.marking.value) for f in resource.fields]
    excluded = tuple(n for n, _ in fields if request.fields and n not in request.fields)
    return compute_grant(
        policy,
        grant_id=grant_id,
        requester_id=request.requester_org_id,
        resource_id=resource.id,
        fields=fields,
        excluded=excluded,
        resource_budget=resource.epsilon_budget,
    )


def terms_for_grant(terms: ComputeGrant) -> dict[str, Any]:
    """The compute terms as the grant records them: what may be computed, on what, within which limits."""
    return {
        "kinds": sorted(k.value for k in terms.kinds),
        "columns": list(terms.columns),
        "dimensions": list(terms.dimensions),
        "min_cell": terms.min_cell,
        "max_result_rows": terms.max_result_rows,
        "queries_per_day": terms.queries_per_day,
        "verifications_per_day": terms.verifications_per_day,
        "epsilon_per_query_max": terms.epsilon_per_query_max,
        "epsilon_per_grant": terms.epsilon_per_grant,
        "epsilon_per_requester": terms.epsilon_per_requester,
        "epsilon_per_resource": terms.epsilon_per_resource,
        "units": {k.value: u.value for k, u in terms.units.items()},
    }


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
                result = compute.run_query(st.session, terms, env, str(args.get("sql", "")), at=st.now)
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
        st.record(
            {
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
