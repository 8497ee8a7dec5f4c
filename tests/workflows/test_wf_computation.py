"""Computation under a grant: where the policy sends data to computation ("usable but not visible"), the grant
names what may be computed and the requester's computations run in the holder's domain, each an audited step
with its fingerprint and privacy cost; refusals are audited with the computation's fingerprint too."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlmodel import select

from marketplace import workflows as wf
from marketplace.errors import PermissionDenied, PolicyRefusal, PrivacyError
from marketplace.models import AccessRequest, Account, ComputeRun, Payment
from marketplace.policy.compute import delivery_mode
from marketplace.vocabulary import DeliveryMode, Grade, OrganizationKind, QuoteStatus
from marketplace.workflows.computation import released_cells, run_computation
from marketplace.workflows.price_formation import period_revenue


def _granted(world, *, important: bool) -> int:
    with world.step() as s:
        policy = wf.current_policy(s)

        def fits(r) -> bool:
            mode = delivery_mode(policy, r.grade, "sharing", domain=r.domain, source=r.source)
            wanted = mode is not DeliveryMode.rows if important else mode is DeliveryMode.rows
            return (
                r.sharing_attribute.value != "not_shared"
                and (r.grade is Grade.important) == important
                and wanted
                and any(f.marking.value == "quasi_identifier" for f in r.fields)
            )

        res = world.resource(s, fits)
        dept = world.requester(s, OrganizationKind.department, not_org=res.holder_id)
        req = wf.create_request(s, dept, resource=res, channel="sharing", purpose="public_governance")
        wf.submit_request(s, dept, req)
        req_id = req.id
    world.approve_all(req_id)
    with world.step() as s:
        req = s.get(AccessRequest, req_id)
        assert req.grant is not None, req.status
    return req_id


def test_a_compute_grant_names_its_terms_and_runs_audited_computations(world):
    req_id = _granted(world, important=True)
    with world.step() as s:
        req = s.get(AccessRequest, req_id)
        terms = req.grant.terms["compute"]
        assert set(terms["kinds"]) == {"aggregate_query", "dp_release", "model_training", "verification"}
        assert terms["epsilon_per_grant"] == 3.0 and terms["queries_per_day"] == 200
        dim = terms["dimensions"][0]
        requester = s.get(Account, req.requester_id)
        table = run_computation(
            s,
            requester,
            req,
            "aggregate_query",
            {"sql": f"SELECT {dim}, COUNT(*) AS n FROM data GROUP BY {dim}"},
        ).value
        assert len(table) >= 1 and (table["n"] >= terms["min_cell"]).all()
        dp = run_computation(s, requester, req, "dp_release", {"measure": "count", "epsilon": 0.5})
        assert dp.run.epsilon == pytest.approx(0.5)
    events = [e for e in world.events("compute.run") if e.outcome.value == "ok"]
    assert [e.payload["kind"] for e in events] == ["aggregate_query", "dp_release"]
    assert all(len(e.payload["fingerprint"]) == 64 for e in events)
    assert events[1].payload["epsilon"] == pytest.approx(0.5)
    assert "n" not in str(events[0].payload.get("result", ""))  # the result itself is never logged
    assert world.verify().ok


def test_attacks_and_outsiders_are_refused_and_audited_with_the_fingerprint(world):
    req_id = _granted(world, important=True)
    with world.step() as s:
        req = s.get(AccessRequest, req_id)
        requester_id, org = req.requester_id, req.requester_org_id
        outsider = world.requester(s, OrganizationKind.department, not_org=org).id
    with pytest.raises(PolicyRefusal) as star, world.step() as s:
        run_computation(
            s,
            s.get(Account, requester_id),
            s.get(AccessRequest, req_id),
            "aggregate_query",
            {"sql": "SELECT * FROM data"},
        )
    assert star.value.rule == "sql.star"
    with pytest.raises(PrivacyError), world.step() as s:
        req = s.get(AccessRequest, req_id)
        for _ in range(4):
            run_computation(
                s, s.get(Account, requester_id), req, "dp_release", {"measure": "count", "epsilon": 1.0}
            )
    with pytest.raises(PermissionDenied), world.step() as s:
        run_computation(
            s,
            s.get(Account, outsider),
            s.get(AccessRequest, req_id),
            "dp_release",
            {"measure": "count", "epsilon": 0.1},
        )
    refused = world.refused_events("compute.run")
    assert len(refused) == 3
    assert refused[0].payload["rule"] == "sql.star" and len(refused[0].payload["fingerprint"]) == 64
    assert "budget of the grant exhausted" in refused[1].payload["reason"]
    assert world.count(ComputeRun) == 0  # every refused step rolled back what it had spent
    assert world.verify().ok


def test_rows_grants_carry_no_compute_terms_and_refuse_computations(world):
    req_id = _granted(world, important=False)
    with world.step() as s:
        req = s.get(AccessRequest, req_id)
        assert "compute" not in req.grant.terms
        requester_id = req.requester_id
    with pytest.raises(PolicyRefusal) as info, world.step() as s:
        run_computation(
            s,
            s.get(Account, requester_id),
            s.get(AccessRequest, req_id),
            "dp_release",
            {"measure": "count", "epsilon": 0.1},
        )
    assert info.value.rule == "compute.not_offered"
    assert world.refused_events("compute.run")[0].payload["kind"] == "dp_release"


def test_rows_are_refused_on_a_compute_only_grant_with_the_rule_named_and_audited(world):
    """national-2025 sends important data to computation (GB/T 43697-2024, Data 20 Articles): a steward's
    delivery of rows under such a grant is refused, naming the rule, and nothing is delivered."""
    req_id = _granted(world, important=True)
    with world.step() as s:
        req = s.get(AccessRequest, req_id)
        res = req.resource
        mode = delivery_mode(wf.current_policy(s), res.grade, "sharing", domain=res.domain, source=res.source)
        assert mode is DeliveryMode.compute
        steward = world.role(s, "steward", res.holder_id).id
    with pytest.raises(PolicyRefusal) as info, world.step() as s:
        wf.deliver(s, s.get(Account, steward), s.get(AccessRequest, req_id), rows=50)
    assert info.value.rule == "delivery.compute_only"
    refused = world.refused_events("request.deliver")
    assert refused and refused[-1].payload["rule"] == "delivery.compute_only"
    with world.step() as s:
        assert s.get(AccessRequest, req_id).grant.deliveries == []
    assert world.verify().ok


def test_rows_are_still_delivered_where_the_mode_allows_rows(world):
    req_id = _granted(world, important=False)
    with world.step() as s:
        req = s.get(AccessRequest, req_id)
        steward = world.role(s, "steward", req.resource.holder_id).id
    with world.step() as s:
        out = wf.deliver(s, s.get(Account, steward), s.get(AccessRequest, req_id), rows=50)
        assert out.delivery.row_count > 0


def _bought_compute_product(world) -> int:
    """An enterprise buys a listed product whose grant carries compute terms (mode compute or either)."""
    with world.step() as s:
        policy = wf.current_policy(s)

        def fits(p) -> bool:
            if p.status.value != "listed" or not p.resources:
                return False
            r = p.resources[0]
            mode = delivery_mode(
                policy, r.grade, "authorized_operation", domain=r.domain, source=r.source
            )
            return mode is not DeliveryMode.rows

        prod = world.product(s, fits)
        ent = world.requester(s, OrganizationKind.enterprise)
        req = wf.create_request(s, ent, product=prod, purpose="industry_development", volume=1)
        wf.submit_request(s, ent, req)
        wf.accept_quote(s, ent, req)
        rid = req.id
    world.approve_all(rid)
    with world.step() as s:
        assert world.request(s, rid).grant is not None
    return rid


def test_each_computation_is_charged_at_the_grants_unit_price_and_counts_in_mar_revenue(world):
    rid = _bought_compute_product(world)
    with world.step() as s:
        req = world.request(s, rid)
        terms = req.grant.terms["compute"]
        assert terms["prices"] == {"aggregate_query": "20.00", "dp_release": "20.00",
                                   "model_training": "2000.00", "verification": "0.50"}
        operator, year = req.product.operator_id, wf.clock.now(s).year
        before = period_revenue(s, operator, year)
        paid_before = s.exec(select(Payment).where(Payment.request_id == rid)).all()
        dim = terms["dimensions"][0]
        requester = s.get(Account, req.requester_id)
        q = run_computation(s, requester, req, "aggregate_query",
                            {"sql": f"SELECT {dim}, COUNT(*) AS n FROM data GROUP BY {dim}"})
        v = run_computation(s, requester, req, "verification", {"record": {dim: "nobody"}})
        assert q.run.detail["charge"] == "20.00" and v.run.detail["charge"] == "0.50"
        paid = s.exec(select(Payment).where(Payment.request_id == rid)).all()
        assert len(paid) == len(paid_before) + 2
        assert period_revenue(s, operator, year) == before + Decimal("20.50")
        assert wf.current_quote(s, req).status is not QuoteStatus.metered  # the request's own quote stays
    events = [e for e in world.events("compute.run") if e.outcome.value == "ok"]
    assert [e.payload["charge"] for e in events] == ["20.00", "0.50"]


def test_refused_computations_are_not_charged(world):
    rid = _bought_compute_product(world)
    with world.step() as s:
        n = len(s.exec(select(Payment).where(Payment.request_id == rid)).all())
        requester_id = world.request(s, rid).requester_id
    with pytest.raises(PolicyRefusal), world.step() as s:
        run_computation(s, s.get(Account, requester_id), world.request(s, rid), "aggregate_query",
                        {"sql": "SELECT * FROM data"})
    with world.step() as s:
        assert len(s.exec(select(Payment).where(Payment.request_id == rid)).all()) == n


def test_the_cells_each_query_released_are_kept_per_grant_for_the_differencing_rule(world):
    req_id = _granted(world, important=True)
    with world.step() as s:
        req = s.get(AccessRequest, req_id)
        dim = req.grant.terms["compute"]["dimensions"][0]
        requester = s.get(Account, req.requester_id)
        sql = f"SELECT {dim}, COUNT(*) AS n FROM data GROUP BY {dim}"
        table = run_computation(s, requester, req, "aggregate_query", {"sql": sql}).value
        kept = released_cells(s, req.grant.id)
        assert len(kept) == 1 and kept[0].dimensions == {dim}
        assert sorted(c.n for c in kept[0].cells) == sorted(table["n"].tolist())
        run_computation(s, requester, req, "aggregate_query", {"sql": sql})  # the same level again: no news
        assert len(released_cells(s, req.grant.id)) == 2


@settings(max_examples=4, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(kinds=st.lists(st.sampled_from(["aggregate_query", "verification", "sql_refused"]), min_size=1,
                      max_size=4))
def test_what_computations_pay_is_exactly_their_units_at_the_grants_prices_in_payments_and_mar(world, kinds):
    """The money ledger of computation: payments for a grant's computations, the operator's MAR revenue and
    the charges on the accepted runs agree to the cent, whatever the mix of accepted and refused runs."""
    rid = _bought_compute_product(world)
    with world.step() as s:
        req = world.request(s, rid)
        prices = {k: Decimal(v) for k, v in req.grant.terms["compute"]["prices"].items()}
        dim = req.grant.terms["compute"]["dimensions"][0]
        operator, year, requester_id = req.product.operator_id, wf.clock.now(s).year, req.requester_id
        revenue0 = period_revenue(s, operator, year)
        paid0 = sum((p.amount for p in s.exec(select(Payment).where(Payment.request_id == rid))), Decimal(0))
    expected = Decimal("0")
    specs = {
        "aggregate_query": {"sql": "SELECT COUNT(*) AS n FROM data"},
        "verification": {"record": {dim: "nobody"}},
        "sql_refused": {"sql": "SELECT * FROM data"},
    }
    for kind in kinds:
        try:
            with world.step() as s:
                run_computation(s, s.get(Account, requester_id), world.request(s, rid),
                                "aggregate_query" if kind == "sql_refused" else kind, specs[kind])
            expected += prices[kind]
        except PolicyRefusal as exc:
            assert kind == "sql_refused", exc
    with world.step() as s:
        paid = sum((p.amount for p in s.exec(select(Payment).where(Payment.request_id == rid))), Decimal(0))
        assert paid - paid0 == expected
        assert period_revenue(s, operator, year) - revenue0 == expected
        charged = sum((Decimal(r.detail.get("charge", "0")) for r in s.exec(
            select(ComputeRun).where(ComputeRun.grant_id == world.request(s, rid).grant.id))), Decimal(0))
        assert charged == expected
