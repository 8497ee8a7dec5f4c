"""The simulator models conditional free use: refused claims, false declarations, detection and leakage."""

from __future__ import annotations

from marketplace.sim import apply_overrides, load_scenario, run

SMALL = {
    "world.size": "small",
    "world.seed": 7,
    "horizon.days": 120,
    "demand.arrivals": {"enterprise_small": 8.0, "enterprise_large": 6.0, "research": 4.0, "nonprofit": 3.0},
    "demand.channels": {"default": {"authorized_operation": 1.0}},
}


def _metrics(**free_claims):
    over = dict(SMALL)
    if free_claims:
        over["demand.free_claims"] = free_claims
    return run(apply_overrides(load_scenario("national-2025"), over), 3).metrics


def test_enterprise_welfare_claims_are_refused_and_paid():
    m = _metrics()
    # enterprises name public_welfare in 20 % of their requests; national-2025 lets them claim only for a
    # named public project, which the simulator does not model: they are quoted as paid use
    assert m["free_claims_refused"] > 0
    assert m["false_free_claims"] == m["misuse_detected"] == 0 and m["leaked_revenue"] == 0


def test_false_declarations_leak_revenue_and_detection_recovers_it():
    none = _metrics(false_share=0.3, detection=0.0)
    half = _metrics(false_share=0.3, detection=0.5)
    every = _metrics(false_share=0.3, detection=1.0)
    assert none["false_free_claims"] > 0 and none["leaked_revenue"] > 0 and none["misuse_detected"] == 0
    assert 0 < half["misuse_detected"] < half["false_free_claims"]
    assert half["leaked_revenue"] < none["leaked_revenue"]
    assert every["leaked_revenue"] == 0 and every["misuse_detected"] == every["false_free_claims"]
    assert none["free_use_share"] > _metrics()["free_use_share"]


def test_recovered_charges_are_fees_counted_against_mar():
    """Found misuse is charged at the paid price (as `workflows.free_use.find_misuse` charges it): the fee is
    in payments, operator revenue and the MAR revenue, and out of the requesters' surplus."""
    none = _metrics(false_share=0.3, detection=0.0)
    every = _metrics(false_share=0.3, detection=1.0)
    assert none["recovered_revenue"] == 0 < every["recovered_revenue"]
    # same seeds, same arrivals: the only money that differs is the charges
    gained = every["payments"] - none["payments"]
    assert abs(gained - every["recovered_revenue"]) < 0.01
    assert every["mar_revenue"] - none["mar_revenue"] > 0
    assert every["consumer_surplus"] < none["consumer_surplus"]
    assert abs(every["budget_balance_error"]) < 0.005


def test_simulate_db_stores_the_charges_disclosure_counts(tmp_path):
    """`simulate --db` writes each charge as a payment on a revoked grant, so the ledger the disclosure
    report reads has the revenue the simulator reports."""
    import sqlalchemy as sa

    from marketplace import db
    from marketplace.models import Grant, Payment
    from marketplace.sim import store
    from marketplace.synth import seed_sandbox

    sc = apply_overrides(
        load_scenario("national-2025"),
        {**SMALL, "demand.free_claims": {"false_share": 0.3, "detection": 1.0}},
    )
    result = run(sc, 3, events=True)
    engine = db.make_engine(f"sqlite:///{tmp_path / 'sim.db'}")
    seed_sandbox(engine, 7, "small")
    store.store_run(result, engine)
    with engine.connect() as conn:
        paid = conn.execute(sa.select(sa.func.sum(Payment.__table__.c.amount))).scalar()
        revoked = conn.execute(
            sa.select(sa.func.count())
            .select_from(Grant.__table__)
            .where(Grant.__table__.c.status == "revoked")
        ).scalar()
    assert revoked == result.metrics["misuse_detected"] > 0
    assert abs(float(paid) - result.metrics["payments"]) < 0.01
