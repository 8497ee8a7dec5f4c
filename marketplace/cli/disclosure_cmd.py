"""`marketplace disclose` (yearly report, DCAT-AP 3 export) and `marketplace catalog import` (portals)."""

from __future__ import annotations

from pathlib import Path

import click

from marketplace import db
from marketplace.cli import main
from marketplace.cli.core import catalog
from marketplace.cli.db_cmd import open_sandbox
from marketplace.cli.params import OutputFile
from marketplace.i18n import label, t

REPORT_FORMATS = ("html", "md", "csv", "json", "dcat")


def _ready_engine():
    import sqlalchemy as sa

    engine = open_sandbox()
    if not sa.inspect(engine).has_table("resource"):
        raise click.UsageError(t("cli.not_seeded"))
    return engine


def _write_text(out: str, text: str) -> None:
    if out == "-":
        click.echo(text, nl=not text.endswith("\n"))
        return
    path = Path(out)
    if path.parent and not path.parent.exists():
        raise click.BadParameter(
            t("cli.out.no_directory", value=repr(out), directory=repr(str(path.parent))), param_hint="--out"
        )
    path.write_text(text, encoding="utf-8")


@main.command("disclose")
@click.option(
    "--year",
    type=click.IntRange(1900, 2999),
    help="Year to publish (default: the sandbox clock's year, else the latest year with data).",
)
@click.option(
    "--format",
    "fmt",
    type=click.Choice(REPORT_FORMATS),
    default="html",
    show_default=True,
    help="html: one self-contained page; md: Markdown tables; csv: one CSV per table (a .zip when "
    "--out ends in .zip, else a directory); json: one document; dcat: DCAT-AP 3 register.",
)
@click.option(
    "--rdf-format",
    type=click.Choice(["turtle", "json-ld", "xml"]),
    help="Serialization of --format dcat (default turtle).",
)
@click.option(
    "--base-uri", default=None, help="Base IRI of the DCAT export (default https://marketplace.example/)."
)
@click.option(
    "--out",
    default=None,
    type=OutputFile(allow_dash=True, allow_directory=True),
    help="Output file (csv: .zip file or directory; '-' = standard output for html, md, json and dcat). "
    "Required unless --party is given.",
)
@click.option(
    "--party",
    default=None,
    help="Organization code of an implementing institution or operator: it publishes its own yearly "
    "disclosure for --year (default: the year before the sandbox clock's), printed as JSON.",
)
def disclose(
    year: int | None, fmt: str, rdf_format: str | None, base_uri: str | None, out: Path | str | None,
    party: str | None,
) -> None:
    """Publish the yearly disclosure report, or export the register as DCAT-AP 3.

    The report lists registrations, authorized-operation agreements, products with caps and actual prices,
    request statistics per channel and requester kind, and operator revenue against MAR. It never contains
    personal data or other parties' use statements (unless the policy in force publishes them).
    """
    from marketplace import disclosure

    if party is not None:
        _publish_for(party, year, str(out) if out is not None else "-")
        return
    if out is None:
        raise click.UsageError(t("cli.disclose.out_required"))
    out = str(out)
    if fmt != "csv" and Path(out).is_dir():
        raise click.BadParameter(t("cli.out.is_directory", value=repr(out)), param_hint="--out")
    if rdf_format and fmt != "dcat":
        raise click.UsageError(t("cli.disclose.dcat_only", option=f"--rdf-format {rdf_format}", fmt=fmt))
    if base_uri is not None and fmt != "dcat":
        raise click.UsageError(t("cli.disclose.dcat_only", option="--base-uri", fmt=fmt))
    if base_uri is not None:
        disclosure.dcat.check_base_uri(base_uri, field="--base-uri")
    if fmt == "csv" and out == "-":
        raise click.BadParameter(t("cli.disclose.csv_stdout"), param_hint="--out")
    engine = _ready_engine()
    with db.session_scope(engine) as session:
        if fmt == "dcat":
            text = disclosure.export_dcat(
                session, rdf_format or "turtle", base=base_uri or disclosure.dcat.DEFAULT_BASE
            )
            _write_text(out, text)
            if out != "-":
                syntax = rdf_format or "turtle"
                click.echo(t("cli.disclose.wrote_dcat", rdf_format=syntax, path=out), err=True)
            return
        report = disclosure.build_report(session, year)
    if fmt == "csv":
        path = Path(out)
        if path.suffix.lower() == ".zip":
            if not path.parent.exists():
                raise click.BadParameter(
                    t("cli.out.no_directory", value=repr(out), directory=repr(str(path.parent))),
                    param_hint="--out",
                )
            path.write_bytes(disclosure.to_csv_bytes(report))
        else:
            if path.exists() and not path.is_dir():
                raise click.BadParameter(t("cli.disclose.out_is_file", value=repr(out)), param_hint="--out")
            disclosure.write_csv_dir(report, path)
    else:
        render = {
            "html": disclosure.render_html,
            "md": disclosure.render_markdown,
            "json": disclosure.to_json,
        }[fmt]
        _write_text(out, render(report))
    if out != "-":
        click.echo(t("cli.disclose.wrote_report", year=report.year, fmt=fmt, path=out), err=True)


def _publish_for(code: str, year: int | None, out: str) -> None:
    """The party's own staff publishes its disclosure (the first account of the party with the right role)."""
    import json

    from sqlmodel import select

    from marketplace import workflows as wf
    from marketplace.errors import InvalidInput
    from marketplace.models import Organization
    from marketplace.vocabulary import OrganizationKind, Role

    engine = _ready_engine()
    with db.session_scope(engine) as s:
        org = s.exec(select(Organization).where(Organization.code == code)).first()
        if org is None:
            raise InvalidInput("--party", code, "the code of an implementing institution or an operator")
        roles = (Role.operator,) if org.kind is OrganizationKind.operator else (Role.registrar, Role.steward)
        staff = [a for r in roles for a in wf.accounts_with_role(s, r, org_id=org.id)]
        if not staff:
            raise InvalidInput("--party", code, "an organization with staff who may publish its disclosure")
        pub = wf.publish_disclosure(s, staff[0], org, year or wf.clock.today(s).year - 1)
        text = json.dumps(
            {"party": org.code, "year": pub.year, "role": pub.role, "due": str(pub.due), "status": pub.status,
             "content": pub.content},
            ensure_ascii=False, indent=2,
        )
        message = t("cli.disclose.published", party=org.code, year=pub.year, status=label(pub.status),
                    due=pub.due)
    _write_text(out, text + "\n")
    click.echo(message, err=True)


class _LimitOption(click.Option):
    """`--limit`, whose help lists the defaults of `ImportLimits` when asked (importing the importer for every
    command would cost every command a second)."""

    def get_help_record(self, ctx: click.Context) -> tuple[str, str] | None:
        from marketplace.disclosure.safeparse import DEFAULT_LIMITS, ImportLimits

        defaults = ", ".join(f"{name}={getattr(DEFAULT_LIMITS, name)}" for name in ImportLimits.names())
        self.help = t("help.catalog.import.limit_values", defaults=defaults)
        return super().get_help_record(ctx)


def _limits(values: tuple[str, ...]):
    """`--limit NAME=N` options -> ImportLimits (unknown names and bad numbers refused by name)."""
    from marketplace.disclosure.safeparse import DEFAULT_LIMITS, ImportLimits

    overrides: dict[str, int] = {}
    for item in values:
        name, sep, number = item.partition("=")
        if not sep or not number.strip().isdigit():
            raise click.BadParameter(
                f"{item!r}: expected NAME=N, NAME one of {', '.join(ImportLimits.names())}",
                param_hint="--limit",
            )
        overrides[name.strip()] = int(number)
    return DEFAULT_LIMITS.with_overrides(overrides)


@catalog.command("import")
@click.argument("file", type=click.Path(path_type=Path))
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["auto", "turtle", "xml", "json-ld", "ckan", "ckan-jsonl"]),
    default="auto",
    show_default=True,
    help="auto: by suffix (.ttl, .rdf/.xml, .jsonld, .jsonl) and, for .json, by content "
    "(@context -> JSON-LD, one object per line -> ckanapi dump, else CKAN package_show/package_search).",
)
@click.option(
    "--limit",
    "limit_values",
    multiple=True,
    metavar="NAME=N",
    cls=_LimitOption,
)
@click.option("--progress/--no-progress", default=None,
              help="Progress bar on standard error (default: when it is a terminal).")
def catalog_import(file: Path, fmt: str, limit_values: tuple[str, ...], progress: bool | None) -> None:
    """Import a portal catalogue (DCAT Turtle/RDF-XML/JSON-LD, CKAN API JSON or a `ckanapi dump` JSON-lines
    file) as resources.

    \b
    Mapping (defaults when a value is missing or unknown):
      title, description (default: the title); publisher -> organization matched by name
        (kind from the ADMS publisher type, default department; none -> "Unknown publisher");
      keywords/tags/groups, then EU data themes, then title words -> domain (default "other");
      access rights PUBLIC / RESTRICTED / NON_PUBLIC -> sharing+opening attributes
        (default RESTRICTED = conditional/conditional; CKAN private -> NON_PUBLIC, isopen -> PUBLIC);
      grade general (NON_PUBLIC -> important); update frequency default "irregular"; size 1000 rows;
      declared fields (CSVW columns, CKAN schema/datastore fields) with markings from their names
        (identifier, quasi_identifier, sensitive, else other); none declared -> domain template.
    Re-importing the same file changes nothing (keyed on the dataset IRI / identifier / CKAN id).
    Nothing is fetched: JSON-LD contexts must be inline or bundled with the sandbox; XML entities are refused.
    A malformed file, or one over a limit, imports nothing and exits with status 2.
    """
    from tqdm import tqdm

    from marketplace.disclosure import import_catalog, iter_catalog

    limits = _limits(limit_values)
    opened = iter_catalog(file, fmt, limits=limits)  # a bad file is refused before the database is opened
    engine = open_sandbox()
    bars: list[tqdm] = []

    def advance(done: int, total: int) -> None:
        if not bars:  # made at the first batch, when the number of datasets is known
            bars.append(tqdm(total=total, desc="importing", unit=" datasets", leave=False,
                             disable=None if progress is None else not progress))
        bars[0].update(done - bars[0].n)

    try:
        with db.session_scope(engine) as session:
            result = import_catalog(session, file, limits=limits, progress=advance, opened=opened)
    finally:
        for bar in bars:
            bar.close()
    click.echo(result.summary())
