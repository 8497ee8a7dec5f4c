"""Maintain the gettext catalogs with Babel: extract the keys the code uses, update and compile the catalogs.

    python -m marketplace.translations update    # `make messages`: template from code and en, into each .po
    python -m marketplace.translations check     # exit 1 naming what is missing, empty, fuzzy or out of date
    python -m marketplace.translations compile   # .po -> .mo next to them (the build does this itself)

The template (`marketplace.pot`) is the union of two sources, because message ids are keys (see
`marketplace.i18n`): the keys written literally in the code, found by Babel's Python extractor through the
functions that take a key (`t`, `bind`, `heading` ...), and the keys of the English catalog, which also holds
the ids built from data (`enum.<value>`, `metric.<name>`) that no extractor can see. A key new in the code
therefore reaches every catalog empty, and `check` (and the tests) fail until English and Chinese are written.
Each template entry carries the English text as a translator comment.

The keys are found by `extract_keys`, a Babel extraction method of our own over Python's `ast`: Babel's
built-in Python extractor reads tokens, so it skips every call inside an f-string (the panels build much of
their HTML in f-strings) and joins `t("a" if x else "b")` into one key "ab"; the syntax tree sees both.
"""

from __future__ import annotations

import ast
import contextlib
import io
import re
import sys
from collections.abc import Collection, Iterator, Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from babel.messages.catalog import Catalog
from babel.messages.extract import extract_from_dir
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po, write_po

from marketplace.i18n import DOMAIN, LANGUAGES, LOCALE_DIR, catalog_path

PACKAGE_DIR = LOCALE_DIR.parent
TEMPLATE = LOCALE_DIR / f"{DOMAIN}.pot"
SOURCE_LANGUAGE = "en"
PROJECT = "public-data-marketplace"
# Functions whose argument at this position (1-based) is a message key; `text` and `has` are generic names,
# so only literals shaped like a key are kept (`KEY`).
KEYWORDS: dict[str, tuple[int, ...] | None] = {
    "t": None,
    "t_or": None,
    "has": None,
    "heading": None,
    "text": None,
    "button": None,
    "bind": (3,),
    "texts": (3,),
    "_button": (2,),
    "_h": (2,),
}
KEY = re.compile(r"^[a-z_]+(\.[a-z0-9_]+)+$")


def read_catalog(lang: str) -> Catalog:
    """The `.po` source of `lang`, parsed by Babel."""
    with catalog_path(lang).open("rb") as fh:
        return read_po(fh, locale=lang, domain=DOMAIN)


def messages() -> dict[str, tuple[str, ...]]:
    """Every key of the English catalog -> its text in each of `LANGUAGES` ("" where a catalog lacks it)."""
    texts = {lang: {m.id: str(m.string) for m in read_catalog(lang) if m.id} for lang in LANGUAGES}
    keys = sorted(texts[SOURCE_LANGUAGE])
    return {key: tuple(texts[lang].get(key, "") for lang in LANGUAGES) for key in keys}


def read_template() -> Catalog:
    with TEMPLATE.open("rb") as fh:
        return read_po(fh, domain=DOMAIN)


def _literals(node: ast.expr) -> list[str | None]:
    """The string values an argument can take: a literal, either branch of `a if x else b`, else None."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return [node.value]
    if isinstance(node, ast.IfExp):
        return [*_literals(node.body), *_literals(node.orelse)]
    return [None]


def extract_keys(
    fileobj: Any, keywords: Collection[str], comment_tags: Collection[str], options: Mapping[str, Any]
) -> Iterator[tuple[int, str, tuple[str | None, ...], list[str]]]:
    """Babel extraction method: each call of a keyword function (f-strings included), its literal args."""
    tree = ast.parse(fileobj.read())
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call):
            continue
        func = node.func
        name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
        if name not in keywords or not node.args:
            continue
        # one tuple of arguments per alternative literal of any argument (`t("a" if x else "b")`: two)
        choices = [_literals(arg) for arg in node.args]
        for position, values in enumerate(choices):
            for value in values[1:]:
                args = [c[0] for c in choices]
                args[position] = value
                yield node.lineno, name, tuple(args), []
        yield node.lineno, name, tuple(c[0] for c in choices), []


def extracted_keys() -> dict[str, list[tuple[str, int]]]:
    """Every key written literally in the package's code, with where it is used."""
    found: dict[str, list[tuple[str, int]]] = {}
    # Babel notes on stderr every keyword call whose argument is not a literal: keys built from data
    with contextlib.redirect_stderr(io.StringIO()):
        for filename, lineno, message, _comments, _context in extract_from_dir(
            PACKAGE_DIR, method_map=[("**.py", extract_keys)], keywords=KEYWORDS
        ):
            if isinstance(message, str) and KEY.match(message):
                found.setdefault(message, []).append((f"marketplace/{filename}", lineno))
    return found


def build_template() -> Catalog:
    """The template: keys extracted from the code plus every key the English catalog gives a text.

    A key with no English that the code no longer uses is dropped (a key added by mistake goes away again).
    """
    english = {m.id: m.string for m in read_catalog(SOURCE_LANGUAGE) if m.id and m.string}
    used = extracted_keys()
    template = Catalog(
        domain=DOMAIN, project=PROJECT, version="0.1.0", copyright_holder=PROJECT,
        creation_date=datetime.now(UTC), fuzzy=False,
    )
    for key in sorted(set(english) | set(used)):
        comment = [f"en: {english[key]}"] if english.get(key) else []
        template.add(key, "", locations=sorted(used.get(key, [])), auto_comments=comment)
    return template


def update() -> list[str]:
    """Write the template and merge it into every language's catalog; returns what changed, for people."""
    template = build_template()
    with TEMPLATE.open("wb") as fh:
        write_po(fh, template, width=110, sort_output=True)
    report = [f"{TEMPLATE}: {len(template)} messages"]
    for lang in LANGUAGES:
        catalog = read_catalog(lang)
        before = {m.id for m in catalog if m.id}
        catalog.update(template, no_fuzzy_matching=True)  # ids are keys: a near key is not a near meaning
        after = {m.id for m in catalog if m.id}
        with catalog_path(lang).open("wb") as fh:
            write_po(fh, catalog, width=110, sort_output=True, ignore_obsolete=True)
        report.append(
            f"{catalog_path(lang)}: {len(after - before)} new, "
            f"{len(before - after)} removed"
        )
    return report


def problems() -> Iterator[str]:
    """Everything that keeps the catalogs from being complete and current, one line each."""
    template = {m.id for m in read_template() if m.id}
    for key in sorted(set(extracted_keys()) - template):
        yield f"{TEMPLATE.name}: {key!r} is used in the code but missing; run `make messages`"
    for lang in LANGUAGES:
        catalog = read_catalog(lang)
        ids = {m.id for m in catalog if m.id}
        for key in sorted(template - ids):
            yield f"{lang}: {key!r} is missing; run `make messages`"
        for message in catalog:
            if not message.id:
                continue
            if not str(message.string).strip():
                yield f"{lang}: {message.id!r} has no text"
            if message.fuzzy:
                yield f"{lang}: {message.id!r} is marked fuzzy; review it and remove the flag"


def compiled(lang: str) -> bytes:
    """The `.mo` bytes of `lang`'s catalog (untranslated and fuzzy entries left out, as msgfmt does)."""
    buffer = io.BytesIO()
    write_mo(buffer, read_catalog(lang))
    return buffer.getvalue()


def compile_into(locale_dir: Path = LOCALE_DIR) -> list[Path]:
    """Write `<locale_dir>/<lang>/LC_MESSAGES/marketplace.mo` for every language; returns the files."""
    written = []
    for lang in LANGUAGES:
        target = Path(locale_dir) / lang / "LC_MESSAGES" / f"{DOMAIN}.mo"
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(compiled(lang))
        written.append(target)
    return written


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if args not in (["update"], ["check"], ["compile"]):
        print("usage: python -m marketplace.translations update|check|compile", file=sys.stderr)
        return 2
    if args == ["update"]:
        print("\n".join(update()))
        return 0
    if args == ["compile"]:
        print("\n".join(str(p) for p in compile_into()))
        return 0
    found = list(problems())
    print("\n".join(found) if found else "catalogs complete and up to date")
    return 1 if found else 0


if __name__ == "__main__":
    raise SystemExit(main())
