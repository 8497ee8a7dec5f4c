"""Routing: may this request go ahead on this channel, through which review stages, under which conditions.

Pure: no I/O, no clock (the caller passes `start`). Rules are checked in a fixed order so that the refusal
a user sees is the most fundamental one (grade before channel attributes before requester and purpose).

Working days come from the policy's calendar (`workdays.py`: China's official schedule plus the policy's
changes); due dates are memoized per policy, since many requests share a start date and a stage length.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from marketplace.errors import InvalidInput
from marketplace.policy.compiled import Tables, tables
from marketplace.policy.products import raw_data_refusal
from marketplace.policy.schema import Policy
from marketplace.policy.types import (
    ConditionSpec,
    Refusal,
    Requester,
    RequestFacts,
    Routing,
    StagePlan,
    Target,
    refusal_error,
)
from marketplace.policy.workdays import HolidayView, add_working_days
from marketplace.vocabulary import (
    Channel,
    ConditionKind,
    Grade,
    OpeningAttribute,
    ReviewStage,
    SharingAttribute,
)

__all__ = [
    "add_working_days",
    "calendar_warning",
    "deadline_outcome",
    "extend_stage",
    "holidays_of",
    "raise_if_refused",
    "route",
    "working_day_after",
]

_CHANNEL_WORDS = {
    Channel.sharing: "sharing",
    Channel.opening: "opening",
    Channel.authorized_operation: "authorized operation",
}


def holidays_of(policy: Policy) -> HolidayView:
    """The policy's days off other than weekends, as a container (`day in holidays_of(policy)`).

    Callers that count working days themselves also need the make-up days: prefer `working_calendar`.
    """
    return HolidayView(tables(policy).calendar)


def working_day_after(policy: Policy, start: date, days: int) -> date:
    """The date `days` working days after `start` under the policy's calendar (0 days = `start`)."""
    return _due(tables(policy), start, days)


def calendar_warning(policy: Policy, day: date) -> str | None:
    """One line when `day` is outside the years whose official holiday schedule is known, else None."""
    return tables(policy).calendar.coverage_warning(day)


#: (start, working days) pairs whose due date is kept: a day's filings meet a handful, so this holds
#: months of them; a larger bound let a long simulation hold years of dates it never asks for again
DUE_CACHE_MAX = 1024


def _due(t: Tables, start: date, days: int) -> date:
    key = (start, days)
    d = t.due_cache.get(key)
    if d is None:
        d = t.calendar.add(start, days)
        if len(t.due_cache) >= DUE_CACHE_MAX:
            t.due_cache.clear()
        t.due_cache[key] = d
    return d


def deadline_outcome(policy: Policy, stage: ReviewStage | str) -> str:
    """What a missed deadline at `stage` means: "escalate", "deemed_approval" or "deemed_rejection"."""
    try:
        st = ReviewStage(stage)
    except ValueError:
        raise InvalidInput("stage", stage, "one of " + ", ".join(s.value for s in ReviewStage)) from None
    return tables(policy).on_breach[st]


def extend_stage(policy: Policy, plan: StagePlan) -> StagePlan:
    """The plan with its due date moved by the extension the policy allows (once); refused if none."""
    if plan.extension_days <= 0:
        raise refusal_error(
            Refusal(
                "deadline.no_extension",
                f"The {plan.stage.value} stage may not be extended under {policy.name}",
                "refusal.no_extension",
                {"stage": plan.stage.value, "policy": policy.name},
            )
        )
    t = tables(policy)
    return StagePlan(
        plan.stage,
        _due(t, plan.due, plan.extension_days),
        plan.working_days + plan.extension_days,
        plan.reviewer_role,
        plan.on_breach,
        0,
    )


def raise_if_refused(routing: Routing) -> Routing:
    """Raise PolicyRefusal (naming the rule) when the routing refuses; otherwise return it unchanged."""
    if not routing.allowed:
        ref = routing.refusal
        assert ref is not None
        raise refusal_error(ref)
    return routing


def _refuse(rule: str, message: str, channel: Channel, key: str, params: dict[str, Any]) -> Routing:
    return Routing(False, Refusal(rule, message, key, params), (), (), False, channel)


def _words(items: frozenset[str] | set[str]) -> str:
    return ", ".join(sorted(str(x) for x in items)) or "none"


def _sorted(items: frozenset[Any] | set[Any]) -> tuple[str, ...]:
    """A list for `Refusal.params`, in the order `_words` spells it."""
    return tuple(sorted(str(x) for x in items))


def route(
    policy: Policy, request: RequestFacts, target: Target, requester: Requester, *, start: date
) -> Routing:
    """Decide whether `request` may go ahead on `target.channel`, and if so its stages and conditions."""
    t = tables(policy)
    ch = target.channel
    grade = target.grade
    if request.volume < 1:
        raise InvalidInput("volume", request.volume, "a whole number >= 1")
    if request.duration_days < 1:
        raise InvalidInput("duration_days", request.duration_days, "a number of days >= 1")

    # 1. grade -> channel
    if ch not in t.grade_channels[grade]:
        allowed = t.grade_channels[grade]
        if grade is Grade.core or not allowed:
            return _refuse(
                f"grade.{grade.value}",
                f"{grade.value.capitalize()} data is not supplied on any channel under {t.name}",
                ch,
                "refusal.grade_none",
                {"grade": f"policy.grade.{grade.value}", "policy": t.name},
            )
        return _refuse(
            "grade.channel",
            f"{grade.value.capitalize()} data may not be supplied by {_CHANNEL_WORDS[ch]} under {t.name}; "
            f"allowed: {_words(set(map(str, allowed)))}",
            ch,
            "refusal.grade_channel",
            {
                "grade": f"policy.grade.{grade.value}", "channel": f"policy.channel.{ch.value}",
                "policy": t.name, "allowed": _sorted(set(map(str, allowed))),
            },
        )

    # 2. channel-specific gates
    if ch is Channel.authorized_operation:
        raw = raw_data_refusal(t.name, t.raw_to_market, target.raw or not target.is_product)
        if raw is not None:
            return Routing(False, raw, (), (), False, ch)
        if grade in t.aggregate_only and not target.aggregated:
            return _refuse(
                "privacy.aggregate_only",
                f"{grade.value.capitalize()} data is supplied only as aggregated products under {t.name}",
                ch,
                "refusal.aggregate_only",
                {"grade": f"policy.grade.{grade.value}", "policy": t.name},
            )
        if (
            grade is Grade.important
            and t.important_processed_only
            and not (target.deidentified or target.aggregated)
        ):
            return _refuse(
                "grade.important_unprocessed",
                f"Important data is supplied by authorized operation only as de-identified or aggregated "
                f"products under {t.name}",
                ch,
                "refusal.important_unprocessed",
                {"policy": t.name},
            )
        conditional = True
    elif ch is Channel.sharing:
        if target.sharing_attribute is SharingAttribute.not_shared:
            return _refuse(
                "sharing.not_shared", "The data holder marked this resource as not shared", ch,
                "refusal.not_shared", {},
            )
        conditional = target.sharing_attribute is SharingAttribute.conditional
    else:
        attr = target.opening_attribute
        if attr is OpeningAttribute.not_open:
            return _refuse(
                "opening.not_open", "The data holder marked this resource as not open", ch,
                "refusal.not_open", {},
            )
        conditional = attr is OpeningAttribute.conditional
        if conditional and grade in t.open_by_default and not target.contains_personal_info:
            conditional = False
        if not conditional and target.contains_personal_info and t.personal_forces_conditional:
            conditional = True

    # 3. who may ask, and for what
    kinds = t.requester_kinds[ch]
    if requester.kind not in kinds:
        return _refuse(
            "channel.requester_kind",
            f"A {requester.kind.value} may not request by {_CHANNEL_WORDS[ch]} under {t.name}; "
            f"allowed: {_words(set(map(str, kinds)))}",
            ch,
            "refusal.requester_kind",
            {
                "kind": requester.kind.value, "channel": f"policy.channel.{ch.value}", "policy": t.name,
                "allowed": _sorted(set(map(str, kinds))),
            },
        )
    purposes = t.allowed_purposes[ch]
    if request.purpose not in purposes:
        return _refuse(
            "purpose.not_allowed",
            f"Purpose {request.purpose.value} is not allowed for {_CHANNEL_WORDS[ch]} under {t.name}; "
            f"allowed: {_words(set(map(str, purposes)))}",
            ch,
            "refusal.purpose_not_allowed",
            {
                "purpose": request.purpose.value, "channel": f"policy.channel.{ch.value}", "policy": t.name,
                "allowed": _sorted(set(map(str, purposes))),
            },
        )
    fields = request.fields
    names = target.field_names
    if fields and names:
        unknown = [f for f in fields if f not in names]
        if unknown:
            raise InvalidInput("fields", unknown, "fields of the requested data: " + ", ".join(names))

    # 4. review stages, one after another
    plans: list[StagePlan] = []
    due = start
    if ch is Channel.authorized_operation:
        stages = t.product_stages[target.product_kind]
    else:
        stages = t.stages[(ch, conditional)]
    for stage in stages:
        ext = 0
        if stage is ReviewStage.compliance:
            days = t.deadline_compliance
        elif stage is ReviewStage.security:
            days = t.deadline_security
        elif ch is Channel.opening:
            days = t.deadline_conditional_open
            ext = t.deadline_conditional_open_ext
        else:
            days = t.deadline_holder_published if target.published else t.deadline_holder_unpublished
        due = _due(t, due, days)
        plans.append(StagePlan(stage, due, days, t.reviewer[stage], t.on_breach[stage], ext))

    # 5. conditions
    conds: list[ConditionSpec] = []
    if target.aggregated or (ch is Channel.authorized_operation and grade in t.aggregate_only):
        conds.append(t.cond_aggregate)
    elif target.contains_personal_info and ch is not Channel.sharing:
        pf = target.personal_fields
        # a request limited to fields known to hold no personal information needs no de-identification
        if not fields or not pf or any(f in pf for f in fields):
            conds.append(t.cond_deidentify)
    if fields and (not names or len(set(fields)) < len(names)):
        only = sorted(set(fields))
        conds.append(ConditionSpec(ConditionKind.fields, {"only": only}, f"fields(only=[{', '.join(only)}])"))
    if conditional or ch is not Channel.opening:
        if ch in t.no_onward_transfer:
            conds.append(t.cond_no_onward)
        if ch in t.report_usage:
            conds.append(t.cond_report)
        days = min(request.duration_days, t.max_grant_days)
        exp = t.expiry_cache.get(days)
        if exp is None:
            exp = t.expiry_cache[days] = ConditionSpec(
                ConditionKind.expires_after, {"days": days}, f"expires_after(days={days})"
            )
        conds.append(exp)

    free = ch is not Channel.authorized_operation or request.purpose in t.free
    if ch is Channel.authorized_operation and free:
        extra = t.free_conditions.get(request.purpose)
        if extra:
            have = {c.kind for c in conds}
            conds.extend(c for c in extra if c.kind not in have)
    return Routing(True, None, tuple(plans), tuple(conds), free, ch)
