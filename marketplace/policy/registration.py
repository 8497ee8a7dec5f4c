"""Registration rules beyond the lifecycle: when a renewal may be filed, when an objection may be filed, and
that an open objection holds the registration (发改数据规〔2025〕26号 gives the public notice; the windows and
periods are sandbox parameters marked as assumptions in the policy file)."""

from __future__ import annotations

from datetime import date, timedelta

from marketplace.policy.schema import Policy
from marketplace.policy.types import Refusal, refusal_error

__all__ = [
    "OBJECTION_OPEN_RULE",
    "OBJECTION_PERIOD_RULE",
    "RENEWAL_RULE",
    "check_no_open_objection",
    "check_objection_period",
    "check_renewal_window",
    "renewed_until",
]

RENEWAL_RULE = "registration.renewal_window"
OBJECTION_PERIOD_RULE = "registration.objection_period"
OBJECTION_OPEN_RULE = "registration.objection_open"


def check_renewal_window(policy: Policy, *, code: str, valid_until: date | None, today: date) -> None:
    """A renewal is filed in the last `renewal_window_days` before the record's validity ends."""
    window = policy.registration.renewal_window_days
    if valid_until is not None and valid_until - timedelta(days=window) <= today <= valid_until:
        return
    opens = "—" if valid_until is None else str(valid_until - timedelta(days=window))
    raise refusal_error(
        Refusal(
            RENEWAL_RULE,
            f"Registration {code} can be renewed from {opens} until it expires on {valid_until} "
            f"(the last {window} days of its validity under {policy.name})",
            "refusal.renewal_window",
            {"code": code, "opens": opens, "until": str(valid_until), "days": window, "policy": policy.name},
        )
    )


def renewed_until(policy: Policy, previous_until: date | None, today: date) -> date:
    """The validity of a renewed record: `validity_years` on from the old expiry (no gap, no overlap)."""
    start = previous_until if previous_until is not None and previous_until >= today else today
    years = policy.registration.validity_years
    try:
        return start.replace(year=start.year + years)
    except ValueError:  # 29 February
        return start.replace(year=start.year + years, day=28)


def check_objection_period(policy: Policy, *, code: str, in_notice: bool, notice_until: date | None,
                           today: date) -> None:
    """Objections are filed while the public notice runs (its last day included)."""
    if in_notice and notice_until is not None and today <= notice_until:
        return
    raise refusal_error(
        Refusal(
            OBJECTION_PERIOD_RULE,
            f"Objections to registration {code} are filed during its public notice "
            f"(until {notice_until or '—'}) under {policy.name}",
            "refusal.objection_period",
            {"code": code, "until": str(notice_until or "—"), "policy": policy.name},
        )
    )


def check_no_open_objection(policy: Policy, *, code: str, open_objections: int) -> None:
    """A registration with an undecided objection is not registered until the registrar decides it."""
    if open_objections == 0:
        return
    raise refusal_error(
        Refusal(
            OBJECTION_OPEN_RULE,
            f"Registration {code} has {open_objections} undecided objection(s); the registrar decides them "
            f"first ({policy.name})",
            "refusal.objection_open",
            {"code": code, "count": open_objections, "policy": policy.name},
        )
    )
