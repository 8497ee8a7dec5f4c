"""National runs: one run over many regions gives the same bytes for any grouping, executor and worker count,
resumes from checkpoints to the same bytes, and refuses checkpoints it did not write."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as hs

from marketplace.errors import InvalidInput
from marketplace.sim import apply_overrides, load_scenario, regions, run
from marketplace.sim.regions import (
    derived_seed,
    group_regions,
    regional_scenario,
    route_messages,
    run_national,
    standin_region_world,
)

DAYS = 63


def national(**extra: object) -> object:
    """A small country: 4 regions of the small world, a fifth of demand crossing borders weekly."""
    over = {
        "world.size": "national",
        "regions.count": 4,
        "regions.region_size": "small",
        "regions.cross_share": 0.2,
        "regions.exchange_days": 7,
        "horizon.days": DAYS,
        **extra,
    }
    return load_scenario("national-2025", over)


@pytest.fixture(scope="module")
def reference() -> str:
    return run_national(national(), 3, workers=1).metrics_json()


@pytest.mark.timeout(300)
def test_in_process_grouping_never_changes_a_byte(reference: str) -> None:
    sc = national()
    for workers in (2, 4):
        assert run_national(sc, 3, workers=workers).metrics_json() == reference
    other = run_national(sc, 4, workers=2).metrics_json()
    assert other != reference


@pytest.mark.timeout(300)
@pytest.mark.parametrize("start", ["fork", "forkserver"])
def test_worker_processes_give_the_same_bytes(
    start: str, reference: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Forked from this process or from a fork server (`worker_start_method`), the workers give the same
    bytes."""
    monkeypatch.setattr(regions, "worker_start_method", lambda: start)
    sc = national()
    for workers in (1, 2, 4):
        got = run_national(sc, 3, workers=workers, executor="processes").metrics_json()
        assert got == reference, (start, workers)


def test_workers_are_forked_only_from_a_process_without_other_threads() -> None:
    """A fork copies every lock another thread may hold: with a second thread running (a notebook kernel's,
    tqdm's monitor), the workers come from the fork server instead."""
    import sys
    import threading

    if not sys.platform.startswith("linux"):
        assert regions.worker_start_method() == "forkserver"
        return
    others = [t for t in threading.enumerate() if t is not threading.main_thread()]
    assert regions.worker_start_method() == ("forkserver" if others else "fork")
    release = threading.Event()
    helper = threading.Thread(target=release.wait, daemon=True)
    helper.start()
    try:
        assert regions.worker_start_method() == "forkserver"
    finally:
        release.set()
        helper.join()


def test_the_progress_bar_opens_at_its_first_update_and_closes_once() -> None:
    """`LazyBar`: nothing is made before the first update (the workers are forked first), every update
    reaches the bar, and closing a bar never opened does nothing."""
    made: list[object] = []

    class Bar:
        def __init__(self) -> None:
            self.n, self.closed = 0, 0
            made.append(self)

        def update(self, n: int) -> None:
            self.n += n

        def close(self) -> None:
            self.closed += 1

    with regions.LazyBar(Bar) as bar:
        assert made == []
        bar.update(7)
        bar.update(3)
    assert len(made) == 1 and made[0].n == 10 and made[0].closed == 1
    with regions.LazyBar(Bar):
        pass
    assert len(made) == 1


@pytest.mark.timeout(300)
def test_dask_actors_give_the_same_bytes(reference: str) -> None:
    from distributed import Client, LocalCluster

    sc = national()
    with (
        LocalCluster(n_workers=2, threads_per_worker=1, processes=False, dashboard_address=":0") as cluster,
        Client(cluster) as client,
    ):
        for workers in (1, 2, 4):
            got = run_national(sc, 3, workers=workers, executor="dask", client=client).metrics_json()
            assert got == reference, workers


@pytest.mark.timeout(300)
def test_requests_cross_borders_and_are_counted_once(reference: str) -> None:
    res = run_national(national(), 3, workers=2)
    m = res.metrics
    assert m["regions"] == 4
    assert m["cross_region_sent"] > 0.15 * m["arrivals"]
    assert m["cross_region_in_transit"] > 0
    assert m["filed"] + m["not_filed"] + m["unserved"] == m["arrivals"]
    assert m["budget_balance_error"] == 0.0
    closed = national(**{"regions.cross_share": 0.0})
    assert run_national(closed, 3, workers=2).metrics["cross_region_sent"] == 0


@pytest.mark.timeout(300)
def test_every_delivery_is_credited_to_its_requester_in_its_own_region(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A cross-region delivery counts for the organization that asked, in the region it asked from, in the
    per-organization figures (access_gini, orgs_served): before, the destination knew no requester and the
    national figures left out every cross-region delivery (18 % of them here)."""
    captured: list[dict] = []
    merge = regions.merge

    def keep(scenario: object, payloads: list[dict]) -> object:
        captured.extend(payloads)
        return merge(scenario, payloads)

    monkeypatch.setattr(regions, "merge", keep)
    sc = national()
    res = run_national(sc, 3, workers=2)
    parts = sorted(captured, key=lambda p: p["region"])
    total = regions.merged_tally(sc, parts)
    far = [(ref, n) for p in parts for ref, n in p["tally"]["foreign"].items()]
    assert sum(n for _, n in far) > 0.1 * res.metrics["delivered"]
    assert int(total.per_org.sum()) == res.metrics["delivered"]  # every requester known, every one counted
    lo = 0
    for r, p in enumerate(parts):  # each region's organizations: their deliveries at home and elsewhere
        size = p["tally"]["per_org"].size
        elsewhere = sum(n for ref, n in far if ref // regions.ID_STRIDE == r)
        assert int(total.per_org[lo : lo + size].sum()) == int(p["tally"]["per_org"].sum()) + elsewhere, r
        lo += size
    with pytest.raises(ValueError, match="every region"):
        regions.merged_tally(sc, parts[1:])


@pytest.mark.timeout(300)
def test_one_closed_region_is_exactly_a_plain_run_of_its_world() -> None:
    sc = national(**{"regions.count": 1, "regions.cross_share": 0.0})
    whole = run_national(sc, 3)
    world = standin_region_world(sc.world.seed, 0, sc.world.locale, "small")
    plain = run(  # at the region's own rates (regional_scenario)
        apply_overrides(regional_scenario(sc, world), {"world.size": "small"}),
        derived_seed(3, 0),
        world=world,
    )
    for k, v in plain.metrics.items():
        assert whole.metrics[k] == v, k
    assert whole.money == plain.money


@pytest.mark.timeout(300)
def test_an_interrupted_run_resumes_from_its_checkpoints_to_the_same_bytes(
    reference: str, tmp_path: Path
) -> None:
    sc = national()
    ck = tmp_path / "ck"
    with pytest.raises(KeyboardInterrupt):
        run_national(sc, 3, workers=2, checkpoint=ck, checkpoint_every=1, stop_after=5)
    names = sorted(p.name for p in ck.iterdir())
    assert names and all(n.startswith("region-") for n in names)
    assert len(names) == 4 * 2  # the last two boundaries of each region
    resumed = run_national(sc, 3, workers=4, executor="processes", checkpoint=ck)
    assert resumed.metrics_json() == reference
    # a whole run with checkpoints is the same as one without
    assert run_national(sc, 3, workers=1, checkpoint=tmp_path / "again").metrics_json() == reference


@pytest.mark.timeout(300)
def test_checkpoints_of_another_run_or_tampered_ones_are_refused(tmp_path: Path) -> None:
    sc = national()
    ck = tmp_path / "ck"
    with pytest.raises(KeyboardInterrupt):
        run_national(sc, 3, workers=1, checkpoint=ck, stop_after=6)
    with pytest.raises(InvalidInput, match="checkpoint of this run"):
        run_national(sc, 4, workers=1, checkpoint=ck)
    victim = max(ck.iterdir())
    data = bytearray(victim.read_bytes())
    data[-10] ^= 0xFF
    victim.write_bytes(bytes(data))
    with pytest.raises(InvalidInput, match="authentication code"):
        run_national(sc, 3, workers=1, checkpoint=ck)
    with pytest.raises(InvalidInput, match="authentication code"):  # found by a worker, raised here as itself
        run_national(sc, 3, workers=2, executor="processes", checkpoint=ck)
    victim.write_bytes(b'MARKETPLACE-CHECKPOINT 1\n{"format": 1}\n' + bytes(data[-100:]))
    with pytest.raises(InvalidInput, match="this one has format 1, from another version"):
        run_national(sc, 3, workers=1, checkpoint=ck)
    victim.write_bytes(b'MARKETPLACE-CHECKPOINT 1\n{"format": "2"}\n' + bytes(data[-100:]))
    with pytest.raises(InvalidInput, match="expected a checkpoint written by"):
        run_national(sc, 3, workers=1, checkpoint=ck)


def test_bad_settings_are_refused_by_name() -> None:
    with pytest.raises(InvalidInput, match="workers"):
        run_national(national(), 3, workers=0)
    with pytest.raises(InvalidInput, match="executor"):
        run_national(national(), 3, executor="threads")
    with pytest.raises(InvalidInput, match="destination_weights"):
        run_national(national(**{"regions.destination_weights": [1.0, 2.0]}), 3)


@settings(max_examples=40, deadline=None)
@given(
    count=hs.integers(2, 6),
    sizes=hs.lists(hs.integers(0, 5), min_size=1, max_size=8),
    workers=hs.integers(1, 6),
    perm_seed=hs.integers(0, 2**16),
)
def test_messages_reach_their_destination_in_canonical_order_whatever_the_batching(
    count: int, sizes: list[int], workers: int, perm_seed: int
) -> None:
    rng = np.random.default_rng(perm_seed)
    batches = []
    for i, n in enumerate(sizes):
        origin = i % count
        batches.append(
            {
                "origin": np.full(n, origin),
                "seq": np.arange(n) + 100 * i,
                "dest": rng.integers(0, count, n),
                "arr_cls": rng.integers(0, 8, n),
            }
        )
    a = route_messages(batches, count)
    shuffled = [batches[j] for j in rng.permutation(len(batches))]
    b = route_messages(shuffled, count)
    assert a.keys() == b.keys()
    for d in a:
        for f in a[d]:
            assert np.array_equal(a[d][f], b[d][f])
        key = list(zip(a[d]["origin"].tolist(), a[d]["seq"].tolist(), strict=True))
        assert key == sorted(key)
    groups = group_regions(count, workers)
    assert sorted(r for g in groups for r in g) == list(range(count)) and all(groups)


@pytest.mark.timeout(300)
def test_national_scenarios_run_in_compare_and_sweep() -> None:
    from marketplace.sim import compare, sweep

    sc = national(**{"horizon.days": 21, "regions.count": 2})
    table = compare(sc, apply_overrides(sc, {"policy.name": "sme-discount"}), [1, 2])
    assert table.loc["filed", "a_mean"] > 0
    row = table.loc["price_paid_mean.enterprise_micro"]
    assert row.diff_mean < 0
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(1) as one:
        df = sweep(sc, {"regions.cross_share": [0.0, 0.3]}, [1], one)
    assert list(df["cross_region_sent"] > 0) == [False, True]
    assert run(sc, 1).metrics_json() == run_national(sc, 1, workers=2).metrics_json()


@pytest.mark.timeout(120)
def test_a_notebook_gets_a_progress_bar_of_its_own(capsys: pytest.CaptureFixture[str]) -> None:
    sc = national(**{"regions.count": 2, "horizon.days": 14})
    a = run_national(sc, 1, progress=True)
    assert "14/14" in capsys.readouterr().err
    assert a.metrics_json() == run_national(sc, 1).metrics_json()
    assert len(a.workers) == 1 and a.workers[0]["peak_rss"] > 0


@pytest.mark.timeout(300)
def test_the_national_worlds_own_regions_run_the_same_on_any_grouping() -> None:
    sc = load_scenario(
        "national-2025", {"world.size": "national", "regions.count": 3, "horizon.days": 21}
    )
    assert sc.regions.region_size == "national"
    a = run_national(sc, 2, workers=1)
    assert a.metrics_json() == run_national(sc, 2, workers=3, executor="processes").metrics_json()
    assert a.metrics["cross_region_sent"] > 0 and a.metrics["orgs_served"] > 0


def test_each_region_files_at_the_rates_of_its_own_organizations() -> None:
    """A region's demand follows its organizations per class (the rates were written for the province world),
    and its review teams are staffed for that demand: a province-sized stand-in keeps the rates exactly,
    Guangdong files far more than Tibet, and a capacity of zero (deemed approval) stays zero."""
    from marketplace.sim.regions import class_counts
    from marketplace.sim.world import region_sim_world, sim_world

    sc = load_scenario("national-2025", {"world.size": "national"})
    w = sc.world
    same = regional_scenario(sc, sim_world("province", w.seed, w.locale))
    assert same.demand.arrivals == sc.demand.arrivals and same.review.capacity == sc.review.capacity

    by_name = {}
    for region in range(31):
        world = region_sim_world(w.seed, region, w.locale)
        by_name[world.orgs[0].region] = (world, regional_scenario(sc, world))
    big, small = by_name["Guangdong"], by_name["Xizang"]
    assert sum(big[1].demand.arrivals.values()) > 5 * sum(small[1].demand.arrivals.values())
    base = class_counts(sim_world("province", w.seed, w.locale))
    for world, regional in (big, small):
        have = class_counts(world)
        for cls, rate in sc.demand.arrivals.items():  # each organization as active as in the province world
            assert regional.demand.arrivals[cls] == pytest.approx(rate * have[cls] / base[cls])
    assert all(v >= 1 for v in small[1].review.capacity.values())
    assert big[1].review.capacity["compliance"] > small[1].review.capacity["compliance"]

    deemed = load_scenario("national-2025", {"world.size": "national", "review.capacity.compliance": 0})
    assert regional_scenario(deemed, big[0]).review.capacity["compliance"] == 0


def test_groups_by_load_split_the_work_evenly_and_keep_every_region_once() -> None:
    """With loads, the largest regions go first onto the least loaded group (each exchange interval then ends
    together on every worker); the national world's regions follow their plans' requester organizations."""
    from marketplace.sim.regions import region_loads

    loads = [10.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0]
    groups = group_regions(len(loads), 2, loads)
    assert sorted(r for g in groups for r in g) == list(range(len(loads))) and all(groups)
    assert sorted(sum(loads[r] for r in g) for g in groups) == [10.0, 10.0]
    national_loads = region_loads(load_scenario("national-2025", {"world.size": "national"}), 31)
    assert national_loads is not None and max(national_loads) > 5 * min(national_loads)
    split = [sum(national_loads[r] for r in g) for g in group_regions(31, 2, national_loads)]
    assert max(split) / min(split) < 1.05
    assert region_loads(national(), 4) is None  # equal stand-ins: contiguous groups
