"""`marketplace release`: a de-identified extract of a resource's synthetic rows, with its privacy report.

The resource's schema gets the release floor of `privacy.reviewed_schema` (event dates of people are
quasi-identifiers, per-record numbers identifiers); k and ℓ may not go below the policy in force; a resource
whose columns are all identifiers is refused; with `--pseudonymise` identifiers become keyed pseudonyms under
a key made for this release alone and never stored, so rows link within the release but not across releases.
"""

from __future__ import annotations

import json
import secrets
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from marketplace import db
from marketplace.cli import main
from marketplace.cli.db_cmd import open_sandbox
from marketplace.cli.params import MAX_SEED, FiniteFloatRange, OutputFile
from marketplace.i18n import t
from marketplace.vocabulary import MAX_K, MAX_L

if TYPE_CHECKING:  # pandas, the models and the privacy pipeline are imported when a release runs
    import pandas as pd

    from marketplace.models import Resource

#: Rows of one release: the synthetic table is generated and de-identified in memory.
MAX_RELEASE_ROWS = 1_000_000


def _synthetic_rows(resource: Resource, rows: int, seed: int) -> pd.DataFrame:
    """The resource's synthetic table (columns = its field names), deterministic from the seed."""
    from marketplace.synth import sandbox_rows as synth_rows

    return synth_rows(resource, rows, seed)


@main.command("release")
@click.argument("resource_code")
@click.option("--rows", type=click.IntRange(1, MAX_RELEASE_ROWS), required=True,
              help=f"Synthetic rows to generate (at most {MAX_RELEASE_ROWS:,}).")
@click.option("--k", "k", type=click.IntRange(1, MAX_K), default=5, show_default=True,
              help="k-anonymity target (at least the policy's minimum).")
@click.option("--l", "l_value", type=FiniteFloatRange(1, MAX_L), default=2, show_default=True,
              help="ℓ-diversity target for every sensitive field (at least the policy's minimum).")
@click.option("--l-kind", type=click.Choice(["distinct", "entropy"]), default="distinct", show_default=True)
@click.option("--suppression-budget", type=click.FloatRange(0, 1), default=0.05, show_default=True,
              help="Largest fraction of rows that may be suppressed.")
@click.option("--out", type=OutputFile(), required=True,
              help="CSV file for the released table.")
@click.option("--report", "report_path", type=OutputFile(),
              help="JSON file for the privacy report.")
@click.option("--seed", type=click.IntRange(0, MAX_SEED), default=0, show_default=True,
              help="Seed of the synthetic rows.")
@click.option("--compare-compute", is_flag=True,
              help="Also answer the resource's question (mean of a numeric field by a banded and a "
                   "categorical "
                   "quasi-identifier) from these rows, by aggregate SQL and with differential privacy, and "
                   "report error against risk across k, the minimum cell and ε.")
@click.option("--min-cell", type=click.IntRange(min=1, max=10_000), default=10, show_default=True,
              help="Minimum cell of the aggregate SQL answer (with --compare-compute).")
@click.option("--epsilon", type=FiniteFloatRange(min=0.001, max=100), default=1.0, show_default=True,
              help="ε of the differentially private answer (with --compare-compute).")
@click.option("--pseudonymise", is_flag=True,
              help="Replace identifiers by pseudonyms under a fresh key for this release (never stored) "
                   "instead of dropping them.")
def release(resource_code: str, rows: int, k: int, l_value: float, l_kind: str, suppression_budget: float,
            out: Path, report_path: Path | None, seed: int, compare_compute: bool, min_cell: int,
            epsilon: float, pseudonymise: bool) -> None:
    """De-identify RESOURCE_CODE's synthetic rows to k-anonymity and ℓ-diversity; write CSV (+ report).

    k and ℓ must be at least the minimum of the policy in force (national-2025: k 5, ℓ 2).
    """
    from sqlmodel import select

    from marketplace.errors import NotFound
    from marketplace.models import Resource
    from marketplace.privacy import check_release_targets, deidentify, reviewed_schema
    from marketplace.workflows.facts import current_policy

    with db.session_scope(open_sandbox()) as session:
        resource = session.exec(select(Resource).where(Resource.code == resource_code)).first()
        if resource is None:
            raise NotFound("resource", resource_code)
        policy = current_policy(session)
        check_release_targets(k, l_value, minimum_k=policy.privacy.k, minimum_l=policy.privacy.l,
                              policy=policy.name)
        df = _synthetic_rows(resource, rows, seed)
        fields = [(f.name, f.marking.value) for f in resource.fields]
        key = secrets.token_bytes(32) if pseudonymise else None
        result = deidentify(df, reviewed_schema(resource.fields), k=k, l=l_value, l_kind=l_kind,
                            suppression_budget=suppression_budget, pseudonym_key=key)
    comparison = _compare_compute(df, fields, k=k, l_value=l_value, min_cell=min_cell, epsilon=epsilon) \
        if compare_compute else None
    result.table.to_csv(out, index=False)
    if report_path is not None:
        payload: dict[str, Any] = {"resource": resource_code, "rows_requested": rows, "seed": seed,
                                   **result.report.to_dict()}
        if comparison is not None:
            payload["compare_compute"] = comparison
        report_path.write_text(json.dumps(payload, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    click.echo(t("cli.release.done", resource=resource_code, summary=result.report.summary(), path=out))
    if comparison is not None:
        _echo_comparison(comparison)


def _compare_compute(df: pd.DataFrame, fields: list[tuple[str, str]], *, k: int, l_value: float,
                     min_cell: int, epsilon: float) -> dict[str, Any]:
    """The trade-off figures of notebook 04 for this table (marketplace.compute.tradeoff)."""
    from dataclasses import asdict

    from marketplace.compute.tradeoff import compare, default_question, sweep, with_length_of_stay

    frame = with_length_of_stay(df)
    question = default_question(frame, fields)
    answers = compare(frame, question, k=k, l=l_value, min_cell=min_cell, epsilon=epsilon)
    table = sweep(frame, question, l=l_value)
    return {
        "question": asdict(question),
        "error_definition": "mean relative error of the cell means, weighted by cell size; an unanswered "
                            "cell takes the mean of the released figures",
        "risk_definition": {"rows": "prosecutor risk (1 / smallest equivalence class)",
                            "sql": "1 / minimum cell", "dp": "ε spent (OpenDP privacy map)"},
        "answers": [a.to_dict() for a in answers],
        "sweep": table.to_dict(orient="records"),
    }


def _echo_comparison(comparison: dict[str, Any]) -> None:
    q = comparison["question"]
    click.echo(f"question: mean {q['target']} by {q['band_column']} band of {q['band_width']} and "
               f"{q['category']}")
    click.echo(f"{'method':<6} {'setting':>8} {'risk':>8} {'error':>8} {'unanswered':>10} {'seconds':>8}")
    for a in comparison["answers"]:
        click.echo(f"{a['method']:<6} {a['parameter']:>8g} {a['risk']:>8.4f} {a['error']:>8.2%} "
                   f"{a['cells_unanswered']:>10d} {a['seconds']:>8.2f}")
    click.echo("sweep (method, setting, risk, error):")
    for r in comparison["sweep"]:
        click.echo(f"  {r['method']:<6} {r['parameter']:>8g} {r['risk']:>8.4f} {r['error']:>8.2%}")
