"""Pricing (docs/policy-sources.md#prices): explainable quotes, price caps and the revenue split.

A quote is the sum of its lines in the order purpose rule -> base -> progressive tiers -> discount ->
cap -> tax, computed exactly in Decimal and rounded once, at the end, to the cent with the policy's
rounding mode. Marginal prices never rise with volume (tiers are checked when the policy loads) and the
cap is linear in volume, so the price of a volume is concave: buying in parts never costs less than
buying at once. Rounding "up" (to the next cent) keeps that true to the cent; "half_up" may differ by at
most a cent per extra purchase, which is why national-2025 rounds up.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from marketplace.errors import InvalidInput
from marketplace.policy.compiled import CENT, Tables, tables
from marketplace.policy.schema import Policy
from marketplace.policy.types import (
    Quote,
    QuoteLine,
    Refusal,
    Requester,
    RequestFacts,
    Split,
    Target,
    refusal_error,
)
from marketplace.vocabulary import (
    BillingUnit,
    Channel,
    ComputeUnit,
    EnterpriseSize,
    OrganizationKind,
    Purpose,
)

__all__ = ["check_actual_price", "effective_cap", "quote", "split"]

_ZERO = Decimal("0")
_ZERO_CENTS = Decimal("0.00")
_ONE = Decimal("1")
_UNIT_WORDS = {
    BillingUnit.per_product: ("copy", "copies", "per copy"),
    BillingUnit.per_call: ("call", "calls", "per call"),
    BillingUnit.per_month: ("month", "months", "per month"),
    BillingUnit.per_record: ("record", "records", "per record"),
    ComputeUnit.per_query: ("query", "queries", "per query"),
    ComputeUnit.per_model: ("model", "models", "per model"),
}
# message ids of the same words (one, many, per), for `QuoteLine.params`
_UNIT_KEYS = {
    u: tuple(f"quote.unit.{u.value}.{w}" for w in ("one", "many", "per"))
    for u in (*BillingUnit, *ComputeUnit)
}


def effective_cap(policy: Policy, target: Target) -> Decimal | None:
    """The cap per billing unit for `target`: the lowest of its own and the policy's caps (None = no cap)."""
    return _cap(tables(policy), target)


def _cap(t: Tables, target: Target) -> Decimal | None:
    if not t.caps_apply or target.billing_unit is None:
        return None
    policy_cap = t.caps[(target.product_kind, target.billing_unit)]
    own = target.price_cap
    if own is None:
        return policy_cap
    if policy_cap is None:
        return own
    return own if own < policy_cap else policy_cap


def _pct(rate: Decimal) -> str:
    return f"{(rate * 100).normalize():f}%"


def _money(x: Decimal) -> str:
    return f"{x.quantize(CENT, ROUND_HALF_UP):,}"


@dataclass(slots=True)
class _Text:
    """Per-policy prebuilt quotes, lines and reason fragments: the hot path only fills in numbers."""

    free_channel: dict[Channel, Quote]
    free_purpose: dict[Purpose, Quote]
    paid_line: dict[Purpose, QuoteLine]
    discount_purpose: dict[Purpose, QuoteLine]
    discount: dict[
        tuple[OrganizationKind, EnterpriseSize | None], tuple[Decimal, str, QuoteLine, dict[str, Any]]
    ]
    cap_none: QuoteLine
    tax_included: str
    tax_added: str
    pct: str


def _text(t: Tables) -> _Text:
    txt = t.pricing_text
    if txt is None:
        txt = t.pricing_text = _build_text(t)
    return txt  # type: ignore[return-value]


def _free(t: Tables, reason: str, key: str, params: dict[str, Any]) -> Quote:
    line = QuoteLine("purpose", _ZERO, reason, key, params)
    return Quote(t.currency, (line,), _ZERO_CENTS, True, _ZERO_CENTS, t.name, _ZERO)





def _build_text(t: Tables) -> _Text:
    name = t.name
    discount = {}
    for kind in OrganizationKind:
        for size in (None, *EnterpriseSize):
            rate, who = t.discount_kind[kind], kind.value
            if kind is OrganizationKind.enterprise and size is not None:
                if t.discount_size[size] > rate:
                    rate = t.discount_size[size]
                who = f"{size.value} enterprise"
            who_key = "quote.who." + (f"{size.value}_enterprise" if who != kind.value else kind.value)
            who = f"{'an' if who[0] in 'aeiou' else 'a'} {who}"
            none = QuoteLine(
                "discount", _ZERO, f"Discount: none for {who} under {name}",
                "quote.discount_none", {"who": who_key, "policy": name},
            )
            params = {"rate": _pct(rate), "who": who_key, "policy": name}
            discount[(kind, size)] = (rate, f"Discount: {_pct(rate)} for {who} under {name} = ", none, params)
    pct = _pct(t.tax_rate)
    return _Text(
        free_channel={
            ch: _free(
                t, f"Free: {ch.value} is free of charge under {name}",
                "quote.free_channel", {"channel": ch.value, "policy": name},
            )
            for ch in Channel
        },
        free_purpose={
            p: _free(
                t, f"Free: purpose {p.value} is in the free list of {name}",
                "quote.free_purpose", {"purpose": p.value, "policy": name},
            )
            for p in Purpose
        },
        paid_line={
            p: QuoteLine(
                "purpose", _ZERO, f"Paid: purpose {p.value} is in the paid list of {name}",
                "quote.paid_purpose", {"purpose": p.value, "policy": name},
            )
            for p in Purpose
        },
        discount_purpose={
            p: QuoteLine(
                "discount", _ZERO, f"Discount: none for purpose {p.value} under {name}",
                "quote.discount_purpose", {"purpose": p.value, "policy": name},
            )
            for p in Purpose
        },
        discount=discount,
        cap_none=QuoteLine(
            "cap", _ZERO, f"Cap: none under {name}; the operator sets the price",
            "quote.cap_none", {"policy": name},
        ),
        tax_included=f"Tax: VAT {pct} is included in the price (",
        tax_added=f"Tax: VAT {pct} added to ",
        pct=pct,
    )


def quote(policy: Policy, product: Target, request: RequestFacts, requester: Requester) -> Quote:
    """The price of `request` for `product` under `policy`, one readable line per component."""
    t = tables(policy)
    txt = t.pricing_text or _text(t)
    vol = request.volume
    if type(vol) is not int or vol < 1:
        raise InvalidInput("volume", vol, "a whole number >= 1")
    purpose = request.purpose
    ch = product.channel
    if ch is not Channel.authorized_operation:
        return txt.free_channel[ch]
    if purpose in t.free:
        return txt.free_purpose[purpose]
    if purpose not in t.paid or purpose not in t.allowed_purposes[ch]:
        raise refusal_error(
            Refusal(
                "purpose.not_allowed",
                f"Purpose {purpose.value} is neither free nor paid under {t.name}",
                "refusal.purpose_unpriced",
                {"purpose": purpose.value, "policy": t.name},
            )
        )
    unit = product.billing_unit
    if unit is None:
        raise InvalidInput("billing_unit", None, "one of " + ", ".join(u.value for u in BillingUnit))
    cur = t.currency
    cap = _cap(t, product)
    if product.actual_price is not None:
        price, source = product.actual_price, True
    elif cap is not None:
        price, source = cap, False
    else:
        per = _UNIT_WORDS[unit][2]
        raise InvalidInput("actual_price", None, f"an operator's price {per} (no cap applies under {t.name})")
    if price < 0:
        raise InvalidInput("actual_price", price, "a price >= 0")

    base = price * vol
    lines = [
        txt.paid_line[purpose],
        QuoteLine(
            "base", base, key="quote.base", render=(_base_words, (vol, unit, price, cur, source, base))
        ),
    ]

    # progressive tiers: units from `start` on cost price * multiplier (marginal, like income-tax brackets)
    tier_amt = _ZERO
    tiers = t.tiers
    spans: list[tuple[int, int, Decimal]] = []  # (first unit, units, multiplier) of each tier that applies
    if tiers and vol >= tiers[0][0]:
        last = len(tiers) - 1
        for i, (start, mult) in enumerate(tiers):
            if vol < start:
                break
            if mult != _ONE:
                end = tiers[i + 1][0] - 1 if i < last else vol
                n = (vol if vol < end else end) - start + 1
                tier_amt += price * n * (mult - _ONE)
                spans.append((start, n, mult))
    lines.append(
        QuoteLine(
            "tiers", tier_amt, key=_tiers_key(tiers, vol),
            render=(_tiers_words, (t.name, tiers, vol, unit, tier_amt, spans)),
        )
    )
    subtotal = base + tier_amt

    # discount by requester kind / size (the larger rate applies)
    rate, head, none_line, d_params = txt.discount[(requester.kind, requester.size)]
    if not rate:
        lines.append(none_line)
    elif t.discount_purposes is not None and purpose not in t.discount_purposes:
        lines.append(txt.discount_purpose[purpose])
    else:
        disc = -(subtotal * rate)
        lines.append(
            QuoteLine(
                "discount", disc, key="quote.discount", render=(_discount_words, (head, d_params, disc))
            )
        )
        subtotal += disc

    # cap
    if cap is None:
        lines.append(txt.cap_none)
    else:
        limit = cap * vol
        if subtotal > limit:
            lines.append(
                QuoteLine(
                    "cap", limit - subtotal, key="quote.cap_reduced",
                    render=(_cap_words, (cap, cur, unit, vol, limit, None)),
                )
            )
            subtotal = limit
        else:
            lines.append(
                QuoteLine(
                    "cap", _ZERO, key="quote.cap_within",
                    render=(_cap_words, (cap, cur, unit, vol, limit, subtotal)),
                )
            )

    # tax
    trate = t.tax_rate
    if t.tax_included:
        total = subtotal.quantize(CENT, t.rounding)
        taxes = (total * trate / (_ONE + trate)).quantize(CENT, ROUND_HALF_UP)
        lines.append(
            QuoteLine("tax", _ZERO, key="quote.tax_included", render=(_tax_included_words, (txt, taxes, cur)))
        )
        unrounded = subtotal
    else:
        tax_amt = subtotal * trate
        unrounded = subtotal + tax_amt
        total = unrounded.quantize(CENT, t.rounding)
        taxes = total - subtotal.quantize(CENT, t.rounding)
        lines.append(
            QuoteLine(
                "tax", tax_amt, key="quote.tax_added", render=(_tax_added_words, (txt, subtotal, tax_amt))
            )
        )
    return Quote(cur, tuple(lines), total, False, taxes, t.name, unrounded)


# The words of each line, made when a line is first read (QuoteLine.render): (English reason, params).
_SOURCES = {
    True: ("the operator's actual price", "quote.source.actual"),
    False: ("the cap, as no actual price is set", "quote.source.cap"),
}


def _base_words(
    vol: int, unit: BillingUnit, price: Decimal, cur: str, actual: bool, base: Decimal
) -> tuple[str, dict[str, Any]]:
    one, many, per = _UNIT_WORDS[unit]
    k_one, k_many, k_per = _UNIT_KEYS[unit]
    units, k_units = (one, k_one) if vol == 1 else (many, k_many)
    source, k_source = _SOURCES[actual]
    volume, m_base, s_price = f"{vol:,}", _money(base), str(price)
    reason = f"Base: {volume} {units} x {s_price} {cur} {per} ({source}) = {m_base}"
    return reason, {
        "volume": volume, "units": k_units, "price": s_price, "currency": cur, "per": k_per,
        "source": k_source, "amount": m_base,
    }


def _tiers_key(tiers: tuple[tuple[int, Decimal], ...], vol: int) -> str:
    if not tiers:
        return "quote.tiers_none"
    return "quote.tiers_below" if vol < tiers[0][0] else "quote.tiers"


def _tiers_words(
    name: str,
    tiers: tuple[tuple[int, Decimal], ...],
    vol: int,
    unit: BillingUnit,
    tier_amt: Decimal,
    spans: list[tuple[int, int, Decimal]],
) -> tuple[str, dict[str, Any]]:
    one, many, _ = _UNIT_WORDS[unit]
    k_one, k_many, _ = _UNIT_KEYS[unit]
    if not tiers:
        return f"Tiers: {name} has no volume tiers", {"policy": name}
    volume = f"{vol:,}"
    if vol < tiers[0][0]:
        units, k_units = (one, k_one) if vol == 1 else (many, k_many)
        return (
            f"Tiers: {volume} {units} is below the first volume tier of {name}",
            {"volume": volume, "units": k_units, "policy": name},
        )
    parts = []
    sub: list[tuple[str, dict[str, Any]]] = []
    for start, n, mult in spans:
        count, first = f"{n:,}", f"{start:,}"
        parts.append(f"{count} {many} from no. {first} at x{mult}")
        part = {"count": count, "units": k_many, "start": first, "mult": str(mult)}
        sub.append(("quote.tier_part", part))
    m_tier = _money(tier_amt)
    return f"Tiers: {'; '.join(parts)} = {m_tier}", {"parts": tuple(sub), "amount": m_tier}


def _discount_words(head: str, d_params: dict[str, Any], disc: Decimal) -> tuple[str, dict[str, Any]]:
    m_disc = _money(disc)
    return head + m_disc, {**d_params, "amount": m_disc}


def _cap_words(
    cap: Decimal, cur: str, unit: BillingUnit, vol: int, limit: Decimal, within: Decimal | None
) -> tuple[str, dict[str, Any]]:
    per, k_per = _UNIT_WORDS[unit][2], _UNIT_KEYS[unit][2]
    volume, m_limit, s_cap = f"{vol:,}", _money(limit), str(cap)
    params = {"cap": s_cap, "currency": cur, "per": k_per, "volume": volume, "limit": m_limit}
    if within is None:
        return f"Cap: {s_cap} {cur} {per} x {volume} = {m_limit}; the price is reduced to the cap", params
    m_sub = _money(within)
    params["subtotal"] = m_sub
    return f"Cap: {m_sub} is within the cap of {s_cap} {cur} {per} x {volume} = {m_limit}", params


def _tax_included_words(txt: _Text, taxes: Decimal, cur: str) -> tuple[str, dict[str, Any]]:
    m_tax = _money(taxes)
    return f"{txt.tax_included}{m_tax} {cur})", {"rate": txt.pct, "taxes": m_tax, "currency": cur}


def _tax_added_words(txt: _Text, subtotal: Decimal, tax_amt: Decimal) -> tuple[str, dict[str, Any]]:
    m_sub, m_tax = _money(subtotal), _money(tax_amt)
    return f"{txt.tax_added}{m_sub} = {m_tax}", {"rate": txt.pct, "subtotal": m_sub, "amount": m_tax}


def split(policy: Policy, q: Quote) -> Split:
    """Divide a quote's total between operator, data holder and taxes; the parts sum exactly to the total."""
    t = tables(policy)
    taxes = q.taxes
    net = q.total - taxes
    holder = (net * t.holder_share).quantize(CENT, ROUND_HALF_UP)
    return Split(net - holder, holder, taxes)


def check_actual_price(
    policy: Policy,
    cap: Decimal | None,
    price: Decimal,
    *,
    product_code: str = "",
    unit_cost: Decimal | None = None,
) -> Decimal:
    """Refuse an operator's actual price above the cap (naming the cap), or a cap below cost where forbidden.

    Returns the price when it may be set. Under a policy without caps (market pricing) any price >= 0 is fine.
    """
    t = tables(policy)
    what = f"product {product_code}" if product_code else "the product"
    if not isinstance(price, Decimal):
        raise InvalidInput("actual_price", price, "a Decimal amount")
    if price < 0:
        raise InvalidInput("actual_price", price, "a price >= 0")
    if not t.caps_apply or cap is None:
        return price
    subject = {"product": product_code} if product_code else {}
    what_key = "refusal.what.product" if product_code else "refusal.what.the_product"
    if t.forbid_cap_below_cost and unit_cost is not None and cap < unit_cost:
        raise refusal_error(
            Refusal(
                "pricing.cap_below_cost",
                f"The cap {cap} {t.currency} of {what} is below its unit cost {unit_cost} {t.currency}, "
                f"which {t.name} forbids",
                "refusal.cap_below_cost",
                {"cap": str(cap), "currency": t.currency, "what": (what_key, subject), "cost": str(unit_cost),
                 "policy": t.name},
            )
        )
    if price > cap:
        raise refusal_error(
            Refusal(
                "pricing.above_cap",
                f"The actual price {price} {t.currency} of {what} is above its cap {cap} {t.currency} "
                f"under {t.name}",
                "refusal.above_cap",
                {"price": str(price), "currency": t.currency, "what": (what_key, subject), "cap": str(cap),
                 "policy": t.name},
            )
        )
    return price
