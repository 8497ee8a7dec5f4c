"""Computation products ("usable but not visible"): delivery mode per grade and channel, and grant terms.

Pure rules over the policy's `[compute]` section. The workflow layer builds a `ComputeGrant` from a grant
with `compute_grant` and hands it to the execution module (`marketplace.compute`), which never reads the
policy itself: what a computation may do is decided here, once.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from decimal import Decimal

from marketplace.errors import InvalidInput
from marketplace.policy.schema import Policy
from marketplace.policy.types import Refusal, Target
from marketplace.vocabulary import Channel, ComputeKind, ComputeUnit, DeliveryMode, Grade

__all__ = [
    "COMPUTE_ONLY_RULE",
    "ComputeGrant",
    "compute_billing_unit",
    "compute_cap",
    "compute_grant",
    "compute_target",
    "compute_unit_price",
    "delivery_mode",
    "rows_refusal",
    "supports_compute",
]

IMPORTED_SOURCE_PREFIXES = ("http://", "https://", "urn:", "file:")


def supports_compute(policy: Policy, *, domain: str, source: str = "seed") -> bool:
    """Whether the resource's holder runs a controlled processing environment over its rows.

    Rows exist in-domain only for resources the holder registered itself (not catalog entries imported from
    another portal, whose `source` is a URI) and in the domains the policy lists in `compute.domains`.
    """
    imported = source.lower().startswith(IMPORTED_SOURCE_PREFIXES)
    return not imported and domain in policy.compute.domains


def delivery_mode(
    policy: Policy, grade: Grade, channel: Channel, *, domain: str, source: str = "seed"
) -> DeliveryMode:
    """The delivery mode for data of `grade` on `channel`.

    The policy's mode stands where the source supports computation; where it does not, a "compute" or
    "either" mode falls back to rows (de-identified under the privacy conditions), because there is no
    environment to run the computation in.
    """
    mode = getattr(getattr(policy.compute.delivery, Grade(grade).value), Channel(channel).value)
    if mode is not DeliveryMode.rows and not supports_compute(policy, domain=domain, source=source):
        return DeliveryMode.rows
    return mode


COMPUTE_ONLY_RULE = "delivery.compute_only"


def rows_refusal(
    policy: Policy, grade: Grade, channel: Channel, *, domain: str, source: str = "seed"
) -> Refusal | None:
    """The refusal of a delivery of records where the policy's mode for `grade` on `channel` is compute only.

    Records (raw or de-identified rows) leave the holder's domain; under a `compute` mode only computation
    results may (`delivery_mode`; national-2025 sends important data to computation after GB/T 43697-2024
    and the Data 20 Articles). Aggregate releases with minimum cells are results, not records, so only row
    deliveries are refused. None where rows may go.
    """
    if delivery_mode(policy, grade, channel, domain=domain, source=source) is not DeliveryMode.compute:
        return None
    grade_v, channel_v = Grade(grade).value, Channel(channel).value
    return Refusal(
        COMPUTE_ONLY_RULE,
        f"{grade_v.capitalize()} data on the {channel_v.replace('_', ' ')} channel is delivered as "
        f"computation results only under {policy.name}, never as rows: "
        "run computations under the grant instead",
        "refusal.compute_only",
        {"policy": policy.name, "grade": f"policy.grade.{grade_v}", "channel": f"policy.channel.{channel_v}"},
    )


def compute_billing_unit(policy: Policy, kind: ComputeKind) -> ComputeUnit:
    return policy.compute.billing.get(ComputeKind(kind))


def compute_cap(policy: Policy, kind: ComputeKind) -> Decimal:
    """The price cap per billing unit of a computation product kind."""
    return policy.compute.caps.get(compute_billing_unit(policy, kind))


def compute_unit_price(policy: Policy, kind: ComputeKind) -> Decimal:
    """The price per billing unit a grant of `kind` computations is quoted at.

    Under caps it is the cap of the kind's unit (the operator has no separate price field for computation
    units; assumption: operators price computation at the cap, as the sandbox's products start at it); under
    market pricing (no caps) the policy's `[compute.caps]` figure is the operator's list price.
    """
    return compute_cap(policy, kind)


def compute_target(
    policy: Policy, product: Target, kind: ComputeKind, unit_price: Decimal | None = None
) -> Target:
    """The `Target` that `policy.quote` prices `kind` computations of `product` with: the same channel, grade
    and holder, billed in the kind's computation unit (per query, per call, per model) under `[compute.caps]`.

    `unit_price` is the price per unit the grant was quoted at (None: `compute_unit_price` now); the quote
    still caps it, so a cap lowered since the grant lowers what each computation costs, never the reverse.
    """
    kind = ComputeKind(kind)
    price = compute_unit_price(policy, kind) if unit_price is None else unit_price
    return replace(
        product,
        billing_unit=compute_billing_unit(policy, kind),
        product_kind=kind,
        price_cap=None,
        actual_price=price,
        unit_cost=None,
    )


@dataclass(frozen=True, slots=True)
class ComputeGrant:
    """What one grant allows a requester to compute on one resource (plain facts, no policy object).

    `columns` are the columns the computation may read; `identifiers` may never be read (only matched by
    verification); `dimensions` may be grouped by (the others only aggregated). Budgets are in ε.
    """

    grant_id: int
    requester_id: int
    resource_id: int
    kinds: frozenset[ComputeKind]
    columns: tuple[str, ...]
    identifiers: tuple[str, ...] = ()
    dimensions: tuple[str, ...] = ()
    verify_columns: tuple[str, ...] = ()
    min_cell: int = 10
    max_result_rows: int = 500
    near_unique_ratio: float = 0.5
    queries_per_day: int = 200
    epsilon_per_query_max: float = 1.0
    epsilon_per_grant: float = 3.0
    epsilon_per_requester: float = 5.0
    epsilon_per_resource: float = 10.0
    delta: float = 1e-7
    min_rows_per_parameter: int = 20
    max_model_parameters: int = 50
    verifications_per_day: int = 100
    units: dict[ComputeKind, ComputeUnit] = field(default_factory=dict, hash=False, compare=False)

    def allows(self, kind: ComputeKind) -> bool:
        return ComputeKind(kind) in self.kinds


def compute_grant(
    policy: Policy,
    *,
    grant_id: int,
    requester_id: int,
    resource_id: int,
    fields: list[tuple[str, str]],
    excluded: tuple[str, ...] = (),
    kinds: tuple[ComputeKind, ...] | None = None,
    resource_budget: float | None = None,
) -> ComputeGrant:
    """The terms of a computation grant under `policy`.

    `fields` are the resource's (name, marking) pairs; `excluded` are columns the grant leaves out;
    `resource_budget` is the resource's own ε budget (`Resource.epsilon_budget`; None: the policy's).
    Identifiers are never readable; quasi-identifiers and "other" fields are dimensions; verification may
    match every field but the sensitive ones (a yes/no on a sensitive value would disclose it).
    """
    c = policy.compute
    asked = tuple(c.kinds) if kinds is None else tuple(ComputeKind(k) for k in kinds)
    not_allowed = [k.value for k in asked if k not in c.kinds]
    if not_allowed:
        raise InvalidInput("kinds", not_allowed, "kinds the policy allows: " + ", ".join(c.kinds))
    names = [n for n, _ in fields]
    for name in excluded:
        if name not in names:
            raise InvalidInput("excluded", name, "a field of the resource (" + ", ".join(names) + ")")
    identifiers = tuple(n for n, m in fields if m == "identifier")
    readable = tuple(n for n, m in fields if m != "identifier" and n not in excluded)
    dimensions = tuple(n for n, m in fields if m in ("quasi_identifier", "other") and n in readable)
    verify = tuple(n for n, m in fields if m != "sensitive" and n not in excluded)
    return ComputeGrant(
        grant_id=grant_id,
        requester_id=requester_id,
        resource_id=resource_id,
        kinds=frozenset(asked),
        columns=readable,
        identifiers=identifiers,
        dimensions=dimensions,
        verify_columns=verify,
        min_cell=policy.privacy.min_cell_size,
        max_result_rows=c.max_result_rows,
        near_unique_ratio=float(c.near_unique_ratio),
        queries_per_day=c.queries_per_day,
        epsilon_per_query_max=float(c.epsilon_per_query_max),
        epsilon_per_grant=float(c.epsilon_per_grant),
        epsilon_per_requester=float(c.epsilon_per_requester),
        epsilon_per_resource=float(
            resource_budget if resource_budget is not None else policy.privacy.epsilon_budget_per_resource
        ),
        delta=float(c.delta),
        min_rows_per_parameter=c.min_rows_per_parameter,
        max_model_parameters=c.max_model_parameters,
        verifications_per_day=c.verifications_per_day,
        units={k: c.billing.get(k) for k in asked},
    )
