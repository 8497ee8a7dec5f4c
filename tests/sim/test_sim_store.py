"""`simulate --db`: a run on the synthetic world is stored in a sandbox seeded with that world."""

from __future__ import annotations

from pathlib import Path

import pytest
import sqlalchemy as sa

from marketplace import db
from marketplace.errors import InvalidInput
from marketplace.sim import apply_overrides, load_scenario, run
from marketplace.sim.store import store_run
from marketplace.synth import seed_sandbox


def _count(engine: sa.Engine, table: str, where: str = "") -> int:
    with engine.connect() as conn:
        return int(conn.execute(sa.text(f'SELECT COUNT(*) FROM "{table}" {where}')).scalar_one())


def test_run_on_the_synthetic_world_is_stored_and_replaced(tmp_path: Path) -> None:
    engine = db.make_engine(f"sqlite:///{tmp_path / 'sandbox.db'}")
    seed_sandbox(engine, 7, "small", "en_US")
    sc = apply_overrides(
        load_scenario("national-2025"),
        {
            "world.size": "small",
            "world.seed": 7,
            "horizon.days": 40,
            "demand.arrivals": {"department": 8.0, "enterprise_small": 6.0, "research": 4.0},
        },
    )
    res = run(sc, 1, events=True)
    counts = store_run(res, engine)
    m = res.metrics
    assert counts["accessrequest"] == m["filed"] > 0
    assert counts["delivery"] == counts["grant"] == m["delivered"]
    assert counts["review"] == m["reviews"]
    assert counts["payment"] == m["paid_deliveries"]
    assert _count(engine, "accessrequest", "WHERE code LIKE 'SIM-national-2025-1-%'") == m["filed"]
    with engine.connect() as conn:
        paid = conn.execute(
            sa.text(
                "SELECT COALESCE(SUM(amount), 0), COALESCE(SUM(operator_revenue + "
                "holder_share + taxes), 0) FROM payment"
            )
        ).one()
    assert str(paid[0]) == str(paid[1])
    # storing the same run again replaces its rows
    store_run(res, engine)
    assert _count(engine, "accessrequest") == m["filed"]
    assert _count(engine, "delivery") == m["delivered"]
    # a sandbox with another world is refused, and nothing changes
    other = apply_overrides(sc, {"world.seed": 8})
    with pytest.raises(InvalidInput, match="marketplace seed --seed 8"):
        store_run(run(other, 1, events=True), engine)
    assert _count(engine, "accessrequest") == m["filed"]
    engine.dispose()


def test_simulate_db_flag_stores_into_the_configured_sandbox(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from marketplace.cli import run as cli

    url = f"sqlite:///{tmp_path / 'cli.db'}"
    monkeypatch.setenv(db.ENV_URL, url)
    db.dispose_engines()
    engine = db.get_engine()
    seed_sandbox(engine, 7, "small", "en_US")
    sc = tmp_path / "small.toml"
    sc.write_text(
        'extends = "national-2025"\nname = "small-world"\n[world]\nsize = "small"\nseed = 7\n'
        "[horizon]\ndays = 20\n[demand.arrivals]\ndepartment = 5.0\nenterprise_micro = 5.0\n"
    )
    with pytest.raises(SystemExit) as exc:
        cli(["simulate", str(sc), "--seed", "2", "--db"])
    out = capsys.readouterr().out
    assert exc.value.code == 0, out
    assert "stored in the sandbox" in out
    assert _count(engine, "accessrequest", "WHERE code LIKE 'SIM-small-world-2-%'") > 0
    db.dispose_engines()


def test_the_driver_path_writes_exactly_what_core_writes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """On SQLite rows go to the driver as tuples converted by the columns' own bind processors (memoised per
    distinct value); every stored value equals the one Core's executemany writes (bar the time of storing)."""
    from marketplace.sim import store

    sc = apply_overrides(
        load_scenario("national-2025"),
        {"world.size": "small", "world.seed": 7, "horizon.days": 30,
         "demand.arrivals": {"department": 8.0, "enterprise_small": 6.0, "research": 4.0}},
    )
    res = run(sc, 3, events=True)
    dumps = []
    for fast in (True, False):
        engine = db.make_engine(f"sqlite:///{tmp_path / f'{fast}.db'}")
        seed_sandbox(engine, 7, "small", "en_US")
        monkeypatch.setattr(store, "FAST_SQLITE", fast)
        store_run(res, engine)
        with engine.connect() as conn:
            dump = {}
            for name, _model in store.STORED_TABLES:
                rows = conn.execute(sa.text(f'SELECT * FROM "{name}" ORDER BY id')).mappings().all()
                dump[name] = [{k: v for k, v in r.items() if k != "updated_at"} for r in rows]
            dumps.append(dump)
        engine.dispose()
    assert dumps[0]["payment"] and dumps[0]["review"] and dumps[0]["quote"]
    assert dumps[0] == dumps[1]
