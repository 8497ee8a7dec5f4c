"""Metrics of one run (docs/architecture.md#simulation), aggregated online as requests finish.

`Tally` is an observer of the model: it folds each batch of finished requests (and each day's review
decisions) into counts, histograms of waiting days, exact money totals per quote and per operator and MAR
period, and float sums, then drops them; so a run's memory is its open requests, not its history. Medians and
percentiles of waiting days come from the histograms exactly as numpy computes them on the full array.

Money is summed exactly: every paid delivery carries the (memoised) policy `Quote` and `Split` of its distinct
input, so the totals are Decimal sums of count x amount and the budget balance
payments = operator revenue + holder share + taxes holds to the cent by construction of `split`, and is
checked here. Everything else is a float rounded to 6 decimals so the metrics JSON is byte-identical for the
same scenario and seed on any backend.
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Callable
from decimal import Decimal
from typing import Any

import numpy as np

from marketplace.errors import InvalidInput
from marketplace.policy import carried_deduction, mar_position
from marketplace.sim.model import (
    CHANNELS,
    DELIVERED,
    FOREIGN_ORG,
    IN_REVIEW,
    NOT_FILED,
    REJECTED,
    STAGES,
    UNSERVED,
    MarketModel,
    Statics,
)
from marketplace.sim.scenario import REQUESTER_CLASSES
from marketplace.vocabulary import Channel

__all__ = ["Tally", "compute_metrics", "gini", "metrics_document", "percentile_of_counts"]

_ZERO = Decimal("0.00")


def metrics_document(head: dict[str, Any], metrics: dict[str, Any], money: dict[str, Decimal]) -> str:
    """A run's metrics as canonical JSON (sorted keys, money as exact strings, `head` naming the run): the
    same bytes for the same scenario and seed on every backend, executor and number of workers."""
    doc = {**head, "metrics": metrics, "money": {k: str(v) for k, v in money.items()}}
    return json.dumps(doc, sort_keys=True, indent=1) + "\n"


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


def percentile_of_counts(counts: np.ndarray, q: float) -> float:
    """`np.percentile(x, q)` (linear method) of the integers x given as `counts[v]` = how many x equal v."""
    n = int(counts.sum())
    vi = (n - 1) * (q / 100)
    prev = int(np.floor(vi))
    gamma = vi - prev
    cum = np.cumsum(counts)
    a = int(np.searchsorted(cum, prev, side="right"))
    b = int(np.searchsorted(cum, min(prev + 1, n - 1), side="right"))
    diff = b - a
    return float(b - diff * (1 - gamma)) if gamma >= 0.5 else float(a + diff * gamma)


def median_of_counts(counts: np.ndarray) -> float:
    """`np.median(x)` of the integers x given as counts per value."""
    n = int(counts.sum())
    cum = np.cumsum(counts)
    hi = int(np.searchsorted(cum, n // 2, side="right"))
    if n % 2:
        return float(hi)
    lo = int(np.searchsorted(cum, n // 2 - 1, side="right"))
    return (lo + hi) / 2.0


def _grow(a: np.ndarray, n: int) -> np.ndarray:
    return a if a.size >= n else np.concatenate([a, np.zeros(n - a.size, dtype=a.dtype)])


class Tally:
    """The metrics of one run, folded in as requests finish (an observer of `MarketModel`)."""

    def __init__(self, st: Statics) -> None:
        C, S, H = len(REQUESTER_CLASSES), len(STAGES), st.days + 1
        self.st = st
        self.n: dict[str, int] = defaultdict(int)
        self.chan = {k: np.zeros(len(CHANNELS), dtype=np.int64) for k in ("filed", "approved", "rejected")}
        self.cls = {k: np.zeros(C, dtype=np.int64) for k in ("filed", "approved", "rejected")}
        self.wait = np.zeros(H, dtype=np.int64)
        self.wait_reviewed = np.zeros(H, dtype=np.int64)
        self.late_by_stage = np.zeros(S, dtype=np.int64)
        self.quote_paid = np.zeros(0, dtype=np.int64)  # paid deliveries per quote id
        self.quote_filed = np.zeros(0, dtype=np.int64)  # filed requests per quote id
        self.price_sum = np.zeros(C)
        self.price_n = np.zeros(C, dtype=np.int64)
        self.f: dict[str, float] = defaultdict(float)  # float sums
        self.money = {k: _ZERO for k in ("payments", "operator", "holder", "taxes")}
        self.charges_total = 0.0
        self.operators: set[int] = set()
        policy = st.policy
        self.period_days = max(1, round(policy.mar.period_months * 365 / 12))
        self.period_pay: dict[tuple[int, int], Decimal] = defaultdict(Decimal)
        self.per_org = np.zeros(len(st.world.orgs), dtype=np.int64)
        self.k_min = 0
        self.op_of_target = (
            np.array([row.operator_id or 0 for row in st.world.targets], dtype=np.int64)
            if st.world.targets
            else np.zeros(0, dtype=np.int64)
        )
        self.fixed_total = 0.0
        self.orgs_added = 0  # organizations whose counts `add` has folded in
        self.org_offsets: list[int] = []  # where each added tally's organizations start in `per_org`
        # deliveries to requesters of other regions, by the reference their origin gave them
        self.foreign: dict[int, int] = defaultdict(int)

    # ------------------------------------------------------------ observer

    def reviews(self, m: MarketModel, batch: tuple[Any, ...]) -> None:
        _, _, stage, _, _, _, _, rstatus, late = batch
        n_late = int(late.sum())
        self.n["reviews"] += int(late.size)
        self.n["deadline_breaches"] += n_late
        self.n["deemed_decisions"] += int((rstatus == 1).sum())
        self.n["escalations"] += int((rstatus == 2).sum())
        self.late_by_stage[stage] += n_late

    def records(self, m: MarketModel, s: np.ndarray, final: bool) -> None:
        st = self.st
        C = len(REQUESTER_CLASSES)
        status = m.status[s]
        filed_day, decided_day = m.filed_day[s], m.decided_day[s]
        filed = filed_day >= 0
        delivered = status == DELIVERED
        rejected = status == REJECTED
        pending = filed & (status == IN_REVIEW)
        decided = filed & (decided_day >= 0)
        target = m.target[s]
        tgt = np.maximum(target, 0)
        chan = np.where(target >= 0, st.world.target_channel[tgt], -1)
        cls = m.arr_cls[s]
        n = self.n
        n["arrivals"] += int(s.size)
        n["filed"] += int(filed.sum())
        n["not_filed"] += int((status == NOT_FILED).sum())
        n["unserved"] += int((status == UNSERVED).sum())
        n["approved"] += int(delivered.sum())
        n["rejected"] += int(rejected.sum())
        n["pending"] += int(pending.sum())
        for name, mask in (("filed", filed), ("approved", delivered), ("rejected", rejected)):
            self.chan[name] += np.bincount(chan[mask & (chan >= 0)], minlength=len(CHANNELS))
            self.cls[name] += np.bincount(cls[mask], minlength=C)
        listed = m.list_based[s]
        n["sharing_filed"] += int((filed & (chan == CHANNELS.index(Channel.sharing))).sum())
        n["filed.sharing_list"] += int((filed & listed).sum())
        n["approved.sharing_list"] += int((delivered & listed).sum())
        n["rejected.sharing_list"] += int((rejected & listed).sum())
        # waiting: filing -> final decision, calendar days
        wait = (decided_day - filed_day)[decided]
        self.wait += np.bincount(wait, minlength=self.wait.size)[: self.wait.size]
        reviewed = decided & (st.shape_len[m.req_shape[s]] > 0)
        rw = (decided_day - filed_day)[reviewed]
        self.wait_reviewed += np.bincount(rw, minlength=self.wait.size)[: self.wait.size]
        if pending.any():
            ps = s[pending]
            n["pending_overdue"] += int((m.due[ps, m.stage_pos[ps]] < m.n_days - 1).sum())
        # money, exactly
        free = m.free[s]
        quote_id = m.quote_id[s]
        nq = len(m.quote_keys)
        self.quote_paid = _grow(self.quote_paid, nq)
        self.quote_filed = _grow(self.quote_filed, nq)
        paid = delivered & ~free & (quote_id >= 0)
        if paid.any():
            self.quote_paid += np.bincount(quote_id[paid], minlength=nq)
        fq = filed & (quote_id >= 0)
        if fq.any():
            self.quote_filed += np.bincount(quote_id[fq], minlength=nq)
        n["paid_deliveries"] += int(paid.sum())
        price = m.price[s]
        self.price_sum += np.bincount(cls[paid], weights=price[paid], minlength=C)
        self.price_n += np.bincount(cls[paid], minlength=C)
        # revenue per operator and MAR period (charged in the period of the delivery)
        pd_ = paid & (target >= 0)
        if pd_.any():
            op = self.op_of_target[target[pd_]]
            period = decided_day[pd_] // self.period_days
            keys = np.stack([op, period, quote_id[pd_]], axis=1)
            uniq, cnt = np.unique(keys, axis=0, return_counts=True)
            for (o, p, q_i), k in zip(uniq.tolist(), cnt.tolist(), strict=True):
                q, sp = st.quote_for(*m.quote_keys[q_i])
                self._add_money(q, sp, k)
                self.period_pay[(o, p)] += q.total * k
                self.operators.add(o)
        # free grants found misused, charged retroactively at the paid price (against MAR like any fee)
        for i, (q, sp) in m.misuse_charges(s).items():
            self.charges_total += float(q.total)
            self._add_money(q, sp, 1)
            o = int(self.op_of_target[m.target[i]])
            self.operators.add(st.world.targets[int(m.target[i])].operator_id or 0)
            self.period_pay[(o, int(m.decided_day[i]) // self.period_days)] += q.total
        # welfare
        end = np.where(decided_day >= 0, decided_day, m.n_days)
        waited = np.where(filed, end - filed_day, 0)
        f = self.f
        f["wait_cost"] += float((st.waiting_cost[cls] * waited).sum())
        f["value"] += float(m.value[s][delivered].sum())
        f["prices"] += float(price[delivered].sum())
        product = delivered & (target >= 0) & (chan == CHANNELS.index(CHANNELS[2]))
        f["var_cost"] += float((st.unit_cost[tgt] * m.volume[s])[product].sum())
        n["delivered_free"] += int((delivered & free).sum())
        false_free = delivered & free & m.declared_false[s]
        found = false_free & m.misuse_found[s]
        n["free_claims_refused"] += int((delivered & m.claim_refused[s]).sum())
        n["false_free_claims"] += int(false_free.sum())
        n["misuse_detected"] += int(found.sum())
        f["leaked"] += float(m.leak_price[s][false_free & ~found].sum())
        # access concentration
        org = m.org[s]
        self.per_org += np.bincount(org[delivered & (org >= 0)], minlength=self.per_org.size)
        far = org[delivered & (org <= FOREIGN_ORG)]
        if far.size:  # requesters of other regions: credited to them when the regions merge
            refs, counts = np.unique(FOREIGN_ORG - far, return_counts=True)
            for ref, c in zip(refs.tolist(), counts.tolist(), strict=True):
                self.foreign[ref] += c
        # privacy of releases
        rk = m.release_k[s]
        ks = rk[delivered]
        ks = ks[ks > 0]
        if ks.size:
            n["releases_protected"] += int(ks.size)
            self.k_min = int(ks.min()) if not self.k_min else min(self.k_min, int(ks.min()))
            f["inv_k"] += float((1.0 / ks).sum())
        # computation products
        compute = m.compute[s]
        comp = delivered & compute
        lost = m.value_rows[s] - m.value[s]
        n["compute_grants"] += int(comp.sum())
        n["compute_queries"] += int(m.queries[s][comp].sum())
        n["compute_budget_exhausted"] += int((comp & m.budget_exhausted[s]).sum())
        f["compute_value_lost"] += float(lost[comp].sum())
        for name in ("enterprise_micro", "enterprise_small"):
            mk = comp & (cls == REQUESTER_CLASSES.index(name))
            n[f"compute_grants.{name}"] += int(mk.sum())
            f[f"compute_value_lost.{name}"] += float(lost[mk].sum())
        has_personal = st.personal[tgt] if st.personal.size else np.zeros(s.size, dtype=bool)
        personal = delivered & has_personal & (target >= 0)
        row_risk = np.where(rk > 0, 1.0 / np.maximum(rk, 1), 1.0)
        risk = np.where(compute, 1.0 / st.policy.privacy.min_cell_size, row_risk)[personal]
        n["risk_n"] += int(risk.size)
        f["risk"] += float(risk.sum())

    def _add_money(self, q: Any, sp: Any, k: int) -> None:
        mo = self.money
        mo["payments"] += q.total * k
        mo["operator"] += sp.operator * k
        mo["holder"] += sp.holder * k
        mo["taxes"] += sp.taxes * k

    # ------------------------------------------------------------ merging (regional runs)

    def state(self) -> dict[str, Any]:
        """What this tally has summed so far, as plain data (a region's share of a national run)."""
        return {
            "n": dict(self.n),
            "chan": {k: v.copy() for k, v in self.chan.items()},
            "cls": {k: v.copy() for k, v in self.cls.items()},
            "wait": self.wait.copy(),
            "wait_reviewed": self.wait_reviewed.copy(),
            "late_by_stage": self.late_by_stage.copy(),
            "price_sum": self.price_sum.copy(),
            "price_n": self.price_n.copy(),
            "f": dict(self.f),
            "money": dict(self.money),
            "charges_total": self.charges_total,
            "operators": sorted(self.operators),
            "period_pay": dict(self.period_pay),
            "per_org": self.per_org.copy(),
            "foreign": dict(self.foreign),
            "k_min": self.k_min,
        }

    def add(self, part: dict[str, Any]) -> None:
        """Fold in another tally's `state()` (a region's, in region order): counts, histograms and exact
        money add up; organizations are appended after those already here; the smallest k is kept."""
        for k, v in part["n"].items():
            self.n[k] += v
        for k, v in part["chan"].items():
            self.chan[k] += v
        for k, v in part["cls"].items():
            self.cls[k] += v
        for name in ("wait", "wait_reviewed"):
            mine, theirs = getattr(self, name), part[name]
            size = max(mine.size, theirs.size)
            setattr(self, name, _grow(mine, size) + _grow(theirs, size))
        self.late_by_stage += part["late_by_stage"]
        self.price_sum += part["price_sum"]
        self.price_n += part["price_n"]
        for k, v in part["f"].items():
            self.f[k] += v
        for k, v in part["money"].items():
            self.money[k] += v
        self.charges_total += part["charges_total"]
        self.operators.update(part["operators"])
        for k, v in part["period_pay"].items():
            self.period_pay[k] += v
        lo = self.orgs_added
        self.per_org[lo : lo + part["per_org"].size] += part["per_org"]
        self.orgs_added = lo + part["per_org"].size
        self.org_offsets.append(lo)
        for k, v in part["foreign"].items():
            self.foreign[k] += v
        if part["k_min"]:
            self.k_min = part["k_min"] if not self.k_min else min(self.k_min, part["k_min"])

    def credit_foreign(self, locate: Callable[[int], tuple[int, int]]) -> None:
        """Once every part is added: each delivery to a requester of another region counted for that
        requester, `locate(reference)` giving (the part it belongs to, in `add` order; its organization
        there)."""
        for ref, count in sorted(self.foreign.items()):
            part, org = locate(ref)
            self.per_org[self.org_offsets[part] + org] += count
        self.foreign.clear()

    # ------------------------------------------------------------ result

    def result(self, m: MarketModel) -> tuple[dict[str, Any], dict[str, Decimal]]:
        """(metrics, money): flat metric name -> number, and the exact money totals."""
        st = self.st
        n, f = self.n, self.f
        out: dict[str, Any] = {
            "arrivals": int(m.n),
            "filed": n["filed"],
            "not_filed": n["not_filed"],
            "unserved": n["unserved"],
            "approved": n["approved"],
            "rejected": n["rejected"],
            "delivered": n["approved"],
            "pending": n["pending"],
        }
        for ci, ch in enumerate(CHANNELS):
            out[f"filed.{ch.value}"] = int(self.chan["filed"][ci])
            out[f"approved.{ch.value}"] = int(self.chan["approved"][ci])
            out[f"rejected.{ch.value}"] = int(self.chan["rejected"][ci])
            out[f"delivered.{ch.value}"] = int(self.chan["approved"][ci])
        out["filed.sharing_list"] = n["filed.sharing_list"]
        out["approved.sharing_list"] = n["approved.sharing_list"]
        out["rejected.sharing_list"] = n["rejected.sharing_list"]
        out["delivered.sharing_list"] = n["approved.sharing_list"]
        sf = n["sharing_filed"]
        out["sharing_list_share"] = _r(out["filed.sharing_list"] / sf) if sf else 0.0
        for ki, cls in enumerate(REQUESTER_CLASSES):
            out[f"filed.{cls}"] = int(self.cls["filed"][ki])
            out[f"approved.{cls}"] = int(self.cls["approved"][ki])
            out[f"rejected.{cls}"] = int(self.cls["rejected"][ki])
            out[f"delivered.{cls}"] = int(self.cls["approved"][ki])
        w, nw = self.wait, int(self.wait.sum())
        days = np.arange(w.size)
        out["waiting_days_mean"] = _r(float((w * days).sum()) / nw) if nw else 0.0
        out["waiting_days_median"] = _r(median_of_counts(w)) if nw else 0.0
        out["waiting_days_p90"] = _r(percentile_of_counts(w, 90)) if nw else 0.0
        rw = self.wait_reviewed
        out["waiting_days_reviewed_median"] = _r(median_of_counts(rw)) if rw.sum() else 0.0
        out["waiting_days_reviewed_p90"] = _r(percentile_of_counts(rw, 90)) if rw.sum() else 0.0
        nr = n["reviews"]
        out["reviews"] = nr
        out["deadline_breaches"] = n["deadline_breaches"]
        out["deadline_breach_share"] = _r(n["deadline_breaches"] / nr) if nr else 0.0
        out["deemed_decisions"] = n["deemed_decisions"]
        out["escalations"] = n["escalations"]
        for si, s in enumerate(STAGES):
            out[f"deadline_breaches.{s.value}"] = int(self.late_by_stage[si])
        # days in a stage's queue before a reviewer took the request up (summed online by the teams; deemed
        # decisions were never taken up); an M/M/c stage measures it in continuous time (checked against
        # Erlang C)
        for t in m.teams_list:
            out[f"review_wait_days_mean.{t.name}"] = _r(t.wait_sum / t.waited) if t.waited else 0.0
        out["pending_overdue"] = n["pending_overdue"]

        mo = self.money
        payments, operator, holder, taxes = mo["payments"], mo["operator"], mo["holder"], mo["taxes"]
        if payments != operator + holder + taxes:  # pragma: no cover - guaranteed by policy.split
            raise AssertionError(f"budget does not balance: {payments} != {operator} + {holder} + {taxes}")
        money = {"payments": payments, "operator_revenue": operator, "holder_share": holder, "taxes": taxes}
        out["payments"] = _r(payments)
        out["operator_revenue"] = _r(operator)
        out["holder_share"] = _r(holder)
        out["taxes"] = _r(taxes)
        out["budget_balance_error"] = _r(payments - operator - holder - taxes)
        out["paid_deliveries"] = n["paid_deliveries"]
        for ki, cls in enumerate(REQUESTER_CLASSES):
            k = int(self.price_n[ki])
            out[f"price_paid_mean.{cls}"] = _r(self.price_sum[ki] / k) if k else 0.0

        fixed = {op: c * Decimal(m.n_days) / Decimal(365) for op, c in st.world.operator_costs.items()}
        fixed_total = float(sum(fixed.values(), Decimal(0)))
        wait_cost, var_cost = f["wait_cost"], f["var_cost"]
        cs = f["value"] - (f["prices"] + self.charges_total) - wait_cost
        out["consumer_surplus"] = _r(cs)
        out["waiting_cost"] = _r(wait_cost)
        out["operator_cost"] = _r(var_cost + fixed_total)
        out["welfare"] = _r(cs + float(operator) - var_cost - fixed_total + float(holder) + float(taxes))
        nd = n["approved"]
        out["free_use_share"] = _r(n["delivered_free"] / nd) if nd else 0.0
        out["free_claims_refused"] = n["free_claims_refused"]
        out["false_free_claims"] = n["false_free_claims"]
        out["misuse_detected"] = n["misuse_detected"]
        out["leaked_revenue"] = _r(f["leaked"])
        out["recovered_revenue"] = _r(self.charges_total)

        req_orgs = np.flatnonzero(st.world.org_class >= 0)
        out["access_gini"] = _r(gini(self.per_org[req_orgs])) if req_orgs.size else 0.0
        out["orgs_served"] = int((self.per_org[req_orgs] > 0).sum()) if req_orgs.size else 0

        nk = n["releases_protected"]
        out["releases_protected"] = nk
        out["release_k_min"] = self.k_min if nk else 0
        out["prosecutor_risk_max"] = _r(1.0 / self.k_min) if nk else 0.0
        out["prosecutor_risk_mean"] = _r(f["inv_k"] / nk) if nk else 0.0

        out["compute_grants"] = n["compute_grants"]
        out["compute_queries"] = n["compute_queries"]
        out["compute_budget_exhausted"] = n["compute_budget_exhausted"]
        out["compute_value_lost"] = _r(f["compute_value_lost"])
        for cls in ("enterprise_micro", "enterprise_small"):
            out[f"compute_grants.{cls}"] = n[f"compute_grants.{cls}"]
            out[f"compute_value_lost.{cls}"] = _r(f[f"compute_value_lost.{cls}"])
        out["risk_proxy_sum"] = _r(f["risk"])
        out["risk_proxy_mean"] = _r(f["risk"] / n["risk_n"]) if n["risk_n"] else 0.0

        # MAR compliance, per operator and period: MAR set in advance from the cost filing
        # (policy.mar_position), revenue = fees charged in the period, over-MAR revenue deducted from the
        # next period's MAR
        policy = st.policy
        period_days = self.period_days
        op_ids = sorted(set(st.world.operator_costs) | self.operators)
        compliant = 0
        excess = Decimal(0)
        mar_total = revenue_total = Decimal(0)
        for op in op_ids:
            yearly_cost = st.world.operator_costs.get(op, Decimal(0))
            yearly_tax = st.world.operator_taxes.get(op, Decimal(0))
            carried = Decimal(0)
            ok = True
            for p0 in range(0, m.n_days, period_days):
                p1 = min(p0 + period_days, m.n_days)
                share = Decimal(p1 - p0) / Decimal(period_days)
                pay = self.period_pay.get((op, p0 // period_days), Decimal(0))
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


def compute_metrics(m: MarketModel) -> tuple[dict[str, Any], dict[str, Decimal]]:
    """(metrics, money) of a finished run, from the `Tally` among its observers."""
    for obs in m.observers:
        if isinstance(obs, Tally):
            return obs.result(m)
    raise InvalidInput("model", "without a Tally", "a model run with marketplace.sim.metrics.Tally observing")
