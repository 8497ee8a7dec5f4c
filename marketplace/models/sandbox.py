"""Sandbox-wide settings: the clock, the policy in force, how the world was seeded."""

from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlmodel import Field

from marketplace.models.columns import Versioned, utcnow


class SandboxSetting(Versioned, table=True):
    """A key/value setting (e.g. `clock`, `policy`, `seed`); versioned because trainers change them live."""

    key: str = Field(primary_key=True, max_length=64)
    value: Any = Field(default=None, sa_type=sa.JSON)
    updated_at: datetime = Field(default_factory=utcnow)
