"""What a person sees in a widget tree, and the rules that make a visible word an internal id.

Shared by the headless walk (tests/ui/test_ui_visible_text.py) and the real-browser walk
(tests/browser/test_browser_walk.py), so both fail on the same things:
- an unfilled `{placeholder}` (a template shown instead of its text);
- an internal id: a snake_case word (vocabulary values, metric names), a dotted policy or message key,
  `None`, a Python list repr;
- in Chinese mode, an English word outside codes, acronyms and the synthetic data itself.
Codes people use (RES-000003, REQ-…, national-2025, field names of a schema) are allowed.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from html.parser import HTMLParser
from typing import Any

PLACEHOLDER = re.compile(r"\{[A-Za-z_][A-Za-z0-9_]*(?:[:!][^{}]*)?\}")
SNAKE = re.compile(r"(?<![\w./@-])[a-z][a-z0-9]*(?:_[a-z0-9]+)+(?![\w@-]|\.\w)")
DOTTED = re.compile(r"(?<![\w./@-])[a-z][a-z_0-9]*(?:\.[a-z_][a-z_0-9]*){1,}(?![\w/@-])")
NONE = re.compile(r"(?<![\w-])None(?![\w-])")
LIST_REPR = re.compile(r"\[\s*['\"]|['\"]\s*\]")
ENGLISH_WORD = re.compile(r"(?<![\w:./-])[A-Za-z][a-z]{2,}(?![\w:./-])")  # not in CURIEs or file names
RULE = re.compile(
    r"[(（]\s*(?:rule|规则)[:：]?\s*[\w.]+\s*[)）]"
)  # a policy rule's id is the code it is cited by
# dotted words that are not keys: file names and their kinds, units, "e.g."
FILE_SUFFIXES = {
    "csv",
    "parquet",
    "png",
    "svg",
    "html",
    "md",
    "json",
    "jsonl",
    "ttl",
    "rdf",
    "xml",
    "jsonld",
    "db",
}
# acronyms, units and names a Chinese text legitimately carries
ZH_ALLOWED = {
    "CSV",
    "SQL",
    "DCAT",
    "HTML",
    "PNG",
    "SVG",
    "JSON",
    "CNY",
    "VAT",
    "RDF",
    "HMAC",
    "MAR",
    "API",
    "CKAN",
    "Turtle",
    "Parquet",
    "Markdown",
    "Voila",
    "JupyterLab",
    "Binder",
    "English",
    "XML",
    "LD",
    "AP",
    "GB",
    "T",
    "GDP",
    "ID",
    "Dask",
    "SQLite",
    "PostgreSQL",
    "Mondrian",
    "Laplace",
    "Gaussian",
    "ARX",
    "pycanon",
    "RDF/XML",
    "k",
    "l",
}


class _Text(HTMLParser):
    """Text of an HTML fragment, split into ordinary text and the cells of data tables (class mp-data)."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.data_parts: list[str] = []
        self._data_depth = 0
        self._skip = 0
        self._stack: list[tuple[str, bool]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        classes = (dict(attrs).get("class") or "").split()
        is_data = "mp-data" in classes or "mp-raw" in classes
        if tag in {"br", "img", "hr", "input", "meta", "link"}:
            return
        self._stack.append((tag, is_data))
        if is_data:
            self._data_depth += 1
        if tag in {"script", "style", "code", "pre"}:
            self._skip += 1

    def handle_endtag(self, tag: str) -> None:
        while self._stack:
            name, is_data = self._stack.pop()
            if is_data:
                self._data_depth -= 1
            if name in {"script", "style", "code", "pre"}:
                self._skip -= 1
            if name == tag:
                break

    def handle_data(self, data: str) -> None:
        if self._skip:
            return
        (self.data_parts if self._data_depth else self.parts).append(data)


def html_text(fragment: str) -> tuple[str, str]:
    """(ordinary text, data-table text) of an HTML fragment; <code>/<pre> are code and not checked."""
    parser = _Text()
    parser.feed(fragment)
    parser.close()
    return " ".join(parser.parts), " ".join(parser.data_parts)


def _hidden(widget: Any) -> bool:
    layout = getattr(widget, "layout", None)
    return getattr(layout, "display", None) == "none" or getattr(layout, "visibility", None) == "hidden"


def widget_texts(widget: Any, where: str = "") -> Iterator[tuple[str, str, bool]]:
    """(where, text, is_data) for every piece of text a person sees in `widget` and its visible children."""
    import ipywidgets as w

    if _hidden(widget):
        return
    name = f"{where}/{type(widget).__name__}"
    for trait in ("description", "tooltip", "placeholder"):
        value = getattr(widget, trait, None)
        if isinstance(value, str) and value:  # a placeholder shows what to type: checked as input syntax
            yield name + "." + trait, value, trait == "placeholder"
    options = getattr(widget, "options", None)
    if options and not isinstance(widget, w.Box):
        for option in options:
            yield name + ".option", str(option[0] if isinstance(option, tuple) else option), False
    if isinstance(widget, w.HTML | w.HTMLMath):
        plain, data = html_text(widget.value)
        yield name + ".value", plain, False
        if data:
            yield name + ".data", data, True
    elif isinstance(widget, w.Label | w.Text | w.Textarea):
        yield name + ".value", str(widget.value), isinstance(widget, w.Text | w.Textarea)
    elif isinstance(widget, w.Output):
        for out in widget.outputs:
            bundle = out.get("data", {})
            if "text/html" in bundle:
                plain, data = html_text(bundle["text/html"])
                yield name + ".output", plain, False
                if data:
                    yield name + ".output-data", data, True
            elif "text/plain" in bundle:
                yield name + ".output", bundle["text/plain"], False
            elif "text" in out:
                yield name + ".stream", out["text"], False
    titles = getattr(widget, "titles", None)
    if isinstance(widget, w.Tab | w.Accordion) and titles:
        for title in titles:
            yield name + ".title", str(title), False
    children = getattr(widget, "children", ())
    if isinstance(widget, w.Tab | w.Accordion):
        selected = getattr(widget, "selected_index", None)
        for i, child in enumerate(children):  # a collapsed accordion or another tab is not on screen
            if selected == i:
                yield from widget_texts(child, f"{name}[{i}]")
        return
    for i, child in enumerate(children):
        yield from widget_texts(child, f"{name}[{i}]")


def problems(
    texts: Iterable[tuple[str, str, bool]], lang: str, *, allowed: set[str] = frozenset()
) -> list[str]:
    """Every rule a visible text breaks, as 'where: what (in "text")'."""
    found: list[str] = []

    def add(where: str, what: str, text: str) -> None:
        found.append(f"{where}: {what} in {text.strip()[:160]!r}")

    for where, text, is_data in texts:
        text = RULE.sub("", text)
        for m in PLACEHOLDER.finditer(text):
            add(where, f"unfilled {m.group()}", text)
        if is_data:
            continue
        for m in SNAKE.finditer(text):
            if m.group() not in allowed:
                add(where, f"internal id {m.group()}", text)
        for m in DOTTED.finditer(text):
            word = m.group()
            if word.rsplit(".", 1)[-1] in FILE_SUFFIXES or word in allowed or word in {"e.g", "i.e"}:
                continue
            add(where, f"dotted key {word}", text)
        if NONE.search(text):
            add(where, "None", text)
        if LIST_REPR.search(text):
            add(where, "Python list", text)
        if lang == "zh":
            english = [
                m.group()
                for m in ENGLISH_WORD.finditer(text)
                if m.group() not in ZH_ALLOWED and m.group() not in allowed
            ]
            if english:
                add(where, "English in Chinese mode: " + " ".join(sorted(set(english))[:6]), text)
    return found


def data_words(engine: Any) -> set[str]:
    """Words of the synthetic data itself (names, titles, schema field names, what people typed): shown as
    they are, in the data's own language, so the checks allow them."""
    import sqlalchemy as sa

    from marketplace import db
    from marketplace.models import (
        AccessRequest,
        Account,
        Organization,
        Product,
        Resource,
        ResourceField,
        SelectionApplication,
        SelectionRound,
        SharingList,
        SharingListEntry,
    )

    columns = {
        Organization: ("code", "name", "region", "sector"),
        Account: ("username", "display_name", "email"),
        Resource: ("code", "title", "description"),
        AccessRequest: ("use_statement", "project_reference"),
        ResourceField: ("name", "description"),
        Product: ("code", "name", "description"),
        SharingList: ("code", "basis"),
        SharingListEntry: ("code", "duty"),
        SelectionRound: ("code", "title"),
        SelectionApplication: ("statement",),
    }
    words: set[str] = set()
    with db.session_scope(engine) as s:
        for model, names in columns.items():
            for name in names:
                for (value,) in s.exec(sa.select(getattr(model, name))).all():
                    words.update(str(value or "").replace("—", " ").split())
    return words | {w.strip(".,;:()'") for w in words}
