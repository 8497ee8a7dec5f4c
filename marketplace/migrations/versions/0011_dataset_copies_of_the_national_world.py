"""Dataset copies of the national world: how many open datasets of its kind a seeded resource stands for

The table is added only where missing (a sandbox whose tables were made from the models before it recorded
a revision has it already).

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-07 01:41:42.496494
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | None = None
depends_on: str | None = None


def upgrade() -> None:
    op.create_table(
        "datasetcopies",
        sa.Column("resource_id", sa.Integer(), nullable=False),
        sa.Column("copies", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["resource_id"], ["resource.id"]),
        sa.PrimaryKeyConstraint("resource_id"),
        if_not_exists=True,
    )


def downgrade() -> None:
    op.drop_table("datasetcopies")
