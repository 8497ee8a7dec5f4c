"""Every `marketplace` help page follows MARKETPLACE_LANG: the command's and each option's help, the list of
subcommands, and click's own words (Usage, Options, Commands, --help, [default: …], [required])."""

from __future__ import annotations

import click
import pytest

from marketplace import i18n
from marketplace.cli import main, run


def _commands() -> list[tuple[list[str], click.Command]]:
    """(path, command) of every command and group, the root first."""
    ctx = click.Context(main)
    found: list[tuple[list[str], click.Command]] = []

    def walk(cmd: click.Command, path: list[str]) -> None:
        found.append((path, cmd))
        if isinstance(cmd, click.Group):
            for name in cmd.list_commands(ctx):
                walk(cmd.get_command(ctx, name), [*path, name])

    walk(main, [])
    return found


COMMANDS = _commands()


def _key(path: list[str]) -> str:
    return "help." + (".".join(path) or "main")


def test_every_command_and_option_has_help_in_both_languages() -> None:
    missing = []
    for path, cmd in COMMANDS:
        keys = [_key(path)] + [
            f"{_key(path)}.{p.name}" for p in cmd.params if isinstance(p, click.Option) and p.help
        ]
        missing += [k for k in keys if not i18n.has(k) or i18n.t(k, "zh") == i18n.t(k, "en")]
    assert not missing, missing


def _help(path: list[str], capsys: pytest.CaptureFixture[str]) -> str:
    with pytest.raises(SystemExit) as done:
        run([*path, "--help"])
    assert done.value.code in (0, None)
    return capsys.readouterr().out


@pytest.mark.parametrize("path", [p for p, _ in COMMANDS], ids=lambda p: " ".join(p) or "marketplace")
def test_help_pages_read_in_chinese(
    path: list[str], capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MARKETPLACE_LANG", "zh")
    i18n.reset_language()
    try:
        page = _help(path, capsys)
    finally:
        monkeypatch.delenv("MARKETPLACE_LANG")
        i18n.reset_language()
    for english in ("Usage:", "Options:", "Commands:", "Show this message", "[default:", "required]"):
        assert english not in page, (english, page)
    first = i18n.t(_key(path), "zh").split("\n", 1)[0]
    assert first[:12] in page, page
    cmd = dict((tuple(p), c) for p, c in COMMANDS)[tuple(path)]
    for param in cmd.params:
        key = f"{_key(path)}.{param.name}"
        if isinstance(param, click.Option) and param.help and "{" not in i18n.t(key, "en"):
            words = " ".join(param.help.split()[:3])  # the English help's opening words
            assert len(param.help.split()) < 3 or words not in page, (param.name, page)


def test_help_pages_stay_english_in_english(capsys: pytest.CaptureFixture[str]) -> None:
    page = _help(["sweep"], capsys)
    assert "Usage: marketplace sweep" in page and "Options:" in page and "Show this message and exit." in page
    assert "Run SCENARIO for every combination" in page
