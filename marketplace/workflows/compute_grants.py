"""The compute terms a grant carries ("usable but not visible"): what may be computed, on what, within which
limits and at which unit price. Read by `grants.issue_grant` when a grant is made and by `computation` when a
computation runs; no state changes here (so granting does not depend on the computation steps)."""

from __future__ import annotations

from typing import Any

from marketplace.models import AccessRequest, Resource
from marketplace.policy import Policy
from marketplace.policy.compute import ComputeGrant, compute_grant, compute_unit_price, delivery_mode
from marketplace.vocabulary import DeliveryMode

__all__ = ["compute_terms", "source_resource", "terms_for_grant"]


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


def terms_for_grant(terms: ComputeGrant, policy: Policy | None = None) -> dict[str, Any]:
    """The compute terms as the grant records them: what may be computed, on what, within which limits, and
    (with `policy`) the price per unit each kind is quoted at, which every computation is charged at."""
    prices = (
        {} if policy is None else {k.value: str(compute_unit_price(policy, k)) for k in sorted(terms.kinds)}
    )
    return {
        "prices": prices,
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
