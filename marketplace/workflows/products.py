"""Products of authorized operation: draft → registered → priced → listed → withdrawn.

Only the operator acts on its own products; caps come from the policy (`effective_cap`) or from the regulator
(`set_price_cap`); the actual price is checked by `policy.check_actual_price` (never above the cap).
Listing needs a registration in force and an active authorization.
"""

from __future__ import annotations

from collections.abc import Iterable
from decimal import Decimal, InvalidOperation
from typing import Any

from sqlmodel import Session

from marketplace import policy as pol
from marketplace.errors import InvalidInput, PolicyRefusal
from marketplace.models import Account, Authorization, Product, Resource
from marketplace.policy import TRANSFORMATIONS
from marketplace.vocabulary import AuthorizationStatus, BillingUnit, ProductKind, ProductStatus, Role
from marketplace.workflows import audit, clock, facts
from marketplace.workflows._core import assign_code, flush, refuse_transition, temp_code, transition
from marketplace.workflows.registration import current_registration
from marketplace.workflows.roles import require_org, require_role

__all__ = [
    "create_product",
    "list_product",
    "price_product",
    "register_product",
    "set_price_cap",
    "withdraw_product",
]



def _money(field: str, value: Any) -> Decimal:
    try:
        d = Decimal(str(value))
    except (InvalidOperation, ValueError):
        raise InvalidInput(field, value, "an amount such as 12.50") from None
    if not d.is_finite() or d < 0:
        raise InvalidInput(field, value, "an amount >= 0")
    return d.quantize(Decimal("0.01"))


def _enum(enum: Any, field: str, value: Any) -> Any:
    try:
        return enum(value)
    except ValueError:
        raise InvalidInput(field, value, "one of " + ", ".join(m.value for m in enum)) from None


def create_product(
    session: Session,
    actor: Account,
    authorization: Authorization,
    *,
    name: str,
    kind: ProductKind | str,
    billing_unit: BillingUnit | str,
    resources: Iterable[Resource],
    transformation: str = "deidentified",
    unit_cost: Any = None,
    description: str = "",
) -> Product:
    """The operator drafts a product from resources in the scope of its active authorization."""
    kind = _enum(ProductKind, "kind", kind)
    billing_unit = _enum(BillingUnit, "billing_unit", billing_unit)
    if transformation not in TRANSFORMATIONS:
        raise InvalidInput("transformation", transformation, "one of " + ", ".join(TRANSFORMATIONS))
    if not name.strip():
        raise InvalidInput("name", name, "a product name")
    chosen = list(resources)
    scope = {r.id for r in authorization.resources}
    outside = [r.code for r in chosen if r.id not in scope]
    if not chosen or outside:
        raise InvalidInput("resources", outside or [], f"resources in the scope of {authorization.code}")
    cost = _money("unit_cost", unit_cost) if unit_cost is not None else None
    require_org(
        session,
        actor,
        Role.operator,
        authorization.operator_id,
        "create a product",
        authorization,
        what="operator",
        audit_action="product.create",
    )
    if authorization.status is not AuthorizationStatus.active:
        raise refuse_transition(
            session, actor, authorization, "make products", "only under an active authorization"
        )
    p = Product(
        code=temp_code(),
        name=name,
        operator_id=authorization.operator_id,
        authorization_id=authorization.id,
        kind=kind,
        transformation=transformation,
        billing_unit=billing_unit,
        unit_cost=cost,
        status=ProductStatus.draft,
        description=description,
        created_at=clock.now(session),
    )
    p.resources = chosen
    session.add(p)
    flush(session)
    assign_code(p, "product", clock.today(session).year)
    p.price_cap = pol.effective_cap(facts.current_policy(session), facts.product_target(p))
    audit.record(
        session,
        actor,
        "product.create",
        p,
        {
            "authorization": authorization.code,
            "resources": [r.code for r in chosen],
            "kind": kind,
            "billing_unit": billing_unit,
            "transformation": transformation,
            "price_cap": p.price_cap,
        },
    )
    return p


def _operator(session: Session, actor: Account, product: Product, action: str) -> None:
    require_org(
        session,
        actor,
        Role.operator,
        product.operator_id,
        f"{action} {product.code}",
        product,
        what="operator",
        audit_action=f"product.{action}",
    )


def register_product(session: Session, actor: Account, product: Product) -> Product:
    """draft → registered, once the product's registration is in force (see `registration`)."""
    _operator(session, actor, product, "register")
    nxt = transition(session, actor, product, "register")
    reg = current_registration(session, product)
    if reg is None:
        raise refuse_transition(
            session, actor, product, "register", "no registration in force; submit one first"
        )
    product.status = nxt
    flush(session, product.code, actor=actor, action="product.register", subject=product)
    audit.record(session, actor, "product.register", product, {"registration": reg.code})
    return product


def set_price_cap(session: Session, actor: Account, product: Product, cap: Any) -> Product:
    """The regulator sets a product's cap; a listed product priced above the new cap is withdrawn."""
    amount = _money("price_cap", cap)
    require_role(
        session,
        actor,
        Role.regulator,
        f"set the price cap of {product.code}",
        product,
        audit_action="product.set_cap",
    )
    old = product.price_cap
    product.price_cap = amount
    flush(session, product.code, actor=actor, action="product.set_cap", subject=product)
    audit.record(session, actor, "product.set_cap", product, {"old": old, "new": amount})
    if (
        product.status is ProductStatus.listed
        and product.actual_price is not None
        and product.actual_price > amount
    ):
        _withdraw(session, actor, product, f"actual price {product.actual_price} above the new cap {amount}")
    return product


def price_product(session: Session, actor: Account, product: Product, actual_price: Any) -> Product:
    """The operator sets the actual price; above the cap is refused by the policy (naming the cap)."""
    price = _money("actual_price", actual_price)
    _operator(session, actor, product, "price")
    nxt = transition(session, actor, product, "price")
    policy = facts.current_policy(session)
    try:
        pol.check_actual_price(
            policy, product.price_cap, price, product_code=product.code, unit_cost=product.unit_cost
        )
    except PolicyRefusal as exc:
        raise audit.refuse(session, actor, "product.price", product, exc) from None
    product.actual_price = price
    product.status = nxt
    flush(session, product.code, actor=actor, action="product.price", subject=product)
    audit.record(session, actor, "product.price", product, {"actual_price": price, "cap": product.price_cap})
    return product


def list_product(session: Session, actor: Account, product: Product) -> Product:
    """priced → listed: registration in force, authorization active, price still within the cap."""
    _operator(session, actor, product, "list")
    nxt = transition(session, actor, product, "list")
    if current_registration(session, product) is None:
        raise refuse_transition(session, actor, product, "list", "its registration is not in force")
    a = product.authorization
    if a is None or a.status is not AuthorizationStatus.active:
        raise refuse_transition(session, actor, product, "list", "its authorization is not active")
    try:
        pol.check_actual_price(
            facts.current_policy(session),
            product.price_cap,
            Decimal(product.actual_price),
            product_code=product.code,
            unit_cost=product.unit_cost,
        )
    except PolicyRefusal as exc:
        raise audit.refuse(session, actor, "product.list", product, exc) from None
    product.status = nxt
    flush(session, product.code, actor=actor, action="product.list", subject=product)
    audit.record(session, actor, "product.list", product, {"actual_price": product.actual_price})
    return product


def withdraw_product(session: Session, actor: Account, product: Product, reason: str = "") -> Product:
    _operator(session, actor, product, "withdraw")
    transition(session, actor, product, "withdraw")
    return _withdraw(session, actor, product, reason)


def _withdraw(session: Session, actor: Account | None, product: Product, reason: str) -> Product:
    product.status = ProductStatus.withdrawn
    flush(session, product.code, actor=actor, action="product.withdraw", subject=product)
    audit.record(session, actor, "product.withdraw", product, {"reason": reason})
    return product
