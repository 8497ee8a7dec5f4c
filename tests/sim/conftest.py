"""Hand-built worlds for the simulator tests (independent of the synthetic world generator)."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import numpy as np
import pytest

from marketplace.policy import Target
from marketplace.sim.world import OrgRow, SimWorld, TargetRow
from marketplace.vocabulary import (
    BillingUnit,
    Channel,
    Grade,
    OpeningAttribute,
    OrganizationKind,
    ProductKind,
    SharingAttribute,
)

DOMAINS = [
    "health",
    "transport",
    "tax",
    "environment",
    "education",
    "housing",
    "geospatial",
    "enterprise_registry",
]


def mixed_world(n_orgs: int = 400, n_resources: int = 120, n_products: int = 40, seed: int = 0) -> SimWorld:
    """Organizations of every requester kind, resources of every grade/attribute, and listed products."""
    rng = np.random.default_rng(seed)
    orgs: list[OrgRow] = []
    kinds = ["department", "institution", "enterprise", "research", "nonprofit"]
    for i in range(n_orgs):
        kind = OrganizationKind(kinds[i % len(kinds)] if i % 3 else "enterprise")
        size = ["micro", "small", "medium", "large"][int(rng.integers(4))] if kind == "enterprise" else None
        orgs.append(OrgRow(i + 1, f"ORG-{i + 1:05d}", kind, size))
    ops = [OrgRow(n_orgs + 1 + j, f"OP-{j}", OrganizationKind.operator) for j in range(3)]
    orgs.extend(ops)
    targets: list[TargetRow] = []
    res_facts = []
    for r in range(n_resources):
        grade = [Grade.general, Grade.general, Grade.important, Grade.core][int(rng.integers(4))]
        personal = bool(rng.random() < 0.5)
        sharing = [SharingAttribute.unconditional, SharingAttribute.conditional, SharingAttribute.not_shared][
            int(rng.integers(3))
        ]
        opening = (
            [OpeningAttribute.unconditional, OpeningAttribute.conditional, OpeningAttribute.not_open][
                int(rng.integers(3))
            ]
            if grade is Grade.general
            else OpeningAttribute.not_open
        )
        base = dict(
            grade=grade,
            sharing_attribute=sharing,
            opening_attribute=opening,
            holder_id=1 + (r % 50) * 5,
            contains_personal_info=personal,
            published=bool(r % 2),
            field_names=("a", "b", "c"),
            personal_fields=("a",) if personal else (),
        )
        dom = DOMAINS[r % len(DOMAINS)]
        res_facts.append((base, dom))
        for ch in (Channel.sharing, Channel.opening):
            targets.append(TargetRow(Target(channel=ch, **base), f"RES-{r}", dom, resource_id=r + 1))
    units = list(BillingUnit)
    caps = {
        BillingUnit.per_product: "15000",
        BillingUnit.per_call: "0.4",
        BillingUnit.per_month: "2500",
        BillingUnit.per_record: "0.04",
    }
    costs = {
        BillingUnit.per_product: "1500",
        BillingUnit.per_call: "0.05",
        BillingUnit.per_month: "300",
        BillingUnit.per_record: "0.01",
    }
    for p in range(n_products):
        base, dom = res_facts[p % n_resources]
        if base["grade"] is Grade.core:
            base, dom = res_facts[(p + 1) % n_resources]
        unit = units[p % 4]
        cap = Decimal(caps[unit])
        agg = p % 3 == 0
        targets.append(
            TargetRow(
                Target(
                    channel=Channel.authorized_operation,
                    grade=base["grade"],
                    sharing_attribute=base["sharing_attribute"],
                    opening_attribute=base["opening_attribute"],
                    holder_id=base["holder_id"],
                    contains_personal_info=base["contains_personal_info"],
                    is_product=True,
                    aggregated=agg,
                    deidentified=not agg,
                    billing_unit=unit,
                    price_cap=cap,
                    actual_price=(cap * Decimal("0.9")).quantize(Decimal("0.01")),
                    unit_cost=Decimal(costs[unit]),
                    product_kind=[ProductKind.dataset, ProductKind.api, ProductKind.report][p % 3],
                ),
                f"PRD-{p}",
                dom,
                product_id=p + 1,
                operator_id=ops[p % 3].id,
            )
        )
    return SimWorld(
        orgs=orgs,
        targets=targets,
        operator_costs={o.id: Decimal("200000") for o in ops},
        label=f"mixed/{seed}",
    )


@pytest.fixture(scope="session")
def world() -> SimWorld:
    return mixed_world()


def single_target_world(
    target: Target,
    domain: str = "health",
    n_orgs: int = 20,
    kind: OrganizationKind = OrganizationKind.research,
    size: str | None = None,
) -> SimWorld:
    """One target and `n_orgs` requesters of one kind (for queue and posted-price checks)."""
    orgs = [OrgRow(i + 1, f"ORG-{i + 1}", kind, size) for i in range(n_orgs)]
    op = OrgRow(n_orgs + 1, "OP-1", OrganizationKind.operator)
    row = TargetRow(
        target,
        "T-1",
        domain,
        product_id=1 if target.is_product else None,
        resource_id=None if target.is_product else 1,
        operator_id=op.id if target.is_product else None,
    )
    return SimWorld(
        orgs=[*orgs, op], targets=[row], operator_costs={op.id: Decimal("0")} if target.is_product else {}
    )


@pytest.fixture
def patched_world(monkeypatch: pytest.MonkeyPatch, world: SimWorld) -> SimWorld:
    """Every scenario runs on the hand-built world (also in forked workers and in-process Dask workers)."""
    import marketplace.sim.runner as runner

    monkeypatch.setattr(runner, "sim_world", lambda size, seed, locale: world)
    return world


@pytest.fixture
def small_country(tmp_path: Path) -> Path:
    """national-2025 on a country of small regions (the shipped default is province-size regions)."""
    p = tmp_path / "small-country.toml"
    p.write_text(
        'extends = "national-2025"\nname = "small-country"\n[world]\nsize = "national"\n'
        '[regions]\ncount = 3\nregion_size = "small"\ncross_share = 0.1\n',
        encoding="utf-8",
    )
    return p
