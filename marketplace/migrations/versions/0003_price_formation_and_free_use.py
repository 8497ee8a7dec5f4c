"""Price formation and conditional free use: cost and cap filings, MAR set in advance, free-use evidence.

New tables and columns are added only where missing (a sandbox whose tables were made from the models before
it recorded a revision has them already); added NOT NULL columns get a default for the rows already there.

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-06 14:52:15.934690

SQLite cannot alter most columns in place: change tables inside `op.batch_alter_table(...)`, which rebuilds
them (the sandbox runs migrations with foreign keys off and checks them before committing).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import context, op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | None = None
depends_on: str | None = None


def upgrade() -> None:
    op.create_table(
        "costfiling",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=64), nullable=False),
        sa.Column("operator_id", sa.Integer(), nullable=False),
        sa.Column("year", sa.Integer(), nullable=False),
        sa.Column("costs", sa.JSON(), nullable=False),
        sa.Column("subsidy", sa.Numeric(precision=16, scale=2), nullable=False),
        sa.Column("operating_cost", sa.Numeric(precision=16, scale=2), nullable=False),
        sa.Column("taxes", sa.Numeric(precision=16, scale=2), nullable=False),
        sa.Column("basis", sa.String(length=2000), nullable=False),
        sa.Column("filed_by", sa.Integer(), nullable=True),
        sa.Column("filed_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["filed_by"],
            ["account.id"],
        ),
        sa.ForeignKeyConstraint(
            ["operator_id"],
            ["organization.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("operator_id", "year"),
        if_not_exists=True,
    )
    op.create_index("ix_costfiling_code", "costfiling", ["code"], unique=True, if_not_exists=True)
    op.create_index("ix_costfiling_filed_by", "costfiling", ["filed_by"], unique=False, if_not_exists=True)
    op.create_index(
        "ix_costfiling_operator_id", "costfiling", ["operator_id"], unique=False, if_not_exists=True
    )
    op.create_index("ix_costfiling_year", "costfiling", ["year"], unique=False, if_not_exists=True)

    op.create_table(
        "capfiling",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=64), nullable=False),
        sa.Column("product_id", sa.Integer(), nullable=False),
        sa.Column("operator_id", sa.Integer(), nullable=False),
        sa.Column("agency_id", sa.Integer(), nullable=True),
        sa.Column("year", sa.Integer(), nullable=False),
        sa.Column("cap", sa.Numeric(precision=16, scale=2), nullable=False),
        sa.Column("forecast_volume", sa.Integer(), nullable=False),
        sa.Column("forecast_revenue", sa.Numeric(precision=16, scale=2), nullable=False),
        sa.Column("provisional", sa.Boolean(), nullable=False),
        sa.Column("basis", sa.String(length=2000), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("filed_by", sa.Integer(), nullable=True),
        sa.Column("filed_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["agency_id"],
            ["organization.id"],
        ),
        sa.ForeignKeyConstraint(
            ["filed_by"],
            ["account.id"],
        ),
        sa.ForeignKeyConstraint(
            ["operator_id"],
            ["organization.id"],
        ),
        sa.ForeignKeyConstraint(
            ["product_id"],
            ["product.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
        if_not_exists=True,
    )
    op.create_index("ix_capfiling_agency_id", "capfiling", ["agency_id"], unique=False, if_not_exists=True)
    op.create_index("ix_capfiling_code", "capfiling", ["code"], unique=True, if_not_exists=True)
    op.create_index("ix_capfiling_filed_by", "capfiling", ["filed_by"], unique=False, if_not_exists=True)
    op.create_index(
        "ix_capfiling_operator_id", "capfiling", ["operator_id"], unique=False, if_not_exists=True
    )
    op.create_index("ix_capfiling_product_id", "capfiling", ["product_id"], unique=False, if_not_exists=True)
    op.create_index("ix_capfiling_status", "capfiling", ["status"], unique=False, if_not_exists=True)
    op.create_index("ix_capfiling_year", "capfiling", ["year"], unique=False, if_not_exists=True)

    # Offline (`db upgrade --sql`) there is no database to look at: the SQL adds the columns.
    columns = {
        table: set()
        if context.is_offline_mode()
        else {c["name"] for c in sa.inspect(op.get_bind()).get_columns(table)}
        for table in ("accessrequest", "revenueperiod")
    }
    if "project_reference" not in columns["accessrequest"]:
        add_columns(
            "accessrequest",
            [
                sa.Column("project_reference", sa.String(length=200), nullable=False, server_default=""),
                sa.Column("sponsor_org_id", sa.Integer(), nullable=True),
            ],
            foreign_keys=[("fk_accessrequest_sponsor_org_id_organization", "organization", "sponsor_org_id")],
        )
    if "base_mar" not in columns["revenueperiod"]:
        money = sa.Numeric(precision=16, scale=2)
        add_columns(
            "revenueperiod",
            [
                sa.Column("base_mar", money, nullable=False, server_default="0"),
                sa.Column("cost_filing_id", sa.Integer(), nullable=True),
                sa.Column("determined_by", sa.Integer(), nullable=True),
                sa.Column("determined_at", sa.DateTime(timezone=True), nullable=True),
                sa.Column("closed_at", sa.DateTime(timezone=True), nullable=True),
                sa.Column("excess", money, nullable=False, server_default="0"),
            ],
            foreign_keys=[
                ("fk_revenueperiod_cost_filing_id_costfiling", "costfiling", "cost_filing_id"),
                ("fk_revenueperiod_determined_by_account", "account", "determined_by"),
            ],
        )


def add_columns(table: str, columns: list[sa.Column], foreign_keys: list[tuple[str, str, str]]) -> None:
    """Add columns with their indexes (foreign-key columns) and named foreign keys.

    SQLite adds constraints only by rebuilding the table (batch mode), which needs the live table; the SQL
    that `db upgrade --sql` prints for SQLite therefore adds the columns and indexes with plain ALTER
    statements and leaves the foreign keys to the online upgrade.
    """
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
    with op.batch_alter_table("revenueperiod", schema=None) as batch_op:
        batch_op.drop_constraint("fk_revenueperiod_determined_by_account", type_="foreignkey")
        batch_op.drop_constraint("fk_revenueperiod_cost_filing_id_costfiling", type_="foreignkey")
        batch_op.drop_index("ix_revenueperiod_determined_by")
        batch_op.drop_index("ix_revenueperiod_cost_filing_id")
        for column in ("excess", "closed_at", "determined_at", "determined_by", "cost_filing_id", "base_mar"):
            batch_op.drop_column(column)
    with op.batch_alter_table("accessrequest", schema=None) as batch_op:
        batch_op.drop_constraint("fk_accessrequest_sponsor_org_id_organization", type_="foreignkey")
        batch_op.drop_index("ix_accessrequest_sponsor_org_id")
        batch_op.drop_column("sponsor_org_id")
        batch_op.drop_column("project_reference")
    op.drop_table("capfiling")
    op.drop_table("costfiling")
