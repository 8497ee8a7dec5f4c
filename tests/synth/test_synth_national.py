"""The `national` world: regions built alone equal the same regions of the whole, ids unique across regions,
national totals equal to the calibration of seed/world/national.toml, the streamed seed, and the simulator's
per-region interface (`region_sim_world`)."""

from __future__ import annotations

import gc
import json
import tracemalloc
from collections import Counter
from decimal import Decimal

import pytest
import sqlalchemy as sa
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlmodel import SQLModel

from marketplace import db
from marketplace.cli import run
from marketplace.errors import InvalidInput
from marketplace.sim.world import national_region_count, region_sim_world
from marketplace.synth import build_world, canonical_dump, persist_national, persist_world, seed_sandbox
from marketplace.synth.national import (
    allocate,
    build_national,
    build_region,
    calibration,
    region_count,
    region_plan,
)
from marketplace.synth.spec import national_spec
from marketplace.vocabulary import Channel, OpeningAttribute, OrganizationKind

SEED = 3


@pytest.fixture(scope="module")
def national() -> object:
    """The whole national world of SEED (en_US), in memory: about 8 s, built once."""
    return build_national(SEED, "en_US")


def _rows_of(world: object, ids: range) -> dict[str, list[dict]]:
    """The rows of `world` whose id (or first foreign key, for link tables) falls in the id block `ids`."""
    out: dict[str, list[dict]] = {}
    for name, rows in world.tables.items():
        if name == "sandboxsetting":
            continue
        key = next(iter(rows[0])) if rows and "id" not in rows[0] else "id"
        out[name] = [r for r in rows if r[key] in ids]
    return out


def test_the_spec_has_31_regions_and_the_region_count_is_read_from_it() -> None:
    assert region_count() == national_region_count() == len(national_spec()["regions"]) == 31
    names = [region_plan(i).name("zh_CN") for i in range(31)]
    assert names[0] == "北京市" and "新疆维吾尔自治区" in names and len(set(names)) == 31
    assert len({region_plan(i).name("en_US") for i in range(31)}) == 31


def test_calibration_states_its_source_and_the_region_shares_sum_to_it() -> None:
    cal = calibration()
    assert "National Data Administration" in cal["source"] and "2024" in cal["source"]
    totals = (cal["open_data_localities"], cal["open_datasets"], cal["sharing_list_batches"])
    assert totals == (226, 340000, 6)
    plans = [region_plan(i) for i in range(region_count())]
    assert sum(p.open_data_localities for p in plans) == 226
    assert sum(p.open_datasets for p in plans) == 340000
    assert all(p.open_data_localities >= 1 for p in plans)
    by_weight = sorted(plans, key=lambda p: p.weight)
    assert by_weight[-1].open_datasets > by_weight[0].open_datasets  # population weight, stated in the spec


def test_a_region_depends_only_on_seed_region_and_locale() -> None:
    a, b = build_region(SEED, 7, "en_US"), build_region(SEED, 7, "en_US")
    assert a.tables == b.tables
    assert build_region(SEED + 1, 7, "en_US").tables != a.tables
    zh = build_region(SEED, 7, "zh_CN")
    assert {o["region"] for o in zh.organizations} == {"黑龙江省"}
    assert {o["region"] for o in a.organizations} == {"Heilongjiang"}


def test_every_region_built_alone_equals_that_region_of_the_whole(national) -> None:
    block = national_spec()["id_block"]
    for i in (0, 12, 30):
        alone = build_region(SEED, i, "en_US")
        part = _rows_of(national, range(i * block + 1, (i + 1) * block + 1))
        assert {k: v for k, v in alone.tables.items() if k != "sandboxsetting"} == part, i


def test_ids_codes_and_usernames_are_unique_across_regions(national) -> None:
    for name, rows in national.tables.items():
        if rows and "id" in rows[0]:
            ids = [r["id"] for r in rows]
            assert len(ids) == len(set(ids)), name
        if rows and "code" in rows[0]:
            codes = [r["code"] for r in rows]
            assert len(codes) == len(set(codes)), name
    names = [a["username"] for a in national.accounts]
    assert len(names) == len(set(names))
    assert all(n.isascii() and " " not in n for n in names)


def test_totals_of_the_built_world_equal_the_calibration(national) -> None:
    cal = calibration()
    orgs = national.organizations
    assert len({o["region"] for o in orgs}) == region_count()
    per_region = Counter(o["region"] for o in orgs if o["kind"] is OrganizationKind.government)
    assert set(per_region.values()) == {1}  # one government (with its designation and plan) per region
    assert len(national.tables["designation"]) == len(national.tables["implementationplan"]) == 31
    resources = national.tables["resource"]
    open_ids = {r["id"] for r in resources if r["opening_attribute"] is not OpeningAttribute.not_open}
    copies = national.tables["datasetcopies"]
    assert {c["resource_id"] for c in copies} == open_ids
    assert sum(c["copies"] for c in copies) == cal["open_datasets"]
    settings = {s["key"]: s["value"] for s in national.tables["sandboxsetting"]}
    assert settings["world"] == {"seed": SEED, "size": "national", "locale": "en_US"}
    localities = sum(r["open_data_localities"] for r in settings["national"]["regions"])
    assert localities == cal["open_data_localities"]
    assert settings["national"]["source"] == cal["source"]
    batches = {s["published_at"] for s in national.tables["sharinglist"]}
    assert len(batches) == cal["sharing_list_batches"]
    assert all("(batch " in s["basis"] for s in national.tables["sharinglist"])


def test_build_world_of_size_national_is_the_joined_regions() -> None:
    world = build_world(SEED, "national", "zh_CN")
    assert world.size == "national" and len({o["region"] for o in world.organizations}) == 31


@given(
    total=st.integers(0, 400000),
    weights=st.lists(st.floats(0.01, 1000, allow_nan=False), min_size=1, max_size=40),
    at_least=st.integers(0, 2),
)
def test_allocate_sums_to_the_total_and_gives_each_share_its_minimum(total, weights, at_least) -> None:
    if total < at_least * len(weights):
        with pytest.raises(ValueError):
            allocate(total, weights, at_least=at_least)
        return
    shares = allocate(total, weights, at_least=at_least)
    assert sum(shares) == total and min(shares) >= at_least
    ideal = [at_least + w / sum(weights) * (total - at_least * len(weights)) for w in weights]
    assert all(abs(s - x) < 1 for s, x in zip(shares, ideal, strict=True))


@pytest.mark.parametrize("bad", [-1, 31, 1.0, "3", True, None])
def test_a_bad_region_is_refused_naming_the_range(bad) -> None:
    with pytest.raises(InvalidInput, match=r"region.*0 to 30"):
        build_region(SEED, bad, "en_US")
    with pytest.raises(InvalidInput, match="region"):
        region_sim_world(SEED, bad, "en_US")


def test_region_sim_world_is_one_region_with_global_ids_and_is_cached() -> None:
    region_sim_world.cache_clear()
    a = region_sim_world(SEED, 18, "zh_CN")
    assert region_sim_world(SEED, 18, "zh_CN") is a
    assert {o.region for o in a.orgs} == {"广东省"}
    b = region_sim_world(SEED, 25, "zh_CN")
    assert {o.region for o in b.orgs} == {"西藏自治区"}
    assert not {o.id for o in a.orgs} & {o.id for o in b.orgs}
    ids = lambda w: {(t.resource_id, t.product_id, t.target.channel) for t in w.targets}  # noqa: E731
    assert not ids(a) & ids(b)
    assert not {t.code for t in a.targets} & {t.code for t in b.targets}
    opening = sum(t.copies for t in a.targets if t.target.channel is Channel.opening
                  and t.target.opening_attribute is not OpeningAttribute.not_open)
    assert opening == region_plan(18).open_datasets
    assert all(t.copies == 1 for t in a.targets if t.target.channel is not Channel.opening)
    assert len(a.org_ids) == len(a.orgs) and (a.org_class >= -1).all()


def _count(engine: sa.Engine, table: str) -> int:
    with engine.connect() as conn:
        query = sa.select(sa.func.count()).select_from(SQLModel.metadata.tables[table])
        return conn.execute(query).scalar_one()


def test_streaming_a_subset_of_regions_writes_the_same_rows_as_the_joined_world(engine: sa.Engine) -> None:
    done: list[tuple[int, int]] = []
    counts = persist_national(
        engine, SEED, "zh_CN", regions=[0, 25], progress=lambda d, n: done.append((d, n))
    )
    assert done == [(1, 2), (2, 2)]
    reference = sa.create_engine("sqlite://")
    persist_world(build_national(SEED, "zh_CN", regions=[0, 25]), reference)
    assert canonical_dump(engine) == canonical_dump(reference)
    assert counts["organization"] == _count(engine, "organization")
    assert sum(c["copies"] for c in build_region(SEED, 0, "zh_CN").tables["datasetcopies"]) == \
        region_plan(0).open_datasets


@pytest.mark.timeout(120)
def test_the_whole_national_seed_streams_into_sqlite_with_the_calibrated_totals(sqlite_engine) -> None:
    counts = seed_sandbox(sqlite_engine, SEED, "national", "en_US")
    with sqlite_engine.connect() as conn:
        copies = conn.execute(sa.text("SELECT SUM(copies) FROM datasetcopies")).scalar_one()
        batches = conn.execute(sa.text("SELECT COUNT(DISTINCT published_at) FROM sharinglist")).scalar_one()
        regions = conn.execute(sa.text("SELECT COUNT(DISTINCT region) FROM organization")).scalar_one()
        value = conn.execute(sa.text("SELECT value FROM sandboxsetting WHERE key = 'national'")).scalar_one()
    national = json.loads(value) if isinstance(value, str) else value
    assert (copies, batches, regions) == (340000, 6, 31)
    assert sum(r["open_data_localities"] for r in national["regions"]) == 226
    assert counts["organization"] == _count(sqlite_engine, "organization")


def test_the_seed_command_accepts_national_and_refuses_a_bad_size_in_one_line(capsys) -> None:
    engine = db.get_engine()
    with pytest.raises(SystemExit) as exit_:
        run(["seed", "--size", "nationwide", "--yes"])
    _out, err = capsys.readouterr()
    assert exit_.value.code == 2 and "nationwide" in err and "national" in err
    assert len(err.strip().splitlines()) == 1 and "Traceback" not in err
    with pytest.raises(SystemExit) as exit_:
        run(["seed", "--size", "national", "--seed", str(SEED), "--yes"])
    out, _err = capsys.readouterr()
    assert (exit_.value.code or 0) == 0 and "size national" in out
    assert _count(engine, "datasetcopies") > 0 and _count(engine, "designation") == 31


@settings(max_examples=4, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), region=st.integers(0, 30), other=st.integers(0, 30))
def test_a_region_does_not_depend_on_what_the_process_built_before(seed, region, other) -> None:
    first = build_region(seed, region, "zh_CN").tables
    build_region(seed ^ 1, other, "zh_CN")
    build_region(seed, other, "en_US")
    assert build_region(seed, region, "zh_CN").tables == first


def test_streaming_memory_does_not_grow_with_the_number_of_regions() -> None:
    """Peak Python memory of streaming 18 regions stays within 1.25x of streaming 6 (a world held whole would
    need three times as much): each region is dropped before the next is built. SQLite's own pages are not
    Python memory, so an in-memory database does not count."""
    build_region(SEED, 25, "zh_CN")  # warm the caches (policy, templates, Faker) outside the measurement

    def peak(regions: list[int]) -> int:
        engine = sa.create_engine("sqlite://")
        gc.collect()
        tracemalloc.start()
        try:
            persist_national(engine, SEED, "zh_CN", regions=regions)
            return tracemalloc.get_traced_memory()[1]
        finally:
            tracemalloc.stop()
            engine.dispose()

    largest = [18, 14, 15, 9, 22, 2]  # Guangdong, Shandong, Henan, Jiangsu, Sichuan, Hebei
    six = peak(largest)
    eighteen = peak([*largest, *(i for i in range(18) if i not in largest)])
    assert eighteen <= 1.25 * six, (six, eighteen)


def _mar_per_operator(world: object) -> dict[int, Decimal]:
    return {int(r["operator_id"]): r["mar"] for r in world.tables["revenueperiod"]}


def test_a_regions_operators_cost_what_serving_its_demand_costs() -> None:
    """Data processing and staff costs (and cap forecasts) follow the demand a region's operators serve, which
    follows its requester organizations: with the province world's costs in every region, Guangdong's two
    operators took 5x their MAR in a simulated year while Tibet's took a third of theirs."""
    from marketplace.synth.national import operations_scale
    from marketplace.synth.spec import world_spec

    province = world_spec()["sizes"]["province"]
    per_region = Decimal(province["enterprises"] + province["research"] + province["nonprofits"]) / 10
    slugs = [region_plan(i).slug for i in range(region_count())]
    small, large = slugs.index("xizang"), slugs.index("guangdong")
    worlds = {}
    for i in (small, large):
        plan = region_plan(i)
        scale = operations_scale(plan)
        assert scale == (Decimal(plan.enterprises + plan.research + plan.nonprofits) / per_region).quantize(
            Decimal("0.0001")
        )
        w = worlds[i] = build_region(SEED, i, "en_US")
        cost_of = {r["id"]: r["cost_basis"] or Decimal(0) for r in w.tables["resource"]}
        auth = {a["id"]: a["operator_id"] for a in w.tables["authorization"]}
        scope: dict[int, list[int]] = {}
        for ar in w.tables["authorizationresource"]:
            scope.setdefault(auth[ar["authorization_id"]], []).append(ar["resource_id"])
        shelf = Counter(p["operator_id"] for p in w.tables["product"] if p["status"] in ("listed", "priced"))
        for f in w.tables["costfiling"]:
            res = scope[f["operator_id"]]
            processing = Decimal(250000) * len(res) + sum(cost_of[r] for r in res)
            assert Decimal(f["costs"]["data_processing"]) == (processing * scale).quantize(Decimal("0.01"))
            assert Decimal(f["costs"]["staff"]) == (300000 * shelf[f["operator_id"]] * scale).quantize(
                Decimal("0.01")
            )
            assert (f["costs"]["platform"], f["costs"]["security"]) == ("1200000.00", "150000.00")
    assert operations_scale(region_plan(small)) < Decimal("0.5") < Decimal(8) < operations_scale(
        region_plan(large)
    )
    small_mar = sum(_mar_per_operator(worlds[small]).values())
    large_mar = sum(_mar_per_operator(worlds[large]).values())
    assert large_mar > 4 * small_mar  # the province world's costs everywhere gave about the same MAR
