"""Workshop server: session tokens, and a salted, slow digest of each join code

`sessiontoken` holds the digests of the tokens `marketplace workshop serve` issues;
`participant.join_code_kdf` the argon2id digest of the join code (empty for seats made before, filled at
their first join through the server). Added only where missing (a sandbox whose tables were made from the
models already has them).

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-06 19:45:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import context, op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | None = None
depends_on: str | None = None

WHEN = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "sessiontoken",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("account_id", sa.Integer(), nullable=False),
        sa.Column("code_hash", sa.String(length=64), nullable=False),
        sa.Column("client", sa.String(length=64), nullable=False),
        sa.Column("issued_at", WHEN, nullable=False),
        sa.Column("expires_at", WHEN, nullable=False),
        sa.Column("revoked_at", WHEN, nullable=True),
        sa.Column("revoked_by_id", sa.Integer(), nullable=True),
        sa.PrimaryKeyConstraint("id"),
        if_not_exists=True,
    )
    op.create_index(
        "ix_sessiontoken_token_hash", "sessiontoken", ["token_hash"], unique=True, if_not_exists=True
    )
    op.create_index(
        "ix_sessiontoken_account_id", "sessiontoken", ["account_id"], unique=False, if_not_exists=True
    )
    # Offline (`db upgrade --sql`) there is no database to look at: the SQL adds the column.
    columns = (
        set()
        if context.is_offline_mode()
        else {c["name"] for c in sa.inspect(op.get_bind()).get_columns("participant")}
    )
    if "join_code_kdf" not in columns:
        column = sa.Column("join_code_kdf", sa.String(length=200), nullable=False, server_default="")
        if context.is_offline_mode() and op.get_context().dialect.name == "sqlite":
            op.add_column("participant", column)
        else:
            with op.batch_alter_table("participant", schema=None) as batch_op:
                batch_op.add_column(column)


def downgrade() -> None:
    with op.batch_alter_table("participant", schema=None) as batch_op:
        batch_op.drop_column("join_code_kdf")
    op.drop_index("ix_sessiontoken_account_id", table_name="sessiontoken")
    op.drop_index("ix_sessiontoken_token_hash", table_name="sessiontoken")
    op.drop_table("sessiontoken")
