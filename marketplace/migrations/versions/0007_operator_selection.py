"""Operator selection: selection rounds (competitive or direct award), their resources and applications

An authorization records the round its operator was chosen by and the obligations its agreement carries.

New tables and columns are added only where missing (a sandbox whose tables were made from the models before
it recorded a revision has them already); added NOT NULL columns get a default for the rows already there.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-06 19:40:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import context, op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | None = None
depends_on: str | None = None

WHEN = sa.DateTime(timezone=True)


def status(*values: str, name: str) -> sa.Enum:
    return sa.Enum(*values, name=name, native_enum=False, length=32)


def indexes(table: str, *columns: str, unique: tuple[str, ...] = ()) -> None:
    for column in columns:
        op.create_index(f"ix_{table}_{column}", table, [column], unique=column in unique, if_not_exists=True)


def upgrade() -> None:
    op.create_table(
        "selectionround",
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=64), nullable=False),
        sa.Column("institution_id", sa.Integer(), nullable=False),
        sa.Column("plan_id", sa.Integer(), nullable=True),
        sa.Column("method", status("competitive", "direct_award", name="selectionmethod"), nullable=False),
        sa.Column("status", status("open", "decided", "failed", name="selectionstatus"), nullable=False),
        sa.Column("title", sa.String(length=300), nullable=False),
        sa.Column("opened_at", WHEN, nullable=False),
        sa.Column("opened_by", sa.Integer(), nullable=True),
        sa.Column("weights", sa.JSON(), nullable=False),
        sa.Column("decided_at", WHEN, nullable=True),
        sa.Column("decided_by", sa.Integer(), nullable=True),
        sa.Column("winner_id", sa.Integer(), nullable=True),
        sa.Column("grounds", sa.String(length=32), nullable=False),
        sa.Column("justification", sa.String(length=2000), nullable=False),
        sa.Column("decision", sa.JSON(), nullable=False),
        sa.Column("notice_until", sa.Date(), nullable=True),
        sa.ForeignKeyConstraint(["decided_by"], ["account.id"]),
        sa.ForeignKeyConstraint(["institution_id"], ["organization.id"]),
        sa.ForeignKeyConstraint(["opened_by"], ["account.id"]),
        sa.ForeignKeyConstraint(["plan_id"], ["implementationplan.id"]),
        sa.ForeignKeyConstraint(["winner_id"], ["organization.id"]),
        sa.PrimaryKeyConstraint("id"),
        if_not_exists=True,
    )
    indexes(
        "selectionround", "code", "decided_by", "institution_id", "method", "opened_by", "plan_id", "status",
        "winner_id", unique=("code",),
    )
    op.create_table(
        "selectionresource",
        sa.Column("selection_id", sa.Integer(), nullable=False),
        sa.Column("resource_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["resource_id"], ["resource.id"]),
        sa.ForeignKeyConstraint(["selection_id"], ["selectionround.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("selection_id", "resource_id"),
        if_not_exists=True,
    )
    indexes("selectionresource", "resource_id")
    op.create_table(
        "selectionapplication",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("selection_id", sa.Integer(), nullable=False),
        sa.Column("operator_id", sa.Integer(), nullable=False),
        sa.Column("filed_by", sa.Integer(), nullable=True),
        sa.Column("filed_at", WHEN, nullable=False),
        sa.Column("security_level", sa.Integer(), nullable=False),
        sa.Column("registered_capital", sa.Numeric(16, 2), nullable=False),
        sa.Column("statement", sa.String(length=2000), nullable=False),
        sa.Column("qualified", sa.Boolean(), nullable=False),
        sa.Column("refusal_rule", sa.String(length=100), nullable=False),
        sa.Column("refusal_reason", sa.String(length=500), nullable=False),
        sa.Column("scores", sa.JSON(), nullable=False),
        sa.Column("total", sa.Numeric(16, 2), nullable=True),
        sa.ForeignKeyConstraint(["filed_by"], ["account.id"]),
        sa.ForeignKeyConstraint(["operator_id"], ["organization.id"]),
        sa.ForeignKeyConstraint(["selection_id"], ["selectionround.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("selection_id", "operator_id"),
        if_not_exists=True,
    )
    indexes("selectionapplication", "filed_by", "operator_id", "selection_id")

    # Offline (`db upgrade --sql`) there is no database to look at: the SQL adds the columns.
    columns = (
        set()
        if context.is_offline_mode()
        else {c["name"] for c in sa.inspect(op.get_bind()).get_columns("authorization")}
    )
    if "selection_id" not in columns:
        add_columns(
            "authorization",
            [
                sa.Column("selection_id", sa.Integer(), nullable=True),
                sa.Column("obligations", sa.JSON(), nullable=False, server_default="[]"),
            ],
            foreign_keys=[("fk_authorization_selection_id_selectionround", "selectionround", "selection_id")],
        )


def add_columns(table: str, columns: list[sa.Column], foreign_keys: list[tuple[str, str, str]]) -> None:
    """Add columns with their indexes (foreign-key columns) and named foreign keys (as in revision 0006)."""
    indexed = [column for _, _, column in foreign_keys]
    if context.is_offline_mode() and op.get_context().dialect.name == "sqlite":
        for column in columns:
            op.add_column(table, column)
        for column in indexed:
            op.create_index(f"ix_{table}_{column}", table, [column], unique=False)
        return
    with op.batch_alter_table(table, schema=None) as batch_op:
        for column in columns:
            batch_op.add_column(column)
        for column in indexed:
            batch_op.create_index(f"ix_{table}_{column}", [column], unique=False)
        for name, target, column in foreign_keys:
            batch_op.create_foreign_key(name, target, [column], ["id"])


def downgrade() -> None:
    with op.batch_alter_table("authorization", schema=None) as batch_op:
        batch_op.drop_constraint("fk_authorization_selection_id_selectionround", type_="foreignkey")
        batch_op.drop_index("ix_authorization_selection_id")
        batch_op.drop_column("obligations")
        batch_op.drop_column("selection_id")
    for table in ("selectionapplication", "selectionresource", "selectionround"):
        op.drop_table(table)
