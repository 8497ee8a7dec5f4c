"""Metrics of one run (docs/architecture.md#simulation), from the model's arrays.

Money is summed exactly: every paid delivery carries the (memoised) policy `Quote` and `Split` of its distinct
input, so the totals are Decimal sums of count x amount and the budget balance
payments = operator revenue + holder share + taxes holds to the cent by construction of `split`, and is
checked here. Everything else is a float rounded to 6 decimals so the metrics JSON is byte-identical for the
same scenario and seed on any backend.
"""

from __future__ import annotations

from collections import defaultdict
from decimal import Decimal
from typing import Any

import numpy as np

from marketplace.policy import carried_deduction, mar_position
from marketplace.sim.model import (
    CHANNELS,
    DELIVERED,
    IN_REVIEW,
    NOT_FILED,
    REJECTED,
    STAGES,
    UNSERVED,
    MarketModel,
)
from marketplace.sim.scenario import REQUESTER_CLASSES
from marketplace.vocabulary import Channel

__all__ = ["compute_metrics", "gini"]

_ZERO = Decimal("0.00")


def gini(x: np.ndarray) -> float:
    """Gini coefficient of non-negative amounts (0 = equal access, -> 1 = one party gets everything)."""
    x = np.sort(np.asarray(x, dtype=float))
    n = x.size
    if n == 0 or x.sum() == 0:
        return 0.0
    cum = np.cumsum(x)
    return float((n + 1 - 2 * (cum / cum[-1]).sum()) / n)


def _r(x: float) -> float:
    return round(float(x), 6)


def compute_metrics(m: MarketModel) -> tuple[dict[str, Any], dict[str, Decimal]]:
    """(metrics, money): flat metric name -> number, and the exact money totals."""
    st = m.statics
    status = m.status
    filed = m.filed_day >= 0
    delivered = status == DELIVERED
    rejected = status == REJECTED
    pending = filed & (status == IN_REVIEW)
    decided = filed & (m.decided_day >= 0)
    chan = np.where(m.target >= 0, st.world.target_channel[np.maximum(m.target, 0)], -1)
    out: dict[str, Any] = {
        "arrivals": int(m.n),
        "filed": int(filed.sum()),
        "not_filed": int((status == NOT_FILED).sum()),
        "unserved": int((status == UNSERVED).sum()),
        "approved": int(delivered.sum()),
        "rejected": int(rejected.sum()),
        "delivered": int(delivered.sum()),
        "pending": int(pending.sum()),
    }
    for ci, ch in enumerate(CHANNELS):
        mc = chan == ci
        out[f"filed.{ch.value}"] = int((filed & mc).sum())
        out[f"approved.{ch.value}"] = int((delivered & mc).sum())
        out[f"rejected.{ch.value}"] = int((rejected & mc).sum())
        out[f"delivered.{ch.value}"] = int((delivered & mc).sum())
    # sharing requests citing the holder's responsibility list, counted apart (their holder has no discretion)
    listed = m.list_based
    sharing_filed = int((filed & (chan == CHANNELS.index(Channel.sharing))).sum())
    out["filed.sharing_list"] = int((filed & listed).sum())
    out["approved.sharing_list"] = int((delivered & listed).sum())
    out["rejected.sharing_list"] = int((rejected & listed).sum())
    out["delivered.sharing_list"] = int((delivered & listed).sum())
    out["sharing_list_share"] = _r(out["filed.sharing_list"] / sharing_filed) if sharing_filed else 0.0
    for ki, cls in enumerate(REQUESTER_CLASSES):
        mk = m.arr_cls == ki
        out[f"filed.{cls}"] = int((filed & mk).sum())
        out[f"approved.{cls}"] = int((delivered & mk).sum())
        out[f"rejected.{cls}"] = int((rejected & mk).sum())
        out[f"delivered.{cls}"] = int((delivered & mk).sum())

    # waiting: filing -> final decision, calendar days
    wait = (m.decided_day - m.filed_day)[decided]
    out["waiting_days_mean"] = _r(wait.mean()) if wait.size else 0.0
    out["waiting_days_median"] = _r(np.median(wait)) if wait.size else 0.0
    out["waiting_days_p90"] = _r(np.percentile(wait, 90)) if wait.size else 0.0
    reviewed = decided & (st.shape_len[m.req_shape] > 0)
    rw = (m.decided_day - m.filed_day)[reviewed]
    out["waiting_days_reviewed_median"] = _r(np.median(rw)) if rw.size else 0.0
    out["waiting_days_reviewed_p90"] = _r(np.percentile(rw, 90)) if rw.size else 0.0
    if m.reviews:
        rv_status = np.concatenate([r[7] for r in m.reviews])
        rv_late = np.concatenate([r[8] for r in m.reviews])
        rv_stage = np.concatenate([r[2] for r in m.reviews])
    else:
        rv_status = rv_late = rv_stage = np.zeros(0, dtype=np.int64)
    out["reviews"] = int(rv_status.size)
    out["deadline_breaches"] = int(rv_late.sum())
    out["deadline_breach_share"] = _r(rv_late.mean()) if rv_late.size else 0.0
    out["deemed_decisions"] = int((rv_status == 1).sum())
    out["escalations"] = int((rv_status == 2).sum())
    for si, s in enumerate(STAGES):
        out[f"deadline_breaches.{s.value}"] = int(rv_late[rv_stage == si].sum())
    # days in a stage's queue before a reviewer took the request up (summed online by the teams; deemed
    # decisions were never taken up); an M/M/c stage measures it in continuous time (checked against Erlang C)
    for t in m.teams_list:
        out[f"review_wait_days_mean.{t.name}"] = _r(t.wait_sum / t.waited) if t.waited else 0.0
    # still waiting at the horizon past their due date
    open_pos = m.stage_pos[pending]
    overdue = m.due[np.flatnonzero(pending), open_pos] < m.n_days - 1 if pending.any() else np.zeros(0, bool)
    out["pending_overdue"] = int(overdue.sum())

    # money, exactly
    paid = delivered & ~m.free & (m.quote_id >= 0)
    counts = np.bincount(m.quote_id[paid], minlength=len(m.quote_keys)) if m.quote_keys else np.zeros(0, int)
    payments = operator = holder = taxes = _ZERO
    by_operator: dict[int, list[Decimal]] = defaultdict(lambda: [_ZERO, _ZERO])  # revenue, taxes
    for q_i, n in enumerate(counts.tolist()):
        if not n:
            continue
        key = m.quote_keys[q_i]
        q, sp = st.quote_memo[key]
        payments += q.total * n
        operator += sp.operator * n
        holder += sp.holder * n
        taxes += sp.taxes * n
        op = st.world.targets[key[0]].operator_id or 0
        by_operator[op][0] += q.total * n
        by_operator[op][1] += sp.taxes * n
    # free grants found misused, charged retroactively at the paid price (counted against MAR like any fee)
    charges = m.misuse_charges()
    charged = np.zeros(len(m.price))
    for i, (q, sp) in charges.items():
        charged[i] = float(q.total)
        payments += q.total
        operator += sp.operator
        holder += sp.holder
        taxes += sp.taxes
        op = st.world.targets[int(m.target[i])].operator_id or 0
        by_operator[op][0] += q.total
        by_operator[op][1] += sp.taxes
    if payments != operator + holder + taxes:  # pragma: no cover - guaranteed by policy.split
        raise AssertionError(f"budget does not balance: {payments} != {operator} + {holder} + {taxes}")
    money = {"payments": payments, "operator_revenue": operator, "holder_share": holder, "taxes": taxes}
    out["payments"] = _r(payments)
    out["operator_revenue"] = _r(operator)
    out["holder_share"] = _r(holder)
    out["taxes"] = _r(taxes)
    out["budget_balance_error"] = _r(payments - operator - holder - taxes)
    out["paid_deliveries"] = int(paid.sum())
    for ki, cls in enumerate(REQUESTER_CLASSES):
        mk = paid & (m.arr_cls == ki)
        out[f"price_paid_mean.{cls}"] = _r(m.price[mk].mean()) if mk.any() else 0.0

    # welfare
    end = np.where(m.decided_day >= 0, m.decided_day, m.n_days)
    waited = np.where(filed, end - m.filed_day, 0)
    wait_cost = (st.waiting_cost[m.arr_cls] * waited).sum()
    value = m.value[delivered].sum()
    prices = m.price[delivered].sum() + charged.sum()
    product = delivered & (m.target >= 0) & (chan == CHANNELS.index(CHANNELS[2]))
    var_cost = (st.unit_cost[np.maximum(m.target, 0)] * m.volume)[product].sum()
    fixed = {op: c * Decimal(m.n_days) / Decimal(365) for op, c in st.world.operator_costs.items()}
    fixed_total = float(sum(fixed.values(), Decimal(0)))
    cs = value - prices - wait_cost
    out["consumer_surplus"] = _r(cs)
    out["waiting_cost"] = _r(wait_cost)
    out["operator_cost"] = _r(var_cost + fixed_total)
    out["welfare"] = _r(cs + float(operator) - var_cost - fixed_total + float(holder) + float(taxes))
    nd = int(delivered.sum())
    out["free_use_share"] = _r((delivered & m.free).sum() / nd) if nd else 0.0
    # conditional free use: claims refused (quoted as paid), false claims granted, misuse found, leakage
    false_free = delivered & m.free & m.declared_false
    found = false_free & m.misuse_found
    out["free_claims_refused"] = int((delivered & m.claim_refused).sum())
    out["false_free_claims"] = int(false_free.sum())
    out["misuse_detected"] = int(found.sum())
    out["leaked_revenue"] = _r(m.leak_price[false_free & ~found].sum())
    out["recovered_revenue"] = _r(charged.sum())

    # access concentration over requester organizations
    req_orgs = np.flatnonzero(st.world.org_class >= 0)
    per_org = np.bincount(m.org[delivered & (m.org >= 0)], minlength=len(st.world.orgs))
    out["access_gini"] = _r(gini(per_org[req_orgs])) if req_orgs.size else 0.0
    out["orgs_served"] = int((per_org[req_orgs] > 0).sum()) if req_orgs.size else 0

    # privacy of releases (thresholds from the policy's conditions)
    ks = m.release_k[delivered]
    ks = ks[ks > 0]
    out["releases_protected"] = int(ks.size)
    out["release_k_min"] = int(ks.min()) if ks.size else 0
    out["prosecutor_risk_max"] = _r(1.0 / ks.min()) if ks.size else 0.0
    out["prosecutor_risk_mean"] = _r((1.0 / ks).mean()) if ks.size else 0.0

    # computation products: queries answered, grants whose ε budget ran out, value the requesters gave up
    comp = delivered & m.compute
    out["compute_grants"] = int(comp.sum())
    out["compute_queries"] = int(m.queries[comp].sum())
    out["compute_budget_exhausted"] = int((comp & m.budget_exhausted).sum())
    out["compute_value_lost"] = _r((m.value_rows - m.value)[comp].sum())
    for cls in ("enterprise_micro", "enterprise_small"):
        mk = comp & (m.arr_cls == REQUESTER_CLASSES.index(cls))
        out[f"compute_grants.{cls}"] = int(mk.sum())
        out[f"compute_value_lost.{cls}"] = _r((m.value_rows - m.value)[mk].sum())
    # risk proxy: the largest chance an attacker has of singling out one person in a delivery of personal
    # information: 1/k for de-identified rows (prosecutor risk; 1 where rows carry no k), 1/min_cell for
    # computation results (every released cell holds at least min_cell people; differencing is refused)
    has_personal = st.personal[np.maximum(m.target, 0)] if st.personal.size else np.zeros(m.n, dtype=bool)
    personal = delivered & has_personal & (m.target >= 0)
    row_risk = np.where(m.release_k > 0, 1.0 / np.maximum(m.release_k, 1), 1.0)
    risk = np.where(m.compute, 1.0 / st.policy.privacy.min_cell_size, row_risk)[personal]
    out["risk_proxy_sum"] = _r(risk.sum())
    out["risk_proxy_mean"] = _r(risk.mean()) if risk.size else 0.0

    # MAR compliance, per operator and period: MAR set in advance from the cost filing (policy.mar_position),
    # revenue = fees charged in the period, over-MAR revenue deducted from the next period's MAR
    policy = st.policy
    period_days = max(1, round(policy.mar.period_months * 365 / 12))
    op_ids = sorted(set(st.world.operator_costs) | set(by_operator))
    compliant = 0
    excess = Decimal(0)
    prod_idx = np.flatnonzero(paid & (m.target >= 0))
    op_of_target = (
        np.array([row.operator_id or 0 for row in st.world.targets], dtype=np.int64)
        if st.world.targets
        else np.zeros(0, dtype=np.int64)
    )
    # a misuse charge falls in the period of the grant it revokes (the simulator finds misuse at delivery)
    charged_by_op: dict[int, list[tuple[int, Any]]] = defaultdict(list)
    for i, (q, _) in charges.items():
        charged_by_op[int(op_of_target[m.target[i]])].append((int(m.decided_day[i]), q))
    mar_total = revenue_total = Decimal(0)
    for op in op_ids:
        yearly_cost = st.world.operator_costs.get(op, Decimal(0))
        yearly_tax = st.world.operator_taxes.get(op, Decimal(0))
        carried = Decimal(0)
        ok = True
        for p0 in range(0, m.n_days, period_days):
            p1 = min(p0 + period_days, m.n_days)
            share = Decimal(p1 - p0) / Decimal(period_days)
            sel = prod_idx[
                (op_of_target[m.target[prod_idx]] == op)
                & (m.decided_day[prod_idx] >= p0)
                & (m.decided_day[prod_idx] < p1)
            ]
            pay = Decimal(0)
            if sel.size:
                for q_i, n in zip(*np.unique(m.quote_id[sel], return_counts=True), strict=True):
                    q, _ = st.quote_memo[m.quote_keys[int(q_i)]]
                    pay += q.total * int(n)
            pay += sum((q.total for d, q in charged_by_op.get(op, ()) if p0 <= d < p1), Decimal(0))
            pos = mar_position(
                policy,
                period=f"{op}:{p0}",
                operating_cost=(yearly_cost * share).quantize(Decimal("0.01")),
                taxes=(yearly_tax * share).quantize(Decimal("0.01")),
                deduction=carried,
                revenue=pay,
            )
            mar_total += pos.mar
            revenue_total += pos.revenue
            carried = carried_deduction(policy, pos)
            ok = ok and pos.compliant
            excess += pos.excess
        compliant += ok
    out["mar_total"] = _r(mar_total)
    out["mar_revenue"] = _r(revenue_total)
    out["mar_operators"] = len(op_ids)
    out["mar_compliant_share"] = _r(compliant / len(op_ids)) if op_ids else 1.0
    out["mar_excess"] = _r(excess)
    return out, money
