"""One ε ledger: the per-resource noise ledger table is retired; ε is spent through the budget allowances.

Any ε a sandbox recorded in `noiseledgerentry` is carried into the resource's allowance (scope
`epsilon_resource`), so what was spent stays spent; then the table is dropped. A sandbox whose tables were
made from the models never had it.

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-06 17:05:00

SQLite cannot alter most columns in place: change tables inside `op.batch_alter_table(...)`, which rebuilds
them (the sandbox runs migrations with foreign keys off and checks them before committing).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import context, op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | None = None
depends_on: str | None = None

_LEDGER = "noiseledgerentry"


def _has_ledger() -> bool:
    if context.is_offline_mode():
        return True
    return sa.inspect(op.get_bind()).has_table(_LEDGER)


def upgrade() -> None:
    if not _has_ledger():
        return
    # ε already spent per resource becomes its allowance (cap = spent; the next release sets the cap)
    op.execute(
        "INSERT INTO computeallowance (scope, key, period, cap, used) "
        "SELECT 'epsilon_resource', CAST(resource_id AS VARCHAR(64)), '', SUM(epsilon), SUM(epsilon) "
        f"FROM {_LEDGER} GROUP BY resource_id"
    )
    op.drop_index(op.f("ix_noiseledgerentry_delivery_id"), table_name=_LEDGER, if_exists=True)
    op.drop_index(op.f("ix_noiseledgerentry_resource_id"), table_name=_LEDGER, if_exists=True)
    op.drop_table(_LEDGER)


def downgrade() -> None:
    op.create_table(
        _LEDGER,
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("resource_id", sa.Integer(), nullable=False),
        sa.Column("epsilon", sa.Float(), nullable=False),
        sa.Column("mechanism", sa.String(length=32), nullable=False),
        sa.Column("query", sa.String(), nullable=False),
        sa.Column("delivery_id", sa.Integer(), nullable=True),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["delivery_id"], ["delivery.id"]),
        sa.ForeignKeyConstraint(["resource_id"], ["resource.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(op.f("ix_noiseledgerentry_delivery_id"), _LEDGER, ["delivery_id"], unique=False)
    op.create_index(op.f("ix_noiseledgerentry_resource_id"), _LEDGER, ["resource_id"], unique=False)
    op.execute(
        f"INSERT INTO {_LEDGER} (resource_id, epsilon, mechanism, query, at) "
        "SELECT CAST(key AS INTEGER), used, 'carried', 'carried from the allowance', CURRENT_TIMESTAMP "
        "FROM computeallowance WHERE scope = 'epsilon_resource'"
    )
