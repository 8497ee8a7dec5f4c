"""Review queue index: a partial index on the open review stages in queue order (due date, then id)

The review queue pages by key along this index instead of sorting every open stage for each page. Created
only where missing (a sandbox whose tables were made from the models already has it). SQLite and PostgreSQL
both support partial indexes; the predicate is the one the model declares (`OPEN_STAGE_WHERE`).

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-06 22:40:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | None = None
depends_on: str | None = None

# Written out rather than imported from the models: a revision keeps the schema of its own day.
INDEX = "ix_review_open_due"
WHERE = "status IN ('pending', 'escalated') AND opened_at IS NOT NULL AND due_on IS NOT NULL"


def upgrade() -> None:
    op.create_index(INDEX, "review", ["due_on", "id"], unique=False, if_not_exists=True,
                    sqlite_where=sa.text(WHERE), postgresql_where=sa.text(WHERE))


def downgrade() -> None:
    op.drop_index(INDEX, table_name="review", if_exists=True)
