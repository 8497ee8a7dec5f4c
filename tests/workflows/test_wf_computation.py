"""Computation under a grant: where the policy sends data to computation ("usable but not visible"), the grant
names what may be computed and the requester's computations run in the holder's domain, each an audited step
with its fingerprint and privacy cost; refusals are audited with the computation's fingerprint too."""

from __future__ import annotations

import pytest

from marketplace import workflows as wf
from marketplace.errors import PermissionDenied, PolicyRefusal, PrivacyError
from marketplace.models import AccessRequest, Account, ComputeRun
from marketplace.policy.compute import delivery_mode
from marketplace.vocabulary import DeliveryMode, Grade, OrganizationKind
from marketplace.workflows.computation import run_computation


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
