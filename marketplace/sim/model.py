"""The agent-based model (Mesa 3): requester groups file requests, review teams work their queues day by day.

One `MarketModel.step()` is one calendar day:
1. each `RequesterGroup` agent (one per requester class: department, enterprise_micro, ...) takes that day's
   arrivals, and each arrival files when  P(approve) x value  >  price + waiting cost per day x expected wait;
   the expected wait is what a requester can see: the backlog of every review team on its route;
2. each `ReviewTeam` agent (one per review stage) decides up to its capacity of requests, first come first
   served, on the policy's working days; a stage decided after its due date is a breach (a stage listed in
   `review.service_mean_days` is a `ServerTeam` instead: an M/M/c queue in continuous time);
3. stages whose deadline passed are handled as the policy says (escalate: the stage waits and is recorded as
   late; deemed approval / rejection: decided by silence at the end of the due day);
4. the DataCollector records the queues and the day's flows.

Every rule comes from `marketplace.policy` (route, quote, split, deadline_outcome, working_calendar,
max_allowed_revenue); nothing is re-implemented. Speed comes from two things only: the random draws of the
whole horizon are made up front with numpy, and policy results are memoised per distinct input:
- `route` per (target routing facts, requester kind, purpose) for the decision, stages and conditions, and per
  (stage plan, start date) for the due dates (route reads only the fields of `RequestFacts`/`Target` that
  `_route_facts` keeps, and due dates depend only on the stage plan and the start date; a test checks the memo
  against direct calls);
- `quote` and `split` per (product, purpose, requester kind/size, volume).
Requester organizations are not individual Mesa agents: at province size there are ~1,000 of them and
100,000+ arrivals a year, so one agent per class draws which of its organizations files (Zipf activity).
"""

from __future__ import annotations

import contextlib
import dataclasses
import heapq
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal
from functools import partial
from typing import Any, NamedTuple

import mesa
import numpy as np
from mesa.agent import AgentSet

from marketplace.errors import InvalidInput, PolicyRefusal
from marketplace.policy import (
    Policy,
    Requester,
    RequestFacts,
    Routing,
    Target,
    deadline_outcome,
    free_use_rule,
    quote,
    route,
    split,
    working_calendar,
)
from marketplace.policy.compute import compute_target, delivery_mode, supports_compute
from marketplace.sim.scenario import REQUESTER_CLASSES, Exponential, Lognormal, Scenario, Uniform
from marketplace.sim.world import SimWorld
from marketplace.vocabulary import (
    BillingUnit,
    Channel,
    ComputeKind,
    ConditionKind,
    DeliveryMode,
    EnterpriseSize,
    OrganizationKind,
    Purpose,
    ReviewStage,
)

__all__ = [
    "CHANNELS",
    "PURPOSES",
    "STAGES",
    "STATUS",
    "MarketModel",
    "Priced",
    "RequesterGroup",
    "ReviewTeam",
    "ServerTeam",
    "Shares",
    "Statics",
]

PURPOSES: tuple[Purpose, ...] = tuple(Purpose)
CHANNELS: tuple[Channel, ...] = tuple(Channel)
STAGES: tuple[ReviewStage, ...] = tuple(ReviewStage)
KINDS: tuple[OrganizationKind, ...] = tuple(OrganizationKind)
UNITS: tuple[BillingUnit, ...] = tuple(BillingUnit)
#: request outcome codes (index into STATUS)
STATUS = ("not_filed", "unserved", "in_review", "delivered", "rejected")
NOT_FILED, UNSERVED, IN_REVIEW, DELIVERED, REJECTED = range(5)
#: review decision / status codes
DECISIONS = ("approve", "approve_with_conditions", "reject")
REVIEW_STATUS = ("decided", "deemed", "escalated")
BREACH = {"escalate": 0, "deemed_approval": 1, "deemed_rejection": 2}
HOLDER = STAGES.index(ReviewStage.holder)

_NEVER = np.iinfo(np.int32).max
#: days drawn at a time; finished requests are folded into the metrics and dropped at each block's end
BLOCK_DAYS = 28
#: filing days whose due days `Statics.due_days` keeps at a time
DUE_WINDOW = 2 * BLOCK_DAYS
#: quotes `Statics.quote_for` keeps: a block of a province world meets ~1,000 distinct quotes, a year ~4,000;
#: four per target keeps a block's quotes (misses cost ~25 µs each) while a long run holds no more than a year
QUOTE_MEMO_PER_TARGET = 4
QUOTE_MEMO_MIN = 1024
#: `org` of a request from another region: FOREIGN_ORG - the reference its origin gave its requester (`org` is
#: otherwise an organization of this world, or -1 for none), so the merged metrics credit the right requester
FOREIGN_ORG = -2
#: per-request arrays of the live (drawn, not yet finished) requests, besides `gid`, `u_reject` and `service`
LIVE_FIELDS: tuple[tuple[str, Any], ...] = (
    *((n, np.int64) for n in ("arr_day", "arr_cls", "org", "target", "true_purpose", "purpose", "req_shape")),
    *((n, np.int64) for n in ("volume", "queries", "release_k", "quote_volume", "quote_id", "status")),
    *((n, bool) for n in ("claim_refused", "declared_false", "misuse_found", "list_based", "free")),
    *((n, bool) for n in ("policy_cond", "compute", "budget_exhausted", "with_conditions")),
    *((n, float) for n in ("value", "value_rows", "u_cond", "price", "leak_price", "enter_time")),
    ("refusal", object),
    *((n, np.int64) for n in ("filed_day", "decided_day", "stage_pos", "entered_day", "breaches")),
    ("filed_seq", np.int64),
    ("due", np.int64),
)


def class_requester(cls: str, org_id: int = 0) -> Requester:
    """The policy `Requester` of a demand class (quote reads kind and size; route reads kind)."""
    if cls.startswith("enterprise_"):
        return Requester(org_id, OrganizationKind.enterprise, EnterpriseSize(cls.removeprefix("enterprise_")))
    return Requester(org_id, OrganizationKind(cls))


def _route_facts(t: Target) -> Target:
    """The target with the facts `route` does not read (holder, prices, costs, product kind) blanked."""
    return dataclasses.replace(
        t,
        holder_id=0,
        billing_unit=None,
        price_cap=None,
        actual_price=None,
        unit_cost=None,
        product_kind=None,
        personal_fields=(),
    )


# ---------------------------------------------------------------- static tables (per scenario + world)


@dataclass(slots=True)
class Statics:
    """Everything that depends on the scenario, its policy and the world, but not on the seed."""

    scenario: Scenario
    policy: Policy
    world: SimWorld
    start: date
    days: int
    rates: np.ndarray  # (C,) mean arrivals per day
    purpose_cdf: np.ndarray  # (C, P)
    channel_cdf: np.ndarray  # (C, 3)
    waiting_cost: np.ndarray  # (C,)
    class_orgs: list[np.ndarray]  # org indices per class
    target_sig: np.ndarray  # (T,) routing-facts id
    sig_targets: list[Target]
    allowed: np.ndarray  # (S, K, P) bool
    shape: np.ndarray  # (S, K, P) int (stage-plan id; -1 refused)
    free: np.ndarray  # (S, K, P) bool
    policy_conditions: np.ndarray  # (S, K, P) bool: the policy attaches conditions
    release_k: np.ndarray  # (S, K, P) int: k (or min cell) the policy requires of a release, 0 = none
    refusal_rule: dict[tuple[int, int, int], str]
    shapes: list[tuple[tuple[ReviewStage, int, str], ...]]
    shape_rep: list[tuple[RequestFacts, Target, Requester]]
    shape_stage_idx: np.ndarray  # (H, 3) stage index per position, -1 past the end
    shape_len: np.ndarray  # (H,)
    working: np.ndarray  # (days + 60,) bool
    capacity: np.ndarray  # (3,) per stage
    reject_rate: np.ndarray  # (3,)
    on_breach: np.ndarray  # (3,) BREACH codes
    dist_code: np.ndarray  # (T,) 0 lognormal 1 uniform 2 exponential
    dist_a: np.ndarray
    dist_b: np.ndarray
    unit_idx: np.ndarray  # (T,) index into UNITS, -1 for resources
    volume_values: list[np.ndarray]  # per unit
    volume_cdf: list[np.ndarray]
    unit_cost: np.ndarray  # (T,) float
    claim_ok: np.ndarray  # (K, P) bool: kind k may claim purpose p free (conditional free use)
    paid_as: np.ndarray  # (P,) int: the purpose a refused free claim is quoted as
    #: due days per (stage plan, filing day) for a window of DUE_WINDOW filing days from the first of them:
    #: (first day, table); -1 where not yet asked, -2 past a plan's last stage. A run files day after day, so
    #: a window it has left is not asked again: the table is bounded by the plans, not the horizon
    due_window: tuple[int, np.ndarray] = field(default_factory=lambda: (0, np.zeros((0, 0, 0), np.int32)))
    #: (Priced, Shares) or refusal per (target, purpose, class, volume), least recently used dropped first
    #: once it holds `quote_cap` quotes: distinct quotes keep appearing over the years (new volumes), so an
    #: unbounded memo grew with the horizon
    quote_memo: OrderedDict[tuple[int, int, int, int], Any] = field(default_factory=OrderedDict)
    quote_cap: int = 0
    compute_mode: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=bool))  # (T,) by computation
    personal: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=bool))  # (T,) personal information
    compute_queries_max: int = 0  # queries one grant's ε budget answers (compute.epsilon_per_grant / ε each)
    # (3,) mean decision time of an M/M/c stage (review.service_mean_days), 0 = a daily quota
    service_mean: np.ndarray = field(default_factory=lambda: np.zeros(len(STAGES)))

    @classmethod
    def build(cls, scenario: Scenario, world: SimWorld, days: int | None = None) -> Statics:
        policy = scenario.policy_obj
        dem = scenario.demand
        n_days = days or scenario.horizon.days
        start = scenario.horizon.start
        C = len(REQUESTER_CLASSES)
        rates = np.array([dem.arrivals.get(c, 0.0) for c in REQUESTER_CLASSES])

        def cdf(table: str, names: list[str]) -> np.ndarray:
            out = np.zeros((C, len(names)))
            for i, c in enumerate(REQUESTER_CLASSES):
                if rates[i] == 0 and c not in getattr(dem, table) and "default" not in getattr(dem, table):
                    out[i, -1] = 1.0
                    continue
                w = dem.weights(table, c)
                row = np.array([w.get(n, 0.0) for n in names], dtype=float)
                out[i] = np.cumsum(row) / row.sum()
            return out

        purpose_cdf = cdf("purposes", [p.value for p in PURPOSES])
        channel_cdf = cdf("channels", [c.value for c in CHANNELS])
        waiting_cost = np.array([dem.waiting_cost(c) for c in REQUESTER_CLASSES])
        class_orgs = [np.flatnonzero(world.org_class == i) for i in range(C)]

        # routing facts: distinct targets as route sees them
        sig_index: dict[Target, int] = {}
        target_sig = np.empty(len(world.targets), dtype=np.int64)
        for i, row in enumerate(world.targets):
            target_sig[i] = sig_index.setdefault(_route_facts(row.target), len(sig_index))
        sig_targets = list(sig_index)
        S, K, P = len(sig_targets), len(KINDS), len(PURPOSES)
        allowed = np.zeros((S, K, P), dtype=bool)
        free = np.zeros((S, K, P), dtype=bool)
        pcond = np.zeros((S, K, P), dtype=bool)
        release_k = np.zeros((S, K, P), dtype=np.int64)
        shape = np.full((S, K, P), -1, dtype=np.int64)
        shapes: list[tuple[tuple[ReviewStage, int, str], ...]] = []
        shape_ids: dict[tuple[tuple[ReviewStage, int, str], ...], int] = {}
        shape_rep: list[tuple[RequestFacts, Target, Requester]] = []
        refusal: dict[tuple[int, int, int], str] = {}
        facts = [RequestFacts(p) for p in PURPOSES]
        for s, tgt in enumerate(sig_targets):
            for k, kind in enumerate(KINDS):
                req = Requester(0, kind)
                for p in range(P):
                    r: Routing = route(policy, facts[p], tgt, req, start=start)
                    if not r.allowed:
                        refusal[(s, k, p)] = r.refusal.rule if r.refusal else "refused"
                        continue
                    allowed[s, k, p] = True
                    free[s, k, p] = r.free
                    key = tuple((st.stage, st.working_days, st.on_breach) for st in r.stages)
                    if key not in shape_ids:
                        shape_ids[key] = len(shapes)
                        shapes.append(key)
                        shape_rep.append((facts[p], tgt, req))
                    shape[s, k, p] = shape_ids[key]
                    kinds = {c.kind for c in r.conditions}
                    pcond[s, k, p] = bool(kinds - {ConditionKind.expires_after})
                    for c in r.conditions:
                        if c.kind is ConditionKind.deidentify:
                            release_k[s, k, p] = int(c.params.get("k", 0))
                        elif c.kind is ConditionKind.aggregate:
                            release_k[s, k, p] = int(c.params.get("min_cell", 0))
        H = max(len(shapes), 1)
        shape_stage_idx = np.full((H, len(STAGES) + 1), -1, dtype=np.int64)
        shape_len = np.zeros(H, dtype=np.int64)
        for h, key in enumerate(shapes):
            shape_len[h] = len(key)
            for j, (st, _, _) in enumerate(key):
                shape_stage_idx[h, j] = STAGES.index(st)

        calendar = working_calendar(policy)
        span = n_days + 60
        working = np.array(
            [calendar.is_working_day(start + timedelta(days=d)) for d in range(span)], dtype=bool
        )
        rv = scenario.review
        capacity = np.array([rv.capacity[s] for s in STAGES], dtype=np.int64)
        reject_rate = np.array([rv.reject_rate.get(s, 0.0) for s in STAGES])
        on_breach = np.array([BREACH[deadline_outcome(policy, s)] for s in STAGES], dtype=np.int64)

        T = len(world.targets)
        dist_code = np.zeros(T, dtype=np.int64)
        dist_a = np.zeros(T)
        dist_b = np.zeros(T)
        for d_i, dom in enumerate(world.domains):
            dist = dem.value_dist(dom)
            m = world.target_domain == d_i
            if isinstance(dist, Lognormal):
                dist_code[m], dist_a[m], dist_b[m] = 0, dist.median, dist.sigma
            elif isinstance(dist, Uniform):
                dist_code[m], dist_a[m], dist_b[m] = 1, dist.low, dist.high
            else:
                assert isinstance(dist, Exponential)
                dist_code[m], dist_a[m] = 2, dist.mean
        unit_idx = np.array(
            [
                -1 if row.target.billing_unit is None else UNITS.index(row.target.billing_unit)
                for row in world.targets
            ],
            dtype=np.int64,
        )
        vv, vc = [], []
        for u in UNITS:
            ch = dem.volumes.get(u)
            vv.append(np.array(ch.values, dtype=np.int64))
            w = np.array(ch.weights, dtype=float)
            vc.append(np.cumsum(w) / w.sum())
        unit_cost = np.array([float(row.target.unit_cost or 0) for row in world.targets])
        # conditional free use: the simulator does not model project references, so an enterprise's claim
        # stands only where the policy lets enterprises claim without one (never under national-2025)
        claim_ok = np.ones((len(KINDS), len(PURPOSES)), dtype=bool)
        paid_as = np.arange(len(PURPOSES), dtype=np.int64)
        for p, pu in enumerate(PURPOSES):
            rule = free_use_rule(policy, pu)
            if rule is None:
                continue
            paid_as[p] = PURPOSES.index(rule.paid_as)
            for k, kind in enumerate(KINDS):
                claim_ok[k, p] = kind in rule.requester_kinds
        out = cls(
            scenario,
            policy,
            world,
            start,
            n_days,
            rates,
            purpose_cdf,
            channel_cdf,
            waiting_cost,
            class_orgs,
            target_sig,
            sig_targets,
            allowed,
            shape,
            free,
            pcond,
            release_k,
            refusal,
            shapes,
            shape_rep,
            shape_stage_idx,
            shape_len,
            working,
            capacity,
            reject_rate,
            on_breach,
            dist_code,
            dist_a,
            dist_b,
            unit_idx,
            vv,
            vc,
            unit_cost,
            claim_ok,
            paid_as,
        )
        # computation products: which targets are delivered as computation results under the scenario
        how = scenario.compute.delivery
        out.compute_mode = np.array(
            [
                how != "rows"
                and (
                    supports_compute(policy, domain=row.domain)
                    if how == "compute"
                    else delivery_mode(policy, row.target.grade, row.target.channel, domain=row.domain)
                    is DeliveryMode.compute
                )
                for row in world.targets
            ],
            dtype=bool,
        )
        out.personal = np.array([row.target.contains_personal_info for row in world.targets], dtype=bool)
        out.compute_queries_max = int(
            float(policy.compute.epsilon_per_grant) / scenario.compute.epsilon_per_query + 1e-9
        )
        out.service_mean = np.array([rv.service_mean_days.get(s, 0.0) for s in STAGES])
        return out

    # ------------------------------------------------------------ memoised policy calls

    def due_days(self, shape: int, day: int) -> tuple[int, ...]:
        """Due days of the stages of plan `shape` for a request filed on `day` (via route)."""
        first, table = self.due_window
        if not first <= day < first + table.shape[1]:
            first, table = day, np.full((max(len(self.shapes), 1), DUE_WINDOW, len(STAGES)), -1, np.int32)
            self.due_window = (first, table)
        row = table[shape, day - first]
        if row[0] == -1:
            facts, tgt, req = self.shape_rep[shape]
            r = route(self.policy, facts, tgt, req, start=self.start + timedelta(days=day))
            dues = tuple((st.due - self.start).days for st in r.stages)
            row[len(dues) :] = -2
            row[: len(dues)] = dues
            return dues
        return tuple(int(x) for x in row if x != -2)

    def quote_for(self, target: int, purpose: int, cls: int, volume: int) -> Any:
        """(Priced, Shares) of a paid request's quote and split, or a refusal rule string (memoised per
        distinct input, the `quote_cap` most recently used; only the total and the split are kept,
        `quote_lines` gives a quote's lines).

        A negative `volume` is that many computation queries (a grant delivered by computation)."""
        key = (target, purpose, cls, volume)
        memo = self.quote_memo
        hit = memo.get(key)
        if hit is not None:
            with contextlib.suppress(KeyError):  # dropped meanwhile by a run in another thread
                memo.move_to_end(key)
            return hit
        full = self.full_quote(key)
        if isinstance(full, str):
            hit = full
        else:
            q, sp = full
            hit = (Priced(q.total, q.currency), Shares(sp.operator, sp.holder, sp.taxes))
        memo[key] = hit
        cap = self.quote_cap or max(QUOTE_MEMO_MIN, QUOTE_MEMO_PER_TARGET * len(self.world.targets))
        while len(memo) > cap:
            try:
                memo.popitem(last=False)
            except KeyError:
                break
        return hit

    def quote_lines(self, key: tuple[int, int, int, int]) -> list[dict[str, str]]:
        """The lines of the quote of `key` (as `Quote.as_dict` gives them), priced again: runs keep only
        totals, since a year meets thousands of distinct quotes and their lines are read only when stored."""
        full = self.full_quote(key)
        return [] if isinstance(full, str) else full[0].as_dict()["lines"]

    def full_quote(self, key: tuple[int, int, int, int]) -> Any:
        """(Quote, Split) from the policy for (target, purpose, class, volume), or the refusal rule."""
        target, purpose, cls, volume = key
        tgt = self.world.targets[target].target
        if volume < 0:  # -n: n queries of a computation product, billed per query (policy.compute_target)
            tgt, volume = compute_target(self.policy, tgt, ComputeKind.aggregate_query), -volume
        markup = self.scenario.operators.price_markup
        if markup != 1.0 and tgt.actual_price is not None:
            asked = (tgt.actual_price * Decimal(repr(markup))).quantize(Decimal("0.01"))
            tgt = dataclasses.replace(tgt, actual_price=asked)
        try:
            q = quote(
                self.policy,
                tgt,
                RequestFacts(PURPOSES[purpose], volume),
                class_requester(REQUESTER_CLASSES[cls]),
            )
            return q, split(self.policy, q)
        except (PolicyRefusal, InvalidInput) as exc:
            return getattr(exc, "rule", None) or f"pricing.{getattr(exc, 'field', 'invalid')}"


class Priced(NamedTuple):
    """What a run keeps of a quote: its total and currency."""

    total: Decimal
    currency: str


class Shares(NamedTuple):
    """What a run keeps of a split: who gets what of the total."""

    operator: Decimal
    holder: Decimal
    taxes: Decimal


# ---------------------------------------------------------------- agents


class RequesterGroup(mesa.Agent):
    """All requester organizations of one class (e.g. small enterprises): files that class's arrivals."""

    def __init__(self, model: MarketModel, cls: int) -> None:
        super().__init__(model)
        self.cls = cls
        self.name = REQUESTER_CLASSES[cls]
        self.filed = 0
        self.declined = 0

    def step(self) -> None:
        m = self.model
        lo, hi = m.slice_of(m.day, self.cls)
        if lo == hi:
            return
        idx = np.arange(lo, hi)
        idx = idx[m.status[idx] != UNSERVED]
        if not idx.size:
            return
        n_filed = consider(m, idx, self.cls)
        self.declined += int(idx.size) - n_filed
        self.filed += n_filed


def consider(m: MarketModel, idx: np.ndarray, cls: int | np.ndarray) -> int:
    """Requesters of live slots `idx` (class `cls`, one or per slot) file when P(approve) x value exceeds the
    price plus waiting cost x expected wait; the others decline. Returns how many filed."""
    st = m.statics
    wait = m.expected_wait()[m.req_shape[idx]]
    p_ok = np.where(m.list_based[idx], m.p_approve_list[m.req_shape[idx]], m.p_approve[m.req_shape[idx]])
    worth = p_ok * m.value[idx]
    files = worth > m.price[idx] + st.waiting_cost[cls] * wait
    m.status[idx[~files]] = NOT_FILED
    filed = idx[files]
    if filed.size:
        m.file(filed)
    return int(filed.size)


class ReviewTeam(mesa.Agent):
    """The reviewers of one stage: up to `capacity` decisions per working day, first come first served."""

    def __init__(self, model: MarketModel, stage: int) -> None:
        super().__init__(model)
        self.stage = stage
        self.name = STAGES[stage].value
        self.capacity = int(model.statics.capacity[stage])
        self.queue = np.empty(0, dtype=np.int64)
        self.incoming: list[np.ndarray] = []
        self.decided = 0
        self.wait_sum = 0.0  # days the requests this team took up had waited in its queue (summed online)
        self.waited = 0

    def admit(self) -> None:
        if self.incoming:
            self.queue = np.concatenate([self.queue, *self.incoming])
            self.incoming = []

    def keep_waiting(self, keep: np.ndarray) -> None:
        """Keep the queued requests where `keep` is True (the others were decided by silence)."""
        self.queue = self.queue[keep]

    def renumber(self, remap: np.ndarray) -> None:
        """The model dropped finished requests: `remap[old slot]` is each open request's new slot."""
        self.queue = remap[self.queue]
        self.incoming = [remap[x] for x in self.incoming]

    def step(self) -> None:
        m = self.model
        if not m.statics.working[m.day] or not self.queue.size or self.capacity == 0:
            return
        head, self.queue = self.queue[: self.capacity], self.queue[self.capacity :]
        self.decided += int(head.size)
        self.wait_sum += float((m.day - m.entered_day[head]).sum())
        self.waited += int(head.size)
        m.decide(head, self.stage, deemed=False)

    def expire(self) -> None:
        """End of day: stages past their due date under a deemed-decision policy are decided by silence."""
        m = self.model
        if not self.queue.size or m.statics.on_breach[self.stage] == BREACH["escalate"]:
            return
        late = m.due[self.queue, m.stage_pos[self.queue]] <= m.day
        if late.any():
            gone = self.queue[late]
            self.keep_waiting(~late)
            m.decide(gone, self.stage, deemed=True)


class ServerTeam(ReviewTeam):
    """The reviewers of one stage as an M/M/c queue: `capacity` reviewers work in parallel around the clock,
    first come first served, each decision taking an exponential time of mean `review.service_mean_days`.

    Time is continuous inside the daily step: a request joins at its arrival time (filing day + a uniform
    time of day) or, coming from an earlier stage, at the start of the day it is admitted; a reviewer takes
    it up at max(arrival, the first reviewer free), and the stage is decided on the day its service ends.
    FCFS start times do not depend on later arrivals, so the queue is exact (checked against Erlang C).
    """

    def __init__(self, model: MarketModel, stage: int) -> None:
        super().__init__(model, stage)
        self.mean = float(model.statics.service_mean[stage])
        self.free_at = [0.0] * int(model.statics.capacity[stage])  # heap: when each reviewer is next free
        self.capacity = len(self.free_at) / self.mean  # decisions per day at full load (expected waits)
        self.joined = np.empty(0)  # arrival time of each queued request
        self.busy = np.empty(0, dtype=np.int64)
        self.finish = np.empty(0)

    def renumber(self, remap: np.ndarray) -> None:
        super().renumber(remap)
        self.busy = remap[self.busy]  # taken up, not yet decided: still open

    def admit(self) -> None:
        if not self.incoming:
            return
        m = self.model
        new = np.concatenate(self.incoming)
        self.incoming = []
        idx = np.concatenate([self.queue, new])
        at = np.concatenate([self.joined, np.maximum(m.enter_time[new], float(m.day))])
        order = np.argsort(at, kind="stable")
        self.queue, self.joined = idx[order], at[order]

    def step(self) -> None:
        m = self.model
        end = m.day + 1.0
        free = self.free_at
        taken = 0
        finish: list[float] = []
        for j in range(self.queue.size if free else 0):
            begin = max(float(self.joined[j]), free[0])
            if begin >= end:
                break
            done = begin + float(m.service[self.queue[j], self.stage]) * self.mean
            heapq.heapreplace(free, done)
            self.wait_sum += begin - float(self.joined[j])
            finish.append(done)
            taken += 1
        if taken:
            self.busy = np.concatenate([self.busy, self.queue[:taken]])
            self.finish = np.concatenate([self.finish, finish])
            self.queue, self.joined = self.queue[taken:], self.joined[taken:]
            self.waited += taken
        ends = self.finish < end
        if ends.any():
            order = np.argsort(self.finish[ends], kind="stable")
            head = self.busy[ends][order]
            m.enter_time[head] = self.finish[ends][order]
            self.busy, self.finish = self.busy[~ends], self.finish[~ends]
            self.decided += int(head.size)
            m.decide(head, self.stage, deemed=False)

    def keep_waiting(self, keep: np.ndarray) -> None:
        """Deemed decisions take only requests still waiting (one a reviewer has taken up is decided)."""
        self.queue, self.joined = self.queue[keep], self.joined[keep]


# ---------------------------------------------------------------- the model


class MarketModel(mesa.Model):
    """One run: a scenario on its world for its horizon, from one seed.

    Memory is bounded by the state, not the history: arrivals are drawn a block of `block_days` days at a
    time, and at each block's end the requests that are finished (declined, unserved, delivered, rejected)
    are handed to the observers (the online metrics, and the event log when one is asked for) and dropped;
    only open requests stay. The draws are exactly those of one draw of the whole horizon: each stream of
    the seed's generator is positioned where that draw would have read it (`bit_generator.advance`, state
    copies), so a seed gives the same run whatever the block length.
    """

    def __init__(
        self,
        statics: Statics,
        seed: int,
        observers: Sequence[Any] = (),
        *,
        block_days: int = BLOCK_DAYS,
    ) -> None:
        super().__init__(rng=seed)  # an int: numpy and stdlib generators both seeded with it, as seed= did
        self._mesa_names = frozenset(vars(self))
        self.statics = st = statics
        self.seed_value = seed
        self.observers = list(observers)
        self.block_days = max(1, int(block_days))
        self.day = 0
        self.filed_today = self.decided_today = 0
        self.filed_count = 0
        self.quote_ids: dict[tuple[int, int, int, int], int] = {}
        self.quote_keys: list[tuple[int, int, int, int]] = []
        #: a regional run's border (marketplace.sim.regions): takes the requests for other regions' data
        self.border: Any = None
        #: draws of requests from other regions, by the day they enter this region's queues
        self.inbound: dict[int, dict[str, Any]] = {}
        self._setup_streams()
        self.p_approve = np.ones(max(len(st.shapes), 1))
        self.p_approve_list = np.ones(max(len(st.shapes), 1))  # citing a list: the holder cannot reject
        for h, key in enumerate(st.shapes):
            for s_stage, _, _ in key:
                self.p_approve[h] *= 1.0 - st.reject_rate[STAGES.index(s_stage)]
                if s_stage is not ReviewStage.holder:
                    self.p_approve_list[h] *= 1.0 - st.reject_rate[STAGES.index(s_stage)]
        self.groups = AgentSet(
            [RequesterGroup(self, c) for c in range(len(REQUESTER_CLASSES))], random=self.random
        )
        self.teams_list = [
            ServerTeam(self, s) if st.service_mean[s] > 0 else ReviewTeam(self, s) for s in range(len(STAGES))
        ]
        self.teams = AgentSet(self.teams_list, random=self.random)
        self.datacollector = mesa.DataCollector(
            model_reporters={
                "day": "day",
                **{
                    f"queue_{s.value}": partial(queue_size, stage=i)
                    for i, s in enumerate(STAGES)
                },
                "filed": "filed_today",
                "decided": "decided_today",
            }
        )

    # ------------------------------------------------------------ random streams of the whole horizon

    def _copy_rng(self, state: dict[str, Any], advance: int = 0) -> np.random.Generator:
        """A generator at `state` (of the model's bit generator), `advance` 64-bit draws further on."""
        bits = type(self.rng.bit_generator)()
        bits.state = state
        if advance:
            bits.advance(advance)
        return np.random.Generator(bits)

    def _setup_streams(self) -> None:
        """Position one generator per stream where a draw of the whole horizon at once reads it.

        That draw was, in order on the seed's generator: the daily counts, N x 8 uniforms, N normals, the
        rankings of organizations and targets, N x 2 uniforms for free-use claims (when false claims are
        modelled) and N x 3 uniforms for reviewers' rejections. A uniform is one 64-bit draw, so the streams
        after the uniforms start `advance`d copies further; normals take a variable number of draws, so they
        are drawn once here (in chunks, not kept) to find where the rankings begin.
        """
        st, rng = self.statics, self.rng
        C, D, T = len(REQUESTER_CLASSES), st.days, len(st.world.targets)
        counts = rng.poisson(st.rates[None, :], size=(D, C))  # day-major, then class
        self.offsets = np.concatenate([[0], np.cumsum(counts.ravel())])
        N = int(self.offsets[-1])
        self.n = N
        self.n_days = D
        s0 = rng.bit_generator.state
        self._u_rng = self._copy_rng(s0)
        self._z_rng = self._copy_rng(s0, 8 * N)
        walk = self._copy_rng(s0, 8 * N)
        for lo in range(0, N, 1 << 20):
            walk.standard_normal(min(1 << 20, N - lo))
        # organization within the class: Zipf activity over a seed-drawn ranking
        class_n = counts.sum(axis=0)
        self._org_cdf: list[np.ndarray | None] = []
        for c in range(C):
            orgs = st.class_orgs[c]
            if not class_n[c] or not orgs.size:
                self._org_cdf.append(None)
                continue
            w = (walk.permutation(orgs.size) + 1.0) ** -st.scenario.demand.org_zipf
            self._org_cdf.append(np.cumsum(w) / w.sum())
        self._pop = (walk.permutation(T) + 1.0) ** -st.scenario.demand.target_zipf if T else np.zeros(0)
        self._target_cdf: dict[int, tuple[np.ndarray, np.ndarray]] = {}
        s1 = walk.bit_generator.state
        self._false_claims = st.scenario.demand.free_claims.false_share > 0
        self._claim_rng = self._copy_rng(s1) if self._false_claims else None
        self._reject_rng = self._copy_rng(s1, 2 * N if self._false_claims else 0)
        # streams of their own (sharing responsibility lists, computation products)
        self._list_rng = np.random.default_rng([self.seed_value, 16])
        self._compute_rng = np.random.default_rng([self.seed_value, 17])
        # live requests: none yet
        self._drawn_days = 0
        self._block_g0 = self._block_s0 = 0
        self.gid = np.zeros(0, dtype=np.int64)
        for name, dtype in LIVE_FIELDS:
            setattr(self, name, np.zeros((0, len(STAGES) + 1) if name == "due" else 0, dtype=dtype))
        if len(STAGES):
            self.u_reject = np.zeros((0, len(STAGES)))
        self.service = np.zeros((0, len(STAGES)))
        # M/M/c stages (review.service_mean_days): a stream of their own, N uniforms (time of day of each
        # arrival) then N x stages exponentials (decision times), read block by block in that order
        self._enter_rng = self._service_rng = None
        if (st.service_mean > 0).any():
            s18 = np.random.default_rng([self.seed_value, 18]).bit_generator.state
            self._enter_rng, self._service_rng = self._copy_rng(s18), self._copy_rng(s18, N)

    def _draw_block(self, d0: int, d1: int) -> dict[str, np.ndarray]:
        """Every per-arrival draw and policy result of the arrivals of days [d0, d1)."""
        raw = self.draws(d0, d1)
        if self.border is not None:  # a regional run: requests for other regions' data leave here
            raw = self.border.split(self, raw, d0, d1)
        return self._resolve(raw)

    def draws(self, d0: int, d1: int) -> dict[str, Any]:
        """The random draws of the arrivals of days [d0, d1), before anything reads the world.

        Kept apart from `_resolve` so a regional run can send a draw to another region, which resolves it
        against its own targets (`inject`). Each stream is read exactly as one draw of the whole block.
        """
        C = len(REQUESTER_CLASSES)
        g0, g1 = int(self.offsets[d0 * C]), int(self.offsets[d1 * C])
        N = g1 - g0
        counts = np.diff(self.offsets[d0 * C : d1 * C + 1])
        raw: dict[str, Any] = {"gid": np.arange(g0, g1, dtype=np.int64)}
        raw["arr_day"] = np.repeat(np.repeat(np.arange(d0, d1), C), counts)
        raw["arr_cls"] = np.repeat(np.tile(np.arange(C), d1 - d0), counts)
        raw["local"] = np.ones(N, dtype=bool)
        raw["u"] = self._u_rng.random((N, 8))
        raw["z"] = self._z_rng.standard_normal(N)
        raw["u_claim"] = self._claim_rng.random((N, 2)) if self._claim_rng is not None else np.ones((N, 2))
        raw["u_list"] = self._list_rng.random(N)
        raw["wanted"] = self._compute_rng.poisson(self.statics.scenario.compute.queries_mean, N) + 1
        raw["u_reject"] = self._reject_rng.random((N, len(STAGES)))
        if self._enter_rng is not None:
            raw["u_enter"] = self._enter_rng.random(N)  # uniform time of day
            raw["service"] = self._service_rng.exponential(1.0, (N, len(STAGES)))  # in units of each mean
        else:
            raw["u_enter"] = np.zeros(N)
            raw["service"] = np.zeros((N, len(STAGES)))
        return raw

    def keep_arrivals(self, raw: dict[str, Any], keep: np.ndarray, d0: int, d1: int) -> dict[str, Any]:
        """The draws of block [d0, d1) without the rows `keep` is False for (requests that leave the region):
        the day/class offsets and the arrival count shrink to match, so the block reads as if drawn so."""
        C = len(REQUESTER_CLASSES)
        gone = ~keep
        if not gone.any():
            return raw
        cell = raw["arr_day"] * C + raw["arr_cls"] - d0 * C
        removed = np.cumsum(np.bincount(cell[gone], minlength=(d1 - d0) * C))
        self.offsets[d0 * C + 1 : d1 * C + 1] -= removed
        self.offsets[d1 * C + 1 :] -= removed[-1]
        self.n -= int(removed[-1])
        out = {k: v[keep] for k, v in raw.items()}
        out["gid"] = int(self.offsets[d0 * C]) + np.arange(int(keep.sum()), dtype=np.int64)
        return out

    def pick_orgs(self, arr_cls: np.ndarray, u: np.ndarray, mask: np.ndarray) -> np.ndarray:
        """The requesting organization of each arrival in `mask` from its class and uniform `u` (Zipf activity
        within the class); -1 elsewhere and for a class this world has none of."""
        org = np.full(arr_cls.size, -1, dtype=np.int64)
        for c in range(len(REQUESTER_CLASSES)):
            cdf = self._org_cdf[c]
            m = (arr_cls == c) & mask
            if cdf is None or not m.any():
                continue
            orgs = self.statics.class_orgs[c]
            org[m] = orgs[np.minimum(np.searchsorted(cdf, u[m], side="right"), orgs.size - 1)]
        return org

    def _resolve(self, raw: dict[str, Any]) -> dict[str, np.ndarray]:
        """Every per-arrival result of `raw` draws on this model's world and policy."""
        st = self.statics
        C, T = len(REQUESTER_CLASSES), len(st.world.targets)
        N = int(raw["gid"].size)
        out: dict[str, np.ndarray] = {"gid": raw["gid"], "arr_day": raw["arr_day"]}
        arr_cls = raw["arr_cls"]
        out["arr_cls"] = arr_cls
        u = raw["u"]
        z = raw["z"]
        purpose = _pick(st.purpose_cdf[arr_cls], u[:, 0])
        channel = _pick(st.channel_cdf[arr_cls], u[:, 1])
        # a request from another region names none of our organizations, but carries who asked, in its
        # origin's terms
        org = self.pick_orgs(arr_cls, u[:, 2], raw["local"])
        if "requester" in raw:
            far = ~raw["local"] & (raw["requester"] >= 0)
            org[far] = FOREIGN_ORG - raw["requester"][far]
        out["org"] = org
        kind_of_class = np.array([KINDS.index(class_requester(c).kind) for c in REQUESTER_CLASSES])
        target = np.full(N, -1, dtype=np.int64)
        P = len(PURPOSES)
        combo = (arr_cls * P + purpose) * len(CHANNELS) + channel
        for key in np.unique(combo).tolist():
            hit = self._target_cdf.get(key)
            if hit is None:
                c, rest = divmod(int(key), P * len(CHANNELS))
                p, ch = divmod(rest, len(CHANNELS))
                ok = (st.world.target_channel == ch) & st.allowed[st.target_sig, kind_of_class[c], p]
                cand = np.flatnonzero(ok)
                cdf = np.cumsum(self._pop[cand]) / self._pop[cand].sum() if cand.size else np.zeros(0)
                hit = self._target_cdf[key] = (cand, cdf)
            cand, cdf = hit
            if not cand.size:
                continue
            m = combo == key
            target[m] = cand[np.minimum(np.searchsorted(cdf, u[m, 3], side="right"), cand.size - 1)]
        out["target"] = target
        has = target >= 0
        tg = np.where(has, target, 0)
        sig = st.target_sig[tg] if T else np.zeros(N, dtype=np.int64)
        kind = kind_of_class[arr_cls]
        # conditional free use: false declarations, then claims the policy refuses are quoted as paid use
        AO = CHANNELS.index(Channel.authorized_operation)
        product = has & (st.world.target_channel[tg] == AO) if T else np.zeros(N, dtype=bool)
        declared_false = np.zeros(N, dtype=bool)
        out["true_purpose"] = purpose.copy()
        fc = st.scenario.demand.free_claims
        free_p = np.array([p in st.policy.purposes.free for p in PURPOSES])
        if self._claim_rng is not None:
            u_claim = raw["u_claim"]
            claim_p = PURPOSES.index(Purpose(fc.purpose))
            lie = product & ~free_p[purpose] & (u_claim[:, 0] < fc.false_share)
            lie &= st.allowed[sig, kind, claim_p] if T else lie
            purpose = np.where(lie, claim_p, purpose)
            declared_false = lie
            u_detect = u_claim[:, 1]
        else:
            u_detect = np.ones(N)
        refused = product & free_p[purpose] & ~st.claim_ok[kind, purpose]
        out["claim_refused"] = refused
        out["purpose"] = purpose = np.where(refused, st.paid_as[purpose], purpose)
        declared_false &= ~refused
        out["declared_false"] = declared_false
        out["misuse_found"] = declared_false & (u_detect < fc.detection)
        SH = CHANNELS.index(Channel.sharing)
        sharing = has & (st.world.target_channel[tg] == SH) if T else np.zeros(N, dtype=bool)
        dept = kind == KINDS.index(OrganizationKind.department)
        out["list_based"] = sharing & dept & (raw["u_list"] < st.scenario.demand.list_share)
        out["req_shape"] = np.where(has, st.shape[sig, kind, purpose] if T else -1, 0)
        out["free"] = free = np.where(has, st.free[sig, kind, purpose] if T else True, True)
        out["policy_cond"] = np.where(has, st.policy_conditions[sig, kind, purpose] if T else False, False)
        release_k = np.where(has, st.release_k[sig, kind, purpose] if T else 0, 0)
        code, a, b = st.dist_code[tg], st.dist_a[tg], st.dist_b[tg]
        value = np.empty(N)
        for c, f in (
            (0, lambda m: a[m] * np.exp(b[m] * z[m])),
            (1, lambda m: a[m] + (b[m] - a[m]) * u[m, 4]),
            (2, lambda m: -a[m] * np.log1p(-u[m, 4])),
        ):
            sel = code == c
            value[sel] = f(sel)
        volume = np.ones(N, dtype=np.int64)
        unit = np.where(has, st.unit_idx[tg], -1)
        for ui in range(len(UNITS)):
            m = unit == ui
            if m.any():
                vals, cdf = st.volume_values[ui], st.volume_cdf[ui]
                volume[m] = vals[np.minimum(np.searchsorted(cdf, u[m, 5], side="right"), vals.size - 1)]
        out["volume"] = volume
        cd = st.scenario.compute
        out["compute"] = compute = has & st.compute_mode[tg] if T else np.zeros(N, dtype=bool)
        wanted = raw["wanted"]
        answered = np.minimum(wanted, st.compute_queries_max)
        out["queries"] = queries = np.where(compute, answered, 0)
        out["budget_exhausted"] = compute & (wanted > st.compute_queries_max)
        out["value_rows"] = value.copy()  # what the same answer would be worth from rows
        factor = (1.0 - cd.utility_error) * answered / wanted
        out["value"] = np.where(compute, value * factor, value)
        out["release_k"] = np.where(compute, 0, release_k)  # no rows released
        out["quote_volume"] = quote_volume = np.where(compute, -queries, volume)
        out["u_reject"] = raw["u_reject"]
        if self._enter_rng is not None:
            out["enter_time"] = out["arr_day"] + raw["u_enter"]  # filing day + uniform time of day
        out["service"] = raw["service"]
        out["u_cond"] = u[:, 6].copy()
        # quotes for paid requests, one policy call per distinct (product, purpose, class, volume)
        price = np.zeros(N)
        quote_id = np.full(N, -1, dtype=np.int64)
        status = np.full(N, IN_REVIEW, dtype=np.int64)
        refusal = np.full(N, "", dtype=object)
        status[~has] = UNSERVED
        paid = np.flatnonzero(has & ~free)
        if paid.size:
            top = int(max(volume.max(), queries.max())) + 1
            V = 2 * top  # volume codes: n records/calls/... as n, n computation queries as top + n
            vcode = np.where(compute, top + queries, volume)
            qkey = ((target[paid] * P + purpose[paid]) * C + arr_cls[paid]) * V + vcode[paid]
            uniq, inv = np.unique(qkey, return_inverse=True)
            prices = np.zeros(uniq.size)
            ids = np.zeros(uniq.size, dtype=np.int64)
            ok = np.ones(uniq.size, dtype=bool)
            rules = [""] * uniq.size
            for j, k in enumerate(uniq.tolist()):
                rest, vol = divmod(k, V)
                vol = vol if vol < top else top - vol
                rest, c = divmod(rest, C)
                t, p = divmod(rest, P)
                hit = st.quote_for(t, p, c, vol)
                if isinstance(hit, str):
                    ok[j], rules[j] = False, hit
                else:
                    prices[j] = float(hit[0].total)
                ids[j] = self._quote_index(t, p, c, vol)
            price[paid] = prices[inv]
            quote_id[paid] = ids[inv]
            bad = paid[~ok[inv]]
            status[bad] = UNSERVED
            refusal[bad] = np.array(rules, dtype=object)[inv][~ok[inv]]
        out["price"], out["quote_id"], out["status"], out["refusal"] = price, quote_id, status, refusal
        # what a false claim would have paid: leaked revenue, or charged when the misuse is found
        leak_price = np.zeros(N)
        true_purpose = out["true_purpose"]
        for i in np.flatnonzero(declared_false & free).tolist():
            hit = st.quote_for(int(target[i]), int(true_purpose[i]), int(arr_cls[i]), int(quote_volume[i]))
            if not isinstance(hit, str):
                leak_price[i] = float(hit[0].total)
        out["leak_price"] = leak_price
        return out

    def _quote_index(self, t: int, p: int, c: int, vol: int) -> int:
        key = (t, p, c, vol)
        hit = self.quote_ids.get(key)
        if hit is None:
            hit = self.quote_ids[key] = len(self.quote_keys)
            self.quote_keys.append(key)
        return hit

    def _next_block(self) -> None:
        """Hand finished requests to the observers, keep the open ones, draw the next block of days."""
        self._emit(final=False)
        d0 = self._drawn_days
        d1 = min(self.n_days, d0 + self.block_days)
        new = self._draw_block(d0, d1)
        n_live = int(self.gid.size)
        self._block_g0, self._block_s0 = int(self.offsets[d0 * len(REQUESTER_CLASSES)]), n_live
        self._append(new)
        self._drawn_days = d1

    def _append(self, new: dict[str, np.ndarray]) -> None:
        """Add resolved arrivals to the live requests."""
        n = int(new["gid"].size)
        self.gid = np.concatenate([self.gid, new["gid"]])
        for name, dtype in LIVE_FIELDS:
            old = getattr(self, name)
            if name in new:
                add = new[name].astype(dtype, copy=False)
            elif name == "due":
                add = np.full((n, len(STAGES) + 1), _NEVER, dtype=dtype)
            else:
                add = np.full(n, -1 if name in ("filed_day", "decided_day", "filed_seq") else 0, dtype=dtype)
            setattr(self, name, np.concatenate([old, add]))
        self.u_reject = np.concatenate([self.u_reject, new["u_reject"]])
        self.service = np.concatenate([self.service, new["service"]])

    def inject(self, raw: dict[str, Any]) -> None:
        """Requests from other regions (their draws, in canonical order) enter today, after today's block.

        This region resolves each draw against its own targets and prices; the requester then files or not
        by the same rule as local requesters (`RequesterGroup.consider`), seeing this region's backlogs.
        """
        n_live = int(self.gid.size)
        n = int(raw["gid"].size)
        raw = dict(raw, arr_day=np.full(n, self.day, dtype=np.int64), local=np.zeros(n, dtype=bool))
        self._append(self._resolve(raw))
        self.n += n
        idx = np.arange(n_live, n_live + n)
        idx = idx[self.status[idx] != UNSERVED]
        if idx.size:
            consider(self, idx, self.arr_cls[idx])

    def _emit(self, *, final: bool) -> None:
        """Hand the finished requests (every live one if `final`) to the observers; keep the rest."""
        if not self.gid.size:
            return
        done = np.ones(self.gid.size, dtype=bool) if final else self.status != IN_REVIEW
        slots = np.flatnonzero(done)
        if slots.size:
            for obs in self.observers:
                obs.records(self, slots, final)
        if final:
            return
        keep = np.flatnonzero(~done)
        if keep.size == self.gid.size:
            return
        remap = np.full(self.gid.size, -1, dtype=np.int64)
        remap[keep] = np.arange(keep.size)
        self.gid = self.gid[keep]
        for name, _ in LIVE_FIELDS:
            setattr(self, name, getattr(self, name)[keep])
        self.u_reject = self.u_reject[keep]
        self.service = self.service[keep]
        for t in self.teams_list:
            t.renumber(remap)

    def slice_of(self, day: int, cls: int) -> tuple[int, int]:
        """Live slots of the arrivals of `day` and class `cls`."""
        i = day * len(REQUESTER_CLASSES) + cls
        shift = self._block_s0 - self._block_g0
        return int(self.offsets[i]) + shift, int(self.offsets[i + 1]) + shift

    # ------------------------------------------------------------ behaviour

    def expected_wait(self) -> np.ndarray:
        """Calendar days a requester expects per stage plan, from today's backlogs (cached per day)."""
        if getattr(self, "_wait_day", -1) == self.day:
            return self._wait
        st = self.statics
        per_stage = np.array(
            [
                (t.queue.size + sum(x.size for x in t.incoming)) / t.capacity + 1.0 if t.capacity else np.inf
                for t in self.teams_list
            ]
        )
        wait = np.zeros(max(len(st.shapes), 1))
        for h, key in enumerate(st.shapes):
            total = 0.0
            for stage, wd, breach in key:
                est = per_stage[STAGES.index(stage)]
                if breach != "escalate":
                    est = min(est, wd + 1.0)
                total += est
            wait[h] = total * 7.0 / 5.0
        self._wait, self._wait_day = wait, self.day
        return wait

    def file(self, idx: np.ndarray) -> None:
        """Requests filed today: due dates from the policy, then the first stage's queue."""
        st = self.statics
        d = self.day
        self.filed_day[idx] = d
        self.filed_seq[idx] = self.filed_count + np.arange(idx.size)
        self.filed_count += int(idx.size)
        self.filed_today += int(idx.size)
        shapes = self.req_shape[idx]
        for h in np.unique(shapes).tolist():
            m = idx[shapes == h]
            dues = st.due_days(h, d)
            if dues:
                self.due[m, : len(dues)] = dues
        self.entered_day[idx] = d
        self._advance(idx)

    def _advance(self, idx: np.ndarray) -> None:
        """Send requests to the queue of their current stage, or finish those that passed every stage."""
        st = self.statics
        nxt = st.shape_stage_idx[self.req_shape[idx], self.stage_pos[idx]]
        done = idx[nxt < 0]
        if done.size:
            self.status[done] = DELIVERED
            self.decided_day[done] = self.day
            self.decided_today += int(done.size)
            self.with_conditions[done] = self.policy_cond[done] | (
                self.u_cond[done] < st.scenario.review.conditions_rate
            )
        for s in range(len(STAGES)):
            m = idx[nxt == s]
            if m.size:
                self.entered_day[m] = self.day
                self.teams_list[s].incoming.append(m)

    def decide(self, idx: np.ndarray, stage: int, *, deemed: bool) -> None:
        st = self.statics
        d = self.day
        pos = self.stage_pos[idx]
        due = self.due[idx, pos]
        late = d > due
        if deemed:
            reject = np.full(idx.size, st.on_breach[stage] == BREACH["deemed_rejection"])
            late = np.ones(idx.size, dtype=bool)
            rstatus = np.full(idx.size, 1)
        else:
            reject = self.u_reject[idx, stage] < st.reject_rate[stage]
            rstatus = np.where(late, 2, 0)
        bound = self.list_based[idx] & (stage == HOLDER)  # a list entry leaves the holder no discretion
        if bound.any():
            reject = reject & ~bound
        self.breaches[idx] += late
        last = st.shape_stage_idx[self.req_shape[idx], pos + 1] < 0
        # conditions of the reviewer's own: none from a holder bound by a list entry
        own = (self.u_cond[idx] < st.scenario.review.conditions_rate) & ~bound
        conds = ~reject & last & (self.policy_cond[idx] | own)
        decision = np.where(reject, 2, np.where(conds, 1, 0))
        batch = (idx, pos, stage, self.entered_day[idx].copy(), d, due, decision, rstatus, late)
        for obs in self.observers:
            obs.reviews(self, batch)
        rej = idx[reject]
        self.status[rej] = REJECTED
        self.decided_day[rej] = d
        self.decided_today += int(rej.size)
        go = idx[~reject]
        self.stage_pos[go] += 1
        self._advance(go)

    def begin_day(self) -> None:
        """Start `self.day`: draw the next block of arrivals when it begins one, reset the day's counts."""
        if self.day == self._drawn_days and self.day < self.n_days:
            self._next_block()
        self.filed_today = self.decided_today = 0

    def finish(self) -> None:
        """After the last day: hand every request still open to the observers."""
        self._emit(final=True)

    def step(self) -> None:
        self.begin_day()
        if self.inbound:
            arriving = self.inbound.pop(self.day, None)
            if arriving is not None:
                self.inject(arriving)
        self.groups.do("step")
        for t in self.teams_list:
            t.admit()
        self.teams.do("step")
        for t in self.teams_list:
            t.expire()
        self.datacollector.collect(self)
        self.day += 1

    def run(self, progress: Any = None) -> None:
        for _ in range(self.n_days):
            self.step()
            if progress is not None:
                progress(1)
        self.finish()

    def release(self) -> None:
        """Let go of everything the run holds once its results are taken.

        Mesa 3.3 keeps every model it has seen in a class-level registry of agent ids (`mesa.Agent`, Mesa
        issue 3179, fixed after 3.3.1, the newest release). The registry can be emptied only through a private
        name, so the model empties itself instead: its agents are removed (`remove_all_agents`) and every
        attribute of ours is dropped, so what the registry keeps is a shell of a few kilobytes, not a run.
        """
        self.remove_all_agents()
        for name in set(vars(self)) - self._mesa_names - {"_mesa_names"}:
            delattr(self, name)

    def misuse_charges(self, slots: np.ndarray) -> dict[int, tuple[Any, Any]]:
        """Delivered free grants among live `slots` found misused -> (Quote, Split) of the retroactive charge.

        As `workflows.free_use.find_misuse` charges it: at the paid price of the purpose the policy names for
        the declared free purpose (`free_use.<purpose>.paid_as`). The fee is the operator's revenue against
        MAR like any other; metrics and `simulate --db` both count it from here.
        """
        st = self.statics
        found = (self.status[slots] == DELIVERED) & self.free[slots] & self.declared_false[slots]
        found &= self.misuse_found[slots]
        out = {}
        for i in slots[found].tolist():
            paid_as = int(st.paid_as[self.purpose[i]])
            hit = st.quote_for(int(self.target[i]), paid_as, int(self.arr_cls[i]), int(self.quote_volume[i]))
            if not isinstance(hit, str):
                out[i] = hit
        return out


def queue_size(m: MarketModel, stage: int) -> int:
    """Reporter of one review team's queue length (a module function under `partial`, not a lambda, so a
    model can be checkpointed)."""
    return int(m.teams_list[stage].queue.size)


def _pick(cdf_rows: np.ndarray, u: np.ndarray) -> np.ndarray:
    """Index of the category that uniform `u` falls in, per row of cumulative weights."""
    idx = (u[:, None] >= cdf_rows).sum(axis=1)
    return np.minimum(idx, cdf_rows.shape[1] - 1)
