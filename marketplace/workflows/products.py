"""Products of authorized operation: draft → registered → priced → listed → withdrawn.

Only the operator acts on its own products; caps come from the policy (`effective_cap`) until the authorizing
body files one within MAR (`price_formation.file_cap`), or from the regulator (`set_price_cap`); the actual
price is checked by `policy.check_actual_price` (never above the cap). Raw data is refused at creation,
registration and listing (`policy.check_market_product`). Listing needs an active authorization and, when the
policy's `registration.products_mandatory` is true, a registration in force (a draft may then not be priced).
"""

from __future__ import annotations

from collections.abc import Iterable
from decimal import Decimal, InvalidOperation
from typing import Any

from sqlmodel import Session

from marketplace import policy as pol
from marketplace.errors import InvalidInput
from marketplace.models import Account, Authorization, Product, Resource
from marketplace.policy import TRANSFORMATIONS
from marketplace.vocabulary import AuthorizationStatus, BillingUnit, ProductKind, ProductStatus, Role
from marketplace.workflows import facts
from marketplace.workflows.lookups import current_registration
from marketplace.workflows.step import Step, step, temp_code

__all__ = [
    "create_product",
    "list_product",
    "price_product",
    "register_product",
    "set_price_cap",
    "withdraw_listing",
    "withdraw_product",
]


def money(field: str, value: Any) -> Decimal:
    try:
        d = Decimal(str(value))
    except (InvalidOperation, ValueError):
        raise InvalidInput(field, value, "an amount such as 12.50") from None
    if not d.is_finite() or d < 0:
        raise InvalidInput(field, value, "an amount >= 0")
    return d.quantize(Decimal("0.01"))


def choice(enum: Any, field: str, value: Any) -> Any:
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
    kind = choice(ProductKind, "kind", kind)
    billing_unit = choice(BillingUnit, "billing_unit", billing_unit)
    if transformation not in TRANSFORMATIONS:
        raise InvalidInput("transformation", transformation, "one of " + ", ".join(TRANSFORMATIONS))
    if not name.strip():
        raise InvalidInput("name", name, "a product name")
    chosen = list(resources)
    scope = {r.id for r in authorization.resources}
    outside = [r.code for r in chosen if r.id not in scope]
    if not chosen or outside:
        raise InvalidInput("resources", outside or [], f"resources in the scope of {authorization.code}")
    cost = money("unit_cost", unit_cost) if unit_cost is not None else None
    with step(session, actor, "product.create", authorization) as st:
        st.require_org(Role.operator, authorization.operator_id, what="operator", doing="create a product")
        pol.check_market_product(st.policy, transformation)
        st.refuse_unless(
            authorization.status is AuthorizationStatus.active,
            "make products",
            "only under an active authorization",
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
            created_at=st.now,
        )
        p.resources = chosen
        st.add(p, code=("product", st.today.year))
        p.price_cap = pol.effective_cap(st.policy, facts.product_target(p))
        st.record(
            {
                "authorization": authorization.code,
                "resources": [r.code for r in chosen],
                "kind": kind,
                "billing_unit": billing_unit,
                "transformation": transformation,
                "price_cap": p.price_cap,
            },
            subject=p,
        )
    return p


def register_product(session: Session, actor: Account, product: Product) -> Product:
    """draft → registered, once the product's registration is in force (see `registration`)."""
    with step(session, actor, "product.register", product) as st:
        st.require_org(Role.operator, product.operator_id, what="operator")
        nxt = st.allow(product)
        pol.check_market_product(st.policy, product.transformation)
        reg = current_registration(session, product)
        st.refuse_unless(reg is not None, "register", "no registration in force; submit one first")
        product.status = nxt
        st.save(product.code)
        st.record({"registration": reg.code})
    return product


def set_price_cap(session: Session, actor: Account, product: Product, cap: Any) -> Product:
    """The regulator sets a product's cap; a listed product priced above the new cap is withdrawn."""
    amount = money("price_cap", cap)
    with step(session, actor, "product.set_cap", product) as st:
        st.require_role(
            Role.regulator,
            doing=f"set the price cap of {product.code}",
            doing_key="permission.doing.set_price_cap",
            doing_params={"product": product.code},
        )
        old = product.price_cap
        product.price_cap = amount
        st.save(product.code)
        st.record({"old": old, "new": amount})
        if (
            product.status is ProductStatus.listed
            and product.actual_price is not None
            and product.actual_price > amount
        ):
            withdraw_listing(st, product, f"actual price {product.actual_price} above the new cap {amount}")
    return product


def price_product(session: Session, actor: Account, product: Product, actual_price: Any) -> Product:
    """The operator sets the actual price; above the cap is refused by the policy (naming the cap)."""
    price = money("actual_price", actual_price)
    with step(session, actor, "product.price", product) as st:
        st.require_org(Role.operator, product.operator_id, what="operator")
        nxt = st.allow(product)
        st.refuse_unless(
            product.status is not ProductStatus.draft or not st.policy.registration.products_mandatory,
            "price",
            f"product registration is mandatory under {st.policy.name}: register it first",
        )
        pol.check_actual_price(
            st.policy, product.price_cap, price, product_code=product.code, unit_cost=product.unit_cost
        )
        product.actual_price = price
        product.status = nxt
        st.save(product.code)
        st.record({"actual_price": price, "cap": product.price_cap})
    return product


def list_product(session: Session, actor: Account, product: Product) -> Product:
    """priced → listed: registration in force, authorization active, price still within the cap."""
    with step(session, actor, "product.list", product) as st:
        st.require_org(Role.operator, product.operator_id, what="operator")
        nxt = st.allow(product)
        pol.check_market_product(st.policy, product.transformation)
        mandatory = st.policy.registration.products_mandatory
        st.refuse_unless(
            not mandatory or current_registration(session, product) is not None,
            "list",
            f"its registration is not in force (product registration is mandatory under {st.policy.name})",
        )
        a = product.authorization
        st.refuse_unless(
            a is not None and a.status is AuthorizationStatus.active,
            "list",
            "its authorization is not active",
        )
        pol.check_actual_price(
            st.policy,
            product.price_cap,
            Decimal(product.actual_price),
            product_code=product.code,
            unit_cost=product.unit_cost,
        )
        product.status = nxt
        st.save(product.code)
        st.record({"actual_price": product.actual_price})
    return product


def withdraw_product(session: Session, actor: Account, product: Product, reason: str = "") -> Product:
    with step(session, actor, "product.withdraw", product) as st:
        st.require_org(Role.operator, product.operator_id, what="operator")
        st.allow(product)
        withdraw_listing(st, product, reason)
    return product


def withdraw_listing(st: Step, product: Product, reason: str) -> Product:
    """Take a product off the shelf within a running step (its own event): by its operator, or because the
    registration, the authorization or the cap it rested on changed."""
    product.status = ProductStatus.withdrawn
    st.save(product.code)
    st.record({"reason": reason}, action="product.withdraw", subject=product)
    return product
