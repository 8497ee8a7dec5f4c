"""`marketplace seed`: rebuild the sandbox database from a seed (a synthetic world)."""

from __future__ import annotations

import sys
import time

import click

from marketplace import db
from marketplace.cli import main
from marketplace.cli.db_cmd import open_sandbox
from marketplace.cli.params import MAX_SEED
from marketplace.i18n import t
from marketplace.synth.spec import DEFAULT_LOCALE, DEFAULT_SEED, DEFAULT_SIZE, LOCALES, SIZES


@main.command()
@click.option(
    "--seed",
    "seed_",
    type=click.IntRange(0, MAX_SEED),
    default=DEFAULT_SEED,
    show_default=True,
    help="Seed of the synthetic world (same seed => same database).",
)
@click.option(
    "--size",
    type=click.Choice(SIZES),
    default=DEFAULT_SIZE,
    show_default=True,
    help="small (~90 organizations, 34 resources), province (ten times more) or national (31 provincial "
    "regions calibrated to published national figures, written region by region).",
)
@click.option(
    "--locale",
    type=click.Choice(LOCALES),
    default=DEFAULT_LOCALE,
    show_default=True,
    help="Language of names, addresses and titles.",
)
@click.option("--yes", is_flag=True, help="Replace existing sandbox content without asking (at a terminal).")
@click.option("--if-empty", is_flag=True,
              help="Seed only when the sandbox is empty (used by `make lab` and Binder).")
def seed(seed_: int, size: str, locale: str, yes: bool, if_empty: bool) -> None:
    """Replace the sandbox content by the synthetic world of a seed."""
    from marketplace.synth import seed_sandbox

    engine = open_sandbox()  # an older release's sandbox is upgraded first, keeping its world
    if db.is_seeded(engine):
        if if_empty:
            click.echo(t("cli.seed.already", url=db.redact(str(engine.url))))
            return
        if not yes and sys.stdin.isatty():
            click.confirm(t("cli.seed.confirm", url=db.redact(str(engine.url))), abort=True)
    start = time.perf_counter()
    counts = seed_sandbox(engine, seed_, size, locale, reset=True)
    elapsed = time.perf_counter() - start
    click.echo(t("cli.seed.done", url=db.redact(str(engine.url)), seed=seed_, size=size, locale=locale))
    width = max(map(len, counts))
    for name, n in counts.items():
        click.echo(f"  {name:<{width}}  {n:>8}")
    click.echo(t("cli.seed.elapsed", seconds=f"{elapsed:.2f}"))
