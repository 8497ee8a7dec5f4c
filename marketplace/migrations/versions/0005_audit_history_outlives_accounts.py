"""The audit log outlives the rows it names: `auditevent.actor_id` loses its foreign key to `account`.

Why: a workshop restore takes the business tables back (accounts made after the checkpoint go) but keeps
every audit event, so an event must be able to name an account that no longer exists. The key log itself
needs no schema change (the key id and where keying began live in the `audit_head` setting).

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-06 16:45:00

SQLite cannot drop a constraint in place: the table is rebuilt inside `op.batch_alter_table(...)`, with a
naming convention that gives the baseline's unnamed foreign key a name to drop.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import context, op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | None = None
depends_on: str | None = None

FK_NAME = "fk_auditevent_actor_id_account"
CONVENTION = {"fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s"}


def _actor_keys() -> list[dict]:
    inspector = sa.inspect(op.get_bind())
    keys = inspector.get_foreign_keys("auditevent")
    return [fk for fk in keys if fk["constrained_columns"] == ["actor_id"]]


def upgrade() -> None:
    if context.is_offline_mode():
        # The SQL `db upgrade --sql` prints: PostgreSQL's default name for the baseline's key; SQLite can drop
        # a constraint only by rebuilding the live table, which the online upgrade does.
        if op.get_context().dialect.name == "postgresql":
            op.drop_constraint("auditevent_actor_id_fkey", "auditevent", type_="foreignkey")
        return
    keys = _actor_keys()
    if not keys:  # made from the models of this version already
        return
    if op.get_bind().dialect.name == "sqlite":
        with op.batch_alter_table("auditevent", naming_convention=CONVENTION, recreate="always") as batch_op:
            batch_op.drop_constraint(FK_NAME, type_="foreignkey")
        return
    for fk in keys:
        op.drop_constraint(fk["name"], "auditevent", type_="foreignkey")


def downgrade() -> None:
    if not context.is_offline_mode() and _actor_keys():
        return
    with op.batch_alter_table("auditevent", schema=None) as batch_op:
        batch_op.create_foreign_key(FK_NAME, "account", ["actor_id"], ["id"])
