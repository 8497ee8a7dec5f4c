"""Reading a catalogue file someone handed us: bounded, local, no entity expansion.

Every check here runs before a parser sees the document, and each refusal names the limit it hit:

- the file: a regular file (not a device, a FIFO or a directory), at most `max_file_bytes`, strict UTF-8;
- nesting: at most `max_depth` levels of JSON arrays/objects, XML elements or Turtle `[ ]` / `( )`
  (parsers recurse, so a deep document would otherwise end in a RecursionError);
- XML: parsed first with `defusedxml` (no entity declarations, no external references), so a
  billion-laughs document is refused in microseconds instead of expanding for minutes;
- JSON-LD: rdflib fetches every `@context` / `@import` IRI it meets (from the network, or from disk for
  `file:` IRIs) and offers no public switch to stop it, only process-wide audit hooks that a library must not
  install in someone's notebook kernel. So the document is rewritten before rdflib sees it: every context
  reference is replaced by a copy bundled with the package (`contexts/index.json`), and any other reference
  is refused. rdflib then never has anything to fetch.

The depth scans are hand-written (a few lines over numpy) because no parser in the standard library reports
depth before recursing into it.
"""

from __future__ import annotations

import json
import os
import re
import stat
from dataclasses import dataclass, fields
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any, BinaryIO

from marketplace.models import Organization, Resource, ResourceField

__all__ = [
    "DEFAULT_LIMITS",
    "ImportLimits",
    "LimitExceeded",
    "UnsafeDocument",
    "bundled_contexts",
    "check_json_depth",
    "check_size",
    "check_turtle_depth",
    "check_xml",
    "inline_contexts",
    "open_regular",
    "read_bounded",
]


# The catalogue's column sizes: a text limit can be lowered below them, never raised above.
COLUMN_CHARS = {
    "max_title_chars": Resource.__table__.c.title.type.length,
    "max_name_chars": Organization.__table__.c.name.type.length,
    "max_keyword_chars": ResourceField.__table__.c.name.type.length,
}


@dataclass(frozen=True)
class ImportLimits:
    """Limits on one catalogue file; every one is a named setting (`--limit NAME=N` on the command line)."""

    max_file_bytes: int = 64 * 1024 * 1024
    """Size of the file."""
    max_depth: int = 64
    """Nesting of JSON arrays/objects, XML elements, Turtle brackets."""
    max_items: int = 100_000
    """Datasets (DCAT) or packages (CKAN) in one file."""
    max_fields: int = 500
    """Declared columns of one dataset."""
    max_keywords: int = 200
    """Keywords, tags and groups of one dataset."""
    max_title_chars: int = COLUMN_CHARS["max_title_chars"]
    """A dataset title (at most the catalogue's column size)."""
    max_name_chars: int = COLUMN_CHARS["max_name_chars"]
    """A publisher name, a package id or name (at most the column size; long ids are stored as a digest)."""
    max_keyword_chars: int = COLUMN_CHARS["max_keyword_chars"]
    """One keyword, one column name (at most the column size)."""
    max_text_chars: int = 20_000
    """A description or a column description."""

    @classmethod
    def names(cls) -> list[str]:
        return [f.name for f in fields(cls)]

    def with_overrides(self, overrides: dict[str, int]) -> ImportLimits:
        """A copy with some limits changed; refuses unknown names and values below 1 (`LimitExceeded` is not
        raised here: a bad setting is an `InvalidInput`)."""
        from marketplace.errors import InvalidInput

        caps = COLUMN_CHARS
        values = {f.name: getattr(self, f.name) for f in fields(self)}
        for name, value in overrides.items():
            if name not in values:
                raise InvalidInput("limit", name, "one of " + ", ".join(self.names()))
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise InvalidInput(f"limit {name}", value, "a whole number >= 1")
            if name in caps and value > caps[name]:
                raise InvalidInput(
                    f"limit {name}", value, f"at most {caps[name]} (the catalogue's column size)"
                )
            values[name] = value
        return ImportLimits(**values)


DEFAULT_LIMITS = ImportLimits()


class UnsafeDocument(ValueError):
    """A document refused before parsing; the message says what and why."""


class LimitExceeded(UnsafeDocument):
    """A document over one of the `ImportLimits`; names the limit, the value found and the setting."""

    def __init__(self, limit: str, found: str, allowed: int) -> None:
        self.limit, self.found, self.allowed = limit, found, allowed
        super().__init__(f"{found}, over the limit {limit} = {allowed:,} (raise it with --limit {limit}=N)")


# ---------------------------------------------------------------- the file


def open_regular(path: Path, limits: ImportLimits) -> BinaryIO:
    """A regular file opened for reading, refused when its size is over `max_file_bytes`.

    Raises FileNotFoundError, UnsafeDocument (not a regular file), LimitExceeded, OSError.
    """
    fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))  # a FIFO must not block the open
    info = os.fstat(fd)
    if not stat.S_ISREG(info.st_mode):
        os.close(fd)
        kind = "a directory" if stat.S_ISDIR(info.st_mode) else "a device, pipe or socket"
        raise UnsafeDocument(f"is {kind}; expected a regular file")
    if info.st_size > limits.max_file_bytes:
        os.close(fd)
        raise _too_big(limits)
    return os.fdopen(fd, "rb")


def check_size(size: int, limits: ImportLimits = DEFAULT_LIMITS) -> None:
    """Refuse `size` bytes over `max_file_bytes` (LimitExceeded), e.g. an upload before it is written."""
    if size > limits.max_file_bytes:
        raise _too_big(limits)


def _too_big(limits: ImportLimits) -> LimitExceeded:
    return LimitExceeded(
        "max_file_bytes", f"the file is larger than {limits.max_file_bytes:,} bytes", limits.max_file_bytes
    )


def read_bounded(path: Path, limits: ImportLimits) -> bytes:
    """The bytes of a regular file, never reading more than `max_file_bytes` (a file may grow)."""
    with open_regular(path, limits) as fh:
        data = fh.read(limits.max_file_bytes + 1)
    if len(data) > limits.max_file_bytes:
        raise _too_big(limits)
    return data


# ---------------------------------------------------------------- nesting

# Strings are skipped in one linear pass: each pattern ends its string or runs to where an unterminated string
# stops (end of data; end of line for short Turtle strings), possessively, so no opening quote is ever scanned
# twice (a file of unterminated `"\` pairs would otherwise take quadratic time).
_JSON_STRING = re.compile(rb'"(?:[^"\\]|\\.|\\\Z)*+(?:"|\Z)', re.DOTALL)
_LONG_DQ = rb'"""(?:[^"\\]|\\.|"{1,2}(?!"))*+"""'
_LONG_SQ = rb"'''(?:[^'\\]|\\.|'{1,2}(?!'))*+'''"
_SHORT_DQ = rb'"(?:[^"\\\n]|\\.)*+"'
_SHORT_SQ = rb"'(?:[^'\\\n]|\\.)*+'"
_TURTLE_TOKENS = rb"|".join([_LONG_DQ, _LONG_SQ, _SHORT_DQ, _SHORT_SQ, rb"<[^<>\s]*>", rb"#[^\n]*"])
# First the whole text must read as code and closed tokens, matched possessively (linear time, no
# backtracking: an unclosed string fails at once); then strings, IRIs and comments are blanked before the
# brackets are counted.
_TURTLE_SKIP = re.compile(_TURTLE_TOKENS, re.DOTALL)
_TURTLE_CLOSED = re.compile(rb"(?:[^\"'<#]++|" + _TURTLE_TOKENS + rb"|<)*+\Z", re.DOTALL)


def _max_depth(data: bytes, opening: bytes, closing: bytes) -> int:
    import numpy as np  # here, so that the command line's help does not pay for it

    arr = np.frombuffer(data, dtype=np.uint8)
    step = np.isin(arr, np.frombuffer(opening, np.uint8)).astype(np.int32)
    step -= np.isin(arr, np.frombuffer(closing, np.uint8)).astype(np.int32)
    return int(np.cumsum(step).max(initial=0))


def check_json_depth(data: bytes, limits: ImportLimits) -> None:
    """Refuse JSON nested deeper than `max_depth` (brackets inside strings do not count)."""
    depth = _max_depth(_JSON_STRING.sub(b'""', data), b"[{", b"]}")
    if depth > limits.max_depth:
        raise LimitExceeded("max_depth", f"the JSON is nested {depth} levels deep", limits.max_depth)


def check_turtle_depth(data: bytes, limits: ImportLimits) -> None:
    """Refuse Turtle whose blank-node `[ ]` and collection `( )` brackets nest deeper than `max_depth`, or
    with a string literal that is never closed (rdflib's parser takes quadratic time over a file of them)."""
    if _TURTLE_CLOSED.match(data) is None:
        raise UnsafeDocument("not valid turtle: a string literal is never closed")
    depth = _max_depth(_TURTLE_SKIP.sub(b" ", data), b"[(", b"])")
    if depth > limits.max_depth:
        raise LimitExceeded("max_depth", f"the Turtle is nested {depth} levels deep", limits.max_depth)


def check_xml(data: bytes, limits: ImportLimits) -> None:
    """Parse once with defusedxml: no entity declarations, no external references, at most `max_depth`."""
    import io
    from xml.etree.ElementTree import ParseError

    from defusedxml import DefusedXmlException
    from defusedxml.ElementTree import iterparse

    depth = 0
    try:
        for event, _elem in iterparse(
            io.BytesIO(data), events=("start", "end"), forbid_dtd=False, forbid_entities=True,
            forbid_external=True,
        ):
            depth += 1 if event == "start" else -1
            if depth > limits.max_depth:
                raise LimitExceeded(
                    "max_depth", f"the XML is nested deeper than {limits.max_depth} levels", limits.max_depth
                )
    except DefusedXmlException as exc:
        raise UnsafeDocument(
            f"declares XML entities or external references ({type(exc).__name__}); they are never expanded"
        ) from exc
    except ParseError as exc:
        line, column = getattr(exc, "position", (0, 0))
        raise UnsafeDocument(f"not well-formed XML: line {line} column {column + 1}: {exc.msg}") from exc


# ---------------------------------------------------------------- JSON-LD contexts


@cache
def bundled_contexts() -> dict[str, Any]:
    """{context IRI: its JSON-LD context object} of the copies shipped in `contexts/`."""
    folder = resources.files("marketplace.disclosure") / "contexts"
    index = json.loads((folder / "index.json").read_text(encoding="utf-8"))
    out = {}
    for iri, name in index.items():
        document = json.loads((folder / name).read_text(encoding="utf-8"))
        out[iri] = document["@context"] if isinstance(document, dict) and "@context" in document else document
    return out


def _bundled(reference: Any, keyword: str) -> Any:
    known = bundled_contexts()
    if isinstance(reference, str) and reference in known:
        return json.loads(json.dumps(known[reference]))  # a fresh copy per use
    shown = reference if isinstance(reference, str) else type(reference).__name__
    allowed = ", ".join(sorted(known)) or "(none)"
    raise UnsafeDocument(
        f"JSON-LD {keyword} {str(shown)[:200]!r} is not a context bundled with the sandbox ({allowed}); "
        "remote and file contexts are never fetched: put the context inline"
    )


def _context(value: Any) -> Any:
    """A context value with every reference replaced by its bundled copy (nested contexts included)."""
    if value is None:
        return None
    if isinstance(value, str):
        return _context(_bundled(value, "@context"))
    if isinstance(value, list):
        return [_context(v) for v in value]
    if isinstance(value, dict):
        out: dict[str, Any] = {}
        if "@import" in value:
            imported = _context(_bundled(value["@import"], "@import"))
            if not isinstance(imported, dict):
                raise UnsafeDocument("JSON-LD @import must name a context object")
            out.update(imported)
        for key, item in value.items():
            if key == "@import":
                continue
            out[key] = inline_contexts(item)
        return out
    raise UnsafeDocument(
        f"JSON-LD @context of type {type(value).__name__}; expected an object, a list or null"
    )


def inline_contexts(node: Any) -> Any:
    """`node` with every `@context` (at any depth, scoped contexts included) made self-contained."""
    if isinstance(node, list):
        return [inline_contexts(v) for v in node]
    if isinstance(node, dict):
        return {k: (_context(v) if k == "@context" else inline_contexts(v)) for k, v in node.items()}
    return node
