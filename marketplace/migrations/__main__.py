"""`python -m marketplace.migrations revision -m MESSAGE`: write the next revision from the model changes.

The models are compared with a scratch in-memory SQLite database brought to head by replaying every revision,
so the result never depends on what someone's sandbox happens to hold. Read the generated file before
committing it: renames come out as a drop and an add.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import click
import sqlalchemy as sa
from alembic import command
from sqlalchemy.pool import StaticPool

from marketplace.migrations import config, scripts


@click.group()
def main() -> None:
    """Developer commands for the schema revisions."""


@main.command()
@click.option("-m", "--message", required=True, help="What the revision changes, e.g. 'add review notes'.")
def revision(message: str) -> None:
    """Write the next numbered revision with the differences between the models and head."""
    latest = scripts().get_current_head()
    rev_id = f"{int(latest) + 1:04d}" if latest else "0001"
    engine = sa.create_engine("sqlite://", poolclass=StaticPool)
    with engine.begin() as conn:
        if latest:
            command.upgrade(config(conn), "head")
        script = command.revision(config(conn), message=message, autogenerate=True, rev_id=rev_id)
    paths = [s.path for s in (script if isinstance(script, list) else [script]) if s is not None]
    beside = Path(sys.executable).with_name("ruff")
    ruff = str(beside) if beside.exists() else shutil.which("ruff")
    if ruff:  # the project's style, so the revision passes `ruff check` as written
        subprocess.run([ruff, "format", "--quiet", *paths], check=False)
    click.echo("wrote " + ", ".join(paths))


if __name__ == "__main__":
    main()
