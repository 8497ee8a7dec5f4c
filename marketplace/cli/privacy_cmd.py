"""`marketplace release`: a de-identified extract of a resource's synthetic rows, with its privacy report."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import click
import pandas as pd
from sqlmodel import select

from marketplace import db
from marketplace.cli import main
from marketplace.cli.db_cmd import open_sandbox
from marketplace.errors import NotFound
from marketplace.i18n import t
from marketplace.models import Resource
from marketplace.privacy import deidentify


def _synthetic_rows(resource: Resource, rows: int, seed: int) -> pd.DataFrame:
    """The resource's synthetic table (columns = its field names), deterministic from the seed."""
    from marketplace.synth import sandbox_rows as synth_rows

    return synth_rows(resource, rows, seed)


@main.command("release")
@click.argument("resource_code")
@click.option("--rows", type=click.IntRange(min=1), required=True, help="Synthetic rows to generate.")
@click.option("--k", "k", type=click.IntRange(min=1), default=5, show_default=True,
              help="k-anonymity target.")
@click.option("--l", "l_value", type=click.FloatRange(min=1), default=2, show_default=True,
              help="ℓ-diversity target for every sensitive field.")
@click.option("--l-kind", type=click.Choice(["distinct", "entropy"]), default="distinct", show_default=True)
@click.option("--suppression-budget", type=click.FloatRange(0, 1), default=0.05, show_default=True,
              help="Largest fraction of rows that may be suppressed.")
@click.option("--out", type=click.Path(dir_okay=False, writable=True, path_type=Path), required=True,
              help="CSV file for the released table.")
@click.option("--report", "report_path", type=click.Path(dir_okay=False, writable=True, path_type=Path),
              help="JSON file for the privacy report.")
@click.option("--seed", type=int, default=0, show_default=True, help="Seed of the synthetic rows.")
def release(resource_code: str, rows: int, k: int, l_value: float, l_kind: str, suppression_budget: float,
            out: Path, report_path: Path | None, seed: int) -> None:
    """De-identify RESOURCE_CODE's synthetic rows to k-anonymity and ℓ-diversity; write CSV (+ report)."""
    with db.session_scope(open_sandbox()) as session:
        resource = session.exec(select(Resource).where(Resource.code == resource_code)).first()
        if resource is None:
            raise NotFound("resource", resource_code)
        df = _synthetic_rows(resource, rows, seed)
        result = deidentify(df, list(resource.fields), k=k, l=l_value, l_kind=l_kind,
                            suppression_budget=suppression_budget)
    result.table.to_csv(out, index=False)
    if report_path is not None:
        payload: dict[str, Any] = {"resource": resource_code, "rows_requested": rows, "seed": seed,
                                   **result.report.to_dict()}
        report_path.write_text(json.dumps(payload, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    click.echo(t("cli.release.done", resource=resource_code, summary=result.report.summary(), path=out))
