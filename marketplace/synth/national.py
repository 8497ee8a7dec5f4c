"""The `national` world: one region per provincial-level division, each built from (seed, region, locale)
alone.

A region is a whole government of its own (departments, implementing institution, holders, operators,
requesters, catalog), built by the same builder as the `small` world with the region's counts, its own id
block and its own random streams, so that:

- region i is identical whether built alone (`build_region`, one simulator task per region) or as part of the
  whole (`build_national`, `iter_regions`);
- ids and codes are globally unique (region i owns ids i * id_block + 1 ... (i + 1) * id_block of every table)
  and usernames end in `.<region slug>`, so every region goes into one database;
- the national totals match the calibration of seed/world/national.toml (open-data localities, open datasets,
  sharing-list batches), split over the regions by population weight.

`seed_national` (in persist) writes the regions one by one; memory stays that of one region.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC
from decimal import Decimal
from typing import Any

import numpy as np

from marketplace.errors import InvalidInput
from marketplace.synth.spec import check_locale, check_seed, epoch, national_spec, world_spec
from marketplace.synth.world import TABLE_ORDER, World, build_part, check_world
from marketplace.vocabulary import OpeningAttribute

__all__ = [
    "RegionPlan",
    "allocate",
    "build_national",
    "build_region",
    "calibration",
    "check_region",
    "iter_regions",
    "national_settings",
    "region_count",
    "region_plan",
]

#: Extra entropy of a region's generators: (REGION_STREAM, region index) after the seed.
REGION_STREAM = 31


def allocate(total: int, weights: list[float], *, at_least: int = 0) -> list[int]:
    """Largest-remainder split of `total` over `weights` (ties to the lower index), each share >= `at_least`.

    The shares sum to `total` exactly, and depend on the weights alone, so each region's share is known
    without building any other region.
    """
    w = np.asarray(weights, float)
    if total < at_least * len(w):
        raise ValueError(f"cannot give {at_least} of {total} to each of {len(w)} shares")
    rest = total - at_least * len(w)
    raw = w / w.sum() * rest
    n = np.floor(raw).astype(int)
    order = sorted(range(len(w)), key=lambda i: (-(raw[i] - n[i]), i))
    for i in order[: rest - int(n.sum())]:
        n[i] += 1
    return [int(x) + at_least for x in n]


def region_count() -> int:
    """How many regions the national world has (read from the spec, not fixed in code)."""
    return len(national_spec()["regions"])


def check_region(region: Any) -> int:
    """`region` as an index 0 .. region_count() - 1; anything else is bad input naming the range."""
    n = region_count()
    if isinstance(region, bool) or not isinstance(region, int) or not 0 <= region < n:
        raise InvalidInput("region", region, f"an integer from 0 to {n - 1}")
    return region


def calibration() -> dict[str, Any]:
    """The national totals the world is calibrated to, with their source (seed/world/national.toml)."""
    return dict(national_spec()["calibration"])


@dataclass(frozen=True)
class RegionPlan:
    """What region `index` holds, from the spec alone: its name and its share of every national total."""

    index: int
    slug: str
    names: dict[str, str]
    weight: float
    lat: float
    lon: float
    open_data_localities: int
    open_datasets: int
    enterprises: int
    research: int
    nonprofits: int

    def name(self, locale: str) -> str:
        return self.names[locale]

    @property
    def requesters(self) -> int:
        """Its requester organizations (enterprises, research organizations, nonprofits): what its demand
        follows in the simulator, and so its operators' scale and a worker's load."""
        return self.enterprises + self.research + self.nonprofits


def _weights() -> list[float]:
    return [float(r["weight"]) for r in national_spec()["regions"]]


def region_plan(region: int) -> RegionPlan:
    """Region `region`'s plan: every national total split by population weight (largest remainder)."""
    i = check_region(region)
    spec = national_spec()
    row, cal, parties, w = spec["regions"][i], spec["calibration"], spec["parties"], _weights()
    return RegionPlan(
        index=i,
        slug=str(row["slug"]),
        names={"en_US": str(row["en_US"]), "zh_CN": str(row["zh_CN"])},
        weight=float(row["weight"]),
        lat=float(row["lat"]),
        lon=float(row["lon"]),
        open_data_localities=allocate(int(cal["open_data_localities"]), w, at_least=1)[i],
        open_datasets=allocate(int(cal["open_datasets"]), w, at_least=1)[i],
        enterprises=allocate(int(parties["enterprises"]), w, at_least=1)[i],
        research=allocate(int(parties["research"]), w, at_least=1)[i],
        nonprofits=allocate(int(parties["nonprofits"]), w, at_least=1)[i],
    )


def _sizes(plan: RegionPlan) -> dict[str, Any]:
    """The builder's counts for one region (departments and institutions as in every other size)."""
    base = world_spec()["sizes"]["small"]
    parties = national_spec()["parties"]
    return {
        "regions": 1,
        "departments_per_region": base["departments_per_region"],
        "institutions_per_region": base["institutions_per_region"],
        "enterprises": plan.enterprises,
        "research": plan.research,
        "nonprofits": plan.nonprofits,
        "operators": int(parties["operators_per_region"]),
        "regulators": int(parties["regulators_per_region"]),
        "resource_copies": 1,
        "operations_scale": operations_scale(plan),
    }


def operations_scale(plan: RegionPlan) -> Decimal:
    """How much demand the region's operators serve relative to a region of the province world: its requester
    organizations over a province-world region's (the simulator's demand follows the same counts,
    `regions.rates_for`). Scales the demand-driven items of their cost filings and their forecast volumes
    (seed/world/national.toml, [parties] operations)."""
    province = world_spec()["sizes"]["province"]
    per_region = Decimal(province["enterprises"] + province["research"] + province["nonprofits"]) / Decimal(
        province["regions"]
    )
    return (Decimal(plan.requesters) / per_region).quantize(Decimal("0.0001"))


def _copies(world: World, open_datasets: int) -> list[dict[str, Any]]:
    """The region's open datasets split evenly over its open resources (in id order): `datasetcopies` rows."""
    open_ids = [
        r["id"] for r in world.tables["resource"] if r["opening_attribute"] is not OpeningAttribute.not_open
    ]
    if not open_ids:
        raise AssertionError("a national region has no open resource to carry its open datasets")
    shares = allocate(open_datasets, [1.0] * len(open_ids), at_least=1)
    return [{"resource_id": rid, "copies": n} for rid, n in zip(open_ids, shares, strict=True)]


def build_region(seed: int, region: int, locale: str = "en_US") -> World:
    """Region `region` of the national world of `seed`, built alone (depends on seed, region, locale only)."""
    seed, i, locale = check_seed(seed), check_region(region), check_locale(locale)
    spec = national_spec()
    plan = region_plan(i)
    city = {
        "name": plan.name(locale), "slug": plan.slug, "weight": plan.weight, "lat": plan.lat, "lon": plan.lon
    }
    cal = spec["calibration"]
    world = build_part(
        seed,
        "national",
        locale,
        cities=[city],
        sizes=_sizes(plan),
        id_base=i * int(spec["id_block"]),
        user_suffix=f".{plan.slug}",
        stream=(REGION_STREAM, i),
        list_batches=(int(cal["sharing_list_batches"]), int(cal["sharing_batch_interval_days"])),
    )
    block = int(spec["id_block"])
    for name, rows in world.tables.items():
        if rows and "id" in rows[0] and rows[-1]["id"] > (i + 1) * block:
            raise AssertionError(f"region {i}: table {name} overflows its id block of {block}")
    world.tables["datasetcopies"] = _copies(world, plan.open_datasets)
    return world


def iter_regions(seed: int, locale: str = "en_US", regions: Iterable[int] | None = None) -> Iterator[World]:
    """The national world's regions one at a time (all, or the listed indexes), for streaming writers."""
    chosen = range(region_count()) if regions is None else [check_region(r) for r in regions]
    for i in chosen:
        yield build_region(seed, i, locale)


def national_settings(seed: int, locale: str, regions: Iterable[int] | None = None) -> list[dict[str, Any]]:
    """The national world's settings rows: its policy, its identity, and its calibration per region (what each
    region's share is, and the totals with their source) for the disclosure and the checks."""
    chosen = list(range(region_count())) if regions is None else [check_region(r) for r in regions]
    plans = [region_plan(i) for i in chosen]
    when = epoch().astimezone(UTC)
    cal = calibration()
    value = {
        "source": cal["source"],
        "totals": {k: cal[k] for k in ("open_data_localities", "open_datasets", "sharing_list_batches")},
        "regions": [
            {
                "index": p.index,
                "name": p.name(locale),
                "slug": p.slug,
                "weight": p.weight,
                "open_data_localities": p.open_data_localities,
                "open_datasets": p.open_datasets,
            }
            for p in plans
        ],
    }
    world = {"seed": seed, "size": "national", "locale": locale}
    if regions is not None:
        world["regions"] = chosen
    return [
        {"key": "policy", "value": world_spec()["policy"], "version": 1, "updated_at": when},
        {"key": "world", "value": world, "version": 1, "updated_at": when},
        {"key": "national", "value": value, "version": 1, "updated_at": when},
    ]


def build_national(seed: int, locale: str = "en_US", regions: Iterable[int] | None = None) -> World:
    """The whole national world in memory (every region joined, then the settings). For tests and small
    tools; writing it to a database streams the regions instead (`seed_sandbox(..., size="national")`)."""
    tables: dict[str, list[dict[str, Any]]] = {name: [] for name in (*TABLE_ORDER, "datasetcopies")}
    for part in iter_regions(seed, locale, regions):
        for name, rows in part.tables.items():
            tables.setdefault(name, []).extend(rows)
    tables["sandboxsetting"] = national_settings(seed, locale, regions)
    world = World(seed, "national", locale, tables)
    check_world(world)
    return world
