"""Plain value types that flow into and out of the policy rules.

The policy layer never touches the database: workflows build these facts from table rows, the simulator
builds them directly. They are frozen, slotted dataclasses (not pydantic models) because the simulator
creates and reads hundreds of thousands of them per run and they must cost next to nothing.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any

from marketplace.errors import PolicyRefusal
from marketplace.vocabulary import (
    BillingUnit,
    Channel,
    ComputeKind,
    ComputeUnit,
    ConditionKind,
    EnterpriseSize,
    Grade,
    OpeningAttribute,
    OrganizationKind,
    ProductKind,
    Purpose,
    ReviewStage,
    Role,
    SharingAttribute,
)

__all__ = [
    "ConditionSpec",
    "MarPeriod",
    "Quote",
    "QuoteLine",
    "Refusal",
    "RequestFacts",
    "Requester",
    "Routing",
    "Split",
    "StagePlan",
    "Target",
    "refusal_error",
]


# ---------------------------------------------------------------- input facts


@dataclass(frozen=True, slots=True)
class Requester:
    """The organization asking: its kind decides channel access, kind and size decide discounts."""

    org_id: int
    kind: OrganizationKind
    size: EnterpriseSize | None = None
    region: str = ""


@dataclass(frozen=True, slots=True)
class Target:
    """What is asked for: a resource (sharing/opening) or a product (authorized operation).

    `raw=True` marks raw resource rows offered to the market, which the policy always forbids.
    Prices are per billing unit, in the policy currency; `unit_cost` is the operator's cost per unit.
    """

    channel: Channel
    grade: Grade
    sharing_attribute: SharingAttribute
    opening_attribute: OpeningAttribute
    holder_id: int
    contains_personal_info: bool
    published: bool = False
    is_product: bool = False
    raw: bool = False
    aggregated: bool = False
    deidentified: bool = False
    billing_unit: BillingUnit | ComputeUnit | None = None
    price_cap: Decimal | None = None
    actual_price: Decimal | None = None
    unit_cost: Decimal | None = None
    field_names: tuple[str, ...] = ()
    personal_fields: tuple[str, ...] = ()
    product_kind: ProductKind | ComputeKind | None = None


@dataclass(frozen=True, slots=True)
class RequestFacts:
    """The request itself: purpose, volume in the product's billing unit, fields wanted, term wanted."""

    purpose: Purpose
    volume: int = 1
    fields: tuple[str, ...] = ()
    duration_days: int = 365


# ---------------------------------------------------------------- routing results


@dataclass(frozen=True, slots=True)
class Refusal:
    """Why a request cannot go ahead: `rule` is a stable id (e.g. "grade.core"), `message` reads aloud.

    `key` and `params` say the same thing language-neutrally, so a panel can word it in another language:
    `key` is a stable message id ("refusal.grade_none"); `params` holds its values, raw vocabulary values or
    ids of other messages ("policy.grade.core"), tuples for lists. Shared between routings: do not mutate.
    """

    rule: str
    message: str
    key: str = ""
    params: dict[str, Any] | None = field(default=None, hash=False, compare=False)


def refusal_error(refusal: Refusal) -> PolicyRefusal:
    """The PolicyRefusal to raise for `refusal`; it also carries `key` and `params` for other languages."""
    exc = PolicyRefusal(refusal.rule, refusal.message)
    exc.key, exc.params = refusal.key, refusal.params  # type: ignore[attr-defined]
    return exc


@dataclass(frozen=True, slots=True)
class StagePlan:
    """One review stage with its due date; `on_breach` is "escalate", "deemed_approval" or "deemed_rejection".

    Stages run one after the other, so each due date counts from the previous stage's due date.
    `extension_days` is the extension the policy allows for this stage (0 = none).
    """

    stage: ReviewStage
    due: date
    working_days: int
    reviewer_role: Role
    on_breach: str
    extension_days: int = 0


@dataclass(frozen=True, slots=True)
class ConditionSpec:
    """A condition the grant must carry, e.g. deidentify with params {"k": 5, "l": 2}.

    `text` is the readable form, "deidentify(k>=5, l>=2)". `params` is shared between routings: do not mutate.
    """

    kind: ConditionKind
    params: dict[str, Any] = field(default_factory=dict, hash=False)
    text: str = ""


@dataclass(frozen=True, slots=True)
class Routing:
    """The policy's decision on where a request goes: refused, or the stages and conditions it must pass."""

    allowed: bool
    refusal: Refusal | None
    stages: tuple[StagePlan, ...]
    conditions: tuple[ConditionSpec, ...]
    free: bool
    channel: Channel | None = None


# ---------------------------------------------------------------- pricing results


class QuoteLine:
    """One component of a quote: purpose, base, tiers, discount, cap or tax; `amount` is unrounded.

    `reason` is the English explanation; `key` ("quote.base") and `params` carry it language-neutrally (as in
    `Refusal`), so a panel can show it in another language. `params` may be shared: do not mutate.

    Why not a frozen dataclass like the other results: the simulator prices hundreds of thousands of requests
    and reads only the totals, so a line may be built from its numbers alone (`render`: a function and its
    arguments, returning reason and params) and its words are made on first read, once. Lines are read-only
    by convention; equality and hash cover component, amount, reason and key, as before.
    """

    __slots__ = ("_params", "_reason", "_render", "amount", "component", "key")

    def __init__(
        self,
        component: str,
        amount: Decimal,
        reason: str = "",
        key: str = "",
        params: dict[str, Any] | None = None,
        *,
        render: tuple[Any, tuple[Any, ...]] | None = None,
    ) -> None:
        self.component = component
        self.amount = amount
        self.key = key
        self._reason = reason
        self._params = params
        self._render = render

    def _words(self) -> None:
        fn, args = self._render  # type: ignore[misc]
        self._reason, self._params = fn(*args)
        self._render = None

    @property
    def reason(self) -> str:
        """The English explanation of this component."""
        if self._render is not None:
            self._words()
        return self._reason

    @property
    def params(self) -> dict[str, Any] | None:
        """The values `key`'s message is filled with."""
        if self._render is not None:
            self._words()
        return self._params

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, QuoteLine):
            return NotImplemented
        return (self.component, self.amount, self.reason, self.key) == (
            other.component, other.amount, other.reason, other.key
        )

    def __hash__(self) -> int:
        return hash((self.component, self.amount, self.reason, self.key))

    def __repr__(self) -> str:
        return (
            f"QuoteLine(component={self.component!r}, amount={self.amount!r}, reason={self.reason!r}, "
            f"key={self.key!r}, params={self.params!r})"
        )


@dataclass(frozen=True, slots=True)
class Quote:
    """A price with one readable line per component; `total` is the sum of the lines rounded once.

    `taxes` is the tax contained in the total (prices tax-inclusive) or added by the tax line.
    """

    currency: str
    lines: tuple[QuoteLine, ...]
    total: Decimal
    free: bool
    taxes: Decimal = Decimal("0.00")
    policy: str = ""
    unrounded: Decimal = Decimal("0")

    def as_dict(self) -> dict[str, Any]:
        """A JSON-ready dict (money as strings, so nothing is lost to floats)."""
        return {
            "policy": self.policy,
            "currency": self.currency,
            "free": self.free,
            "total": str(self.total),
            "taxes": str(self.taxes),
            "lines": [
                {"component": ln.component, "amount": str(ln.amount), "reason": ln.reason}
                for ln in self.lines
            ],
        }


@dataclass(frozen=True, slots=True)
class Split:
    """Who gets a quote's total: operator, data holder and taxes; the three sum exactly to the total."""

    operator: Decimal
    holder: Decimal
    taxes: Decimal


@dataclass(frozen=True, slots=True)
class MarPeriod:
    """One period of the maximum-allowed-revenue ledger.

    `mar` = `base_mar` minus the deduction carried from earlier periods' over-MAR revenue (never below 0);
    `excess` = revenue above `mar`, deducted from the next period.
    """

    label: str
    base_mar: Decimal
    deduction: Decimal
    mar: Decimal
    revenue: Decimal = Decimal("0")

    @property
    def excess(self) -> Decimal:
        return max(self.revenue - self.mar, Decimal("0"))

    @property
    def compliant(self) -> bool:
        return self.revenue <= self.mar
