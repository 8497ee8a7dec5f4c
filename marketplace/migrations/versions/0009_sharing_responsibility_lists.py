"""Sharing responsibility lists: a department's list, its entries, and the entry a sharing request cites

New tables and the new column are added only where missing (a sandbox whose tables were made from the models
before it recorded a revision has them already).

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-06 19:50:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import context, op

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | None = None
depends_on: str | None = None

WHEN = sa.DateTime(timezone=True)


def indexes(table: str, *columns: str, unique: tuple[str, ...] = ()) -> None:
    for column in columns:
        op.create_index(f"ix_{table}_{column}", table, [column], unique=column in unique, if_not_exists=True)


def upgrade() -> None:
    op.create_table(
        "sharinglist",
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=64), nullable=False),
        sa.Column("holder_id", sa.Integer(), nullable=False),
        sa.Column("basis", sa.String(length=500), nullable=False),
        sa.Column("published_at", WHEN, nullable=False),
        sa.Column("published_by", sa.Integer(), nullable=True),
        sa.Column("updated_at", WHEN, nullable=True),
        sa.ForeignKeyConstraint(["holder_id"], ["organization.id"]),
        sa.ForeignKeyConstraint(["published_by"], ["account.id"]),
        sa.PrimaryKeyConstraint("id"),
        if_not_exists=True,
    )
    indexes("sharinglist", "code", "holder_id", "published_by", unique=("code", "holder_id"))

    op.create_table(
        "sharinglistentry",
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=64), nullable=False),
        sa.Column("list_id", sa.Integer(), nullable=False),
        sa.Column("resource_id", sa.Integer(), nullable=False),
        sa.Column("recipients", sa.JSON(), nullable=False),
        sa.Column("purposes", sa.JSON(), nullable=False),
        sa.Column("duty", sa.String(length=500), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("added_at", WHEN, nullable=False),
        sa.Column("withdrawn_at", WHEN, nullable=True),
        sa.ForeignKeyConstraint(["list_id"], ["sharinglist.id"]),
        sa.ForeignKeyConstraint(["resource_id"], ["resource.id"]),
        sa.PrimaryKeyConstraint("id"),
        if_not_exists=True,
    )
    indexes("sharinglistentry", "code", "list_id", "resource_id", "status", unique=("code",))

    # Offline (`db upgrade --sql`) there is no database to look at: the SQL adds the column.
    columns = (
        set() if context.is_offline_mode()
        else {c["name"] for c in sa.inspect(op.get_bind()).get_columns("accessrequest")}
    )
    if "list_entry_id" not in columns:
        if context.is_offline_mode() and op.get_context().dialect.name == "sqlite":
            op.add_column("accessrequest", sa.Column("list_entry_id", sa.Integer(), nullable=True))
            op.create_index(
                "ix_accessrequest_list_entry_id", "accessrequest", ["list_entry_id"], unique=False
            )
            return
        with op.batch_alter_table("accessrequest", schema=None) as batch_op:
            batch_op.add_column(sa.Column("list_entry_id", sa.Integer(), nullable=True))
            batch_op.create_index("ix_accessrequest_list_entry_id", ["list_entry_id"], unique=False)
            batch_op.create_foreign_key(
                "fk_accessrequest_list_entry_id_sharinglistentry", "sharinglistentry",
                ["list_entry_id"], ["id"],
            )


def downgrade() -> None:
    with op.batch_alter_table("accessrequest", schema=None) as batch_op:
        batch_op.drop_constraint("fk_accessrequest_list_entry_id_sharinglistentry", type_="foreignkey")
        batch_op.drop_index("ix_accessrequest_list_entry_id")
        batch_op.drop_column("list_entry_id")
    op.drop_table("sharinglistentry")
    op.drop_table("sharinglist")
