"""Sandbox administration by the trainer: the policy in force (the clock is in `clock`)."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlmodel import Session

from marketplace.errors import InvalidInput
from marketplace.models import Account, SandboxSetting
from marketplace.policy import list_policies
from marketplace.vocabulary import Role
from marketplace.workflows import audit, facts
from marketplace.workflows._core import flush, remember_setting, setting_row
from marketplace.workflows.roles import require_role

__all__ = ["set_policy"]


def set_policy(session: Session, actor: Account, name: str) -> str:
    """Trainer only: put policy `name` (a file in seed/policies) in force for every later step."""
    names = list_policies()
    if name not in names:
        raise InvalidInput("policy", name, "one of " + ", ".join(names))
    require_role(
        session, actor, Role.trainer, "set the policy in force", ("setting", None), audit_action="policy.set"
    )
    facts.policy_named(name)  # validate before anything is written
    row = setting_row(session, facts.POLICY_KEY)
    old = None
    if row is None:
        row = SandboxSetting(key=facts.POLICY_KEY, value={"name": name})
        session.add(row)
        remember_setting(session, row)
    else:
        old = row.value
        row.value = {"name": name}
        row.updated_at = datetime.now(UTC)
    flush(session, "the policy setting", actor=actor, action="policy.set", subject=("setting", None))
    session.info.pop("marketplace.policy", None)
    audit.record(session, actor, "policy.set", ("setting", None), {"old": old, "new": name})
    return name
