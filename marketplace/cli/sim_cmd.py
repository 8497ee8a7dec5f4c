"""`marketplace simulate | compare | sweep`: policy scenarios from the command line (see marketplace.sim)."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import click

from marketplace.cli import columns, main, pad
from marketplace.cli.params import MAX_SEED, OutputFile
from marketplace.i18n import get_language, listing, t, t_or

#: metrics shown by `simulate` and `compare` (all of them go to --json / the Python API)
HEADLINE = [
    "arrivals",
    "filed",
    "approved",
    "rejected",
    "delivered",
    "pending",
    "filed.sharing",
    "filed.opening",
    "filed.authorized_operation",
    "waiting_days_median",
    "waiting_days_p90",
    "deadline_breaches",
    "deemed_decisions",
    "payments",
    "operator_revenue",
    "holder_share",
    "taxes",
    "consumer_surplus",
    "welfare",
    "free_use_share",
    "access_gini",
    "release_k_min",
    "prosecutor_risk_max",
    "mar_compliant_share",
    "mar_excess",
    "free_claims_refused",
    "false_free_claims",
    "misuse_detected",
    "leaked_revenue",
    "price_paid_mean.enterprise_micro",
    "price_paid_mean.enterprise_small",
    "price_paid_mean.enterprise_large",
]


def _fmt(x: Any) -> str:
    if isinstance(x, float):
        if math.isnan(x):
            return "-"
        return f"{x:,.0f}" if abs(x) >= 1000 else f"{x:,.4g}"
    return f"{x:,}" if isinstance(x, int) else str(x)


def _metric(name: str) -> str:
    """A metric as the output names it: English keeps the id that --json files and sweeps use; another
    language shows the panels' words for it where they have some."""
    return name if get_language() == "en" else t_or(f"metric.{name}", name)


def _parse_params(values: tuple[str, ...]) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for raw in values:
        key, sep, vals = raw.partition("=")
        items = [v.strip() for v in vals.split(",") if v.strip()]
        if not sep or not key.strip() or not items:
            raise click.BadParameter(t("cli.sweep.bad_param", value=repr(raw)), param_hint="--param")
        out[key.strip()] = items
    return out


def _progress(total: int, label: str) -> Any:
    from tqdm import tqdm

    return tqdm(
        total=total,
        desc=label,
        unit="day" if label.startswith("simulating") else "run",
        leave=False,
        disable=None,
    )


@main.command()
@click.argument("scenario")
@click.option("--seed", type=click.IntRange(0, MAX_SEED), help="Random seed (default: the scenario's).")
@click.option("--days", type=click.IntRange(1, 3660), help="Horizon in days (default: the scenario's).")
@click.option(
    "--json", "json_out", type=OutputFile(), help="Write the metrics here."
)
@click.option(
    "--db", "to_db", is_flag=True, help="Store requests, reviews, quotes and deliveries in the sandbox."
)
def simulate(scenario: str, seed: int | None, days: int | None, json_out: Path | None, to_db: bool) -> None:
    """Simulate SCENARIO (a name in seed/scenarios or a .toml path) and print its metrics."""
    from marketplace.sim import load_scenario, run

    sc = load_scenario(scenario)
    n = days or sc.horizon.days
    with _progress(n, f"simulating {sc.name}") as bar:
        result = run(sc, seed, days, progress=bar.update)
    click.echo(
        t("cli.sim.header", scenario=result.scenario, policy=result.policy, seed=result.seed,
          days=result.days)
    )
    names = {k: _metric(k) for k in HEADLINE}
    width = max(map(columns, names.values()))
    for k in HEADLINE:
        click.echo(f"  {pad(names[k], width)}  {_fmt(result.metrics[k]):>16}")
    click.echo(
        t(
            "cli.sim.budget",
            payments=result.money["payments"],
            operator=result.money["operator_revenue"],
            holder=result.money["holder_share"],
            taxes=result.money["taxes"],
        )
    )
    if json_out is not None:
        json_out.write_text(result.metrics_json(), encoding="utf-8")
        click.echo(t("cli.sim.metrics_written", path=json_out))
    if to_db:
        from marketplace.cli.db_cmd import open_sandbox
        from marketplace.sim.store import store_run

        counts = store_run(result, open_sandbox())
        click.echo(t("cli.sim.stored", counts=listing(f"{v} {k}" for k, v in counts.items())))


@main.command()
@click.argument("a")
@click.argument("b")
@click.option(
    "--seeds", type=click.IntRange(1, 1000), help="Number of common seeds (default: A's seeds.count)."
)
@click.option("--days", type=click.IntRange(1, 3660), help="Horizon in days (default: A's).")
@click.option(
    "--plot", type=OutputFile((".png", ".svg", ".pdf")), help="Save a PNG (or .svg, .pdf) of the differences."
)
@click.option("--all", "show_all", is_flag=True, help="Show every metric, not only the headline ones.")
def compare(a: str, b: str, seeds: int | None, days: int | None, plot: Path | None, show_all: bool) -> None:
    """Compare scenarios A and B on the same seeds: mean ± 95 % CI of each, and of B − A."""
    from marketplace.sim import compare as compare_runs
    from marketplace.sim import load_scenario

    sa, sb = load_scenario(a), load_scenario(b)
    n = seeds or sa.seeds.count
    with _progress(n, f"comparing {sa.name} and {sb.name}") as bar:
        table = compare_runs(sa, sb, n, days=days, progress=bar.update)
    rows = table.index if show_all else [k for k in HEADLINE if k in table.index]

    def ci(mean: float, lo: float, hi: float) -> str:
        return f"{_fmt(mean)} ± {_fmt((hi - lo) / 2)}"

    click.echo(
        t(
            "cli.compare.header",
            a=sa.name,
            b=sb.name,
            n=n,
            first=table.attrs["seeds"][0],
            last=table.attrs["seeds"][-1],
        )
    )
    names = {k: _metric(k) for k in rows}
    width = max(columns(t("common.metric")), *map(columns, names.values()))
    click.echo(f"  {pad(t('common.metric'), width)}  {'A':>24}  {'B':>24}  {'B - A':>24}")
    for k in rows:
        r = table.loc[k]
        click.echo(
            f"  {pad(names[k], width)}  {ci(r.a_mean, r.a_low, r.a_high):>24}"
            f"  {ci(r.b_mean, r.b_low, r.b_high):>24}  {ci(r.diff_mean, r.diff_low, r.diff_high):>24}"
        )
    if plot is not None:
        _plot(table, [k for k in HEADLINE if k in table.index], sa.name, sb.name, plot)
        click.echo(t("cli.compare.plot_written", path=plot))


def _plot(table: Any, rows: list[str], a: str, b: str, out: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import numpy as np

    shown = table.loc[rows]
    base = np.where(shown["a_mean"].abs() > 0, shown["a_mean"].abs(), 1.0)
    rel = 100 * shown["diff_mean"] / base
    err = 100 * (shown["diff_high"] - shown["diff_low"]) / 2 / base
    fig, ax = plt.subplots(figsize=(8, 0.3 * len(rows) + 1.5))
    colors = ["#2a7" if v >= 0 else "#c44" for v in rel]
    ax.barh(range(len(rows)), np.clip(rel, -100, 100), xerr=err, color=colors)
    ax.set_xlim(-105, 105)  # bars beyond ±100 % are drawn at the edge
    ax.set_yticks(range(len(rows)), rows, fontsize=8)
    ax.invert_yaxis()
    ax.axvline(0, color="black", lw=0.8)
    ax.set_xlabel(f"{b} − {a}, % of {a} (95 % CI)")
    fig.tight_layout()
    fig.savefig(out, dpi=120)
    plt.close(fig)


@main.command()
@click.argument("scenario")
@click.option(
    "--param",
    "params",
    multiple=True,
    required=True,
    help="KEY=V1,V2,... (dotted scenario key; policy keys as policy.overrides.KEY). Repeat for a grid.",
)
@click.option(
    "--seeds", type=click.IntRange(1, 1000), help="Seeds per point (default: the scenario's seeds.count)."
)
@click.option("--days", type=click.IntRange(1, 3660), help="Horizon in days (default: the scenario's).")
@click.option("--scheduler", help="Dask distributed scheduler address (default: local processes).")
@click.option("--workers", type=click.IntRange(1, 256), help="Local worker processes (default: all cores).")
@click.option(
    "--out",
    "out",
    type=OutputFile((".parquet",)),
    required=True,
    help="Parquet file for one row per (point, seed).",
)
def sweep(
    scenario: str,
    params: tuple[str, ...],
    seeds: int | None,
    days: int | None,
    scheduler: str | None,
    workers: int | None,
    out: Path,
) -> None:
    """Run SCENARIO for every combination of --param values × seeds and write the metrics to --out."""
    from marketplace.sim import load_scenario
    from marketplace.sim import sweep as sweep_runs

    grid = _parse_params(params)
    sc = load_scenario(scenario)
    n = seeds or sc.seeds.count
    total = n * math.prod(len(v) for v in grid.values())
    executor = None
    client = None
    if scheduler:
        try:
            from distributed import Client
        except ImportError:
            raise click.BadParameter(
                f"{scheduler!r}; a Dask scheduler needs the optional Dask support: "
                "pip install 'public-data-marketplace[distributed]'",
                param_hint="--scheduler",
            ) from None
        try:
            client = Client(scheduler, timeout="10s")
        except (OSError, TimeoutError, ValueError) as exc:
            raise click.BadParameter(
                t("cli.sweep.bad_scheduler", value=repr(scheduler), details=exc), param_hint="--scheduler"
            ) from None
        executor = client.get_executor()
    try:
        with _progress(total, f"sweeping {sc.name}") as bar:
            df = sweep_runs(sc, grid, n, executor, days=days, max_workers=workers, progress=bar.update)
    finally:
        if client is not None:
            client.close()
    df.to_parquet(out, index=False)
    click.echo(t("cli.sweep.written", runs=len(df), points=total // n, seeds=n, path=out))
    keys = list(grid)
    shown = [
        "filed", "delivered", "waiting_days_p90", "payments", "welfare",
        "mar_compliant_share", "leaked_revenue",
    ]
    summary = df.groupby(keys, sort=False)[shown].mean()
    click.echo(summary.to_string(float_format=lambda v: f"{v:,.1f}"))
