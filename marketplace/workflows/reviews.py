"""Review stages: a reviewer decides the open stage of a request; the request moves on when the last approves.

Stages run one after another (the policy gives each its due date). Deciding is guarded three ways: the
lifecycle (only the open stage of a request in review), the roles (the stage's reviewer role, the holder's own
steward, never the requester), and the version check (two reviewers deciding at once: one lands, the other
gets ConflictError)."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from typing import Any, NamedTuple

from sqlalchemy import func, literal_column, or_, tuple_
from sqlmodel import Session, select

from marketplace import policy as pol
from marketplace.errors import InvalidInput, TransitionError
from marketplace.models import AccessRequest, Account, AccountRole, Condition, Review
from marketplace.models.requests import OPEN_STAGE_STATUSES
from marketplace.policy import ConditionSpec, Policy
from marketplace.policy.schema import MAX_K, MAX_L
from marketplace.vocabulary import ConditionKind, Decision, RequestStatus, ReviewStage, ReviewStatus
from marketplace.workflows import facts
from marketplace.workflows.grants import finish_approval
from marketplace.workflows.lookups import field_names, first_unopened, open_review
from marketplace.workflows.roles import has_role
from marketplace.workflows.step import Step, step

__all__ = [
    "QUEUE_COUNT_CAP",
    "QueueCount",
    "QueueKey",
    "condition_text",
    "decide",
    "open_review",
    "parse_condition",
    "parse_conditions",
    "queue_key",
    "review_queue",
    "review_queue_count",
]

#: Longest condition text and reviewer's reason (a reason is copied into the audit row, so it stays small).
MAX_CONDITION_CHARS = 500
MAX_REASON = 2000
#: Largest minimum cell a condition may set (no seeded resource has more rows in one cell).
MAX_MIN_CELL = 100_000

_CALL = re.compile(r"^\s*([a-z_]+)\s*(?:\((.*)\))?\s*$", re.S)
_ARG = re.compile(r"^\s*([a-z_]+)\s*(>=|=|:)\s*(.+?)\s*$", re.S)


def _split_args(text: str) -> list[str]:
    out, depth, cur = [], 0, ""
    for ch in text:
        if ch == "[":
            depth += 1
        elif ch == "]":
            depth -= 1
        if ch == "," and depth == 0:
            out.append(cur)
            cur = ""
        else:
            cur += ch
    if cur.strip():
        out.append(cur)
    return out


def _value(raw: str) -> Any:
    raw = raw.strip()
    if raw.startswith("[") and raw.endswith("]"):
        return [v.strip().strip("'\"") for v in raw[1:-1].split(",") if v.strip()]
    try:
        return int(raw)
    except ValueError:
        try:
            return float(raw)
        except ValueError:
            return raw.strip("'\"")


def condition_text(kind: ConditionKind, params: dict[str, Any]) -> str:
    if kind is ConditionKind.deidentify:
        return f"deidentify(k>={params['k']}, l>={params['l']})"
    if not params:
        return kind.value
    inner = ", ".join(
        f"{k}=[{', '.join(map(str, v))}]" if isinstance(v, list) else f"{k}={v}" for k, v in params.items()
    )
    return f"{kind.value}({inner})"


def _whole(name: str, value: Any, low: int, high: int | None = None) -> int:
    if (
        isinstance(value, bool)
        or not isinstance(value, int)
        or value < low
        or (high is not None and value > high)
    ):
        bound = f"from {low} to {high}" if high is not None else f">= {low}"
        raise InvalidInput(name, value, f"a whole number {bound}")
    return value


def parse_condition(spec: Any, policy: Policy, field_names: Iterable[str] = ()) -> ConditionSpec:
    """A condition from text ("deidentify(k>=5, l>=2)"), a {"kind", "params"} dict or a ConditionSpec.

    Reviewers may tighten the policy's thresholds, never loosen them.
    """
    if isinstance(spec, ConditionSpec):
        kind_raw, params = spec.kind, dict(spec.params)
    elif isinstance(spec, dict):
        kind_raw, params = spec.get("kind"), dict(spec.get("params") or {})
    elif isinstance(spec, str):
        if len(spec) > MAX_CONDITION_CHARS:
            raise InvalidInput("conditions", spec[:40] + "…", f"a condition of at most {MAX_CONDITION_CHARS} "
                               "characters")
        m = _CALL.match(spec)
        if not m:
            raise InvalidInput("conditions", spec, "kind(param=value, ...) e.g. deidentify(k>=5, l>=2)")
        kind_raw, params = m.group(1), {}
        for arg in _split_args(m.group(2) or ""):
            a = _ARG.match(arg)
            if not a:
                raise InvalidInput("conditions", spec, "parameters written name=value or name>=value")
            params[a.group(1)] = _value(a.group(3))
    else:
        raise InvalidInput("conditions", spec, "a condition text, dict or ConditionSpec")
    try:
        kind = ConditionKind(kind_raw)
    except ValueError:
        raise InvalidInput(
            "conditions.kind", kind_raw, "one of " + ", ".join(k.value for k in ConditionKind)
        ) from None
    pv = policy.privacy
    allowed: dict[ConditionKind, set[str]] = {
        ConditionKind.deidentify: {"k", "l"},
        ConditionKind.aggregate: {"min_cell", "by"},
        ConditionKind.fields: {"only"},
        ConditionKind.no_onward_transfer: set(),
        ConditionKind.expires_after: {"days"},
        ConditionKind.report_usage: {"days"},
        ConditionKind.no_commercial_use: set(),
        ConditionKind.publish_results: set(),
    }
    extra = sorted(set(params) - allowed[kind])
    if extra:
        raise InvalidInput(
            f"conditions.{kind.value}", extra, "parameters " + (", ".join(sorted(allowed[kind])) or "none")
        )
    names = list(field_names)
    if kind is ConditionKind.deidentify:
        params = {
            "k": _whole("deidentify.k", params.get("k", pv.k), pv.k, MAX_K),
            "l": _whole("deidentify.l", params.get("l", pv.l), pv.l, MAX_L),
        }
    elif kind is ConditionKind.aggregate:
        params["min_cell"] = _whole(
            "aggregate.min_cell", params.get("min_cell", pv.min_cell_size), pv.min_cell_size, MAX_MIN_CELL
        )
        by = params.get("by")
        if by is not None:
            by = [by] if isinstance(by, str) else list(by)
            unknown = [b for b in by if names and b not in names]
            if not by or unknown:
                raise InvalidInput("aggregate.by", by, "fields of the data: " + ", ".join(names))
            params["by"] = by
    elif kind is ConditionKind.fields:
        only = params.get("only")
        only = [only] if isinstance(only, str) else list(only or [])
        unknown = [f for f in only if names and f not in names]
        if not only or unknown:
            raise InvalidInput(
                "fields.only", only, "a non-empty list of fields of the data: " + ", ".join(names)
            )
        params = {"only": only}
    elif kind is ConditionKind.expires_after:
        params = {
            "days": _whole("expires_after.days", params.get("days"), 1, policy.conditions.max_grant_days)
        }
    elif kind is ConditionKind.report_usage and "days" in params:
        params = {"days": _whole("report_usage.days", params["days"], 1, policy.conditions.max_grant_days)}
    return ConditionSpec(kind, params, condition_text(kind, params))


def parse_conditions(
    specs: Iterable[Any], policy: Policy, field_names: Iterable[str] = ()
) -> list[ConditionSpec]:
    names = list(field_names)
    return [parse_condition(s, policy, names) for s in specs]


def decide(
    session: Session,
    actor: Account,
    review: Review,
    decision: Decision | str,
    *,
    conditions: Iterable[Any] = (),
    reason: str = "",
) -> Review:
    """Decide the open stage: approve, approve_with_conditions (+ conditions), reject, return_for_revision."""
    try:
        decision = Decision(decision)
    except ValueError:
        raise InvalidInput("decision", decision, "one of " + ", ".join(d.value for d in Decision)) from None
    req = review.request
    policy = facts.current_policy(session)
    conditions = list(conditions)
    specs = parse_conditions(conditions, policy, field_names(req) if conditions else [])
    if decision is Decision.approve_with_conditions and not specs:
        raise InvalidInput("conditions", [], "at least one condition for approve_with_conditions")
    if specs and decision is not Decision.approve_with_conditions:
        raise InvalidInput(
            "conditions", [s.text for s in specs], "no conditions unless approve_with_conditions"
        )
    if not isinstance(reason, str) or len(reason) > MAX_REASON:
        raise InvalidInput(
            "reason", str(reason)[:40] + "…", f"a text of at most {MAX_REASON} characters",
            "expected.text_at_most", {"limit": MAX_REASON},
        )  # fmt: skip
    if decision in (Decision.reject, Decision.return_for_revision) and not reason.strip():
        raise InvalidInput(
            "reason", reason, f"a reason the requester can read for {decision.value}",
            "expected.reason_for", {"decision": decision.value},
        )  # fmt: skip

    with step(session, actor, "review.decide", req) as st:
        doing = f"decide the {review.stage.value} stage of request {req.code}"
        worded = {"doing_key": "permission.doing.decide_stage",
                  "doing_params": {"stage": review.stage.value, "request": req.code}}
        st.require(actor.id != req.requester_id, "a requester cannot review their own request", doing=doing,
                   key="permission.own_request", params={}, **worded)
        st.require(
            has_role(actor, review.reviewer_role),
            f"the {review.stage.value} stage is reviewed by the {review.reviewer_role.value} role",
            doing=doing,
            key="permission.stage_role",
            params={"stage": review.stage.value, "role": review.reviewer_role.value},
            **worded,
        )
        if review.reviewer_org_id is not None:
            st.require(
                actor.organization_id == review.reviewer_org_id,
                "a steward reviews only for their own organization's resources",
                doing=doing,
            )
        st.allow(req, "decide")
        st.allow(review, "decide")
        if review.stage is ReviewStage.holder and req.list_entry_id is not None:
            pol.check_list_decision(
                st.policy, entry_code=req.list_entry.code, decision=decision, with_conditions=bool(specs)
            )
        if open_review(req) is not review:
            raise TransitionError(
                f"review {review.stage.value} of request {req.code}",
                "waiting",
                "be decided before the earlier stages",
            )
        now = st.now
        review.status = ReviewStatus.decided
        review.decision = decision
        review.reason = reason
        review.reviewer_id = actor.id
        review.decided_at = now
        req.updated_at = now
        # Of two reviewers deciding at once, the second stops here (the stage's version check).
        st.save(f"the {review.stage.value} review of request {req.code}")
        if specs:
            session.add_all(
                Condition(
                    request_id=req.id,
                    review_id=review.id,
                    kind=spec.kind,
                    params=dict(spec.params),
                    text=spec.text,
                    source="reviewer",
                )
                for spec in specs
            )
            st.save(f"request {req.code}")
            session.expire(req, ["conditions"])
        st.record(
            {
                "review_id": review.id,
                "stage": review.stage,
                "decision": decision,
                "reason": reason,
                "conditions": [s.text for s in specs],
                "due": review.due_on,
                "late": now.date() > review.due_on if review.due_on else False,
            }
        )
        after_decision(st, req, review)
        st.save(f"request {req.code}")
    return review


def after_decision(st: Step, req: AccessRequest, review: Review) -> None:
    """Move the request on after a stage is decided (or deemed): next stage, final approval, or the end."""
    if review.decision in (Decision.reject, Decision.return_for_revision):
        for other in req.reviews:
            if other.status in (ReviewStatus.pending, ReviewStatus.escalated):
                other.status = ReviewStatus.cancelled
        action = "reject" if review.decision is Decision.reject else "return"
        req.status = st.allow(req, action)
        req.decided_at = st.now if action == "reject" else req.decided_at
        req.updated_at = st.now
        st.record({"stage": review.stage, "reason": review.reason}, action=f"request.{action}")
        return
    nxt = first_unopened(req)
    if nxt is not None:
        nxt.opened_at = st.now
        return
    round_start = max(
        (
            r.sequence
            for r in req.reviews
            if r.status is ReviewStatus.cancelled or r.decision is Decision.return_for_revision
        ),
        default=-1,
    )
    with_conditions = any(
        r.decision is Decision.approve_with_conditions
        for r in req.reviews
        if r.sequence > round_start and r.status in (ReviewStatus.decided, ReviewStatus.deemed)
    )
    finish_approval(
        st.session,
        st.actor,
        req,
        RequestStatus.approved_with_conditions if with_conditions else RequestStatus.approved,
    )


class QueueKey(NamedTuple):
    """A stage's place in the review queue (due date, then id); a page starts after the previous row's key."""

    due_on: date
    id: int


@dataclass(frozen=True)
class QueueCount:
    """The size of a queue, counted up to `QUEUE_COUNT_CAP`: `capped` means "at least `n`"."""

    n: int
    capped: bool


#: A queue's size is counted up to this many stages, then shown as "1,000+": counting every one of a million
#: open stages would cost as much as the unindexed sort the keyset paging avoids (50 pages of 20 is more than
#: anyone pages through; the exact figure is in `marketplace workshop status` and the disclosure report).
QUEUE_COUNT_CAP = 1000


def queue_key(review: Review) -> QueueKey:
    """The key after which the page following `review` starts."""
    if review.due_on is None or review.id is None:
        raise InvalidInput("after", review.id, "an open review stage (one with a due date)")
    return QueueKey(review.due_on, review.id)


def queue_query(session: Session, actor: Account) -> Any:
    """The stages `actor` may decide now, unordered (None: the actor has no role).

    The open-stage terms are `models.requests.OPEN_STAGE_WHERE` with literal values, so that the partial
    index `ix_review_open_due` matches on SQLite and PostgreSQL (a bound parameter hides the values from
    SQLite's planner, and from PostgreSQL's generic plans). On SQLite both status terms are wrapped in
    `likely(...)` (a hint that they select most rows) and the organization is one `coalesce` term: without
    statistics its planner would otherwise start from the index on a status, or on the reviewer's
    organization, and sort every open stage.
    """
    roles = [
        r.role for r in session.exec(select(AccountRole).where(AccountRole.account_id == actor.id)).all()
    ]
    if not roles:
        return None
    is_open = Review.status.in_([literal_column(f"'{s.value}'") for s in OPEN_STAGE_STATUSES])
    in_review = AccessRequest.status == RequestStatus.in_review
    org = actor.organization_id
    of_org = or_(Review.reviewer_org_id.is_(None), Review.reviewer_org_id == org)
    if session.get_bind().dialect.name == "sqlite":
        is_open, in_review = func.likely(is_open), func.likely(in_review)
        # one term, so that no index on the organization competes (PostgreSQL estimates the OR better)
        of_org = (Review.reviewer_org_id.is_(None) if org is None
                  else func.coalesce(Review.reviewer_org_id, org) == org)
    return (
        select(Review)
        .join(AccessRequest)
        .where(
            is_open,
            Review.opened_at.is_not(None),
            Review.due_on.is_not(None),
            Review.reviewer_role.in_(roles),
            of_org,
            in_review,
            AccessRequest.requester_id != actor.id,
        )
    )


def review_queue(
    session: Session, actor: Account, *, limit: int | None = None, after: QueueKey | None = None
) -> list[Review]:
    """The open stages `actor` may decide now, earliest due first (then by id); a page is `limit` stages
    after the key `after` (the last row of the page before; None: from the start).

    Paging by key rather than by offset: each page reads `limit` entries of the partial index along
    (due date, id), whatever the page's depth, and rows inserted or decided between pages neither repeat nor
    skip a stage. Their roles, their organization's stages only, never their own requests.
    """
    query = queue_query(session, actor)
    if query is None:
        return []
    if after is not None:
        due_on, review_id = after  # a row-value comparison: both backends seek the index to it
        query = query.where(tuple_(Review.due_on, Review.id) > tuple_(due_on, review_id))
    query = query.order_by(Review.due_on, Review.id)
    if limit is not None:
        query = query.limit(limit)
    return list(session.exec(query).all())


def review_queue_count(session: Session, actor: Account, *, cap: int = QUEUE_COUNT_CAP) -> QueueCount:
    """How many stages `review_queue` would list, counted up to `cap` (a capped count: cheap at any size,
    exact below the cap; `capped` says the queue holds at least `cap` stages)."""
    query = queue_query(session, actor)
    if query is None:
        return QueueCount(0, False)
    # along the partial index, reading only ids: at most cap + 1 rows whatever the queue's length
    first = query.with_only_columns(Review.id).order_by(Review.due_on, Review.id).limit(cap + 1)
    n = int(session.exec(select(func.count()).select_from(first.subquery())).one())
    return QueueCount(min(n, cap), n > cap)
