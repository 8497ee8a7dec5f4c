"""`marketplace workshop ...`: set up participants, and the trainer operations that suit a terminal.

`create` is the set-up step run by whoever runs the database (the first trainer seat is created then, and its
code printed with the roster); every other command needs a trainer's join code (`--trainer-code` or
MARKETPLACE_TRAINER_CODE) and is refused, and audited, for anyone else.
"""

from __future__ import annotations

import click

from marketplace import db
from marketplace.cli import main, pad, writable_path
from marketplace.cli.db_cmd import open_sandbox
from marketplace.cli.params import MAX_SEED, OutputFile
from marketplace.errors import InvalidInput
from marketplace.i18n import column_label, get_language, policy_switch_lines, t

TRAINER_ENV = "MARKETPLACE_TRAINER_CODE"


def _engine():
    return open_sandbox()


def _facilitator(code: str | None):
    from marketplace.workshop import facilitate

    if not code:
        raise click.UsageError(t("cli.workshop.trainer_code_required", env=TRAINER_ENV))
    return facilitate(code, _engine())


trainer_code = click.option(
    "--trainer-code", envvar=TRAINER_ENV, help=f"The trainer's join code [env {TRAINER_ENV}]."
)


@main.group()
def workshop() -> None:
    """Run a workshop: many participants in one shared marketplace."""


@workshop.command("create")
@click.option("--participants", "-n", type=click.IntRange(1, 1000), required=True,
              help="How many participant seats (1-1000).")
@click.option(
    "--roles",
    "mix",
    default=None,
    help="Seats per group, e.g. department=5,enterprise=10,steward=3,operator=2 (must add up to -n).",
)
@click.option(
    "--out",
    type=OutputFile(),
    default="roster.csv",
    show_default=True,
    help="Where to write the roster CSV (it holds the join codes: hand each person their own).",
)
@click.option("--seed", type=click.IntRange(0, MAX_SEED), default=0, show_default=True,
              help="Seed for choosing organizations.")
@click.option("--practice-world", is_flag=True, help="Start an empty database with the small practice world.")
@trainer_code
def create(
    participants: int, mix: str | None, out: str, seed: int, practice_world: bool, trainer_code: str | None
) -> None:
    """Create participant accounts with join codes and write the roster."""
    from marketplace.workshop import bootstrap_trainer, facilitate, parse_mix, write_roster
    from marketplace.workshop.roster import trainer_exists

    groups = parse_mix(mix, participants)  # check before touching the database
    writable_path("--out", out)  # the codes are shown once: never create seats whose roster cannot be written
    engine = _engine()
    if practice_world:
        from marketplace.workshop.practice import build_practice_world

        build_practice_world(engine, seed=seed)
    elif not db.is_seeded(engine):
        from marketplace.synth import ensure_seeded

        ensure_seeded(engine)
    entries = []
    with db.session_scope(engine) as s:
        has_trainer = trainer_exists(s)
    if not has_trainer:
        first = bootstrap_trainer(engine)
        entries.append(first)
        trainer_code = first.join_code
    fac = facilitate(trainer_code, engine) if trainer_code else _facilitator(None)
    entries += fac.create_participants(groups, seed=seed)
    try:
        write_roster(entries, out)
    except OSError as exc:
        # Nobody holds these codes: take the seats back (the trainer's too, if made now), never lose them.
        fac.remove_seats(entries, reason=f"roster not written: {exc.strerror or exc}")
        raise InvalidInput(
            "--out", out, f"a roster file that can be written ({exc.strerror or exc}); no seats were kept"
        ) from exc
    counts = ", ".join(f"{g}={n}" for g, n in groups.items())
    click.echo(t("cli.workshop.created", n=participants, counts=counts, url=db.redact(str(engine.url))))
    if not has_trainer:
        click.echo(t("cli.workshop.trainer_created", code=entries[0].join_code))
    click.echo(t("cli.workshop.roster", out=out))


@workshop.command("status")
@trainer_code
def status(trainer_code: str | None) -> None:
    """The dashboard figures: clock, policy, queues, revenue, breaches, exercises."""
    d = _facilitator(trainer_code).dashboard()
    state = t("workshop.paused") if d.clock_paused else t("workshop.running")
    click.echo(t("cli.workshop.status", today=d.today, state=state, policy=d.policy))
    for k, v in d.figures.items():
        click.echo(f"  {pad(t(f'workshop.figure.{k}'), 24)} {v}")
    if not d.exercises.empty:
        from marketplace.cli.core import text_table
        from marketplace.workshop import title_in

        lang = get_language()
        rows = [{**r, "title": title_in(r["exercise"], r["title"], lang)}
                for r in d.exercises.to_dict("records")]
        click.echo(text_table(rows, {c: column_label(c) for c in d.exercises.columns}))


@workshop.command("release")
@click.argument("exercise", required=False)
@trainer_code
def release(exercise: str | None, trainer_code: str | None) -> None:
    """Release EXERCISE (default: the next one)."""
    fac = _facilitator(trainer_code)
    ex = fac.release(exercise) if exercise else fac.release_next()
    if ex is None:
        click.echo(t("cli.workshop.all_released"))
    else:
        click.echo(t("cli.workshop.released", id=ex.id, title=ex.text(get_language())[0]))


@workshop.command("checkpoint")
@click.argument("name")
@click.option("--export", "export_path", type=OutputFile(), help="Also write it to this file.")
@trainer_code
def checkpoint(name: str, export_path: str | None, trainer_code: str | None) -> None:
    """Save the whole marketplace as checkpoint NAME (and anchor the audit log)."""
    if export_path:
        writable_path("--export", export_path)  # checked before anything is saved
    fac = _facilitator(trainer_code)
    counts = fac.checkpoint(name)
    click.echo(t("cli.workshop.checkpoint", name=name, rows=sum(counts.values()), tables=len(counts)))
    _echo_anchor(fac)
    if export_path:
        click.echo(t("cli.written_to", path=fac.export_checkpoint(name, export_path)))


def _echo_anchor(fac) -> None:
    if fac.last_anchor is not None:
        value, path = fac.last_anchor
        click.echo(t("cli.workshop.anchor", seq=value["seq"], mac=value["hash"][:16], path=path))


@workshop.command("export")
@click.argument("name")
@click.option(
    "--out", type=click.Path(dir_okay=False), required=True, help="The file to write (.gz: compressed)."
)
@trainer_code
def export(name: str, out: str, trainer_code: str | None) -> None:
    """Write the existing checkpoint NAME to a file."""
    writable_path("--out", out)
    click.echo(t("cli.written_to", path=_facilitator(trainer_code).export_checkpoint(name, out)))


@workshop.command("restore")
@click.argument("name")
@click.option(
    "--from-file",
    type=click.Path(exists=True, dir_okay=False),
    help="Import this snapshot file as checkpoint NAME and restore it (portable across SQLite and "
    "PostgreSQL; "
    "saved under the same audit key).",
)
@click.option(
    "--accept-unsigned",
    is_flag=True,
    help="Also restore a checkpoint without a MAC (saved by an earlier release), if you trust it.",
)
@click.option(
    "--hand-over",
    is_flag=True,
    help="Restore even though the checkpoint does not keep your trainer seat: its trainers take over.",
)
@trainer_code
def restore(
    name: str, from_file: str | None, accept_unsigned: bool, hand_over: bool, trainer_code: str | None
) -> None:
    """Put the marketplace back as it was at checkpoint NAME (the audit log keeps every event)."""
    if from_file:
        from marketplace.workshop.snapshot import read_file

        read_file(from_file)  # a bad or newer file is refused before anything is touched
    fac = _facilitator(trainer_code)
    if from_file:
        counts = fac.restore_file(from_file, name, accept_unsigned=accept_unsigned, hand_over=hand_over)
    else:
        counts = fac.restore(name, accept_unsigned=accept_unsigned, hand_over=hand_over)
    click.echo(t("cli.workshop.restored", name=name, rows=sum(counts.values())))


@workshop.command("policy")
@click.argument("name")
@trainer_code
def policy(name: str, trainer_code: str | None) -> None:
    """Switch the policy in force to NAME and show its effect on recent requests."""
    for line in policy_switch_lines(_facilitator(trainer_code).switch_policy(name)):
        click.echo(line)


@workshop.command("serve")
@click.option("--host", default="127.0.0.1", show_default=True,
              help="Address to listen on (loopback by default; other machines: a TLS reverse proxy).")
@click.option("--port", type=click.IntRange(0, 65535), default=8765, show_default=True,
              help="Port to listen on (0: any free port, printed).")
@click.option("--cors-origin", "cors", multiple=True,
              help="An origin (e.g. https://hub.example.org) whose Voila pages may call the server; "
              "repeatable. Default: none.")
@click.option("--token-hours", type=click.IntRange(1, 168), default=8, show_default=True,
              help="How long a session token lasts before the participant joins again.")
@click.option("--roster", "roster_path", type=click.Path(dir_okay=False, exists=True),
              help="Write the server's URL into this roster's server_url column.")
@trainer_code
def serve(
    host: str, port: int, cors: tuple[str, ...], token_hours: int, roster_path: str | None,
    trainer_code: str | None,
) -> None:
    """Serve the workshop over HTTP: the participants' only door to the database."""
    import datetime as dt
    import socket

    import uvicorn

    from marketplace.workshop.client import check_url
    from marketplace.workshop.roster import set_roster_url
    from marketplace.workshop.server import ServerSettings, WorkshopServer

    origins = tuple(check_url(o) for o in cors)  # one clear line for a bad origin, before anything starts
    _facilitator(trainer_code)  # only a trainer serves the workshop (this also opens and checks the database)
    settings = ServerSettings(token_ttl=dt.timedelta(hours=token_hours), cors_origins=origins)
    engine = _engine()
    if engine.dialect.name != "sqlite":  # the server's own engine keeps a connection per worker thread
        engine = db.make_engine(engine.url.render_as_string(hide_password=False), pool_size=settings.threads)
    server = WorkshopServer(engine, settings)
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
        sock.listen(2048)  # connections wait from the moment the address is printed
    except OSError as exc:
        sock.close()
        raise InvalidInput("--port", port, f"a free port on {host} ({exc.strerror or exc})") from None
    bound = sock.getsockname()[1]
    shown = f"[{host}]" if ":" in host else host
    url = f"http://{shown}:{bound}"
    if roster_path:
        set_roster_url(roster_path, url)
        click.echo(t("cli.workshop.roster_url", out=roster_path))
    click.echo(t("cli.workshop.serving", url=url))
    click.echo(t("cli.workshop.serve_hint"))
    config = uvicorn.Config(server.app, log_level="warning", proxy_headers=True)
    uvicorn.Server(config).run(sockets=[sock])


@workshop.command("revoke")
@click.option("--seat", type=click.IntRange(1, None), help="Revoke the sessions of this seat.")
@click.option("--all", "everyone", is_flag=True, help="Revoke every participant's session.")
@trainer_code
def revoke(seat: int | None, everyone: bool, trainer_code: str | None) -> None:
    """End workshop server sessions: the participant must join again with their code."""
    from marketplace.workshop.server import revoke_sessions

    if (seat is None) == (not everyone):
        raise InvalidInput("--seat/--all", seat, "either --seat N or --all")
    n = revoke_sessions(_facilitator(trainer_code), seat=seat)
    click.echo(t("cli.workshop.revoked", n=n))


@workshop.command("unlock")
@click.option("--url", required=True, help="The workshop server's URL (as `workshop serve` printed it).")
@click.option("--seat", type=click.IntRange(1, None), help="Lift the lockout of this seat's code.")
@click.option("--client", help="Lift the lockout of this client address.")
@click.option("--all", "everyone", is_flag=True, help="Lift every lockout.")
@trainer_code
def unlock(url: str, seat: int | None, client: str | None, everyone: bool, trainer_code: str | None) -> None:
    """Let a locked-out client or code try joining again (asks the running server)."""
    from marketplace.workshop.client import WorkshopClient

    if seat is None and client is None and not everyone:
        raise InvalidInput("--seat/--client/--all", None, "at least one of --seat N, --client ADDRESS, --all")
    if not trainer_code:
        raise click.UsageError(t("cli.workshop.trainer_code_required", env=TRAINER_ENV))
    with WorkshopClient(url, trainer_code) as me:
        n = me.unlock(client=client, seat=seat, everyone=everyone)
    click.echo(t("cli.workshop.unlocked", n=n))
