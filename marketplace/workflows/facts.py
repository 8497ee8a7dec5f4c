"""Table rows -> the plain facts the policy rules take, and the policy in force.

Workflows never decide a rule themselves: they describe the request, the target and the requester to
`marketplace.policy` with these converters and act on its answer.
"""

from __future__ import annotations

from datetime import date
from functools import lru_cache

from sqlmodel import Session

from marketplace.models import AccessRequest, Organization, Product, Resource
from marketplace.policy import Policy, Requester, RequestFacts, SourceFacts, Target, load_policy, route
from marketplace.policy import product_target as policy_product_target
from marketplace.vocabulary import Channel, FieldMarking
from marketplace.workflows.settings import POLICY_KEY, cache, remember, setting_value

DEFAULT_POLICY = "national-2025"
POLICY = "marketplace.policy"

__all__ = [
    "DEFAULT_POLICY",
    "POLICY_KEY",
    "current_policy",
    "policy_named",
    "product_target",
    "request_facts",
    "requester_facts",
    "resource_channels",
    "resource_target",
    "target_of",
]


@lru_cache(maxsize=32)
def policy_named(name: str) -> Policy:
    """A loaded policy, cached per name (policies are frozen values)."""
    return load_policy(name)


def current_policy(session: Session) -> Policy:
    """The policy in force: the `policy` sandbox setting, else national-2025 (read once per transaction)."""
    cached = cache(session, POLICY)
    if cached is not None:
        return cached
    value = setting_value(session, POLICY_KEY)
    name = DEFAULT_POLICY
    if value:
        name = value.get("name", DEFAULT_POLICY) if isinstance(value, dict) else str(value)
    return remember(session, POLICY, policy_named(name))


def requester_facts(org: Organization) -> Requester:
    return Requester(org_id=org.id or 0, kind=org.kind, size=org.size, region=org.region or "")


def _personal(resource: Resource) -> tuple[str, ...]:
    return tuple(f.name for f in resource.fields if f.marking != FieldMarking.other)


def resource_target(resource: Resource, channel: Channel | str) -> Target:
    personal = _personal(resource)
    return Target(
        channel=Channel(channel),
        grade=resource.grade,
        sharing_attribute=resource.sharing_attribute,
        opening_attribute=resource.opening_attribute,
        holder_id=resource.holder_id,
        contains_personal_info=bool(personal),
        published=resource.published,
        field_names=tuple(f.name for f in resource.fields),
        personal_fields=personal,
    )


def product_holder_id(product: Product) -> int:
    """The data holder answering for a product: the holder of its first resource (else the agency)."""
    resources = list(product.resources)
    if resources:
        return resources[0].holder_id
    return product.authorization.agency_id if product.authorization is not None else product.operator_id


def source_facts(resource: Resource) -> SourceFacts:
    return SourceFacts(
        grade=resource.grade,
        sharing_attribute=resource.sharing_attribute,
        opening_attribute=resource.opening_attribute,
        holder_id=resource.holder_id,
        published=resource.published,
        field_names=tuple(f.name for f in resource.fields),
        personal_fields=_personal(resource),
    )


def product_target(product: Product) -> Target:
    """The policy facts of a product row (the rule that derives them lives in `policy.product_target`)."""
    return policy_product_target(
        [source_facts(r) for r in product.resources],
        transformation=product.transformation,
        billing_unit=product.billing_unit,
        price_cap=product.price_cap,
        actual_price=product.actual_price,
        unit_cost=product.unit_cost,
        product_kind=product.kind,
        holder_id=product_holder_id(product),
    )


def target_of(request: AccessRequest) -> Target:
    if request.product_id is not None:
        return product_target(request.product)
    return resource_target(request.resource, request.channel)


def request_facts(request: AccessRequest) -> RequestFacts:
    return RequestFacts(
        purpose=request.purpose,
        volume=request.volume,
        fields=tuple(request.fields or ()),
        duration_days=request.duration_days,
    )


def resource_channels(resource: Resource, policy: Policy | None = None) -> list[str]:
    """Which channels can serve `resource` under `policy` (default national-2025), asked of `policy.route`.

    Each channel is probed with the first requester kind and purpose the policy allows on it; authorized
    operation is probed as a de-identified and as an aggregated product made from the resource.
    """
    policy = policy or policy_named(DEFAULT_POLICY)
    out: list[str] = []
    for channel in Channel:
        kinds = getattr(policy.routing.requester_kinds, channel.value)
        purposes = getattr(policy.purposes.allowed, channel.value)
        if not kinds or not purposes:
            continue
        requester = Requester(org_id=-1, kind=kinds[0])
        facts = RequestFacts(purpose=purposes[0])
        base = resource_target(resource, channel)
        if channel is Channel.authorized_operation:
            probes = [_as_product(base, deidentified=True), _as_product(base, aggregated=True)]
        else:
            probes = [base]
        if any(route(policy, facts, t, requester, start=date(2025, 1, 6)).allowed for t in probes):
            out.append(channel.value)
    return out


def _as_product(t: Target, *, deidentified: bool = False, aggregated: bool = False) -> Target:
    return Target(
        channel=t.channel,
        grade=t.grade,
        sharing_attribute=t.sharing_attribute,
        opening_attribute=t.opening_attribute,
        holder_id=t.holder_id,
        contains_personal_info=t.contains_personal_info,
        published=t.published,
        is_product=True,
        deidentified=deidentified,
        aggregated=aggregated,
        personal_fields=t.personal_fields,
    )
