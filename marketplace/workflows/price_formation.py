"""Price formation of authorized operation: costs filed → MAR set → caps filed within MAR → period closed.

The chain of the pricing notice (发改价格〔2025〕65号): the operator files its costs for a period; the price
authority (the regulator role) sets its maximum allowed revenue (MAR) from the filing and the policy's profit
rule, less the over-MAR revenue carried from the previous period; the authorizing body (the implementing
agency of the product's authorization) files each product's cap so that the forecast revenue of all the
operator's caps stays within MAR, in writing with a date and a basis; the operator prices at or below the cap
(`products.price_product`); the regulator closes the period, and revenue above MAR is carried into the next
period's MAR. A period is a calendar year (the disclosure year).

The figures come from one rule, `policy.mar_position`; `mar_positions` reads them for the disclosure report
and the panels, so every module reports the same MAR, revenue and compliance.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from sqlmodel import Session, select

from marketplace import policy as pol
from marketplace.errors import InvalidInput, NotFound, TransitionError
from marketplace.models import (
    AccessRequest,
    Account,
    CapFiling,
    CostFiling,
    Organization,
    Payment,
    Product,
    RevenuePeriod,
)
from marketplace.policy import MarPosition, Policy
from marketplace.vocabulary import ProductStatus, Role
from marketplace.workflows.authorization import agency_staff
from marketplace.workflows.products import money, withdraw_listing
from marketplace.workflows.step import Step, step, temp_code

__all__ = [
    "OperatorPosition",
    "cap_filing_of",
    "close_period",
    "determine_mar",
    "file_cap",
    "file_costs",
    "mar_positions",
    "period_revenue",
]

MAX_BASIS = 2000


def _year(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 2000 <= value <= 2100:
        raise InvalidInput("year", value, "a year between 2000 and 2100")
    return value


def _basis(value: str) -> str:
    if not isinstance(value, str) or len(value) > MAX_BASIS:
        raise InvalidInput(
            "basis", f"{str(value)[:40]}…", f"a text of at most {MAX_BASIS} characters",
            "expected.text_at_most", {"limit": MAX_BASIS},
        )  # fmt: skip
    return value.strip()


def _rate(value: Any) -> Decimal:
    try:
        rate = Decimal(str(value))
    except ArithmeticError:
        raise InvalidInput("profit_rate", value, "a rate between 0 and 1, e.g. 0.05") from None
    if not rate.is_finite() or not 0 <= rate <= 1:
        raise InvalidInput("profit_rate", value, "a rate between 0 and 1, e.g. 0.05")
    return rate


def _bounds(year: int) -> tuple[datetime, datetime]:
    return datetime(year, 1, 1, tzinfo=UTC), datetime(year + 1, 1, 1, tzinfo=UTC)


def period_revenue(session: Session, operator_id: int, year: int) -> Decimal:
    """Fees charged by the operator in `year` (the revenue counted against MAR, see `policy.mar`)."""
    start, end = _bounds(year)
    total = session.exec(
        select(sa.func.sum(Payment.amount)).where(
            Payment.operator_id == operator_id, Payment.paid_at >= start, Payment.paid_at < end
        )
    ).one()
    return Decimal(total or 0).quantize(Decimal("0.01"))


def _period(session: Session, operator_id: int, year: int) -> RevenuePeriod | None:
    return session.exec(
        select(RevenuePeriod).where(RevenuePeriod.operator_id == operator_id, RevenuePeriod.year == year)
    ).first()


def position_of(policy: Policy, period: RevenuePeriod, revenue: Decimal) -> MarPosition:
    """The `policy.mar_position` of a MAR determination with `revenue`."""
    return pol.mar_position(
        policy,
        period=str(period.year),
        operating_cost=Decimal(period.operating_cost),
        taxes=Decimal(period.taxes),
        deduction=Decimal(period.deduction),
        revenue=revenue,
        profit_rate=Decimal(period.profit_rate),
    )


# ---------------------------------------------------------------- steps


def file_costs(
    session: Session,
    actor: Account,
    *,
    year: int,
    costs: Mapping[str, Any],
    subsidy: Any = 0,
    taxes: Any = 0,
    basis: str = "",
) -> CostFiling:
    """The operator files its operating costs by category for `year` (the basis of its MAR)."""
    year = _year(year)
    if not isinstance(costs, Mapping) or not costs:
        raise InvalidInput("costs", costs, "at least one cost category with an amount")
    amounts = {str(k): money(f"costs.{k}", v) for k, v in costs.items()}
    sub, tax, basis = money("subsidy", subsidy), money("taxes", taxes), _basis(basis)
    with step(session, actor, "costs.file", ("operator", actor.organization_id)) as st:
        st.require_role(
            Role.operator,
            doing=f"file the costs of {year}",
            doing_key="permission.doing.file_costs",
            doing_params={"year": str(year)},
        )
        operating = pol.filed_operating_cost(st.policy, amounts, sub)
        done = session.exec(
            select(CostFiling.code).where(
                CostFiling.operator_id == actor.organization_id, CostFiling.year == year
            )
        ).first()
        if done is not None:
            raise TransitionError(f"costs of {year}", f"filed as {done}", "file again")
        filing = CostFiling(
            code=temp_code(),
            operator_id=actor.organization_id,
            year=year,
            costs={k: str(v) for k, v in amounts.items()},
            subsidy=sub,
            operating_cost=operating,
            taxes=tax,
            basis=basis,
            filed_by=actor.id,
            filed_at=st.now,
        )
        st.add(filing, code=("costfiling", year))
        st.record(
            {"year": year, "costs": filing.costs, "subsidy": sub, "operating_cost": operating, "taxes": tax},
            subject=filing,
        )
    return filing


def determine_mar(
    session: Session, actor: Account, filing: CostFiling, *, profit_rate: Any = None
) -> RevenuePeriod:
    """The price authority sets the operator's MAR for the filing's year, less what last period carried."""
    rate = None if profit_rate is None else _rate(profit_rate)
    with step(session, actor, "mar.determine", filing) as st:
        st.require_role(
            Role.regulator,
            doing=f"set the maximum allowed revenue of {filing.code}",
            doing_key="permission.doing.set_mar",
            doing_params={"filing": filing.code},
        )
        existing = _period(session, filing.operator_id, filing.year)
        if existing is not None and existing.determined_at is not None:
            raise TransitionError(f"the MAR of {filing.code}", "set", "set again")
        previous = _period(session, filing.operator_id, filing.year - 1)
        if previous is not None and previous.determined_at is not None and previous.closed_at is None:
            raise TransitionError(
                f"the {filing.year - 1} period", "open",
                "set the next MAR (close it first: its over-MAR revenue is deducted from this MAR)",
            )
        carried = Decimal(previous.excess) if previous is not None else Decimal("0")
        if st.policy.mar.over_mar != "deduct_next_period":
            carried = Decimal("0")
        pos = pol.mar_position(
            st.policy,
            period=str(filing.year),
            operating_cost=Decimal(filing.operating_cost),
            taxes=Decimal(filing.taxes),
            deduction=carried,
            profit_rate=rate,
        )
        period = existing or RevenuePeriod(operator_id=filing.operator_id, year=filing.year)
        period.operating_cost = pos.operating_cost
        period.profit_rate = pos.profit_rate
        period.taxes = pos.taxes
        period.base_mar = pos.base_mar
        period.deduction = pos.deduction
        period.mar = pos.mar
        period.revenue = period_revenue(session, filing.operator_id, filing.year)
        period.cost_filing_id = filing.id
        period.determined_by = actor.id
        period.determined_at = st.now
        if existing is None:
            st.add(period)
        else:
            st.save(f"the MAR of {filing.year}")
        st.record(
            {
                "year": filing.year,
                "operating_cost": pos.operating_cost,
                "profit_rate": pos.profit_rate,
                "taxes": pos.taxes,
                "base_mar": pos.base_mar,
                "deduction": pos.deduction,
                "mar": pos.mar,
            }
        )
    return period


def _cap_room(
    session: Session, operator_id: int, year: int, product_id: int | None
) -> tuple[Decimal | None, Decimal, list[CapFiling]]:
    period = _period(session, operator_id, year)
    mar = Decimal(period.mar) if period is not None and period.determined_at is not None else None
    in_force = list(
        session.exec(
            select(CapFiling).where(
                CapFiling.operator_id == operator_id, CapFiling.year == year, CapFiling.status == "in_force"
            )
        ).all()
    )
    others = (Decimal(f.forecast_revenue) for f in in_force if f.product_id != product_id)
    committed = sum(others, Decimal("0"))
    return mar, committed, in_force


def cap_room(
    session: Session, operator_id: int, year: int, product_id: int | None = None
) -> tuple[Decimal | None, Decimal]:
    """An operator's MAR for `year` (None until the regulator sets it) and the forecast revenue its caps in
    force already commit, other than `product_id`'s: what `file_cap` checks a new cap against."""
    mar, committed, _ = _cap_room(session, operator_id, year, product_id)
    return mar, committed


def cap_filing_of(session: Session, product: Product, year: int | None = None) -> CapFiling | None:
    """The cap filing in force for a product (in `year`, default: its latest)."""
    query = select(CapFiling).where(CapFiling.product_id == product.id, CapFiling.status == "in_force")
    if year is not None:
        query = query.where(CapFiling.year == year)
    return session.exec(query.order_by(CapFiling.id.desc())).first()


def file_cap(
    session: Session,
    actor: Account,
    product: Product,
    *,
    cap: Any,
    forecast_volume: Any,
    basis: str = "",
) -> CapFiling:
    """The authorizing body files a product's cap for the current period, within the operator's MAR.

    The forecast revenue (cap x forecast volume) of all the operator's caps in force must stay within MAR;
    without a MAR set for the period the cap is provisional (a trial cap) if the policy allows it. A listed
    product priced above the new cap is taken off the shelf.
    """
    amount = money("cap", cap)
    if isinstance(forecast_volume, bool) or not isinstance(forecast_volume, int) or forecast_volume < 1:
        raise InvalidInput("forecast_volume", forecast_volume, "a whole number of units >= 1")
    basis = _basis(basis)
    with step(session, actor, "cap.file", product) as st:
        auth = product.authorization
        st.require(
            auth is not None and agency_staff(st.actor) and st.actor.organization_id == auth.agency_id,
            "only the authorizing body (the implementing agency's steward or registrar) files a cap",
            doing=f"file the cap of {product.code}",
            doing_key="permission.doing.file_cap",
            doing_params={"product": product.code},
        )
        year = st.today.year
        mar, committed, in_force = _cap_room(session, product.operator_id, year, product.id)
        provisional = pol.check_cap_filing(
            st.policy,
            cap=amount,
            forecast_volume=forecast_volume,
            mar=mar,
            committed=committed,
            product_code=product.code,
        )
        for old in in_force:
            if old.product_id == product.id:
                old.status = "superseded"
        filing = CapFiling(
            code=temp_code(),
            product_id=product.id,
            operator_id=product.operator_id,
            agency_id=auth.agency_id,
            year=year,
            cap=amount,
            forecast_volume=forecast_volume,
            forecast_revenue=(amount * forecast_volume).quantize(Decimal("0.01")),
            provisional=provisional,
            basis=basis,
            filed_by=actor.id,
            filed_at=st.now,
        )
        st.add(filing, code=("capfiling", year))
        old_cap = product.price_cap
        product.price_cap = amount
        st.save(product.code)
        st.record(
            {
                "filing": filing.code,
                "year": year,
                "old": old_cap,
                "cap": amount,
                "forecast_volume": forecast_volume,
                "forecast_revenue": filing.forecast_revenue,
                "committed": committed,
                "mar": mar,
                "provisional": provisional,
                "basis": basis,
            }
        )
        if (
            product.status is ProductStatus.listed
            and product.actual_price is not None
            and product.actual_price > amount
        ):
            withdraw_listing(st, product, f"actual price {product.actual_price} above the filed cap {amount}")
    return filing


def close_period(session: Session, actor: Account, operator: Organization, year: int) -> RevenuePeriod:
    """The regulator closes an operator's period: revenue against MAR; the excess carries to the next."""
    year = _year(year)
    with step(session, actor, "mar.close", operator) as st:
        st.require_role(
            Role.regulator,
            doing=f"close the {year} period of {operator.name}",
            doing_key="permission.doing.close_period",
            doing_params={"year": str(year), "operator": operator.name},
        )
        period = _period(session, operator.id, year)
        if period is None or period.determined_at is None:
            raise NotFound("MAR determination", f"{operator.name} {year}")
        label = f"the {year} period of {operator.name}"
        if period.closed_at is not None:
            raise TransitionError(label, "closed", "close")
        if st.today.year <= year:
            raise TransitionError(label, "open", f"close (a period closes after its end, {year}-12-31)")
        pos = position_of(st.policy, period, period_revenue(session, operator.id, year))
        period.revenue = pos.revenue
        period.excess = pol.carried_deduction(st.policy, pos)
        period.closed_at = st.now
        st.save(f"the {year} period")
        reset: list[str] = []
        if st.policy.mar.reset_caps_on_close and pos.excess > 0:
            for f in session.exec(
                select(CapFiling).where(
                    CapFiling.operator_id == operator.id,
                    CapFiling.year == year + 1,
                    CapFiling.status == "in_force",
                )
            ).all():
                f.status = "superseded"
                reset.append(f.code)
            st.save("the cap filings")
        st.record(
            {
                "year": year,
                "revenue": pos.revenue,
                "mar": pos.mar,
                "excess": pos.excess,
                "compliant": pos.compliant,
                "carried": period.excess,
                "caps_reset": reset,
            },
            subject=period,
        )
    return period


# ---------------------------------------------------------------- reading


@dataclass(frozen=True, slots=True)
class OperatorPosition:
    """An operator's MAR position in one year, as the disclosure report and the panels show it."""

    operator_id: int
    operator: str
    position: MarPosition
    closed: bool
    cost_filing: str


def mar_positions(
    session: Session, year: int, policy: Policy, operator_id: int | None = None
) -> list[OperatorPosition]:
    """Every MAR set for `year` with the fees charged so far, through `policy.mar_position`."""
    query = select(RevenuePeriod).where(RevenuePeriod.year == year, RevenuePeriod.determined_at.is_not(None))
    if operator_id is not None:
        query = query.where(RevenuePeriod.operator_id == operator_id)
    out = []
    for period in session.exec(query).all():
        org = session.get(Organization, period.operator_id)
        filing = session.get(CostFiling, period.cost_filing_id) if period.cost_filing_id else None
        revenue = period_revenue(session, period.operator_id, year)
        if not revenue and period.revenue:  # a period imported with its revenue but without payment rows
            revenue = Decimal(period.revenue)
        out.append(
            OperatorPosition(
                period.operator_id,
                org.name if org is not None else str(period.operator_id),
                position_of(policy, period, revenue),
                period.closed_at is not None,
                filing.code if filing is not None else "",
            )
        )
    return sorted(out, key=lambda p: p.operator)


def take_payment(st: Step, request: AccessRequest, quote_id: int, priced: pol.Quote) -> Payment:
    """The payment of a priced product request, split exactly by `policy.split`; its fees count against the
    operator's maximum allowed revenue for the year (`policy.mar_position` counts fees charged)."""
    parts = pol.split(st.policy, priced)
    payment = st.add(
        Payment(
            request_id=request.id,
            quote_id=quote_id,
            operator_id=request.product.operator_id,
            amount=priced.total,
            operator_revenue=parts.operator,
            holder_share=parts.holder,
            taxes=parts.taxes,
            paid_at=st.now,
        )
    )
    period = _period(st.session, request.product.operator_id, st.now.year)
    if period is not None:
        period.revenue = Decimal(period.revenue) + Decimal(priced.total)
    return payment

