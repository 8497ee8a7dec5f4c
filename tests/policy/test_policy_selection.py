"""Operator selection as pure rules: qualification names the criterion it fails, the weighted total, the
winner is always a qualified applicant with the top total (ties to the earlier application), direct award
only where the policy allows it, and the obligations an agreement carries."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from marketplace.errors import PolicyRefusal
from marketplace.policy import (
    SELECTION_CRITERIA,
    Applicant,
    PolicyFileError,
    agreement_obligations,
    check_direct_award,
    load_policy,
    qualification_refusal,
    rank_applicants,
    total_score,
)

NATIONAL = load_policy("national-2025")
DIRECT = load_policy("direct-award")
THREE = load_policy("national-2025", {"selection.min_qualified_applicants": 3})

scores = st.fixed_dictionaries({c: st.integers(0, 100) for c in SELECTION_CRITERIA})
applicants = st.builds(
    Applicant,
    operator=st.sampled_from(["ORG-1", "ORG-2", "ORG-3", "ORG-4", "ORG-5"]),
    security_level=st.integers(1, 5),
    registered_capital=st.integers(0, 10**9).map(Decimal),
    sanction_years_ago=st.none() | st.integers(0, 10),
    rectification_open=st.booleans(),
    major_incident_years_ago=st.none() | st.integers(0, 10),
)


@settings(max_examples=300, deadline=None)
@given(field=st.lists(st.tuples(applicants, scores), max_size=6, unique_by=lambda x: x[0].operator),
       policy=st.sampled_from([NATIONAL, DIRECT, THREE]))
def test_the_winner_is_always_a_qualified_applicant_with_the_top_score(field, policy) -> None:
    qualified = [(a.operator, s) for a, s in field if qualification_refusal(policy, a) is None]
    ranked = rank_applicants(policy, qualified)
    totals = {op: total_score(policy, s) for op, s in qualified}
    assert [op for op, _ in ranked.ranking] == sorted(
        totals, key=lambda op: (-totals[op], [o for o, _ in qualified].index(op))
    )
    if len(qualified) < policy.selection.min_qualified_applicants:
        assert ranked.winner is None
        return
    assert ranked.winner in totals and totals[ranked.winner] == max(totals.values())
    first_best = next(op for op, _ in qualified if totals[op] == max(totals.values()))
    assert ranked.winner == first_best  # a tie goes to the earlier application
    assert all(Decimal(0) <= t <= Decimal(100) for t in totals.values())


@settings(max_examples=200, deadline=None)
@given(a=applicants)
def test_qualification_names_the_one_criterion_it_fails(a) -> None:
    q = NATIONAL.selection.qualification
    refusal = qualification_refusal(NATIONAL, a)
    fails = {
        "security_level": a.security_level < q.min_security_level,
        "registered_capital": a.registered_capital < q.min_registered_capital,
        "sanctions": a.rectification_open or (a.sanction_years_ago is not None
                                              and a.sanction_years_ago < q.sanction_free_years),
        "incidents": a.major_incident_years_ago is not None
        and a.major_incident_years_ago < q.incident_free_years,
    }
    if not any(fails.values()):
        assert refusal is None
    else:
        assert refusal is not None and refusal.rule == "selection.qualification." + next(
            k for k, v in fails.items() if v
        )


def test_weighted_total_and_its_input_rules() -> None:
    marks = {"technical": 80, "security": 90, "service_plan": 70, "fee_proposal": 60}
    assert total_score(NATIONAL, marks) == Decimal("77.00")
    for bad in ({"technical": 80}, {**dict.fromkeys(SELECTION_CRITERIA, 50), "luck": 1},
                {**dict.fromkeys(SELECTION_CRITERIA, 50), "security": 101},
                {**dict.fromkeys(SELECTION_CRITERIA, 50), "security": True}):
        with pytest.raises(ValueError):
            total_score(NATIONAL, bad)


def test_direct_award_differs_between_the_national_policy_and_its_variant() -> None:
    why = "x" * 60
    check_direct_award(NATIONAL, operator="ORG-1", grounds="sole_supplier", justification=why)
    with pytest.raises(PolicyRefusal) as exc:
        check_direct_award(NATIONAL, operator="ORG-1", grounds="other", justification=why)
    assert exc.value.rule == "selection.direct_award"
    check_direct_award(DIRECT, operator="ORG-1", grounds="other", justification=why)
    with pytest.raises(PolicyRefusal):
        check_direct_award(DIRECT, operator="ORG-1", grounds="other", justification="too short")
    never = load_policy("national-2025", {"selection.direct_award": "never"})
    with pytest.raises(PolicyRefusal):
        check_direct_award(never, operator="ORG-1", grounds="sole_supplier", justification=why)


def test_weights_must_add_up_to_100(tmp_path) -> None:
    path = tmp_path / "p.toml"
    path.write_text(
        'extends = "national-2025"\nname = "p"\nversion = "1"\n[selection.weights]\ntechnical = 90\n',
        encoding="utf-8",
    )
    with pytest.raises(PolicyFileError) as exc:
        load_policy(path)
    assert "selection.weights" in str(exc.value) and "add up to 100" in str(exc.value)


def test_every_selection_parameter_cites_its_source() -> None:
    for key in ("selection.required", "selection.direct_award", "selection.qualification",
                "selection.weights", "selection.min_qualified_applicants", "selection.notice_working_days"):
        note = NATIONAL.sources[key]
        assert "27号" in note or "assumption" in note or "Procurement Law" in note, key


def test_the_agreement_carries_security_exit_reporting_and_evaluation() -> None:
    obligations = agreement_obligations(NATIONAL, ["audit of every access"])
    assert [o.kind for o in obligations] == ["security_measures", "exit", "yearly_disclosure", "evaluation"]
    assert "audit of every access" in obligations[0].detail
    assert "20 working days" in obligations[1].detail and "03-31" in obligations[2].detail
