"""Memory bounded by the state, not the history: metrics are folded in as requests finish, events are kept
only when asked (in memory, or written to Parquet in chunks), and finished models are let go."""

from __future__ import annotations

import gc
import tracemalloc
from pathlib import Path

import pandas as pd
import pytest

from marketplace.errors import InvalidInput
from marketplace.sim import apply_overrides, load_scenario, run
from marketplace.sim.events import ParquetEvents
from marketplace.sim.model import DUE_WINDOW
from marketplace.sim.runner import statics_for

from .conftest import mixed_world


def _scenario(days: int, **over: object) -> object:
    return apply_overrides(load_scenario("national-2025"), {"horizon.days": days, **over})


def test_the_block_length_changes_nothing(world: object) -> None:
    sc = _scenario(70)
    base = run(sc, 3, world=world, events=True)
    for block in (1, 9, 400):
        other = run(sc, 3, world=world, events=True, block_days=block)
        assert other.metrics_json() == base.metrics_json()
        pd.testing.assert_frame_equal(other.requests, base.requests)
        pd.testing.assert_frame_equal(other.reviews, base.reviews)
        pd.testing.assert_frame_equal(other.daily, base.daily)


def test_events_in_memory_and_in_parquet_chunks_agree(world: object, tmp_path: Path) -> None:
    sc = _scenario(60)
    mem = run(sc, 2, world=world, events=True)
    disk = run(sc, 2, world=world, events=ParquetEvents(tmp_path, chunk_rows=500))
    assert disk.metrics_json() == mem.metrics_json()
    assert len(list((tmp_path / "requests").glob("part-*.parquet"))) > 2
    pd.testing.assert_frame_equal(disk.requests, mem.requests)
    pd.testing.assert_frame_equal(disk.reviews, mem.reviews)
    req = mem.requests
    assert len(req) == mem.metrics["arrivals"] and req["request"].is_monotonic_increasing
    assert len(mem.reviews) == mem.metrics["reviews"]
    assert (req["status"] == "delivered").sum() == mem.metrics["delivered"]


def test_event_tables_are_only_there_when_asked(world: object) -> None:
    res = run(_scenario(20), 1, world=world)
    assert res.metrics["arrivals"] > 0 and len(res.daily) == 20 and len(res.quotes) > 0
    with pytest.raises(InvalidInput, match="events"):
        res.requests  # noqa: B018 - the property is the call under test


def _peak(sc: object, seed: int, world: object) -> int:
    statics_for(sc, None, world)  # the policy tables of the horizon, built once per process
    gc.collect()
    tracemalloc.start()
    try:
        run(sc, seed, world=world)
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


@pytest.mark.timeout(600)
def test_peak_memory_depends_on_the_world_and_the_queues_not_the_horizon() -> None:
    """Eight years peak within 1.2 x one year (the history would be ~400 bytes per arrival, about 8 x)."""
    w = mixed_world(seed=5)
    one = _peak(_scenario(365), 1, w)
    eight = _peak(_scenario(8 * 365), 1, w)
    assert eight <= 1.2 * one, (one, eight)


@pytest.mark.timeout(600)
def test_twenty_runs_in_one_process_stay_within_a_fixed_bound(world: object) -> None:
    """Mesa 3.3 keeps every model in a class-level registry; a finished run leaves only an empty shell there
    (sweep workers, Dask workers and notebook kernels run many models in one process)."""
    sc = _scenario(90)
    for seed in (1, 2):  # policy tables, memoised quotes and imports settle
        run(sc, seed, world=world)
    gc.collect()
    tracemalloc.start()
    try:
        before = tracemalloc.get_traced_memory()[0]
        for seed in range(3, 23):
            run(sc, seed, world=world).metrics  # noqa: B018 - results taken and dropped, as a sweep does
        gc.collect()
        grown = tracemalloc.get_traced_memory()[0] - before
    finally:
        tracemalloc.stop()
    assert grown < 2_000_000, f"{grown:,} bytes kept by 20 finished runs"


def test_policy_memos_are_bounded_and_change_nothing(world: object) -> None:
    """Due days are kept for a window of filing days and quotes for the most recently used few: a run with a
    memo of 8 quotes (recomputed all the time) gives exactly the metrics and money of one that keeps all."""
    sc = _scenario(120)
    st = statics_for(sc, None, world)
    saved = st.quote_cap
    try:
        st.quote_cap = 1_000_000
        full = run(sc, 4, world=world, events=True)
        st.quote_cap = 8
        st.quote_memo.clear()
        small = run(sc, 4, world=world, events=True)
        assert len(st.quote_memo) <= 8
    finally:
        st.quote_cap = saved
        st.quote_memo.clear()
    assert small.metrics_json() == full.metrics_json()
    pd.testing.assert_frame_equal(small.quotes, full.quotes)
    pd.testing.assert_frame_equal(small.requests, full.requests)
    first, table = st.due_window
    assert table.shape[1] == DUE_WINDOW and first > 120 - 1 - DUE_WINDOW
