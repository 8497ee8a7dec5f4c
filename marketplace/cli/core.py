"""Sandbox housekeeping commands: `info`, `reset`, `catalog list`."""

from __future__ import annotations

import json

import click
import sqlalchemy as sa
from sqlmodel import SQLModel, select

from marketplace import db
from marketplace.cli import main
from marketplace.cli.db_cmd import open_sandbox
from marketplace.i18n import label, listing, t
from marketplace.models import Resource
from marketplace.vocabulary import Grade

# headings of `catalog list` (the panels' own words for the same columns)
COLUMNS = {
    "code": "common.code",
    "title": "common.title",
    "domain": "common.domain",
    "grade": "common.grade",
    "sharing": "catalog.sharing",
    "opening": "catalog.opening",
    "holder": "common.holder",
    "rows": "catalog.size",
    "channels": "catalog.channels",
}


@main.command()
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
def info(as_json: bool) -> None:
    """Database URL and the number of rows of every entity."""
    engine = open_sandbox()
    inspector = sa.inspect(engine)
    counts: dict[str, int] = {}
    with engine.connect() as conn:
        for name, table in sorted(SQLModel.metadata.tables.items()):
            counts[name] = conn.execute(sa.select(sa.func.count()).select_from(table)).scalar_one() \
                if inspector.has_table(name) else 0
    if as_json:
        click.echo(json.dumps({"database": db.redact(str(engine.url)), "counts": counts}, indent=2))
        return
    click.echo(t("cli.info.database", url=db.redact(str(engine.url))))
    width = max(map(len, counts))
    for name, n in counts.items():
        click.echo(f"  {name:<{width}}  {n:>8}")


@main.command()
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
@click.option("--trainer-code", envvar="MARKETPLACE_TRAINER_CODE",
              help="The trainer's join code, required when a workshop runs on the database.")
def reset(yes: bool, trainer_code: str | None) -> None:
    """Delete everything in the sandbox database and leave empty tables."""
    engine = db.get_engine()
    db.check_connection(engine)
    from marketplace import migrations

    with engine.connect() as conn:  # a newer release's database is refused first, and left alone
        migrations.require_known(migrations.current(conn), db.redact(str(engine.url)))
    if sa.inspect(engine).has_table("participant") and sa.inspect(engine).has_table("auditevent"):
        from marketplace.workshop.facilitator import require_trainer

        require_trainer(engine, trainer_code, "sandbox.reset", "reset the sandbox")
    if not yes:
        click.confirm(t("cli.reset.confirm", url=db.redact(str(engine.url))), abort=True)
    db.reset(engine)
    click.echo(t("cli.reset.done", url=db.redact(str(engine.url))))


@main.group()
def catalog() -> None:
    """Browse and import the catalog of public data resources."""


@catalog.command("list")
@click.option("--domain", help="Only resources of this domain.")
@click.option("--grade", type=click.Choice([g.value for g in Grade]), help="Only this grade.")
@click.option("--channel", type=click.Choice(["sharing", "opening", "authorized_operation"]),
              help="Only resources this channel can serve under the policy in force.")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
def catalog_list(domain: str | None, grade: str | None, channel: str | None, as_json: bool) -> None:
    """List the resources of the catalog."""
    from marketplace.workflows.facts import resource_channels

    engine = open_sandbox()
    with db.session_scope(engine) as session:
        if not sa.inspect(engine).has_table("resource"):
            raise click.UsageError(t("cli.not_seeded"))
        query = select(Resource).order_by(Resource.code)
        if domain:
            domains = set(session.exec(select(Resource.domain).distinct()).all())
            if domain not in domains:
                allowed = listing(sorted(domains)) or t("cli.none")
                raise click.BadParameter(
                    t("cli.expected_one_of", value=repr(domain), allowed=allowed), param_hint="--domain"
                )
            query = query.where(Resource.domain == domain)
        if grade:
            query = query.where(Resource.grade == Grade(grade))
        rows = []
        for res in session.exec(query).all():
            channels = resource_channels(res)
            if channel and channel not in channels:
                continue
            rows.append({"code": res.code, "title": res.title, "domain": res.domain, "grade": res.grade.value,
                         "sharing": res.sharing_attribute.value, "opening": res.opening_attribute.value,
                         "holder": res.holder.name, "rows": res.row_count, "channels": channels})
    if as_json:
        click.echo(json.dumps(rows, ensure_ascii=False, indent=2))
        return
    if not rows:
        click.echo(t("cli.catalog.none_match"))
        return
    import pandas as pd

    frame = pd.DataFrame(rows)
    for column in ("grade", "sharing", "opening"):
        frame[column] = frame[column].map(label)
    frame["channels"] = frame["channels"].map(lambda chs: listing(label(c) for c in chs))
    frame = frame.rename(columns={column: t(key) for column, key in COLUMNS.items()})
    with pd.option_context("display.unicode.east_asian_width", True):  # Chinese takes two columns
        click.echo(frame.to_string(index=False))
