"""In-domain computation: runs and budget allowances.

Tables and indexes are created only where missing: a sandbox whose tables were made from the models before it
recorded any revision already has them.

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-06 14:19:40.797362

SQLite cannot alter most columns in place: change tables inside `op.batch_alter_table(...)`, which rebuilds
them (the sandbox runs migrations with foreign keys off and checks them before committing).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | None = None
depends_on: str | None = None


def upgrade() -> None:
    op.create_table(
        "computeallowance",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("scope", sa.String(length=32), nullable=False),
        sa.Column("key", sa.String(length=64), nullable=False),
        sa.Column("period", sa.String(length=16), nullable=False),
        sa.Column("cap", sa.Float(), nullable=False),
        sa.Column("used", sa.Float(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("scope", "key", "period", name="uq_compute_allowance"),
        if_not_exists=True,
    )
    op.create_table(
        "computerun",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("grant_id", sa.Integer(), nullable=False),
        sa.Column("requester_id", sa.Integer(), nullable=False),
        sa.Column("resource_id", sa.Integer(), nullable=False),
        sa.Column(
            "kind",
            sa.Enum(
                "aggregate_query",
                "dp_release",
                "model_training",
                "verification",
                name="computekind",
                native_enum=False,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column("fingerprint", sa.String(length=64), nullable=False),
        sa.Column("accepted", sa.Boolean(), nullable=False),
        sa.Column("rule", sa.String(length=64), nullable=False),
        sa.Column("epsilon", sa.Float(), nullable=False),
        sa.Column("delta", sa.Float(), nullable=False),
        sa.Column(
            "unit",
            sa.Enum("per_query", "per_call", "per_model", name="computeunit", native_enum=False, length=32),
            nullable=True,
        ),
        sa.Column("units", sa.Integer(), nullable=False),
        sa.Column("cells_suppressed", sa.Integer(), nullable=False),
        sa.Column("answer", sa.Boolean(), nullable=True),
        sa.Column("detail", sa.JSON(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        if_not_exists=True,
    )
    for column in ("fingerprint", "grant_id", "kind", "requester_id", "resource_id"):
        op.create_index(
            op.f(f"ix_computerun_{column}"), "computerun", [column], unique=False, if_not_exists=True
        )


def downgrade() -> None:
    with op.batch_alter_table("computerun", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_computerun_resource_id"))
        batch_op.drop_index(batch_op.f("ix_computerun_requester_id"))
        batch_op.drop_index(batch_op.f("ix_computerun_kind"))
        batch_op.drop_index(batch_op.f("ix_computerun_grant_id"))
        batch_op.drop_index(batch_op.f("ix_computerun_fingerprint"))

    op.drop_table("computerun")
    op.drop_table("computeallowance")
