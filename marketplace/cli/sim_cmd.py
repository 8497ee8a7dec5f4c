"""`marketplace simulate | compare | sweep`: policy scenarios from the command line (see marketplace.sim)."""

from __future__ import annotations

import contextlib
import math
from pathlib import Path
from typing import Any

import click

from marketplace.cli import columns, main, pad
from marketplace.cli.params import MAX_SEED, OutputDir, OutputFile
from marketplace.i18n import get_language, label, listing, setting_label, t, t_or

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
    "filed.sharing_list",
    "rejected.sharing_list",
    "sharing_list_share",
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
    "risk_proxy_mean",
    "compute_grants",
    "compute_queries",
    "compute_budget_exhausted",
    "compute_value_lost",
    "compute_value_lost.enterprise_micro",
    "compute_value_lost.enterprise_small",
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


def _progress(total: int, label: str, unit: str = "day") -> Any:
    """A terminal progress bar (hidden when output is not a terminal); `unit` "day" or "run", in words."""
    from tqdm import tqdm

    return tqdm(
        total=total,
        desc=label,
        unit=t(f"cli.sim.unit_{unit}"),
        leave=False,
        disable=None,
    )


@main.command()
def scenarios() -> None:
    """List the shipped scenarios: name, what each changes, its policy, days and seeds."""
    from marketplace.i18n import scenario_description
    from marketplace.sim import list_scenarios, load_scenario, scenario_dir

    click.echo(t("cli.scenarios.header", folder=scenario_dir()))
    for name in list_scenarios():
        sc = load_scenario(name)
        about = scenario_description(sc.name, sc.description)
        click.echo("  " + t("cli.scenarios.row", name=sc.name, description=about, policy=sc.policy_obj.name,
                            days=sc.horizon.days, seeds=sc.seeds.count))


@main.command()
@click.argument("scenario")
@click.option("--seed", type=click.IntRange(0, MAX_SEED), help="Random seed (default: the scenario's).")
@click.option("--days", type=click.IntRange(1, 3660), help="Horizon in days (default: the scenario's).")
@click.option(
    "--json", "json_out", type=OutputFile(), help="Write the metrics here."
)
@click.option(
    "--events",
    "events_dir",
    type=OutputDir(),
    help="Write every request and review decision here (an existing folder) as Parquet, in chunks.",
)
@click.option(
    "--db", "to_db", is_flag=True, help="Store requests, reviews, quotes and deliveries in the sandbox."
)
@click.option(
    "--world",
    "world_size",
    type=click.Choice(["small", "province", "national"]),
    help="The world to run on (default: the scenario's); national runs one model per region.",
)
@click.option("--regions", type=click.IntRange(1, 64), help="National: how many regions (default: all).")
@click.option(
    "--workers", type=click.IntRange(1, 256), help="National: groups of regions run in parallel (default 1)."
)
@click.option(
    "--executor",
    type=click.Choice(["inline", "processes", "dask"]),
    help="National: where the groups run (default: processes if --workers > 1, dask with --scheduler).",
)
@click.option("--scheduler", help="National: a Dask scheduler address (tcp://host:port) for the regions.")
@click.option(
    "--checkpoint",
    "checkpoint_dir",
    type=click.Path(file_okay=False, path_type=Path),
    help="National: a folder for per-region checkpoints; a run finding its own there resumes from them.",
)
def simulate(
    scenario: str,
    seed: int | None,
    days: int | None,
    json_out: Path | None,
    events_dir: Path | None,
    to_db: bool,
    world_size: str | None,
    regions: int | None,
    workers: int | None,
    executor: str | None,
    scheduler: str | None,
    checkpoint_dir: Path | None,
) -> None:
    """Simulate SCENARIO (a name in seed/scenarios or a .toml path) and print its metrics."""
    import tempfile

    from marketplace.sim import load_scenario, run

    over: dict[str, Any] = {}
    if world_size is not None:
        over["world.size"] = world_size
    if regions is not None:
        over["regions.count"] = regions
    sc = load_scenario(scenario, over or None)
    n = days or sc.horizon.days
    national_opts = {
        "--regions": regions, "--workers": workers, "--executor": executor, "--scheduler": scheduler,
        "--checkpoint": checkpoint_dir,
    }  # fmt: skip
    if sc.world.size != "national":
        for opt, value in national_opts.items():
            if value is not None:
                raise click.BadParameter(
                    t("cli.sim.national_only", value=repr(str(value))), param_hint=opt
                )
    else:
        for opt, value in (("--events", events_dir), ("--db", to_db or None)):
            if value is not None:
                raise click.BadParameter(t("cli.sim.national_metrics_only"), param_hint=opt)
        _national(sc, seed, days, json_out, workers or 1, executor, scheduler, checkpoint_dir)
        return
    engine = None
    if to_db:  # checked before any work: the sandbox answers and holds the scenario's world
        from marketplace.cli.db_cmd import open_sandbox
        from marketplace.sim.runner import statics_for
        from marketplace.sim.store import check_store

        engine = open_sandbox()
        check_store(statics_for(sc, days), engine)
    with contextlib.ExitStack() as stack:
        # events are kept only when asked; --db streams them through a temporary folder
        events: Path | None = events_dir
        if events is None and to_db:
            events = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="marketplace-events-")))
        with _progress(n, t("cli.sim.progress", scenario=sc.name)) as bar:
            result = run(sc, seed, days, progress=bar.update, events=events if events is not None else False)
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
        if events_dir is not None:
            click.echo(t("cli.sim.events_written", path=events_dir))
        if engine is not None:
            from marketplace.sim.store import store_run

            counts = store_run(result, engine)
            click.echo(t("cli.sim.stored", counts=listing(f"{v} {k}" for k, v in counts.items())))


@main.command()
@click.argument("a")
@click.argument("b")
@click.option(
    "--seeds", type=click.IntRange(1, 1000), help="Number of common seeds (default: A's seeds.count)."
)
@click.option("--days", type=click.IntRange(1, 3660), help="Horizon in days (default: A's).")
@click.option(
    "--plot",
    type=OutputFile(),
    help="Save a chart of the differences (.png or .svg).",
)
@click.option("--all", "show_all", is_flag=True, help="Show every metric, not only the headline ones.")
def compare(a: str, b: str, seeds: int | None, days: int | None, plot: Path | None, show_all: bool) -> None:
    """Compare scenarios A and B on the same seeds: mean ± 95 % CI of each, and of B − A."""
    from marketplace.sim import compare as compare_runs
    from marketplace.sim import load_scenario

    if plot is not None:
        _check_suffix(plot, PLOT_SUFFIXES, "--plot")
    sa, sb = load_scenario(a), load_scenario(b)
    n = seeds or sa.seeds.count
    with _progress(n, t("cli.sim.progress_compare", a=sa.name, b=sb.name), "run") as bar:
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
    from marketplace.charts import image_bytes
    from marketplace.sim.figures import compare_figure

    out.write_bytes(image_bytes(compare_figure(table, rows, a, b), out.suffix.lower().lstrip(".")))


PLOT_SUFFIXES = (".png", ".svg")
TABLE_SUFFIXES = (".csv", ".parquet")


def _check_suffix(path: Path, allowed: tuple[str, ...], option: str) -> None:
    """A file option's format is its suffix: anything else is refused before any work is done."""
    if path.suffix.lower() not in allowed:
        raise click.BadParameter(
            t("cli.bad_suffix", value=repr(str(path)), allowed=" / ".join(allowed)), param_hint=option
        )


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
    type=OutputFile(),
    required=True,
    help="One row per (point, seed): a .csv or .parquet file.",
)
@click.option(
    "--plot",
    type=OutputFile(),
    help="Save a chart of small firms' access across the points (.png or .svg).",
)
def sweep(
    scenario: str,
    params: tuple[str, ...],
    seeds: int | None,
    days: int | None,
    scheduler: str | None,
    workers: int | None,
    out: Path,
    plot: Path | None,
) -> None:
    """Run SCENARIO for every combination of --param values × seeds and write the metrics to --out."""
    from marketplace.sim import load_scenario
    from marketplace.sim import sweep as sweep_runs

    _check_suffix(out, TABLE_SUFFIXES, "--out")
    if plot is not None:
        _check_suffix(plot, PLOT_SUFFIXES, "--plot")
    grid = _parse_params(params)
    sc = load_scenario(scenario)
    n = seeds or sc.seeds.count
    total = n * math.prod(len(v) for v in grid.values())
    with contextlib.ExitStack() as stack:
        executor = None
        if scheduler:
            executor = stack.enter_context(_dask_client(scheduler, workers)).get_executor()
        with _progress(total, t("cli.sim.progress_sweep", scenario=sc.name), "run") as bar:
            df = sweep_runs(sc, grid, n, executor, days=days, max_workers=workers, progress=bar.update)
    if out.suffix.lower() == ".csv":
        df.to_csv(out, index=False)
    else:
        df.to_parquet(out, index=False)
    click.echo(t("cli.sweep.written", runs=len(df), points=total // n, seeds=n, path=out))
    keys = list(grid)
    shown = [
        "filed", "delivered", "waiting_days_p90", "payments", "welfare",
        "mar_compliant_share", "leaked_revenue",
    ]
    summary = df.groupby(keys, sort=False)[shown].mean()
    header = [", ".join(_param_name(k) for k in keys)] + [_metric(c) for c in shown]
    body = [
        [_point(keys, point)] + [f"{row[c]:,.1f}" for c in shown] for point, row in summary.iterrows()
    ]
    widths = [max(columns(r[i]) for r in [header, *body]) for i in range(len(header))]
    for r in [header, *body]:  # aligned by terminal columns: a Chinese heading takes two per character
        click.echo("  ".join(pad(r[0], widths[0]) if i == 0 else " " * (widths[i] - columns(v)) + v
                             for i, v in enumerate(r)).rstrip())
    _small_firms(df, keys, plot, sc.policy_obj.pricing.currency)


def _say_what_resumes(sc: Any, seed: int, days: int, checkpoint_dir: Path | None) -> None:
    """After an interrupted national run: from which simulated day the same command would go on."""
    if checkpoint_dir is None:
        return
    from marketplace.sim.regions import resume_point

    k = resume_point(sc, seed, days, checkpoint_dir)
    if k:
        day = min(k * sc.regions.exchange_days, days)
        click.echo(t("cli.sim.resumes_from", path=checkpoint_dir, day=day), err=True)


def _national(
    sc: Any,
    seed: int | None,
    days: int | None,
    json_out: Path | None,
    workers: int,
    executor: str | None,
    scheduler: str | None,
    checkpoint_dir: Path | None,
) -> None:
    """`simulate` of a national scenario: its regions in groups on the chosen executor, a progress bar over
    the simulated days, the metrics written to --json (else to the data folder) and where they are."""
    from marketplace.sim.regions import LazyBar, check_national, region_count, run_national

    check_national(sc)
    if executor == "dask" or scheduler:
        if executor not in (None, "dask"):
            raise click.BadParameter(
                t("cli.sim.scheduler_needs_dask", value=repr(executor)), param_hint="--executor"
            )
        executor = "dask"
    else:
        executor = executor or ("processes" if workers > 1 else "inline")
    seed = sc.seeds.default if seed is None else seed
    n = days or sc.horizon.days
    if checkpoint_dir is not None:  # another run's or version's checkpoints: refused before anything starts
        from marketplace.sim.regions import resume_point

        resume_point(sc, seed, n, checkpoint_dir)
    if json_out is None:
        from marketplace.db import data_dir

        runs = data_dir() / "runs"
        runs.mkdir(exist_ok=True)
        json_out = runs / f"{sc.name}-national-seed{seed}-{n}d.json"
    with contextlib.ExitStack() as stack:
        client = None
        if executor == "dask":
            client = stack.enter_context(_dask_client(scheduler, workers))
            click.echo(t("cli.sim.dashboard", link=client.dashboard_link or "-"))
        click.echo(t("cli.sim.national_plan", regions=region_count(sc), workers=workers, executor=executor))
        # opened at its first update, after the workers started (`LazyBar`)
        bar = stack.enter_context(LazyBar(lambda: _progress(n, t("cli.sim.progress", scenario=sc.name))))
        try:
            result = run_national(
                sc, seed, days, workers=workers, executor=executor, client=client, checkpoint=checkpoint_dir,
                progress=bar.update,
            )  # fmt: skip
        except KeyboardInterrupt:  # Ctrl-C or SIGTERM: say what is kept before the one "aborted" line
            bar.close()
            _say_what_resumes(sc, seed, n, checkpoint_dir)
            raise
    head = {"scenario": result.scenario, "policy": result.policy, "seed": result.seed, "days": result.days}
    click.echo(t("cli.sim.header", **head))
    names = {k: _metric(k) for k in HEADLINE}
    width = max(map(columns, names.values()))
    for k in HEADLINE:
        click.echo(f"  {pad(names[k], width)}  {_fmt(result.metrics[k]):>16}")
    click.echo(
        t(
            "cli.sim.cross_region",
            regions=result.regions,
            sent=_fmt(result.metrics["cross_region_sent"]),
            transit=_fmt(result.metrics["cross_region_in_transit"]),
        )
    )
    json_out.write_text(result.metrics_json(), encoding="utf-8")
    click.echo(t("cli.sim.metrics_written", path=json_out))
    if checkpoint_dir is not None:
        click.echo(t("cli.sim.checkpoints", path=checkpoint_dir))


@contextlib.contextmanager
def _dask_client(scheduler: str | None, workers: int) -> Any:
    """A Dask client: on the cluster at `scheduler` (reached within the timeout or refused in one line), or
    on a local cluster of `workers` single-threaded worker processes."""
    try:
        from distributed import Client, LocalCluster
    except ImportError:
        raise click.BadParameter(
            t("cli.sim.needs_dask", value=repr(scheduler or "dask")),
            param_hint="--scheduler" if scheduler else "--executor",
        ) from None
    if scheduler:
        try:
            _probe_scheduler(scheduler, SCHEDULER_TIMEOUT)
            client = Client(scheduler, timeout=SCHEDULER_TIMEOUT)
        except Exception as exc:  # anything the address does is the user's address being wrong
            raise click.BadParameter(
                t("cli.sweep.bad_scheduler", value=repr(scheduler), details=_one_line(exc)),
                param_hint="--scheduler",
            ) from None
        with client:
            yield client
        return
    with (
        LocalCluster(
            n_workers=workers, threads_per_worker=1, processes=True, host="127.0.0.1", dashboard_address=":0"
        ) as cluster,
        Client(cluster) as client,
    ):
        yield client


def _param_name(key: str) -> str:
    """A --param key in words: 'policy.overrides.pricing.caps.per_record' -> 'pricing › caps › per record'."""
    return setting_label(key.removeprefix("policy.overrides."))


def _point(keys: list[str], point: Any) -> str:
    """One point of the sweep grid: each parameter in words with its value."""
    values = point if isinstance(point, tuple) else (point,)
    return ", ".join(f"{_param_name(k)} = {v}" for k, v in zip(keys, values, strict=True))


#: seconds to reach a Dask scheduler, its greeting included
SCHEDULER_TIMEOUT = 10.0


def _probe_scheduler(address: str, timeout: float) -> None:
    """Connect to `address` and wait for the scheduler's greeting, all within `timeout` seconds.

    `distributed.Client(timeout=...)` bounds only the TCP connect: a peer that accepts the connection and
    never answers (a firewall, a service that is not a scheduler) kept it waiting for the handshake without
    end. The greeting is read here under a deadline of our own: a wrong address fails within the timeout."""
    import asyncio

    from distributed.comm import connect

    async def greet() -> None:
        comm = await connect(address, timeout=timeout)
        await comm.close()

    try:
        asyncio.run(asyncio.wait_for(greet(), timeout))
    except TimeoutError:
        raise TimeoutError(f"no answer from a Dask scheduler within {timeout:g} s") from None


def _one_line(exc: BaseException) -> str:
    text = " ".join(str(exc).split()) or type(exc).__name__
    return text if len(text) <= 200 else text[:199] + "…"


def _small_firms(df: Any, keys: list[str], plot: Path | None, currency: str) -> None:
    """The README's research question: what small firms file, get approved and pay at each point, with the
    95 % interval across seeds (`marketplace.sim.sweep_summary`)."""
    from marketplace.sim import SMALL_FIRM_METRICS, sweep_summary

    summary = sweep_summary(df, keys)
    click.echo("")
    click.echo(t("cli.sweep.small_firms", seeds=int(summary["seeds"].iloc[0])))
    from marketplace.sim.figures import metric_name

    names = {m: metric_name(m) for m in SMALL_FIRM_METRICS}
    width = max(map(columns, names.values()))
    for point, row in summary.iterrows():
        click.echo("  " + _point(keys, point))
        for m in SMALL_FIRM_METRICS:
            mean, low, high = row[m], row[f"{m}.low"], row[f"{m}.high"]
            click.echo(f"    {pad(names[m], width)}  {_fmt(mean):>12}  [{_fmt(low)}, {_fmt(high)}]")
    if plot is not None:
        from marketplace.charts import image_bytes
        from marketplace.sim.figures import sweep_figure

        cap_prefix = "policy.overrides.pricing.caps."
        if len(keys) == 1 and keys[0].startswith(cap_prefix):
            unit = label(keys[0].removeprefix(cap_prefix))
            x_label = t("figure.sweep.cap_axis", unit=unit, currency=currency)
        else:
            x_label = ", ".join(_param_name(k) for k in keys)
        fig = sweep_figure(summary, x_label, currency=currency)
        plot.write_bytes(image_bytes(fig, plot.suffix.lower().lstrip(".")))
        click.echo(t("cli.compare.plot_written", path=plot))
