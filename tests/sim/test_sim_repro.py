"""Reproducibility: same scenario and seed give byte-identical metrics, serially, in processes and on Dask."""

from __future__ import annotations

import multiprocessing
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor

import pandas as pd

from marketplace.sim import apply_overrides, compare, load_scenario, run, sweep


def _scenario() -> object:
    return apply_overrides(load_scenario("national-2025"), {"horizon.days": 45})


def test_same_seed_same_bytes_other_seed_other_bytes(patched_world: object) -> None:
    sc = _scenario()
    a, b, c = run(sc, 5).metrics_json(), run(sc, 5).metrics_json(), run(sc, 6).metrics_json()
    assert a == b
    assert a != c


def test_serial_process_pool_and_dask_agree() -> None:
    """On the synthetic world itself: workers build it from the scenario, nothing is shared but data."""
    from distributed import Client, LocalCluster

    sc = _scenario()
    params = {"review.capacity.holder": [40, 80]}
    serial = pd.DataFrame(
        [
            {
                "review.capacity.holder": str(v),
                "seed": s,
                **run(apply_overrides(sc, {"review.capacity.holder": v}), s).metrics,
            }
            for v in (40, 80)
            for s in (1, 2)
        ]
    )
    procs = sweep(sc, params, [1, 2], max_workers=2)
    with (
        LocalCluster(
            n_workers=2, threads_per_worker=1, processes=True, host="127.0.0.1", dashboard_address=":0"
        ) as cluster,
        Client(cluster) as client,
    ):
        dask = sweep(sc, params, [1, 2], client.get_executor())
    pd.testing.assert_frame_equal(serial, procs)
    pd.testing.assert_frame_equal(serial, dask)
    assert serial["deadline_breaches"].iloc[0] != serial["deadline_breaches"].iloc[2]


def test_fork_pool_and_in_process_dask_agree_on_a_hand_built_world(patched_world: object) -> None:
    from distributed import Client, LocalCluster

    sc = _scenario()
    params = {"review.capacity.holder": [40, 80]}
    with ThreadPoolExecutor(1) as one:
        serial = sweep(sc, params, [1, 2], one)
    with ProcessPoolExecutor(2, mp_context=multiprocessing.get_context("fork")) as ex:
        procs = sweep(sc, params, [1, 2], ex)
    with (
        LocalCluster(n_workers=2, processes=False, dashboard_address=":0") as cluster,
        Client(cluster) as client,
    ):
        dask = sweep(sc, params, [1, 2], client.get_executor())
    pd.testing.assert_frame_equal(serial, procs)
    pd.testing.assert_frame_equal(serial, dask)


def test_compare_uses_common_seeds_and_reports_intervals(patched_world: object) -> None:
    sc = _scenario()
    same = compare(sc, sc, [1, 2, 3])
    assert (same["diff_mean"] == 0).all() and (same["diff_low"] == 0).all()
    sme = apply_overrides(sc, {"policy.name": "sme-discount"})
    t = compare(sc, sme, 3)
    row = t.loc["price_paid_mean.enterprise_micro"]
    assert row.diff_mean < 0 and row.diff_low <= row.diff_mean <= row.diff_high
    assert row.a_low <= row.a_mean <= row.a_high
    assert t.attrs["seeds"] == [1, 2, 3]


def test_the_model_is_seeded_through_rng_as_mesa_asks(monkeypatch, patched_world: object) -> None:
    """Mesa 3.5 deprecates Model(seed=...) and Mesa 4 removes it; rng=<int> starts both of the model's
    generators exactly where seed=<int> did, so a seed still gives the run it gave before."""
    import random

    import mesa
    import numpy as np

    calls: list[tuple[dict, dict, tuple]] = []
    original = mesa.Model.__init__

    def spy(self, *args, **kwargs):
        original(self, *args, **kwargs)
        calls.append((kwargs, self.rng.bit_generator.state, self.random.getstate()))

    monkeypatch.setattr(mesa.Model, "__init__", spy)
    run(_scenario(), 7, days=5)
    ((kwargs, numpy_state, stdlib_state),) = calls
    assert kwargs == {"rng": 7}
    assert numpy_state == np.random.default_rng(7).bit_generator.state
    assert stdlib_state == random.Random(7).getstate()
