"""What reaches the market shelf: never raw data; a registration only where the policy makes it mandatory.

Findings reproduced: a product of kind `raw` could be drafted, registered, priced, listed and disclosed (only
the purchase was refused), and `registration.products_mandatory` was read by nothing.
"""

from __future__ import annotations

import pytest
from sqlmodel import select

from marketplace import workflows as wf
from marketplace.errors import PolicyRefusal, TransitionError
from marketplace.models import Account, Authorization, Product
from marketplace.policy import load_policy
from marketplace.vocabulary import AuthorizationStatus, ProductStatus, Role
from marketplace.workflows import facts


def _auth(s):
    active = Authorization.status == AuthorizationStatus.active
    return s.exec(select(Authorization).where(active).order_by(Authorization.id)).first()


def _draft(world, transformation: str = "deidentified") -> tuple[int, int]:
    with world.step() as s:
        auth = _auth(s)
        op = world.role(s, Role.operator, auth.operator_id)
        prod = wf.create_product(s, op, auth, name="Extract", kind="dataset", billing_unit="per_record",
                                 resources=list(auth.resources)[:1], transformation=transformation)
        return prod.id, op.id


def test_raw_data_is_refused_when_a_product_is_created(world):
    with world.step() as s:
        before = len(s.exec(select(Product)).all())
    with pytest.raises(PolicyRefusal) as exc:
        _draft(world, "raw")
    assert exc.value.rule == "market.raw_data" and "national-2025" in str(exc.value)
    with world.step() as s:
        assert len(s.exec(select(Product)).all()) == before
    assert [e.action for e in world.refused_events("product.create")] == ["product.create"]


def test_a_raw_product_already_on_file_is_neither_registered_nor_listed(world):
    prod_id, op_id = _draft(world)
    with world.step() as s:  # e.g. imported from an older system
        s.get(Product, prod_id).transformation = "raw"
    with pytest.raises(PolicyRefusal) as exc, world.step() as s:
        wf.register_product(s, s.get(Account, op_id), s.get(Product, prod_id))
    assert exc.value.rule == "market.raw_data"
    with world.step() as s:
        prod = s.get(Product, prod_id)
        prod.status, prod.actual_price = ProductStatus.priced, prod.price_cap
    with pytest.raises(PolicyRefusal) as exc, world.step() as s:
        wf.list_product(s, s.get(Account, op_id), s.get(Product, prod_id))
    assert exc.value.rule == "market.raw_data"
    with world.step() as s:
        assert s.get(Product, prod_id).status is ProductStatus.priced


def test_products_registration_not_mandatory_lists_without_one(world, monkeypatch):
    lax = load_policy("national-2025", {"registration.products_mandatory": False})
    monkeypatch.setattr(facts, "policy_named", lambda name: lax)
    prod_id, op_id = _draft(world)
    with world.step() as s:
        prod = s.get(Product, prod_id)
        wf.price_product(s, s.get(Account, op_id), prod, prod.price_cap)
        wf.list_product(s, s.get(Account, op_id), prod)
        assert prod.status is ProductStatus.listed and wf.current_registration(s, prod) is None


def test_products_registration_mandatory_needs_one(world):
    # Interim Measures for Public Data Resource Registration (发改数据规〔2025〕26号): operators register the
    # products they make from authorized data
    assert load_policy("national-2025").registration.products_mandatory is True
    prod_id, op_id = _draft(world)
    with pytest.raises(TransitionError) as exc, world.step() as s:
        wf.price_product(s, s.get(Account, op_id), s.get(Product, prod_id), "0.01")
    assert "mandatory" in str(exc.value)
    with world.step() as s:
        assert s.get(Product, prod_id).status is ProductStatus.draft
