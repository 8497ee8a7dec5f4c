"""Output paths checked before any work: a roster, an export or an anchor is never lost to a bad path."""

from __future__ import annotations

import os
from pathlib import Path

from marketplace.errors import InvalidInput

__all__ = ["writable_file"]


def writable_file(field: str, path: str | Path) -> Path:
    """`path` when a file can be written there (its directory exists and is writable; it is no directory),
    else InvalidInput naming `field`."""
    file = Path(path)
    parent = file.parent if str(file.parent) else Path(".")
    ok = not file.is_dir() and parent.is_dir() and os.access(parent, os.W_OK)
    if ok and file.exists():
        ok = file.is_file() and os.access(file, os.W_OK)
    if not ok:
        raise InvalidInput(field, str(path), "a file in an existing directory you can write to")
    return file
