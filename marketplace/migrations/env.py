"""The Alembic environment: runs on the connection `marketplace.migrations` hands over, else on the sandbox's.

Offline (`--sql`) it renders SQL for the URL's dialect instead. Tables are altered in batch mode, which SQLite
needs for most column changes and which is a plain ALTER elsewhere.
"""

from __future__ import annotations

from typing import Any

from alembic import context
from sqlmodel import SQLModel
from sqlmodel.sql.sqltypes import AutoString, UTCDateTime

from marketplace import models  # noqa: F401  (registers every table on SQLModel.metadata)


def render_item(kind: str, obj: Any, autogen_context: Any) -> str | bool:
    """Write SQLModel's column types as the SQLAlchemy types they store: revisions never import SQLModel."""
    if kind == "type" and isinstance(obj, AutoString):
        return f"sa.String(length={obj.length})" if obj.length else "sa.String()"
    if kind == "type" and isinstance(obj, UTCDateTime):
        return "sa.DateTime(timezone=True)"
    return False


OPTIONS: dict[str, Any] = {
    "target_metadata": SQLModel.metadata,
    "render_as_batch": True,
    "compare_type": True,
    "render_item": render_item,
}


def run_offline() -> None:
    from marketplace import db

    url = context.config.get_main_option("sqlalchemy.url") or db.database_url()
    context.configure(url=url, literal_binds=True, dialect_opts={"paramstyle": "named"}, **OPTIONS)
    with context.begin_transaction():
        context.run_migrations()


def run_online() -> None:
    connection = context.config.attributes.get("connection")
    if connection is not None:
        context.configure(connection=connection, **OPTIONS)
        with context.begin_transaction():
            context.run_migrations()
        return
    from marketplace import db

    with db.get_engine().begin() as conn:
        context.configure(connection=conn, **OPTIONS)
        with context.begin_transaction():
            context.run_migrations()


if context.is_offline_mode():
    run_offline()
else:
    run_online()
