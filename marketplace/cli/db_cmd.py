"""`marketplace db upgrade | current | history`: the schema revision of the database, for servers.

Every other command that opens the sandbox goes through `open_sandbox`, which upgrades a database made by an
older release on the spot and says so in one line on stderr; these commands do the same by hand (e.g. before a
workshop, once, on the PostgreSQL server everyone shares) or only look.
"""

from __future__ import annotations

import io
import json
from typing import TYPE_CHECKING

import click

from marketplace import db
from marketplace.cli import main
from marketplace.i18n import listing, t

if TYPE_CHECKING:
    from sqlalchemy.engine import Engine

    from marketplace.migrations import SchemaChange


def open_sandbox() -> Engine:
    """The sandbox's engine with its schema at this version's head (an upgrade is announced on stderr)."""
    engine = db.get_engine()
    change = db.upgrade_schema(engine)
    if change is not None and not change.created:
        click.echo(change_line(change), err=True)
    return engine


#: What the database's schema is, in the words of `db current --json` (read by scripts: kept in English).
STATES = {
    "earlier": "made by an earlier release (no revision recorded)",
    "empty": "empty (no schema yet)",
    "current": "current",
    "behind": "behind: run `marketplace db upgrade`",
    "newer": "newer than this version of marketplace",
}


def _state(engine: Engine) -> dict[str, object]:
    from marketplace import migrations

    with engine.connect() as conn:
        revision = migrations.current(conn)
        ours = migrations.has_our_tables(conn)
    head = migrations.head()
    if revision is None:
        code = "earlier" if ours else "empty"
    elif revision == head:
        code = "current"
    elif migrations.known(revision):
        code = "behind"
    else:
        code = "newer"
    return {"database": db.redact(str(engine.url)), "revision": revision, "head": head, "state": STATES[code],
            "code": code}


def change_line(change: SchemaChange) -> str:
    """What opening the database did to its schema, in the language in force."""
    if change.created:
        return t("cli.db.created", database=change.database, after=change.after)
    if change.earlier_release:
        from marketplace.migrations import BASELINE

        return t("cli.db.upgraded_earlier", database=change.database, baseline=BASELINE, after=change.after)
    return t("cli.db.upgraded", database=change.database, before=change.before, after=change.after)


@main.group("db")
def db_group() -> None:
    """The database schema: its revision, and upgrading it to this version."""


@db_group.command("upgrade")
@click.option("--sql", "as_sql", is_flag=True,
              help="Print the SQL that would bring the database to head instead of running it.")
def upgrade(as_sql: bool) -> None:
    """Bring the database to this version's schema (create, record or upgrade it; data is kept)."""
    from marketplace import migrations

    engine = db.get_engine()
    db.check_connection(engine)
    if as_sql:
        click.echo(_offline_sql(engine), nl=False)
        return
    change = db.upgrade_schema(engine)
    if change is None:
        click.echo(t("cli.db.at_head", database=db.redact(str(engine.url)), head=migrations.head()))
    else:
        click.echo(change_line(change))


def _offline_sql(engine: Engine) -> str:
    """The upgrade as SQL for the database's dialect, from the revision it records (or from nothing)."""
    from alembic import command

    from marketplace import migrations

    with engine.connect() as conn:
        revision = migrations.current(conn)
        ours = migrations.has_our_tables(conn)
    migrations.require_known(revision, db.redact(str(engine.url)))
    note = ""
    if revision is None and ours:
        note = (f"-- {db.redact(str(engine.url))} was made by an earlier release: the baseline creates only "
                "what is missing\n")
    buffer = io.StringIO()
    cfg = migrations.config(output_buffer=buffer)
    cfg.set_main_option("sqlalchemy.url", db.redact(str(engine.url)).replace("%", "%%"))  # dialect only
    if revision != migrations.head():
        command.upgrade(cfg, "head" if revision is None else f"{revision}:head", sql=True)
    sql = buffer.getvalue()
    return note + (sql or f"-- already at revision {migrations.head()} (head): nothing to do\n")


@db_group.command("current")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
def current(as_json: bool) -> None:
    """The schema revision the database records, and whether it is this version's head."""
    engine = db.get_engine()
    db.check_connection(engine)
    state = _state(engine)
    code = state.pop("code")
    if as_json:
        click.echo(json.dumps(state))
        return
    click.echo(t("cli.db.current", database=state["database"], revision=state["revision"] or t("cli.db.none"),
                 state=t(f"cli.db.state.{code}"), head=state["head"]))


@db_group.command("history")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
def history(as_json: bool) -> None:
    """Every schema revision this version knows, oldest first, marking the database's own."""
    from marketplace import migrations

    engine = db.get_engine()
    db.check_connection(engine)
    here = _state(engine)["revision"]
    rows = [
        {"revision": s.revision, "down_revision": s.down_revision, "message": (s.doc or "").strip(),
         "current": s.revision == here, "head": s.revision == migrations.head()}
        for s in migrations.history()
    ]
    if as_json:
        click.echo(json.dumps(rows, ensure_ascii=False))
        return
    for row in rows:
        marks = listing(t(f"cli.db.mark.{m}") for m in ("current", "head") if row[m])
        click.echo(f"{row['revision']}  {row['message']}" + (f"  ({marks})" if marks else ""))
    if here is not None and not any(r["current"] for r in rows):
        click.echo(t("cli.db.unknown_revision", revision=repr(here)))
