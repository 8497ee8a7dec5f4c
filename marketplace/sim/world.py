"""The simulator's view of a synthetic world: requester organizations and the targets they can ask for.

`marketplace.synth.build_world` makes the world; `sim_world()` flattens it once into numpy arrays plus the
policy `Target` facts of every resource (as a sharing and as an opening target) and every listed product (as
an authorized-operation target). A flat, array-shaped view is what lets one year of province demand run in
about a second; it is cached per (size, seed, locale) in each process, so the seeds of a sweep share it.
Tests may also build a `SimWorld` by hand (e.g. one product with a known price) with `SimWorld.build`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from functools import lru_cache
from typing import Any

import numpy as np

from marketplace.policy import SourceFacts, Target, product_target
from marketplace.sim.scenario import REQUESTER_CLASSES
from marketplace.vocabulary import (
    BillingUnit,
    Channel,
    FieldMarking,
    Grade,
    OpeningAttribute,
    OrganizationKind,
    ProductKind,
    SharingAttribute,
)

__all__ = [
    "OrgRow",
    "SimWorld",
    "TargetRow",
    "national_region_count",
    "org_class",
    "region_sim_world",
    "sim_world",
]

def org_class(kind: OrganizationKind | str, size: str | None) -> str | None:
    """The demand-model class of an organization (None for operators and regulators, who do not request)."""
    k = OrganizationKind(kind)
    if k is OrganizationKind.enterprise:
        return f"enterprise_{size or 'medium'}"
    return k.value if k.value in REQUESTER_CLASSES else None


@dataclass(frozen=True, slots=True)
class OrgRow:
    id: int
    code: str
    kind: OrganizationKind
    size: str | None = None
    region: str = ""


@dataclass(frozen=True, slots=True)
class TargetRow:
    """One thing a request can name: a resource on a channel, or a product (authorized operation)."""

    target: Target
    code: str
    domain: str
    resource_id: int | None = None
    product_id: int | None = None
    operator_id: int | None = None
    copies: int = 1
    """How many datasets of its kind this target stands for (an open resource of the `national` world: its
    share of the region's calibrated open datasets; 1 everywhere else)."""


@dataclass(slots=True)
class SimWorld:
    """Requester organizations and targets as arrays (index = position in `orgs` / `targets`)."""

    orgs: list[OrgRow]
    targets: list[TargetRow]
    operator_costs: dict[int, Decimal] = field(default_factory=dict)
    """Yearly operating cost each operator (org id) filed: the cost basis of its MAR."""
    operator_taxes: dict[int, Decimal] = field(default_factory=dict)
    """Yearly taxes each operator's cost filing forecasts (part of its MAR)."""
    label: str = "custom"
    org_class: np.ndarray = field(init=False)
    org_ids: np.ndarray = field(init=False)
    domains: list[str] = field(init=False)
    target_domain: np.ndarray = field(init=False)
    target_channel: np.ndarray = field(init=False)

    def __post_init__(self) -> None:
        cls_index = {c: i for i, c in enumerate(REQUESTER_CLASSES)}
        self.org_class = np.array(
            [cls_index.get(org_class(o.kind, o.size) or "", -1) for o in self.orgs], dtype=np.int64
        )
        self.org_ids = np.array([o.id for o in self.orgs], dtype=np.int64)
        self.domains = sorted({t.domain for t in self.targets})
        dom = {d: i for i, d in enumerate(self.domains)}
        self.target_domain = np.array([dom[t.domain] for t in self.targets], dtype=np.int64)
        chans = list(Channel)
        self.target_channel = np.array([chans.index(t.target.channel) for t in self.targets], dtype=np.int64)

    @classmethod
    def build(cls, orgs: list[OrgRow], targets: list[TargetRow], **kw: Any) -> SimWorld:
        return cls(orgs=orgs, targets=targets, **kw)


# ---------------------------------------------------------------- from marketplace.synth


def _dec(x: Any) -> Decimal | None:
    return None if x is None else Decimal(str(x))


def from_synth(world: Any, label: str = "synth") -> SimWorld:
    """Flatten a `marketplace.synth` World (its table rows) into a SimWorld.

    Operators' yearly operating cost and taxes (the MAR basis) come from the world's cost filings; a world
    without them uses the cost basis of the resources in their authorizations' scope and no taxes.
    """
    tables = world.tables
    orgs = [
        OrgRow(
            int(o["id"]),
            str(o["code"]),
            OrganizationKind(o["kind"]),
            None if o.get("size") is None else str(o["size"]),
            str(o.get("region") or ""),
        )
        for o in tables["organization"]
    ]
    fields: dict[int, list[tuple[str, str]]] = {}
    for f in sorted(tables.get("resourcefield", []), key=lambda f: (f["resource_id"], f.get("position", 0))):
        fields.setdefault(int(f["resource_id"]), []).append((str(f["name"]), str(f["marking"])))
    copies = {int(c["resource_id"]): int(c["copies"]) for c in tables.get("datasetcopies", [])}
    targets: list[TargetRow] = []
    resources: dict[int, tuple[dict[str, Any], str, Decimal]] = {}
    for r in tables["resource"]:
        rid = int(r["id"])
        fl = fields.get(rid, [])
        personal = tuple(n for n, mk in fl if mk != FieldMarking.other.value)
        base = dict(
            grade=Grade(r["grade"]),
            sharing_attribute=SharingAttribute(r["sharing_attribute"]),
            opening_attribute=OpeningAttribute(r["opening_attribute"]),
            holder_id=int(r["holder_id"]),
            contains_personal_info=bool(personal),
            published=bool(r.get("published", False)),
            field_names=tuple(n for n, _ in fl),
            personal_fields=personal,
        )
        resources[rid] = (base, str(r["domain"]), _dec(r.get("cost_basis")) or Decimal(0))
        for ch in (Channel.sharing, Channel.opening):
            targets.append(
                TargetRow(
                    Target(channel=ch, **base), str(r["code"]), str(r["domain"]), resource_id=rid,
                    copies=copies.get(rid, 1) if ch is Channel.opening else 1,
                )
            )
    sources: dict[int, list[int]] = {}
    for pr in tables.get("productresource", []):
        sources.setdefault(int(pr["product_id"]), []).append(int(pr["resource_id"]))
    op_costs: dict[int, Decimal] = {}
    auth_op = {int(a["id"]): int(a["operator_id"]) for a in tables.get("authorization", [])}
    for ar in tables.get("authorizationresource", []):
        op = auth_op.get(int(ar["authorization_id"]))
        res = resources.get(int(ar["resource_id"]))
        if op is not None and res is not None:
            op_costs[op] = op_costs.get(op, Decimal(0)) + res[2]
    for p in tables.get("product", []):
        if str(p.get("status")) not in ("listed", "priced"):
            continue
        src = [resources[i] for i in sources.get(int(p["id"]), []) if i in resources]
        if not src:
            continue
        op = int(p["operator_id"])
        facts = [
            SourceFacts(
                grade=b["grade"],
                sharing_attribute=b["sharing_attribute"],
                opening_attribute=b["opening_attribute"],
                holder_id=b["holder_id"],
                published=b["published"],
                field_names=b["field_names"],
                personal_fields=b["personal_fields"],
            )
            for b, _, _ in src
        ]
        targets.append(
            TargetRow(
                product_target(
                    facts,
                    transformation=str(p.get("transformation") or "deidentified"),
                    billing_unit=BillingUnit(p["billing_unit"]),
                    price_cap=_dec(p.get("price_cap")),
                    actual_price=_dec(p.get("actual_price")),
                    unit_cost=_dec(p.get("unit_cost")),
                    product_kind=ProductKind(p["kind"]),
                ),
                str(p["code"]),
                src[0][1],
                product_id=int(p["id"]),
                operator_id=op,
            )
        )
        op_costs.setdefault(op, Decimal(0))
    op_taxes: dict[int, Decimal] = {}
    filings = sorted(tables.get("costfiling", []), key=lambda f: int(f["year"]))
    if filings:  # the cost filings the world seeded (the earliest year): the MAR basis the sandbox holds
        first = int(filings[0]["year"])
        for f in filings:
            if int(f["year"]) == first:
                op_costs[int(f["operator_id"])] = Decimal(f["operating_cost"])
                op_taxes[int(f["operator_id"])] = Decimal(f["taxes"])
    return SimWorld(
        orgs=orgs, targets=targets, operator_costs=op_costs, operator_taxes=op_taxes, label=label
    )


@lru_cache(maxsize=8)
def sim_world(size: str, seed: int, locale: str) -> SimWorld:
    """The synthetic world of a scenario, flattened (cached per process)."""
    from marketplace.synth import build_world

    return from_synth(build_world(seed, size=size, locale=locale), label=f"{size}/{seed}/{locale}")


def national_region_count() -> int:
    """How many regions the `national` world has (read from seed/world/national.toml, not fixed in code)."""
    from marketplace.synth.national import region_count

    return region_count()


@lru_cache(maxsize=4)
def region_sim_world(seed: int, region: int, locale: str) -> SimWorld:
    """Region `region` (0 .. national_region_count() - 1) of the `national` world of `seed`, flattened.

    Built from (seed, region, locale) alone, so each task of a national run builds only its own region; the
    organizations' `region` is the region's name and every id and code is unique across regions (each region
    owns an id block), so results of different regions can be joined. Open resources carry `copies`: their
    share of the region's calibrated open datasets. Cached per process (a few regions: each is small, and a
    worker runs one region after another).
    """
    from marketplace.synth.national import build_region

    return from_synth(build_region(seed, region, locale), label=f"national/{seed}/{locale}/{region}")
