"""Jurisdiction, linked lifecycles, supervision: designations, plans, exit duties, objections, evaluations

An authorization records the plan it rests on and the reason it ended; a grant why it was suspended.

New tables and columns are added only where missing (a sandbox whose tables were made from the models before
it recorded a revision has them already); added NOT NULL columns get a default for the rows already there.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-06 16:22:01.122019

SQLite cannot alter most columns in place: change tables inside `op.batch_alter_table(...)`, which rebuilds
them (the sandbox runs migrations with foreign keys off and checks them before committing).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import context, op

revision: str = "0006"
down_revision: str | None = "0005"
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
        "designation",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("government_id", sa.Integer(), nullable=False),
        sa.Column("institution_id", sa.Integer(), nullable=False),
        sa.Column("region", sa.String(length=100), nullable=False),
        sa.Column("domain", sa.String(length=64), nullable=False),
        sa.Column("designated_at", WHEN, nullable=False),
        sa.ForeignKeyConstraint(["government_id"], ["organization.id"]),
        sa.ForeignKeyConstraint(["institution_id"], ["organization.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("government_id", "institution_id", "domain"),
        if_not_exists=True,
    )
    indexes("designation", "government_id", "institution_id", "region")

    op.create_table(
        "implementationplan",
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=64), nullable=False),
        sa.Column("institution_id", sa.Integer(), nullable=False),
        sa.Column("government_id", sa.Integer(), nullable=False),
        sa.Column("scope", sa.String(length=2000), nullable=False),
        sa.Column("scenarios", sa.JSON(), nullable=False),
        sa.Column("security_measures", sa.JSON(), nullable=False),
        sa.Column("expected_products", sa.JSON(), nullable=False),
        sa.Column("status", status("drafted", "approved", "rejected", name="planstatus"), nullable=False),
        sa.Column("drafted_at", WHEN, nullable=False),
        sa.Column("decided_at", WHEN, nullable=True),
        sa.Column("decided_by", sa.Integer(), nullable=True),
        sa.Column("decision_note", sa.String(length=2000), nullable=False),
        sa.ForeignKeyConstraint(["decided_by"], ["account.id"]),
        sa.ForeignKeyConstraint(["government_id"], ["organization.id"]),
        sa.ForeignKeyConstraint(["institution_id"], ["organization.id"]),
        sa.PrimaryKeyConstraint("id"),
        if_not_exists=True,
    )
    indexes(
        "implementationplan", "code", "decided_by", "government_id", "institution_id", "status",
        unique=("code",),
    )

    op.create_table(
        "planresource",
        sa.Column("plan_id", sa.Integer(), nullable=False),
        sa.Column("resource_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["plan_id"], ["implementationplan.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["resource_id"], ["resource.id"]),
        sa.PrimaryKeyConstraint("plan_id", "resource_id"),
        if_not_exists=True,
    )
    indexes("planresource", "resource_id")

    op.create_table(
        "exitduty",
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("authorization_id", sa.Integer(), nullable=False),
        sa.Column("operator_id", sa.Integer(), nullable=False),
        sa.Column("opened_at", WHEN, nullable=False),
        sa.Column("due", sa.Date(), nullable=False),
        sa.Column("status", status("open", "completed", name="exitdutystatus"), nullable=False),
        sa.Column("completed_at", WHEN, nullable=True),
        sa.Column("completed_by", sa.Integer(), nullable=True),
        sa.Column("how", sa.String(length=32), nullable=False),
        sa.Column("evidence", sa.String(length=2000), nullable=False),
        sa.ForeignKeyConstraint(["authorization_id"], ["authorization.id"]),
        sa.ForeignKeyConstraint(["completed_by"], ["account.id"]),
        sa.ForeignKeyConstraint(["operator_id"], ["organization.id"]),
        sa.PrimaryKeyConstraint("id"),
        if_not_exists=True,
    )
    indexes(
        "exitduty", "authorization_id", "completed_by", "operator_id", "status", unique=("authorization_id",)
    )

    op.create_table(
        "objection",
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("registration_id", sa.Integer(), nullable=False),
        sa.Column("filed_by", sa.Integer(), nullable=False),
        sa.Column("filed_at", WHEN, nullable=False),
        sa.Column("grounds", sa.String(length=2000), nullable=False),
        sa.Column("due", sa.Date(), nullable=False),
        sa.Column("status", status("open", "upheld", "dismissed", name="objectionstatus"), nullable=False),
        sa.Column("decided_by", sa.Integer(), nullable=True),
        sa.Column("decided_at", WHEN, nullable=True),
        sa.Column("decision_note", sa.String(length=2000), nullable=False),
        sa.ForeignKeyConstraint(["decided_by"], ["account.id"]),
        sa.ForeignKeyConstraint(["filed_by"], ["account.id"]),
        sa.ForeignKeyConstraint(["registration_id"], ["registration.id"]),
        sa.PrimaryKeyConstraint("id"),
        if_not_exists=True,
    )
    indexes("objection", "decided_by", "filed_by", "registration_id", "status")

    op.create_table(
        "complaint",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("operator_id", sa.Integer(), nullable=False),
        sa.Column("filed_by", sa.Integer(), nullable=False),
        sa.Column("filed_at", WHEN, nullable=False),
        sa.Column("text", sa.String(length=2000), nullable=False),
        sa.ForeignKeyConstraint(["filed_by"], ["account.id"]),
        sa.ForeignKeyConstraint(["operator_id"], ["organization.id"]),
        sa.PrimaryKeyConstraint("id"),
        if_not_exists=True,
    )
    indexes("complaint", "filed_by", "operator_id")
    op.create_table(
        "securityincident",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("operator_id", sa.Integer(), nullable=False),
        sa.Column("recorded_by", sa.Integer(), nullable=False),
        sa.Column("recorded_at", WHEN, nullable=False),
        sa.Column("severity", sa.String(length=16), nullable=False),
        sa.Column("description", sa.String(length=2000), nullable=False),
        sa.ForeignKeyConstraint(["operator_id"], ["organization.id"]),
        sa.ForeignKeyConstraint(["recorded_by"], ["account.id"]),
        sa.PrimaryKeyConstraint("id"),
        if_not_exists=True,
    )
    indexes("securityincident", "operator_id", "recorded_by")
    op.create_table(
        "evaluation",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("operator_id", sa.Integer(), nullable=False),
        sa.Column("year", sa.Integer(), nullable=False),
        sa.Column("facts", sa.JSON(), nullable=False),
        sa.Column("score", sa.Integer(), nullable=False),
        sa.Column("outcome", sa.String(length=32), nullable=False),
        sa.Column("rectify_by", sa.Date(), nullable=True),
        sa.Column("evaluated_by", sa.Integer(), nullable=True),
        sa.Column("evaluated_at", WHEN, nullable=False),
        sa.ForeignKeyConstraint(["evaluated_by"], ["account.id"]),
        sa.ForeignKeyConstraint(["operator_id"], ["organization.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("operator_id", "year"),
        if_not_exists=True,
    )
    indexes("evaluation", "evaluated_by", "operator_id", "year")

    op.create_table(
        "publication",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("party_id", sa.Integer(), nullable=False),
        sa.Column("year", sa.Integer(), nullable=False),
        sa.Column("role", sa.String(length=16), nullable=False),
        sa.Column("due", sa.Date(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("published_at", WHEN, nullable=True),
        sa.Column("content", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(["party_id"], ["organization.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("party_id", "year"),
        if_not_exists=True,
    )
    indexes("publication", "party_id", "status", "year")

    # Offline (`db upgrade --sql`) there is no database to look at: the SQL adds the columns.
    columns = {
        table: set()
        if context.is_offline_mode()
        else {c["name"] for c in sa.inspect(op.get_bind()).get_columns(table)}
        for table in ("authorization", "grant")
    }
    if "suspended_reason" not in columns["grant"]:
        add_columns(
            "grant",
            [sa.Column("suspended_reason", sa.String(length=500), nullable=False, server_default="")],
            foreign_keys=[],
        )
    if "plan_id" not in columns["authorization"]:
        add_columns(
            "authorization",
            [
                sa.Column("plan_id", sa.Integer(), nullable=True),
                sa.Column("ended_reason", sa.String(length=500), nullable=False, server_default=""),
            ],
            foreign_keys=[("fk_authorization_plan_id_implementationplan", "implementationplan", "plan_id")],
        )


def add_columns(table: str, columns: list[sa.Column], foreign_keys: list[tuple[str, str, str]]) -> None:
    """Add columns with their indexes (foreign-key columns) and named foreign keys (as in revision 0003)."""
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
    with op.batch_alter_table("grant", schema=None) as batch_op:
        batch_op.drop_column("suspended_reason")
    with op.batch_alter_table("authorization", schema=None) as batch_op:
        batch_op.drop_constraint("fk_authorization_plan_id_implementationplan", type_="foreignkey")
        batch_op.drop_index("ix_authorization_plan_id")
        batch_op.drop_column("ended_reason")
        batch_op.drop_column("plan_id")
    for table in (
        "publication", "evaluation", "securityincident", "complaint", "objection", "exitduty", "planresource",
        "implementationplan", "designation",
    ):
        op.drop_table(table)
