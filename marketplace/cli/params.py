"""Option types of the `marketplace` command that check a value completely before any work starts.

click converts every option before it calls the command, so a type that refuses a value here makes the
command exit 2 with one line and nothing done: an output file whose folder does not exist is refused before a
year is simulated, not after (the error contract, README "The marketplace command").
"""

from __future__ import annotations

import math
import os
from pathlib import Path
from typing import Any

import click

__all__ = ["MAX_SEED", "MAX_TEXT_ARG", "FiniteFloatRange", "OutputFile", "Text"]

#: Largest seed an option takes (numpy's generators take any, the scenarios' files up to this).
MAX_SEED = 2**32 - 1

#: Longest text argument (a name, a code, a path): far above any real one, small enough to print in one line.
MAX_TEXT_ARG = 1024


def shown(value: Any, limit: int = 80) -> str:
    """`value` quoted for an error line, cut to `limit` characters (a 100 KB name is not echoed back)."""
    text = repr(value)
    return text if len(text) <= limit else text[:limit] + f"… ({len(str(value))} characters)"


class Text(click.ParamType):
    """Text of at most `max_chars` characters, no NUL or other control characters."""

    name = "text"

    def __init__(self, max_chars: int = MAX_TEXT_ARG) -> None:
        self.max_chars = max_chars

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> str:
        text = str(value)
        if len(text) > self.max_chars:
            self.fail(f"got {shown(text)}; expected at most {self.max_chars} characters", param, ctx)
        if any(ord(c) < 32 or c == "\x7f" for c in text):
            self.fail(f"got {shown(text)}; expected text without control characters", param, ctx)
        return text


class OutputFile(click.ParamType):
    """A file to write: its folder must exist and be writable, the path must not be a directory, and the
    suffix must be one of `suffixes` (if given). `allow_dash` admits "-" (standard output) as given."""

    name = "file"

    def __init__(self, suffixes: tuple[str, ...] = (), *, allow_dash: bool = False,
                 allow_directory: bool = False) -> None:
        self.suffixes = suffixes
        self.allow_dash = allow_dash
        self.allow_directory = allow_directory

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        if isinstance(value, Path):
            return value
        raw = Text(4096).convert(value, param, ctx)
        if raw == "-" and self.allow_dash:
            return raw
        if not raw.strip():
            self.fail("got ''; expected a file name", param, ctx)
        path = Path(raw)
        try:
            if path.is_dir() and not self.allow_directory:
                self.fail(f"got {shown(raw)}; expected a file, not a directory", param, ctx)
            folder = path.parent if str(path.parent) else Path(".")
            if not folder.is_dir():
                self.fail(f"got {shown(raw)}; expected a file in an existing folder ({shown(str(folder))} "
                          "does not exist)", param, ctx)
            if not os.access(folder, os.W_OK | os.X_OK) or (path.exists() and not os.access(path, os.W_OK)):
                self.fail(f"got {shown(raw)}; expected a file you may write", param, ctx)
        except OSError as exc:
            self.fail(f"got {shown(raw)}; expected a usable path ({exc.strerror or exc})", param, ctx)
        if self.suffixes and path.suffix.lower() not in self.suffixes and not (
            self.allow_directory and not path.suffix
        ):
            self.fail(f"got {shown(raw)}; expected a file ending in {' or '.join(self.suffixes)}", param, ctx)
        return path


class OutputDir(click.ParamType):
    """A directory to write files into: it must exist and be writable (nothing is created for the user)."""

    name = "directory"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        from marketplace.i18n import t

        if isinstance(value, Path):
            return value
        raw = Text(4096).convert(value, param, ctx)
        path = Path(raw)
        try:
            ok = bool(raw.strip()) and path.is_dir() and os.access(path, os.W_OK | os.X_OK)
        except OSError:
            ok = False
        if not ok:
            self.fail(t("cli.out.not_a_directory", value=shown(raw)), param, ctx)
        return path


class FiniteFloatRange(click.FloatRange):
    """click's FloatRange, but `inf` and `nan` are refused (a nan passes every comparison of FloatRange)."""

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        number = super().convert(value, param, ctx)
        if not math.isfinite(number):
            self.fail(f"got {value!r}; expected a finite number", param, ctx)
        return number
