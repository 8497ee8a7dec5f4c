"""`marketplace disclose` (yearly report, DCAT-AP 3 export) and `marketplace catalog import` (portals)."""

from __future__ import annotations

from pathlib import Path

import click
import sqlalchemy as sa

from marketplace import db
from marketplace.cli import main
from marketplace.cli.core import catalog
from marketplace.cli.db_cmd import open_sandbox
from marketplace.i18n import t

REPORT_FORMATS = ("html", "md", "csv", "json", "dcat")


def _ready_engine():
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
    required=True,
    help="Output file (csv: .zip file or directory; '-' = standard output for html, md, json and dcat).",
)
def disclose(year: int | None, fmt: str, rdf_format: str | None, base_uri: str | None, out: str) -> None:
    """Publish the yearly disclosure report, or export the register as DCAT-AP 3.

    The report lists registrations, authorized-operation agreements, products with caps and actual prices,
    request statistics per channel and requester kind, and operator revenue against MAR. It never contains
    personal data or other parties' use statements (unless the policy in force publishes them).
    """
    from marketplace import disclosure

    if rdf_format and fmt != "dcat":
        raise click.UsageError(t("cli.disclose.dcat_only", option=f"--rdf-format {rdf_format}", fmt=fmt))
    if base_uri is not None and fmt != "dcat":
        raise click.UsageError(t("cli.disclose.dcat_only", option="--base-uri", fmt=fmt))
    if base_uri is not None and not base_uri.startswith(("http://", "https://", "urn:")):
        raise click.BadParameter(t("cli.disclose.bad_base", value=repr(base_uri)), param_hint="--base-uri")
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


@catalog.command("import")
@click.argument("file", type=click.Path(path_type=Path))
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["auto", "turtle", "xml", "json-ld", "ckan"]),
    default="auto",
    show_default=True,
    help="auto: by suffix (.ttl, .rdf/.xml, .jsonld) and, for .json, by content "
    "(@context -> JSON-LD, else CKAN package_show/package_search).",
)
def catalog_import(file: Path, fmt: str) -> None:
    """Import a portal catalogue (DCAT Turtle/RDF-XML/JSON-LD or CKAN API JSON) as resources.

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
    A malformed file imports nothing and exits with status 2.
    """
    from marketplace.disclosure import import_catalog

    engine = open_sandbox()
    with db.session_scope(engine) as session:
        result = import_catalog(session, file, fmt)
    click.echo(result.summary())
