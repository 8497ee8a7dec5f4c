"""Sandbox housekeeping commands: `info`, `reset`, `catalog list | show | search`.

SQLAlchemy, SQLModel and the models are imported inside the commands: importing this module is part of every
`marketplace` start, `--help` included.
"""

from __future__ import annotations

import json
import sys
from typing import Any

import click

from marketplace import db
from marketplace.cli import columns, main, pad
from marketplace.cli.db_cmd import open_sandbox
from marketplace.i18n import domain_label, frequency_label, has, label, listing, t
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
    counts = db.quick_counts()  # a current SQLite sandbox: read without SQLAlchemy (a fast start)
    if counts is not None:
        url = db.database_url()  # a SQLite file URL: no password to hide
    else:
        url, counts = sandbox_counts()
    if as_json:
        click.echo(json.dumps({"database": url, "counts": counts}, indent=2))
        return
    click.echo(t("cli.info.database", url=url))
    shown = {table_label(name): n for name, n in counts.items()}
    width = max(map(columns, shown))
    for name, n in shown.items():
        click.echo(f"  {pad(name, width)}  {n:>8}")


def table_label(name: str) -> str:
    """A table as people call what it holds ('accessrequest' -> 'access requests' / '访问申请'); --json keeps
    the table names, which scripts read."""
    key = f"table.{name}"
    return t(key) if has(key) else t("cli.info.unknown_table", name=name)


def sandbox_counts() -> tuple[str, dict[str, int]]:
    """The sandbox opened (created or upgraded as needed), its redacted URL and rows per table."""
    import sqlalchemy as sa
    from sqlmodel import SQLModel

    engine = open_sandbox()
    inspector = sa.inspect(engine)
    counts: dict[str, int] = {}
    with engine.connect() as conn:
        for name, table in sorted(SQLModel.metadata.tables.items()):
            counts[name] = conn.execute(sa.select(sa.func.count()).select_from(table)).scalar_one() \
                if inspector.has_table(name) else 0
    return db.redact(str(engine.url)), counts


@main.command()
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
@click.option("--trainer-code", envvar="MARKETPLACE_TRAINER_CODE",
              help="The trainer's join code, required when a workshop runs on the database.")
def reset(yes: bool, trainer_code: str | None) -> None:
    """Delete everything in the sandbox database and leave empty tables."""
    import sqlalchemy as sa

    if not yes and not sys.stdin.isatty():
        raise click.UsageError(t("cli.reset.no_terminal"))
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
    import sqlalchemy as sa
    from sqlmodel import select

    from marketplace.models import Resource
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
    frame["domain"] = frame["domain"].map(domain_label)
    frame["channels"] = frame["channels"].map(lambda chs: listing(label(c) for c in chs))
    frame = frame.rename(columns={column: t(key) for column, key in COLUMNS.items()})
    with pd.option_context("display.unicode.east_asian_width", True):  # Chinese takes two columns
        click.echo(frame.to_string(index=False))


def _catalog_session() -> Any:
    import sqlalchemy as sa

    engine = open_sandbox()
    if not sa.inspect(engine).has_table("resource"):
        raise click.UsageError(t("cli.not_seeded"))
    return db.session_scope(engine)


def text_table(rows: list[dict[str, Any]], headings: dict[str, str]) -> str:
    """Rows as an aligned text table under translated headings (Chinese counted as two columns)."""
    import pandas as pd

    frame = pd.DataFrame(rows, columns=list(headings)).rename(columns=headings)
    with pd.option_context("display.unicode.east_asian_width", True, "display.max_colwidth", 60):
        return frame.to_string(index=False)


@catalog.command("show")
@click.argument("code")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
def catalog_show(code: str, as_json: bool) -> None:
    """One resource in full: facts, schema with each field's role, registration, channels and products."""
    from marketplace.errors import NotFound
    from marketplace.workflows.catalog_view import resource_card

    with _catalog_session() as session:
        try:
            card = resource_card(session, code)
        except NotFound:
            raise click.BadParameter(
                t("cli.catalog.no_such", value=repr(code)), param_hint="CODE"
            ) from None
    if as_json:
        click.echo(json.dumps(card.as_dict(), ensure_ascii=False, indent=2))
        return
    reg = card.registration
    facts = [
        ("common.code", card.code),
        ("common.title", card.title),
        ("common.holder", card.holder),
        ("common.domain", domain_label(card.domain)),
        ("common.grade", label(card.grade)),
        ("catalog.sharing", label(card.sharing)),
        ("catalog.opening", label(card.opening)),
        ("catalog.channels", listing(label(c) for c in card.channels) or t("cli.none")),
        ("catalog.frequency", frequency_label(card.update_frequency)),
        ("catalog.size", f"{card.rows:,}"),
        (
            "catalog.registration",
            f"{reg['code'] or '—'} ({label(reg['status'])})" if reg else t("common.none"),
        ),
        ("catalog.description", card.description or "—"),
    ]
    names = [t(key) for key, _ in facts]
    width = max(map(columns, names))
    for name, (_, value) in zip(names, facts, strict=True):
        click.echo(f"{pad(name, width)}  {value}")
    click.echo("")
    click.echo(t("catalog.schema"))
    click.echo(
        text_table(
            [{**f, "type": label(f["type"]), "role": label(f["role"])} for f in card.fields],
            {
                "name": t("catalog.field"),
                "type": t("catalog.type"),
                "role": t("catalog.marking"),
                "description": t("catalog.description"),
            },
        )
    )
    click.echo("")
    click.echo(t("catalog.products"))
    if not card.products:
        click.echo("  " + t("catalog.no_products"))
        return
    click.echo(
        text_table(
            [
                {**p, "kind": label(p["kind"]), "status": label(p["status"]),
                 "billing_unit": label(p["billing_unit"]), "actual_price": p["actual_price"] or "—"}
                for p in card.products
            ],
            {
                "code": t("common.code"),
                "name": t("common.name"),
                "kind": t("common.kind"),
                "status": t("common.status"),
                "operator": t("common.operator"),
                "billing_unit": t("common.billing_unit"),
                "price_cap": t("common.price_cap"),
                "actual_price": t("common.actual_price"),
            },
        )
    )


@catalog.command("search")
@click.argument("text")
@click.option("--limit", type=click.IntRange(1, 500), default=20, show_default=True, help="Rows per page.")
@click.option("--offset", type=click.IntRange(0, 10_000_000), default=0, show_default=True,
              help="Rows to skip.")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
def catalog_search(text: str, limit: int, offset: int, as_json: bool) -> None:
    """Resources whose code, title, description or a field name contains TEXT (any case)."""
    from marketplace.workflows.catalog_view import MAX_QUERY_CHARS, search_resources

    if len(text) > MAX_QUERY_CHARS:
        raise click.BadParameter(
            t("cli.catalog.long_query", length=len(text), limit=MAX_QUERY_CHARS), param_hint="TEXT"
        )
    with _catalog_session() as session:
        page = search_resources(session, text, limit=limit, offset=offset)
    if as_json:
        doc = {"query": page.query, "total": page.total, "limit": page.limit, "offset": page.offset,
               "rows": page.rows}
        click.echo(json.dumps(doc, ensure_ascii=False, indent=2))
        return
    if not page.rows:
        click.echo(t("cli.catalog.search_none", query=page.query, total=page.total, offset=page.offset))
        return
    click.echo(t("catalog.page", first=page.first, last=page.last, total=page.total))
    click.echo(
        text_table(
            [{**r, "grade": label(r["grade"]), "domain": domain_label(r["domain"]),
              "matched_fields": listing(r["matched_fields"]) or "—"} for r in page.rows],
            {
                "code": t("common.code"),
                "title": t("common.title"),
                "domain": t("common.domain"),
                "grade": t("common.grade"),
                "holder": t("common.holder"),
                "matched_fields": t("catalog.matched_fields"),
            },
        )
    )
    if page.has_next:
        click.echo(t("cli.catalog.next_page", offset=page.offset + page.limit))
