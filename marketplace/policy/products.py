"""The policy facts of a product, derived from the resources it is made from.

One rule, used by the workflows, the `quote` command and the simulator alike: a product is as sensitive as
its most sensitive source (strictest grade, sharing and opening attributes), carries the union of their
personal fields, counts as "already published" only when every source is, and its transformation says whether
it releases de-identified rows, aggregates (a model's outputs count as aggregates) or raw rows.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal

from marketplace.policy.schema import Policy
from marketplace.policy.types import Refusal, Target, refusal_error
from marketplace.vocabulary import (
    BillingUnit,
    Channel,
    Grade,
    OpeningAttribute,
    ProductKind,
    SharingAttribute,
)

__all__ = ["RAW_DATA_RULE", "SourceFacts", "check_market_product", "product_target", "raw_data_refusal"]

_GRADE = (Grade.general, Grade.important, Grade.core)
_SHARING = (SharingAttribute.unconditional, SharingAttribute.conditional, SharingAttribute.not_shared)
_OPENING = (OpeningAttribute.unconditional, OpeningAttribute.conditional, OpeningAttribute.not_open)
TRANSFORMATIONS = ("deidentified", "aggregated", "model", "raw")
RAW_DATA_RULE = "market.raw_data"


def raw_data_refusal(policy_name: str, raw_to_market: bool, raw: bool) -> Refusal | None:
    """The refusal of raw data on the market (`routing.raw_data_to_market`), or None when it may go ahead.

    One rule for every place a product meets the market: creation, registration, listing and purchase.
    """
    if not raw or raw_to_market:
        return None
    return Refusal(
        RAW_DATA_RULE,
        f"Raw data never goes to the market under {policy_name}: an operator sells a processed product",
        "refusal.raw_data",
        {"policy": policy_name},
    )


def check_market_product(policy: Policy, transformation: str) -> None:
    """PolicyRefusal (rule `market.raw_data`) when a product of this transformation may not be offered."""
    kind = (transformation or "").lower()
    refusal = raw_data_refusal(
        policy.name, policy.routing.raw_data_to_market, kind == "raw" or kind not in TRANSFORMATIONS
    )
    if refusal is not None:
        raise refusal_error(refusal)


@dataclass(frozen=True, slots=True)
class SourceFacts:
    """What the policy needs to know of one source resource of a product."""

    grade: Grade
    sharing_attribute: SharingAttribute
    opening_attribute: OpeningAttribute
    holder_id: int
    published: bool = False
    field_names: tuple[str, ...] = ()
    personal_fields: tuple[str, ...] = ()


def _strictest(values: Iterable, order: tuple) -> object:
    return max(values, key=order.index)


def product_target(
    sources: Iterable[SourceFacts],
    *,
    transformation: str,
    billing_unit: BillingUnit | None,
    price_cap: Decimal | None = None,
    actual_price: Decimal | None = None,
    unit_cost: Decimal | None = None,
    product_kind: ProductKind | None = None,
    holder_id: int | None = None,
) -> Target:
    """The `Target` of a product; a product with no source counts as raw data, which the policy refuses."""
    src = list(sources)
    kind = (transformation or "").lower()
    if not src:
        return Target(channel=Channel.authorized_operation, grade=Grade.core,
                      sharing_attribute=SharingAttribute.not_shared,
                      opening_attribute=OpeningAttribute.not_open,
                      holder_id=holder_id or 0, contains_personal_info=False, is_product=True, raw=True,
                      billing_unit=billing_unit, price_cap=price_cap, actual_price=actual_price,
                      unit_cost=unit_cost, product_kind=product_kind)
    personal = tuple(dict.fromkeys(n for s in src for n in s.personal_fields))
    return Target(
        channel=Channel.authorized_operation,
        grade=_strictest((s.grade for s in src), _GRADE),
        sharing_attribute=_strictest((s.sharing_attribute for s in src), _SHARING),
        opening_attribute=_strictest((s.opening_attribute for s in src), _OPENING),
        holder_id=holder_id if holder_id is not None else src[0].holder_id,
        contains_personal_info=bool(personal),
        published=all(s.published for s in src),
        is_product=True,
        raw=kind == "raw" or kind not in TRANSFORMATIONS,
        aggregated=kind in ("aggregated", "model"),
        deidentified=kind == "deidentified",
        billing_unit=billing_unit,
        price_cap=price_cap,
        actual_price=actual_price,
        unit_cost=unit_cost,
        field_names=tuple(dict.fromkeys(n for s in src for n in s.field_names)),
        personal_fields=personal,
        product_kind=product_kind,
    )
