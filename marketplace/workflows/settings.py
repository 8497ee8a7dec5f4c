"""Sandbox settings that every step reads: the clock and the policy in force, read once per transaction.

A step reads the sandbox date for every event and due date and the policy for every rule; both live in the
`sandboxsetting` table. They are read together with one query the first time a transaction asks and kept on
the session until the transaction ends (the audit hook drops them then), so a long step reads them once.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.orm import Session as OrmSession
from sqlmodel import Session

from marketplace.models import SandboxSetting

CLOCK_KEY = "clock"
POLICY_KEY = "policy"
SETTING_KEYS = (CLOCK_KEY, POLICY_KEY)
VALUES = "marketplace.settings.values"
CACHES = [VALUES]  # session.info keys kept for one transaction

__all__ = ["CLOCK_KEY", "POLICY_KEY", "cache", "forget", "remember", "setting_value", "store_setting"]


def setting_value(session: Session, key: str) -> Any:
    """The clock or policy setting's value (or None); both are read with one query per transaction."""
    values = session.info.get(VALUES)
    if values is None:
        table = SandboxSetting.__table__
        rows = session.execute(sa.select(table.c.key, table.c.value).where(table.c.key.in_(SETTING_KEYS)))
        values = session.info[VALUES] = dict.fromkeys(SETTING_KEYS) | {k: v for k, v in rows}
    if key in values:
        return values[key]
    row = session.get(SandboxSetting, key)
    return None if row is None else row.value


def store_setting(session: Session, key: str, value: Any) -> tuple[SandboxSetting, Any]:
    """Create or change a setting row (the version check guards two trainers at once); returns (row, old)."""
    row = session.get(SandboxSetting, key)
    old = None
    if row is None:
        row = SandboxSetting(key=key, value=value)
        session.add(row)
    else:
        old = row.value
        row.value = value
        row.updated_at = datetime.now(UTC)
    session.info.setdefault(VALUES, {})[key] = value
    return row, old


def cache(session: Session, key: str) -> Any:
    """A per-transaction cache slot on the session (None when empty); see `remember`."""
    return session.info.get(key)


def remember(session: Session, key: str, value: Any) -> Any:
    """Keep `value` on the session until the transaction ends."""
    if key not in CACHES:
        CACHES.append(key)
    session.info[key] = value
    return value


def forget(session: Session | OrmSession) -> None:
    """Drop what was cached for the open transaction (after tables were replaced wholesale)."""
    for key in CACHES:
        session.info.pop(key, None)


@event.listens_for(OrmSession, "after_transaction_end")
def _next_transaction_reads_again(session: OrmSession, transaction: object) -> None:
    if getattr(transaction, "parent", None) is None:
        forget(session)
