"""The `marketplace` command: one root group; each area adds its commands from its own module.

User errors (bad options, bad files, refused actions) print one line naming the option or field, the value and
what is allowed, and exit with status 2 — never a traceback. An unexpected internal error prints one line with
the path of a log file that holds the traceback, and exits with status 1. What the commands print follows
`MARKETPLACE_LANG` (`marketplace.i18n`), and so do the help pages (`help.<command path>[.<option>]` in the
catalogs, English being the code's own text) and click's own words for a bad value (`CLICK_WORDS`).
"""

from __future__ import annotations

import re
import sys
import traceback
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import click

from marketplace.errors import MarketplaceError
from marketplace.i18n import error_text, get_language, has, t

LOG_DIR_NAME = "logs"
#: Longest single argument: any name, code, path or value is far shorter (a 100 KB name is refused at once).
MAX_ARG_CHARS = 4096


class WordedFormatter(click.HelpFormatter):
    """Help pages with click's own words (Usage, Options, Commands) in the language in force."""

    SECTIONS = {
        "Options": "cli.help.options", "Commands": "cli.help.commands", "Arguments": "cli.help.arguments",
    }

    def write_usage(self, prog: str, args: str = "", prefix: str | None = None) -> None:
        if prefix is None and get_language() != "en":
            prefix = t("cli.help.usage") + " "
        super().write_usage(prog, args, prefix)

    def write_dl(self, rows: Any, col_max: int = 30, col_spacing: int = 2) -> None:
        if get_language() != "en":  # click's own note after an option's help: [default: x; required]
            words = {"default: ": t("cli.help.default") + "：", "required": t("cli.help.required"),
                     "env var: ": t("cli.help.env_var") + "："}

            def note(found: re.Match[str]) -> str:
                return "[" + "; ".join(_replace_all(part, words) for part in found[1].split("; ")) + "]"

            rows = [(term, re.sub(r"\[([^\[\]]*)\]$", note, text)) for term, text in rows]
        super().write_dl(rows, col_max, col_spacing)

    def section(self, name: str) -> Any:
        key = self.SECTIONS.get(name)
        return super().section(t(key) if key and get_language() != "en" else name)


def _replace_all(text: str, pairs: dict[str, str]) -> str:
    for old, new in pairs.items():
        text = text.replace(old, new)
    return text


class WordedContext(click.Context):
    formatter_class = WordedFormatter


def help_key(ctx: click.Context) -> str:
    """The catalog key of a command's help: 'help.catalog.list' (the root is 'help.main')."""
    names: list[str] = []
    while ctx.parent is not None:
        names.append(ctx.info_name or "")
        ctx = ctx.parent
    return "help." + (".".join(reversed(names)) or "main")


@contextmanager
def worded_help(command: click.Command, ctx: click.Context) -> Iterator[None]:
    """While a help page is written, the command's, its options' and its subcommands' help in the language
    in force (`help.<command path>[.<option>]` in the catalogs); English is the code's own text."""
    if get_language() == "en":
        yield
        return
    key = help_key(ctx)
    saved: list[tuple[Any, str, Any]] = []

    def swap(obj: Any, attr: str, message: str) -> None:
        if has(message):
            saved.append((obj, attr, getattr(obj, attr)))
            setattr(obj, attr, t(message))

    swap(command, "help", key)
    for param in command.get_params(ctx):
        if isinstance(param, click.Option) and param.name != "help":  # --help: `worded_help_option`
            swap(param, "help", f"{key}.{param.name}")
    if isinstance(command, click.Group):
        for name in command.list_commands(ctx):
            sub = command.get_command(ctx, name)
            if sub is not None:
                swap(sub, "help", f"{key}.{name}" if key != "help.main" else f"help.{name}")
    try:
        yield
    finally:
        for obj, attr, value in reversed(saved):
            setattr(obj, attr, value)


class WordedCommand(click.Command):
    """A command whose help page follows MARKETPLACE_LANG."""

    context_class = WordedContext

    def format_help(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        with worded_help(self, ctx):
            super().format_help(ctx, formatter)

    def get_help_option(self, ctx: click.Context) -> click.Option | None:
        return worded_help_option(super().get_help_option(ctx))


class WordedGroup(click.Group):
    """A group whose help page, and every command and group under it, follows MARKETPLACE_LANG."""

    context_class = WordedContext
    command_class = WordedCommand
    group_class = type  # subgroups are WordedGroups too

    def format_help(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        with worded_help(self, ctx):
            super().format_help(ctx, formatter)

    def get_help_option(self, ctx: click.Context) -> click.Option | None:
        return worded_help_option(super().get_help_option(ctx))


def worded_help_option(option: click.Option | None) -> click.Option | None:
    """`--help` says what it does in the language in force."""
    if option is not None:
        option.help = t("cli.help.help_option")
    return option


@click.group(cls=WordedGroup,
             context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.version_option(package_name="public-data-marketplace", prog_name="marketplace")
def main() -> None:
    """Public data marketplace sandbox: seed a synthetic world, run the workflows, study policies."""


def columns(text: str) -> int:
    """Terminal columns `text` takes: a Chinese character takes two, so `str.ljust` would misalign tables."""
    from wcwidth import wcswidth  # its tables take a while to import; only tables and panels need them

    width = wcswidth(text)
    return width if width >= 0 else len(text)


def pad(text: str, width: int) -> str:
    """`text` left-aligned in `width` terminal columns."""
    return text + " " * max(0, width - columns(text))


def writable_path(option: str, path: str | Path) -> Path:
    """`path` when a file can be written there, else one line naming the option (checked before any work)."""
    from marketplace.paths import writable_file

    return writable_file(option, path)


def run(argv: list[str] | None = None) -> None:
    """Console entry point: click in non-standalone mode so every user error becomes one line and exit 2."""
    args = sys.argv[1:] if argv is None else list(argv)
    for i, arg in enumerate(args, 1):
        if len(arg) > MAX_ARG_CHARS or "\x00" in arg:
            message = t("cli.argument_too_long", position=i, value=repr(arg[:40]) + "…", length=len(arg),
                        limit=MAX_ARG_CHARS)
            click.echo(t("cli.error", message=message), err=True)
            sys.exit(2)
    with _sigterm_as_interrupt() as stopped_by:
        _run_main(args, stopped_by)


@contextmanager
def _sigterm_as_interrupt() -> Iterator[list[int]]:
    """SIGTERM (`kill`, a job scheduler's time limit) ends a command as Ctrl-C does: its clean-up runs (a
    transaction rolls back, a run's worker processes end, its checkpoints stay) and the user reads one line,
    where the default action would end the process on the spot and leave its workers running."""
    import signal
    import threading

    stopped_by: list[int] = []
    if threading.current_thread() is not threading.main_thread():  # only the main thread may set handlers
        yield stopped_by
        return

    def interrupt(signum: int, _frame: object) -> None:
        stopped_by.append(signum)
        raise KeyboardInterrupt

    previous = signal.signal(signal.SIGTERM, interrupt)
    try:
        yield stopped_by
    finally:
        signal.signal(signal.SIGTERM, previous)


def _run_main(args: list[str], stopped_by: list[int]) -> None:
    try:
        rv = main.main(args=args, prog_name="marketplace", standalone_mode=False)
    except click.exceptions.Abort:
        click.echo(t("cli.aborted"), err=True)
        sys.exit(128 + stopped_by[0] if stopped_by else 1)  # a signal's exit status, as the shell reports it
    except click.exceptions.UsageError as exc:
        click.echo(t("cli.error", message=usage_error_text(exc)), err=True)
        sys.exit(2)
    except click.exceptions.ClickException as exc:
        click.echo(t("cli.error", message=exc.format_message()), err=True)
        sys.exit(exc.exit_code)
    except MarketplaceError as exc:
        click.echo(t("cli.error", message=error_text(exc)), err=True)
        sys.exit(exc.exit_code)
    except click.exceptions.Exit as exc:
        sys.exit(exc.exit_code)
    except (KeyboardInterrupt, SystemExit):
        raise
    except Exception as exc:  # the last line of defence: never a raw traceback on the terminal
        click.echo(f"error: internal error ({type(exc).__name__}); {_log_traceback(exc)}", err=True)
        sys.exit(1)
    sys.exit(rv if isinstance(rv, int) else 0)


#: click's own wording of a bad value (click/types.py, parser.py, core.py), matched to catalog messages: click
#: words its errors through the standard library's gettext, which follows the operating system's locale, not
#: MARKETPLACE_LANG, and carries no Chinese. Anything not listed keeps click's English.
CLICK_WORDS = (
    (re.compile(r"(?P<value>.+) is not (?:one of )?(?P<choices>'.*')\.", re.S), "cli.click.not_one_of"),
    (re.compile(r"(?P<value>.+) is not in the range (?P<range>.+)\.", re.S), "cli.click.not_in_range"),
    (re.compile(r"(?P<value>.+) is not a valid (?P<kind>integer|float|boolean|UUID)(?: range)?\.", re.S),
     "cli.click.not_a"),
    (re.compile(r"(?P<kind>File|Directory|Path) (?P<name>.+) does not exist\.", re.S), "cli.click.not_found"),
    (re.compile(r"(?P<kind>File|Directory|Path) (?P<name>.+) is a (?P<what>file|directory)\.", re.S),
     "cli.click.wrong_kind"),
    (re.compile(r"Got unexpected extra arguments? \((?P<args>.*)\)", re.S), "cli.click.extra_arguments"),
    (re.compile(r"Option (?P<name>'.+') requires (?:an argument|(?P<nargs>\d+) arguments)\.", re.S),
     "cli.click.needs_value"),
    (re.compile(r"Option (?P<name>'.+') does not take a value\.", re.S), "cli.click.takes_no_value"),
    (re.compile(r"Missing command\.", re.S), "cli.click.missing_command"),
)


def click_words(message: str) -> str:
    """click's English `message` in the language in force, when it is one of `CLICK_WORDS`."""
    if get_language() == "en":
        return message
    for pattern, key in CLICK_WORDS:
        found = pattern.fullmatch(message.strip())
        if found:
            parts = {k: v or "" for k, v in found.groupdict().items()}
            if "kind" in parts:
                parts["kind"] = t(f"cli.click.kind.{parts['kind'].lower()}")
            if "what" in parts:
                parts["what"] = t(f"cli.click.kind.{parts['what']}")
            return t(key, **parts)
    return message


def usage_error_text(exc: click.exceptions.UsageError) -> str:
    """One line for a usage error: the option or argument, the value and what was expected, in the language
    in force (a missing required option included: click leaves its message empty)."""
    if isinstance(exc, click.exceptions.MissingParameter):
        kind = exc.param_type or (exc.param.param_type_name if exc.param else "parameter")
        key = f"cli.click.missing_{kind}" if kind in ("option", "argument") else "cli.click.missing_parameter"
        return t(key, name=_param_hint(exc))
    if isinstance(exc, click.exceptions.BadParameter):
        hint = _param_hint(exc)
        message = click_words(exc.message)
        return t("cli.invalid_value", hint=hint, message=message) if hint else message
    if isinstance(exc, click.exceptions.NoSuchOption):
        return _did_you_mean(t("cli.click.no_such_option", name=repr(exc.option_name)), exc.possibilities)
    if isinstance(exc, click.exceptions.NoSuchCommand):
        return _did_you_mean(t("cli.click.no_such_command", name=repr(exc.command_name)), exc.possibilities)
    return click_words(exc.message)


def _param_hint(exc: click.exceptions.BadParameter) -> str:
    """The option or argument a bad or missing value belongs to, as the user typed it ('' if unknown)."""
    hint = exc.param_hint or (exc.param.get_error_hint(exc.ctx) if exc.param and exc.ctx else "")
    return " / ".join(hint) if isinstance(hint, list | tuple) else hint


def _did_you_mean(text: str, possibilities: Any) -> str:
    """`text`, then click's near matches of a mistyped name, if it found any."""
    if not possibilities:
        return text
    return text + " " + t("cli.click.did_you_mean", names=", ".join(map(repr, sorted(possibilities))))


def _log_traceback(exc: BaseException) -> str:
    """Write the traceback of `exc` to a new file under the data directory; say where (or why not)."""
    from marketplace.db import data_dir

    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S%fZ")
    try:
        folder = Path(data_dir()) / LOG_DIR_NAME
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / f"error-{stamp}.log"
        with path.open("x", encoding="utf-8") as fh:
            fh.write(f"marketplace {' '.join(sys.argv[1:])}\n")
            fh.write("".join(traceback.format_exception(exc)))
    except OSError as log_exc:
        return f"the traceback could not be written ({log_exc.strerror or log_exc})"
    return f"the traceback is in {path}"


# Command modules register themselves on `main` when imported (one module per area).
from marketplace.cli import (  # noqa: E402,F401
    core,
    db_cmd,
    disclosure_cmd,
    lists_cmd,
    privacy_cmd,
    seed_cmd,
    sim_cmd,
    workflow_cmd,
    workshop_cmd,
)
from marketplace.cli.policy_cmd import policy, quote_cmd  # noqa: E402

main.add_command(policy)
main.add_command(quote_cmd)
