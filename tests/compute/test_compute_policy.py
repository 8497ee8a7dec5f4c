"""The policy chooses the delivery mode per grade and channel, and sets the terms of a computation grant."""

from __future__ import annotations

from decimal import Decimal

import pytest

from marketplace.errors import InvalidInput
from marketplace.policy import load_policy
from marketplace.policy.compute import compute_billing_unit, compute_cap, compute_grant, delivery_mode
from marketplace.policy.loader import PolicyFileError, policy_from_dict
from marketplace.vocabulary import Channel, ComputeKind, ComputeUnit, DeliveryMode, Grade


def test_national_sends_important_data_to_compute_where_supported() -> None:
    p = load_policy("national-2025")
    for channel in Channel:
        assert delivery_mode(p, Grade.important, channel, domain="health") is DeliveryMode.compute
    # an imported catalog entry or a domain without an environment has no rows to compute on
    assert delivery_mode(p, Grade.important, Channel.authorized_operation, domain="health",
                         source="https://portal.example/dataset/1") is DeliveryMode.rows
    assert delivery_mode(p, Grade.important, Channel.sharing, domain="geospatial") is DeliveryMode.rows
    assert delivery_mode(p, Grade.general, Channel.opening, domain="health") is DeliveryMode.rows
    assert delivery_mode(p, Grade.general, Channel.authorized_operation,
                         domain="health") is DeliveryMode.either


def test_open_by_default_allows_rows() -> None:
    p = load_policy("open-by-default")
    assert delivery_mode(p, Grade.important, Channel.authorized_operation,
                         domain="health") is DeliveryMode.rows
    assert delivery_mode(p, Grade.important, Channel.opening, domain="health") is DeliveryMode.either


def test_billing_units_and_caps() -> None:
    p = load_policy("national-2025")
    assert compute_billing_unit(p, ComputeKind.aggregate_query) is ComputeUnit.per_query
    assert compute_billing_unit(p, ComputeKind.dp_release) is ComputeUnit.per_query
    assert compute_billing_unit(p, ComputeKind.model_training) is ComputeUnit.per_model
    assert compute_billing_unit(p, ComputeKind.verification) is ComputeUnit.per_call
    assert compute_cap(p, ComputeKind.model_training) == Decimal("2000.00")


def test_grant_terms_follow_markings_and_policy() -> None:
    fields = [("id", "identifier"), ("age", "quasi_identifier"), ("district", "quasi_identifier"),
              ("cost", "sensitive")]
    strict = compute_grant(load_policy("strict-privacy"), grant_id=1, requester_id=2, resource_id=3,
                           fields=fields, excluded=("district",))
    assert strict.columns == ("age", "cost") and strict.identifiers == ("id",)
    assert strict.dimensions == ("age",) and strict.verify_columns == ("id", "age")
    assert (strict.min_cell, strict.epsilon_per_grant, strict.epsilon_per_requester) == (20, 1.0, 2.0)
    with pytest.raises(InvalidInput, match="excluded"):
        compute_grant(load_policy("national-2025"), grant_id=1, requester_id=2, resource_id=3, fields=fields,
                      excluded=("nope",))


def test_budgets_must_nest() -> None:
    data = load_policy("national-2025").model_dump(mode="json")
    data["compute"]["epsilon_per_grant"] = "9.0"
    with pytest.raises(PolicyFileError, match=r"compute\.epsilon_per_grant"):
        policy_from_dict(data)
