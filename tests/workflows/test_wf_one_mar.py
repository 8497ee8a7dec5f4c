"""One MAR everywhere: disclosure, `simulate` and the operator panel report the same MAR and compliance.

Finding reproduced: after a run, `disclose` counted unit cost x paid volume while `simulate` added operators'
fixed costs, so one reported an operator at 202.6 % of MAR and the other full compliance.
"""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import sqlalchemy as sa
from sqlmodel import Session

from marketplace import db
from marketplace.disclosure import build_report
from marketplace.policy import load_policy, mar_position
from marketplace.sim import apply_overrides, load_scenario, run
from marketplace.sim.store import store_run
from marketplace.synth import seed_sandbox
from marketplace.workflows.price_formation import mar_positions


def _year_run(engine: sa.Engine, prices: str) -> tuple[dict, object]:
    sc = apply_overrides(
        load_scenario("national-2025"),
        {
            "world.size": "small",
            "world.seed": 7,
            "horizon.start": "2025-01-01",
            "horizon.days": 365,
            "demand.arrivals": {"enterprise_small": 6.0, "enterprise_large": 4.0, "research": 2.0},
            "demand.channels": {"default": {"authorized_operation": 1.0}},
            "policy.overrides": {"pricing.caps.per_record": prices} if prices else {},
        },
    )
    res = run(sc, 1, events=True)
    store_run(res, engine)
    return res.metrics, sc


def test_disclosure_simulate_and_panel_agree_on_mar_and_compliance(tmp_path: Path) -> None:
    engine = db.make_engine(f"sqlite:///{tmp_path / 'sandbox.db'}")
    seed_sandbox(engine, 7, "small", "en_US")
    metrics, _ = _year_run(engine, "")
    policy = load_policy("national-2025")
    with Session(engine) as s:
        report = build_report(s, 2025, policy=policy)
        positions = mar_positions(s, 2025, policy)
    rev = report.revenue
    assert len(positions) == metrics["mar_operators"] == len(rev) > 0
    # the same MAR and revenue, to the cent
    assert round(float(rev["mar"].sum()), 2) == metrics["mar_total"]
    assert round(float(rev["revenue"].sum()), 2) == metrics["mar_revenue"] > 0
    assert round(sum(float(p.position.mar) for p in positions), 2) == metrics["mar_total"]
    # the same compliance
    share = sum(p.position.compliant for p in positions) / len(positions)
    assert round(share, 4) == metrics["mar_compliant_share"]
    assert list(rev["compliant"]) == [p.position.compliant for p in positions]
    engine.dispose()


def test_mar_is_the_one_rule_applied_to_the_filing() -> None:
    policy = load_policy("national-2025")
    pos = mar_position(policy, period="2025", operating_cost=Decimal("1000"), taxes=Decimal("60"),
                       deduction=Decimal("100"), revenue=Decimal("1100"))
    assert (pos.base_mar, pos.mar, pos.excess, pos.compliant) == (
        Decimal("1137.00"), Decimal("1037.00"), Decimal("63.00"), False
    )
