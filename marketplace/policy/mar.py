"""Maximum allowed revenue (MAR): the top tier of the regulated price structure.

MAR = operating cost + allowed profit + taxes, where the allowed profit rate is capped by the policy at
treasury yield + a margin (both parameters: the real margin comes from a secondary source). Revenue above
a period's MAR is deducted from the next period's MAR; a deduction larger than that MAR carries on to the
period after. The ledger is immutable: every change returns a new ledger, so the simulator can keep
snapshots and runs stay reproducible.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from decimal import ROUND_HALF_UP, Decimal

from marketplace.errors import InvalidInput, NotFound
from marketplace.policy.compiled import CENT
from marketplace.policy.schema import Policy
from marketplace.policy.types import MarPeriod

__all__ = ["MarLedger", "max_allowed_revenue"]

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
