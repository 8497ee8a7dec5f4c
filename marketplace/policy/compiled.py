"""Per-policy lookup tables for the hot path.

`route` and `quote` run hundreds of thousands of times in a simulation. Reading nested pydantic models
and building enum sets on every call would dominate that cost, so each policy is compiled once into plain
dicts, frozensets and prebuilt condition specs. The cache is keyed on the policy object's identity (a
loaded policy is frozen, so its tables never go stale) and keeps a reference to the policy, so an id is
never reused while its entry lives. Bounded so that parameter sweeps that build many policies do not grow
it without limit.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from decimal import ROUND_CEILING, ROUND_HALF_UP, Decimal

from marketplace.policy.schema import Policy
from marketplace.policy.types import ConditionSpec
from marketplace.policy.workdays import WorkingCalendar
from marketplace.vocabulary import (
    BillingUnit,
    Channel,
    ComputeKind,
    ComputeUnit,
    ConditionKind,
    EnterpriseSize,
    Grade,
    OrganizationKind,
    ProductKind,
    Purpose,
    ReviewStage,
    Role,
)

_MAX_CACHED = 512


@dataclass(slots=True)
class Tables:
    policy: Policy
    name: str
    free: frozenset[Purpose]
    paid: frozenset[Purpose]
    allowed_purposes: dict[Channel, frozenset[Purpose]]
    grade_channels: dict[Grade, frozenset[Channel]]
    requester_kinds: dict[Channel, frozenset[OrganizationKind]]
    stages: dict[tuple[Channel, bool], tuple[ReviewStage, ...]]  # (channel, conditional?) -> stages
    product_stages: dict[ProductKind | None, tuple[ReviewStage, ...]]  # product kind -> sale stages
    free_conditions: dict[Purpose, tuple[ConditionSpec, ...]]  # conditions of conditional free use
    reviewer: dict[ReviewStage, Role]
    on_breach: dict[ReviewStage, str]
    calendar: WorkingCalendar
    important_processed_only: bool
    raw_to_market: bool
    personal_forces_conditional: bool
    open_by_default: frozenset[Grade]
    aggregate_only: frozenset[Grade]
    deadline_compliance: int
    deadline_holder_published: int
    deadline_holder_unpublished: int
    deadline_conditional_open: int
    deadline_conditional_open_ext: int
    deadline_security: int
    max_grant_days: int
    no_onward_transfer: frozenset[Channel]
    report_usage: frozenset[Channel]
    cond_deidentify: ConditionSpec
    cond_aggregate: ConditionSpec
    cond_no_onward: ConditionSpec
    cond_report: ConditionSpec
    # pricing
    currency: str
    caps_apply: bool
    forbid_cap_below_cost: bool
    rounding: str
    holder_share: Decimal
    caps: dict[tuple[ProductKind | ComputeKind | None, BillingUnit | ComputeUnit], Decimal | None]
    tiers: tuple[tuple[int, Decimal], ...]
    discount_kind: dict[OrganizationKind, Decimal]
    discount_size: dict[EnterpriseSize, Decimal]
    discount_purposes: frozenset[Purpose] | None
    tax_rate: Decimal
    tax_included: bool
    due_cache: dict[tuple[date, int], date] = field(default_factory=dict)
    expiry_cache: dict[int, ConditionSpec] = field(default_factory=dict)
    pricing_text: object = None  # built by pricing on first use (prebuilt lines and reason fragments)


_CACHE: dict[int, Tables] = {}

CENT = Decimal("0.01")
ROUNDING_MODES = {"half_up": ROUND_HALF_UP, "up": ROUND_CEILING}


def tables(policy: Policy) -> Tables:
    """The compiled tables of `policy` (built on first use)."""
    t = _CACHE.get(id(policy))
    if t is not None and t.policy is policy:
        return t
    t = _compile(policy)
    if len(_CACHE) >= _MAX_CACHED:
        _CACHE.pop(next(iter(_CACHE)))
    _CACHE[id(policy)] = t
    return t


def working_calendar(policy: Policy) -> WorkingCalendar:
    """The policy's working-day calendar (one per compiled policy, so its years are built once)."""
    return tables(policy).calendar


def _min_cap(*values: Decimal | None) -> Decimal | None:
    present = [v for v in values if v is not None]
    return min(present) if present else None


def _compile(p: Policy) -> Tables:
    pu, pr, r, d, pv = p.purposes, p.pricing, p.routing, p.deadlines, p.privacy
    stages = {
        (Channel.sharing, False): tuple(r.stages.sharing.unconditional),
        (Channel.sharing, True): tuple(r.stages.sharing.conditional),
        (Channel.opening, False): tuple(r.stages.opening.unconditional),
        (Channel.opening, True): tuple(r.stages.opening.conditional),
        (Channel.authorized_operation, False): tuple(r.stages.authorized_operation),
        (Channel.authorized_operation, True): tuple(r.stages.authorized_operation),
    }
    on_breach = {s: getattr(d.on_breach_by_stage, s.value) or d.on_breach for s in ReviewStage}
    caps: dict[tuple[ProductKind | None, BillingUnit], Decimal | None] = {}
    for unit in BillingUnit:
        caps[(None, unit)] = pr.caps.get(unit)
        for kind in ProductKind:
            caps[(kind, unit)] = _min_cap(pr.caps.get(unit), pr.caps_by_kind.get(kind).get(unit))
    for ckind in ComputeKind:  # computation units: the cap of the kind's billing unit (`[compute.caps]`)
        cunit = p.compute.billing.get(ckind)
        caps[(ckind, cunit)] = p.compute.caps.get(cunit)  # type: ignore[index]
    disc = pr.discounts
    return Tables(
        policy=p,
        name=p.name,
        free=frozenset(pu.free),
        paid=frozenset(pu.paid),
        allowed_purposes={
            Channel.sharing: frozenset(pu.allowed.sharing),
            Channel.opening: frozenset(pu.allowed.opening),
            Channel.authorized_operation: frozenset(pu.allowed.authorized_operation),
        },
        grade_channels={g: frozenset(getattr(r.grade_channels, g.value)) for g in Grade},
        requester_kinds={c: frozenset(getattr(r.requester_kinds, c.value)) for c in Channel},
        stages=stages,
        free_conditions={
            pu: tuple(ConditionSpec(ConditionKind(c), {}, c) for c in rule.conditions)
            for pu in p.purposes.free
            if (rule := p.purposes.free_use.get(pu)) is not None
        },
        product_stages={
            **{k: tuple(r.stages.authorized_operation_by_kind.get(k) or r.stages.authorized_operation)
               for k in ProductKind},
            None: tuple(r.stages.authorized_operation),
        },
        reviewer={s: getattr(r.reviewer_roles, s.value) for s in ReviewStage},
        on_breach=on_breach,
        calendar=WorkingCalendar(
            p.calendar.extra_holidays,
            p.calendar.extra_workdays,
            p.calendar.not_holidays,
            p.calendar.not_workdays,
            p.calendar.notice_years,
        ),
        important_processed_only=r.important_products_processed_only,
        raw_to_market=r.raw_data_to_market,
        personal_forces_conditional=r.personal_info_forces_conditional_open,
        open_by_default=frozenset(r.open_by_default_grades),
        aggregate_only=frozenset(pv.aggregate_only_grades),
        deadline_compliance=d.compliance,
        deadline_holder_published=d.holder_published,
        deadline_holder_unpublished=d.holder_unpublished,
        deadline_conditional_open=d.conditional_open,
        deadline_conditional_open_ext=d.conditional_open_extension,
        deadline_security=d.security,
        max_grant_days=p.conditions.max_grant_days,
        no_onward_transfer=frozenset(p.conditions.no_onward_transfer),
        report_usage=frozenset(p.conditions.report_usage),
        cond_deidentify=ConditionSpec(
            ConditionKind.deidentify, {"k": pv.k, "l": pv.l}, f"deidentify(k>={pv.k}, l>={pv.l})"
        ),
        cond_aggregate=ConditionSpec(
            ConditionKind.aggregate, {"min_cell": pv.min_cell_size}, f"aggregate(min_cell={pv.min_cell_size})"
        ),
        cond_no_onward=ConditionSpec(ConditionKind.no_onward_transfer, {}, "no_onward_transfer"),
        cond_report=ConditionSpec(ConditionKind.report_usage, {}, "report_usage"),
        currency=pr.currency,
        caps_apply=pr.caps_apply,
        forbid_cap_below_cost=pr.forbid_cap_below_cost,
        rounding=ROUNDING_MODES[pr.rounding],
        holder_share=pr.holder_share,
        caps=caps,
        tiers=tuple((t.from_volume, t.multiplier) for t in pr.tiers),
        discount_kind={k: Decimal(getattr(disc.by_kind, k.value)) for k in OrganizationKind},
        discount_size={s: Decimal(getattr(disc.by_size, s.value)) for s in EnterpriseSize},
        discount_purposes=frozenset(disc.purposes) if disc.purposes else None,
        tax_rate=pr.tax.rate,
        tax_included=pr.tax.included_in_price,
    )
