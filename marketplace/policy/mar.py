"""Maximum allowed revenue (MAR): the top tier of the regulated price structure.

Pricing notice (NDRC & NDA, *Notice on establishing the price formation mechanism for authorized operation of
public data resources*, 发改价格〔2025〕65号): the price authority with the data authority sets each
operator's MAR in advance for a period, from its costs ("compensate costs, reasonable profit"): MAR =
operating cost (net of government subsidy) + permitted profit + taxes. The authorizing body sets each
product's cap within that MAR; operators price at or below the cap; revenue above MAR in a period is deducted
from the next period's MAR. The permitted profit rate is a policy parameter (treasury yield + margin, or a
fixed rate): the notice gives no figure.

`mar_position` is the one definition of a period's MAR, revenue and compliance: the workflows, the disclosure
report, the simulator and the panels all call it. Revenue counted against MAR is the fees the operator charged
(tax-inclusive, before the data holder's share): MAR includes taxes, and the holder's share is one of the
operator's costs. The ledger is immutable: every change returns a new ledger, so the simulator can keep
snapshots and runs stay reproducible.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from decimal import ROUND_DOWN, ROUND_HALF_UP, Decimal

from marketplace.errors import InvalidInput, NotFound
from marketplace.policy.compiled import CENT
from marketplace.policy.schema import Policy
from marketplace.policy.types import MarPeriod, Refusal, refusal_error

__all__ = [
    "MarLedger",
    "MarPosition",
    "cap_within_mar",
    "carried_deduction",
    "check_cap_filing",
    "filed_operating_cost",
    "mar_position",
    "max_allowed_revenue",
    "permitted_profit_rate",
]

_ZERO = Decimal("0")


def _amount(name: str, value: Decimal) -> Decimal:
    if not isinstance(value, Decimal | int) or isinstance(value, bool):
        raise InvalidInput(name, value, "a Decimal amount")
    value = Decimal(value)
    if not value.is_finite() or value < 0:
        raise InvalidInput(name, value, "an amount >= 0")
    return value


def max_allowed_revenue(
    costs: Decimal, profit_rate: Decimal, taxes: Decimal, *, policy: Policy | None = None
) -> Decimal:
    """costs + costs x min(profit_rate, policy cap) + taxes, rounded to the cent (no cap without a policy)."""
    costs = _amount("costs", costs)
    profit_rate = _amount("profit_rate", profit_rate)
    taxes = _amount("taxes", taxes)
    if policy is not None:
        cap = policy.allowed_profit_rate
        if profit_rate > cap:
            profit_rate = cap
    return (costs + costs * profit_rate + taxes).quantize(CENT, ROUND_HALF_UP)


@dataclass(frozen=True, slots=True)
class MarLedger:
    """Periods in order; each period's MAR is reduced by the over-MAR revenue carried from before.

    `deduct_next_period=False` (a policy with `mar.over_mar = "none"`) records excess without deducting it.
    """

    periods: tuple[MarPeriod, ...] = ()
    deduct_next_period: bool = True
    policy_name: str = ""

    @classmethod
    def for_policy(cls, policy: Policy) -> MarLedger:
        return cls((), policy.mar.over_mar == "deduct_next_period", policy.name)

    @property
    def carried(self) -> Decimal:
        """What the next opened period will have deducted from its MAR."""
        if not self.periods or not self.deduct_next_period:
            return _ZERO
        last = self.periods[-1]
        unabsorbed = last.deduction - (last.base_mar - last.mar)
        return last.excess + unabsorbed

    def open_period(self, label: str, base_mar: Decimal) -> MarLedger:
        """A new ledger with one more period whose MAR is `base_mar` minus what is carried."""
        if any(p.label == label for p in self.periods):
            raise InvalidInput("label", label, "a period label not used before in this ledger")
        base = _amount("base_mar", base_mar)
        ded = self.carried
        mar = base - ded if base > ded else _ZERO
        return replace(self, periods=(*self.periods, MarPeriod(label, base, ded, mar)))

    def record_revenue(self, amount: Decimal, label: str | None = None) -> MarLedger:
        """A new ledger with `amount` added to the revenue of period `label` (default: the latest)."""
        amount = _amount("revenue", amount)
        if not self.periods:
            raise NotFound("MAR period", label or "(no period opened)")
        idx = len(self.periods) - 1
        if label is not None:
            for i, p in enumerate(self.periods):
                if p.label == label:
                    idx = i
                    break
            else:
                raise NotFound("MAR period", label)
        if idx != len(self.periods) - 1:
            raise InvalidInput(
                "label", label, f"the latest period {self.periods[-1].label!r} (earlier ones are closed)"
            )
        p = self.periods[idx]
        periods = (*self.periods[:idx], replace(p, revenue=p.revenue + amount))
        return replace(self, periods=periods)

    def period(self, label: str) -> MarPeriod:
        for p in self.periods:
            if p.label == label:
                return p
        raise NotFound("MAR period", label)

    @property
    def compliant(self) -> bool:
        return all(p.compliant for p in self.periods)


# ---------------------------------------------------------------- the price-formation chain


def permitted_profit_rate(policy: Policy) -> Decimal:
    """The profit rate the price authority applies when it sets MAR (`mar.profit_rule`)."""
    return policy.allowed_profit_rate


def filed_operating_cost(
    policy: Policy, costs: Mapping[str, Decimal], subsidy: Decimal = _ZERO
) -> Decimal:
    """Operating cost of a cost filing: the sum of its categories minus government subsidy (never below 0).

    Pricing notice: the cost basis is the reasonable cost of serving industry and sector use *after deducting
    government subsidy*. Categories must be the policy's `mar.cost_categories`.
    """
    allowed = policy.mar.cost_categories
    total = _ZERO
    for name, value in costs.items():
        if name not in allowed:
            raise InvalidInput("costs", name, "a cost category of " + ", ".join(allowed))
        total += _amount(f"costs.{name}", value)
    subsidy = _amount("subsidy", subsidy)
    return (total - subsidy).quantize(CENT, ROUND_HALF_UP) if total > subsidy else _ZERO.quantize(CENT)


@dataclass(frozen=True, slots=True)
class MarPosition:
    """One operator's period: MAR as set in advance, the revenue it took, and whether it stayed within MAR."""

    period: str
    operating_cost: Decimal
    profit_rate: Decimal
    taxes: Decimal
    base_mar: Decimal
    deduction: Decimal
    mar: Decimal
    revenue: Decimal

    @property
    def excess(self) -> Decimal:
        """Revenue above MAR: deducted from the next period's MAR (when the policy says so)."""
        return self.revenue - self.mar if self.revenue > self.mar else _ZERO

    @property
    def compliant(self) -> bool:
        return self.revenue <= self.mar

    @property
    def headroom(self) -> Decimal:
        return self.mar - self.revenue

    @property
    def share_of_mar(self) -> float | None:
        """Revenue as a percentage of MAR, one decimal (None when MAR is 0)."""
        return round(float(self.revenue / self.mar * 100), 1) if self.mar > 0 else None

    @property
    def unabsorbed(self) -> Decimal:
        """The part of the deduction this period's MAR was too small to absorb."""
        return self.deduction - (self.base_mar - self.mar)


def mar_position(
    policy: Policy,
    *,
    period: str,
    operating_cost: Decimal,
    taxes: Decimal,
    deduction: Decimal = _ZERO,
    revenue: Decimal = _ZERO,
    profit_rate: Decimal | None = None,
) -> MarPosition:
    """MAR, revenue and compliance of one operator and period: the one definition every module calls.

    base MAR = `max_allowed_revenue(operating_cost, rate, taxes)` with the policy's permitted profit rate
    (`profit_rate`, when the regulator set a lower one); MAR = base minus `deduction` (the over-MAR revenue
    carried from the previous period), never below 0; compliant when `revenue` (fees charged) <= MAR.
    """
    rate = permitted_profit_rate(policy) if profit_rate is None else _amount("profit_rate", profit_rate)
    base = max_allowed_revenue(operating_cost, rate, taxes, policy=policy)
    if rate > policy.allowed_profit_rate:
        rate = policy.allowed_profit_rate
    deduction = _amount("deduction", deduction)
    mar = base - deduction if base > deduction else _ZERO.quantize(CENT)
    return MarPosition(
        period=period,
        operating_cost=Decimal(operating_cost),
        profit_rate=rate,
        taxes=Decimal(taxes),
        base_mar=base,
        deduction=deduction,
        mar=mar,
        revenue=_amount("revenue", revenue),
    )


def carried_deduction(policy: Policy, closed: MarPosition | None) -> Decimal:
    """What a closed period deducts from the next period's MAR: its excess plus what it could not absorb."""
    if closed is None or policy.mar.over_mar != "deduct_next_period":
        return _ZERO
    return closed.excess + closed.unabsorbed


def cap_within_mar(headroom: Decimal, forecast_volume: int) -> Decimal:
    """The highest cap per unit whose forecast revenue (cap x forecast volume) stays within `headroom`."""
    if isinstance(forecast_volume, bool) or not isinstance(forecast_volume, int) or forecast_volume < 1:
        raise InvalidInput("forecast_volume", forecast_volume, "a whole number of units >= 1")
    if headroom <= 0:
        return _ZERO.quantize(CENT)
    return (Decimal(headroom) / forecast_volume).quantize(CENT, ROUND_DOWN)


def check_cap_filing(
    policy: Policy,
    *,
    cap: Decimal,
    forecast_volume: int,
    mar: Decimal | None,
    committed: Decimal,
    product_code: str = "the product",
) -> bool:
    """Whether a cap may be filed; returns True when it is provisional (trial caps, no MAR set yet).

    Pricing notice: caps are set within MAR, so the forecast revenue of every cap the operator holds
    (`committed`, the other products' cap x forecast volume) plus this one must not exceed MAR. Without a MAR
    for the period the policy's `mar.trial_caps` decides (the notice's trial fee standards).
    """
    cap = _amount("cap", cap)
    if isinstance(forecast_volume, bool) or not isinstance(forecast_volume, int) or forecast_volume < 1:
        raise InvalidInput("forecast_volume", forecast_volume, "a whole number of units >= 1")
    if mar is None:
        if policy.mar.trial_caps:
            return True
        raise refusal_error(Refusal(
            "mar.not_determined",
            f"No maximum allowed revenue is set for the operator of {product_code} this period under "
            f"{policy.name}, and the policy allows no trial caps; the regulator sets MAR first",
            "refusal.mar_not_determined",
            {"product": product_code, "policy": policy.name},
        ))
    forecast = cap * forecast_volume
    if committed + forecast > mar:
        top = cap_within_mar(mar - committed, forecast_volume)
        raise refusal_error(Refusal(
            "mar.cap_above_mar",
            f"The cap {cap} of {product_code} at a forecast {forecast_volume:,} units brings {forecast} of "
            f"revenue; with {committed} already committed by other caps that exceeds the operator's "
            f"MAR {mar} "
            f"under {policy.name}; the highest cap within MAR is {top}",
            "refusal.cap_above_mar",
            {"cap": str(cap), "product": product_code, "volume": f"{forecast_volume:,}",
             "forecast": str(forecast), "committed": str(committed), "mar": str(mar), "policy": policy.name,
             "top": str(top)},
        ))
    return False
