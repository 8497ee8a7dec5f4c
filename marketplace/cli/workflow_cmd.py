"""Workflow commands: `clock show|advance`, `audit verify|log`, `demo`."""

from __future__ import annotations

import json
import sys
from typing import TYPE_CHECKING

import click

from marketplace import db
from marketplace.cli import main, pad, writable_path
from marketplace.cli.db_cmd import open_sandbox
from marketplace.cli.params import MAX_SEED
from marketplace.i18n import clock_report_lines, label, story_text, t, t_or

if TYPE_CHECKING:
    from sqlalchemy.engine import Engine


def _engine() -> Engine:
    return open_sandbox()


@main.group()
def clock() -> None:
    """Sandbox time: show it, or advance it so deadlines and expiries happen."""


@clock.command("show")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
def clock_show(as_json: bool) -> None:
    """The sandbox date and how the clock is set."""
    from marketplace.workflows import clock as wclock

    with db.session_scope(_engine()) as s:
        state = wclock.clock_state(s)
        today = state.today()
        warning = wclock.calendar_warning(s, today)
    if as_json:
        click.echo(json.dumps({"today": today.isoformat(), **state.to_value(), "calendar_warning": warning}))
        return
    click.echo(
        t(
            "cli.clock.show",
            today=today,
            start=state.start,
            days=state.offset_days,
            state=t("cli.clock.paused") if state.paused else t("cli.clock.running"),
        )
    )
    if warning is not None:
        click.echo(f"warning: {warning}")


@clock.command("advance")
@click.option("--days", type=click.IntRange(1, 3660), required=True, help="Days to move forward (1-3660).")
@click.option(
    "--as",
    "username",
    default=None,
    help="Acting account (default: the trainer). In a workshop, only the account of the code given.",
)
@click.option(
    "--trainer-code",
    envvar="MARKETPLACE_TRAINER_CODE",
    help="The trainer's join code, required when a workshop runs on the database [env "
    "MARKETPLACE_TRAINER_CODE].",
)
def clock_advance(days: int, username: str | None, trainer_code: str | None) -> None:
    """Move sandbox time forward; missed deadlines and expiries are handled as the policy says."""
    from marketplace import workflows as wf
    from marketplace.vocabulary import Role
    from marketplace.workshop.facilitator import require_trainer

    engine = _engine()
    fac = require_trainer(
        engine, trainer_code, "clock.advance", f"advance the clock by {days} days", acting_as=username
    )
    if fac is not None:
        report = fac.advance_clock(days)
    else:
        with db.session_scope(engine) as s:
            if username:
                actor = wf.account(s, username)
            else:
                trainers = wf.accounts_with_role(s, Role.trainer)
                if not trainers:
                    raise click.UsageError(t("cli.clock.no_trainer"))
                actor = trainers[0]
            report = wf.advance_clock(s, actor, days)
    for line in clock_report_lines(report):
        click.echo(line)


@main.group()
def audit() -> None:
    """The tamper-evident audit log."""


@audit.command("verify")
@click.option(
    "--anchor",
    "anchor_file",
    type=click.Path(dir_okay=False),
    default=None,
    help="An anchor file from `audit anchor`: also prove nothing up to it changed.",
)
def audit_verify(anchor_file: str | None) -> None:
    """Recompute the keyed chain; exit 0 when intact, 1 naming the first bad event otherwise."""
    from marketplace.workflows import audit as wf_audit

    anchor = read_anchor(anchor_file) if anchor_file else None
    with db.session_scope(_engine()) as s:
        result = wf_audit.verify_chain(s, anchor=anchor)
    if result.ok:
        click.echo(t("cli.audit.intact", checked=result.checked))
        if result.legacy:
            click.echo(t("cli.audit.legacy", legacy=result.legacy))
        if result.anchored is not None:
            click.echo(t("cli.audit.anchored", seq=result.anchored))
        return
    reason = result.reason
    if result.reason_key:
        reason = t_or(result.reason_key, result.reason, **result.reason_params)
    click.echo(t("cli.audit.broken", seq=result.first_bad_seq, reason=reason), err=True)
    sys.exit(1)


ANCHOR_MAX_BYTES = 64 * 1024


def read_anchor(path: str) -> dict:
    """An anchor file: a small JSON object (its MAC is checked against the key by `verify_chain`)."""
    from pathlib import Path

    from marketplace.errors import InvalidInput

    file = Path(path)
    if not file.is_file():
        raise InvalidInput("--anchor", path, "an existing anchor file written by `marketplace audit anchor`")
    with file.open("rb") as fh:
        raw = fh.read(ANCHOR_MAX_BYTES + 1)
    if len(raw) > ANCHOR_MAX_BYTES:
        raise InvalidInput("--anchor", path, f"an anchor file of at most {ANCHOR_MAX_BYTES} bytes")
    try:
        value = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, ValueError) as exc:
        raise InvalidInput("--anchor", path, f"a JSON anchor file ({exc})") from exc
    if not isinstance(value, dict):
        raise InvalidInput("--anchor", path, "a JSON object written by `marketplace audit anchor`")
    return value


def write_anchor(anchor: dict, path: str) -> str:
    """Write an anchor as JSON (it holds no secret; keep it where the database's writers cannot reach)."""
    from pathlib import Path

    file = Path(path)
    file.write_text(json.dumps(anchor, indent=2) + "\n", encoding="utf-8")
    return str(file)


@audit.command("anchor")
@click.option(
    "--out",
    type=click.Path(dir_okay=False, writable=True),
    required=True,
    help="Where to write the anchor (keep it outside the database's reach).",
)
def audit_anchor(out: str) -> None:
    """Copy the log head (seq and MAC) out of the database, for `audit verify --anchor`."""
    from marketplace.workflows import audit as wf_audit

    writable_path("--out", out)
    with db.session_scope(_engine()) as s:
        value = wf_audit.anchor(s)
    write_anchor(value, out)
    click.echo(t("cli.audit.anchor", seq=value["seq"], mac=value["hash"][:16], path=out))


@audit.command("log")
@click.option(
    "--last",
    type=click.IntRange(1, 1_000_000),
    default=20,
    show_default=True,
    help="How many of the latest events.",
)
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
def audit_log(last: int, as_json: bool) -> None:
    """The latest audit events."""
    from marketplace.models import Account
    from marketplace.workflows import audit_events

    with db.session_scope(_engine()) as s:
        rows, worded = [], []
        for e in audit_events(s, last=last):
            # the subject and outcome in words; the action is the audit log's own code
            subject = "-" if not e.subject_type else (
                f"{label(e.subject_type)} {e.subject_id if e.subject_id is not None else '—'}")
            worded.append((subject, label(e.outcome)))
            actor = s.get(Account, e.actor_id) if e.actor_id else None
            rows.append(
                {
                    "seq": e.seq,
                    "at": e.at.isoformat(timespec="seconds"),
                    "actor": actor.username if actor else "-",
                    "action": e.action,
                    "subject": f"{e.subject_type} {e.subject_id}" if e.subject_type else "-",
                    "outcome": str(e.outcome),
                    "payload": e.payload,
                    "hash": e.hash,
                }
            )
    if as_json:
        click.echo(json.dumps(rows, ensure_ascii=False, indent=2, default=str))
        return
    if not rows:
        click.echo(t("cli.audit.empty"))
    for r, (subject, outcome) in zip(rows, worded, strict=True):
        extra = r["payload"].get("reason") or r["payload"].get("rule") or ""
        click.echo(
            f"{r['seq']:>6}  {r['at']}  {r['actor']:<24} {r['action']:<24} {pad(subject, 18)} "
            f"{pad(outcome, 8)} {r['hash'][:12]}  {extra}"
        )


@main.command()
@click.option("--seed", type=click.IntRange(0, MAX_SEED), default=7, show_default=True,
              help="Seed of the synthetic world.")
@click.option("--db-url", default=None, metavar="URL",
              help="Database to run the story in; it is reset first. Default: demo.db in the data directory, "
                   "so the demo never touches your sandbox or a shared workshop database.")
def demo(seed: int, db_url: str | None) -> None:
    """Tell one story through all three channels (headless), in a fresh database of its own."""
    from marketplace.workflows.demo import run_demo

    engine = db.make_engine(db_url or f"sqlite:///{db.data_dir() / 'demo.db'}")
    try:
        db.reset(engine)
        ok = run_demo(seed=seed, echo=click.echo, engine=engine, word=story_text)
    finally:
        engine.dispose()
    sys.exit(0 if ok else 1)
