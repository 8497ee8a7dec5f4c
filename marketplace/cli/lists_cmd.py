"""`marketplace lists show`: the departments' sharing responsibility lists and their entries, in words."""

from __future__ import annotations

import click

from marketplace import db
from marketplace.cli import main
from marketplace.cli.db_cmd import open_sandbox
from marketplace.i18n import label, list_entry_text, seeded_text, t


@main.group("lists")
def lists() -> None:
    """Sharing responsibility lists: what each department must share with other departments."""


@lists.command("show")
@click.option("--department", default=None, help="Organization code of a department: only its list.")
def lists_show(department: str | None) -> None:
    """Print every published list (or one department's) with its entries, in the language in force."""
    import sqlalchemy as sa

    from marketplace.errors import InvalidInput
    from marketplace.workflows.sharing_list_view import list_views

    engine = open_sandbox()
    if not sa.inspect(engine).has_table("sharinglist"):
        raise click.UsageError(t("cli.not_seeded"))
    with db.session_scope(engine) as session:
        try:
            views = list_views(session, department)
        except InvalidInput:
            raise click.BadParameter(
                t("cli.lists.no_such_department", value=repr(department)), param_hint="--department"
            ) from None
    if not views:
        click.echo(t("cli.lists.none"))
        return
    for v in views:
        click.echo(t("cli.lists.heading", code=v.code, holder=v.holder, published=v.published_on.isoformat(),
                     basis=seeded_text(v.basis) or "—"))
        if not v.entries:
            click.echo("  " + t("common.empty"))
        for e in v.entries:
            click.echo(f"  - {list_entry_text(e)} · {label(e.status)}")
