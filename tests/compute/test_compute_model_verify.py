"""Models trained inside (never rows out) and yes/no verification, rate-limited and recorded."""

from __future__ import annotations

import pytest
from sqlmodel import Session, select

from marketplace.compute import Environment, open_environment, train_model, verify_record
from marketplace.errors import InvalidInput, PolicyRefusal, PrivacyError
from marketplace.models.compute import ComputeRun


def test_regression_returns_coefficients_metrics_and_card(session: Session, grant, env: Environment) -> None:
    a = train_model(session, grant, env, target="length_of_stay", features=["age", "sex", "district"], seed=3)
    b = train_model(session, grant, env, target="length_of_stay", features=["age", "sex", "district"], seed=3)
    assert a.value == b.value  # deterministic for a fixed seed
    assert a.value["coefficients"]["age"] == pytest.approx(0.05, abs=0.02)  # 1/20 day per year
    assert set(a.value["metrics"]) == {"r2", "mae"}
    card = a.value["card"]
    assert card["parameters"] == 6 and card["rows"] == len(env.frame) and "no rows leave" in card["privacy"]
    assert not any(isinstance(v, list) and len(v) > 50 for v in a.value.values())


def test_classifier(session: Session, grant, env: Environment) -> None:
    result = train_model(session, grant, env, target="diagnosis", features=["age", "sex"],
                         task="classification")
    assert set(result.value["coefficients"]) == {"A", "B", "C"}
    assert 0 <= result.value["metrics"]["accuracy"] <= 1


def test_output_check_rows_per_parameter(session: Session, grant, table_factory, env: Environment) -> None:
    small = open_environment(5, table_factory(n=100), list(env.fields))
    with pytest.raises(PolicyRefusal) as info:
        train_model(session, grant, small, target="length_of_stay", features=["age", "sex", "district"])
    assert info.value.rule == "model.rows_per_parameter"
    with pytest.raises(PolicyRefusal) as info:
        train_model(session, grant, env, target="cost", features=["age"] * 1 + ["patient_id"])
    assert info.value.rule == "model.column"
    with pytest.raises(PolicyRefusal) as info:
        train_model(session, grant.__class__(**{**_fields(grant), "max_model_parameters": 3}), env,
                    target="cost", features=["district", "age"])
    assert info.value.rule == "model.parameters"


def _fields(grant: object) -> dict:
    return {name: getattr(grant, name) for name in grant.__slots__}


def test_verification_answers_and_is_audited(session: Session, grant, env: Environment) -> None:
    row = env.frame.iloc[17]
    yes = verify_record(session, grant, env, {"patient_id": row.patient_id, "district": row.district})
    no = verify_record(session, grant, env, {"patient_id": row.patient_id, "district": "Nowhere"})
    assert (yes.value, no.value) == (True, False)
    runs = session.exec(select(ComputeRun)).all()
    assert [r.answer for r in runs] == [True, False] and all(len(r.fingerprint) == 64 for r in runs)
    assert runs[0].fingerprint != runs[1].fingerprint


def test_verification_rate_limit_and_bad_input(session: Session, grant_factory, env: Environment) -> None:
    grant = grant_factory(verifications_per_day=3)
    for _ in range(3):
        verify_record(session, grant, env, {"district": "East"})
    with pytest.raises(PrivacyError, match="daily verification limit"):
        verify_record(session, grant, env, {"district": "East"})
    with pytest.raises(PolicyRefusal) as info:
        verify_record(session, grant, env, {"cost": 1})
    assert info.value.rule == "verify.column"
    with pytest.raises(InvalidInput, match="record"):
        verify_record(session, grant, env, {"district": "x" * 500})
