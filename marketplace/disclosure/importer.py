"""Import catalogues of real portals: DCAT (Turtle, RDF/XML, JSON-LD) and CKAN API JSON -> Resource rows.

Reading and writing are separate: `iter_catalog` / `read_catalog` turn a file into plain `ImportedDataset`
values; `import_catalog` writes them in streaming batches in the caller's transaction, so a file that turns
out bad anywhere imports nothing (the transaction is rolled back). Re-importing the same file changes nothing:
resources are keyed on `Resource.source` (the dataset IRI, else its `dct:identifier`; for CKAN
`ckan:<package id>`), organizations on their name, and rows are only written where a value differs.

Every file is untrusted (`safeparse`): a regular file within `ImportLimits`, strict UTF-8, nesting bounded,
XML without entities, JSON-LD contexts only from the copies bundled with the package (nothing is fetched from
the network or read from disk but the named file). Values are checked strictly: text must be text (JSON `NaN`
is refused), without lone surrogates or NUL characters, within its length limit; lists must be lists.
Formats: DCAT (Turtle, RDF/XML, JSON-LD), CKAN `package_show` / `package_search` JSON and `ckanapi dump`
JSON lines (one package per line).

Mapping and documented defaults (what cannot be mapped):
- title: `dct:title` / CKAN `title` (preferred language en, then untagged, then zh; CKAN falls back to
  `name` when the title is missing or empty); a dataset without a title is an error, a title that is not
  text (a number, `NaN`) too.
- description: `dct:description` / CKAN `notes`; default: the title.
- publisher -> Organization (matched by name): `dct:publisher` (`foaf:name`) / CKAN `organization.title`; kind
  from the ADMS publisher type (`dct:type`; NationalAuthority/RegionalAuthority/LocalAuthority -> department,
  Company -> enterprise, Academia-ScientificOrganisation -> research, NonProfitOrganisation -> nonprofit...);
  default kind `department` (portals publish government data); no publisher -> "Unknown publisher". Authors
  and maintainers (people) are never imported.
- keywords: `dcat:keyword` / CKAN tags (and group names); stored in `Resource.keywords`.
- domain: first keyword/tag/group found in `mappings.DOMAIN_OF_KEYWORD`, else the first EU data theme
  (`dcat:theme`, CKAN extra `theme`) in `mappings.DOMAIN_OF_THEME`, else a title word in the keyword table,
  else `other`.
- access rights -> (sharing, opening): PUBLIC -> (unconditional, unconditional); RESTRICTED -> (conditional,
  conditional); NON_PUBLIC -> (conditional, not_open). Source: `dct:accessRights` / CKAN extra
  `access_rights`; a CKAN package with `private: true` is NON_PUBLIC, one with `isopen: true` PUBLIC; default
  RESTRICTED.
- grade: `general` (NON_PUBLIC -> `important`); the grade -> channel rules of the policy apply at request
  time.
- update frequency: `dct:accrualPeriodicity` / CKAN extra `frequency` (EU frequency codes); default
  `irregular`.
- fields: CSVW `csvw:tableSchema`/`csvw:column` (name, datatype) on the dataset or a distribution; CKAN
  resource `schema.fields` (Frictionless) or `fields` (datastore `id`/`type`; `_id` skipped). Markings by name
  (`mappings.MARKING_PATTERNS`: e.g. name/phone/id_card -> identifier, age/gender/postcode ->
  quasi_identifier, diagnosis/income -> sensitive), else `other`; unknown types -> string. In a dataset
  about people the release floor of `marketplace.privacy.review_markings` applies (event dates become
  quasi-identifiers, per-record numbers identifiers). No declared fields -> none (synthetic rows then come
  from the domain template).
- size: `row_count` = 1000 (a portal's metadata does not say); cost basis: none. Imported resources are not
  registered: registration goes through the registration workflow like any other.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any, NamedTuple

import sqlalchemy as sa
from rdflib import BNode, Graph, Literal, Namespace, URIRef
from rdflib.collection import Collection
from rdflib.namespace import DCAT, DCTERMS, FOAF, RDF, RDFS, SKOS
from rdflib.plugins.parsers.notation3 import BadSyntax
from sqlmodel import Session, select

from marketplace.codes import make_code
from marketplace.disclosure import mappings as m
from marketplace.disclosure.safeparse import (
    DEFAULT_LIMITS,
    ImportLimits,
    LimitExceeded,
    UnsafeDocument,
    check_json_depth,
    check_turtle_depth,
    check_xml,
    inline_contexts,
    open_regular,
    read_bounded,
)
from marketplace.errors import MarketplaceError
from marketplace.i18n import t
from marketplace.models import Organization, Resource, ResourceField
from marketplace.privacy.rules import review_markings
from marketplace.vocabulary import (
    FieldMarking,
    FieldType,
    Grade,
    OpeningAttribute,
    OrganizationKind,
    SharingAttribute,
)

__all__ = [
    "BATCH_SIZE",
    "DEFAULT_LIMITS",
    "FORMATS",
    "CatalogImportError",
    "ImportLimits",
    "ImportResult",
    "ImportedDataset",
    "ImportedField",
    "OpenedCatalog",
    "detect_format",
    "import_catalog",
    "iter_catalog",
    "mark_field",
    "read_catalog",
]

CSVW = Namespace("http://www.w3.org/ns/csvw#")
FORMATS = ("auto", "turtle", "xml", "json-ld", "ckan", "ckan-jsonl")
DEFAULT_ROW_COUNT = 1000
UNKNOWN_PUBLISHER = "Unknown publisher"
RELATIVE_BASE = "https://catalog.invalid/"
"""Base of relative IRIs in an imported file (rdflib would otherwise resolve them against the working
directory, as file: IRIs that reveal a local path)."""
BATCH_SIZE = 500
"""Datasets written per flush: bounded memory for any file size, few round trips."""
_SUFFIX_FORMAT = {
    ".ttl": "turtle",
    ".turtle": "turtle",
    ".n3": "turtle",
    ".rdf": "xml",
    ".xml": "xml",
    ".owl": "xml",
    ".jsonld": "json-ld",
    ".json-ld": "json-ld",
    ".jsonl": "ckan-jsonl",
    ".ndjson": "ckan-jsonl",
    ".jl": "ckan-jsonl",
}
_MARKING_RE = [(marking, re.compile(pattern)) for marking, pattern in m.MARKING_PATTERNS]


class CatalogImportError(MarketplaceError):
    """A catalogue file that cannot be imported: names the file and what is wrong; nothing was imported."""

    def __init__(self, file: str | Path, problem: str) -> None:
        self.file, self.problem = str(file), problem
        super().__init__(f"{file}: {problem}; nothing imported")


@dataclass(frozen=True)
class ImportedField:
    name: str
    dtype: FieldType
    marking: FieldMarking
    description: str = ""
    generator: str = ""
    params: dict[str, Any] = field(default_factory=dict)

    def key(self) -> tuple[Any, ...]:
        return (self.name, self.dtype, self.marking, self.description, self.generator, self.params)


# Schema of an imported resource that declares no fields and whose domain has no synth template.
GENERIC_FIELDS = (
    ImportedField("record_id", FieldType.string, FieldMarking.other, "record number", "record_id"),
    ImportedField("category", FieldType.category, FieldMarking.other, "", "category"),
    ImportedField("amount", FieldType.number, FieldMarking.other, "", "amount"),
    ImportedField("recorded_on", FieldType.date, FieldMarking.other, "", "event_date"),
)


@dataclass
class ImportedDataset:
    """One dataset of a portal, mapped to the marketplace vocabulary but not yet written."""

    source: str
    title: str
    description: str
    publisher: str
    publisher_kind: OrganizationKind
    keywords: list[str]
    domain: str
    sharing: SharingAttribute
    opening: OpeningAttribute
    grade: Grade
    update_frequency: str
    fields: list[ImportedField] = field(default_factory=list)
    template: str = ""


@dataclass
class ImportResult:
    file: str
    format: str
    created: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    organizations_created: list[str] = field(default_factory=list)

    def summary(self, lang: str | None = None) -> str:
        """One line for people (in `lang`, default the language in force)."""
        return t(
            "import.summary",
            lang,
            file=self.file,
            format=self.format,
            created=len(self.created),
            updated=len(self.updated),
            unchanged=len(self.unchanged),
            organizations=len(self.organizations_created),
        )


# ---------------------------------------------------------------- strict values


class _Bad(ValueError):
    """A value of one dataset that is not acceptable; becomes a CatalogImportError naming the file."""


def _preview(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def _text(value: Any, where: str, name: str, limit: str, limits: ImportLimits) -> str:
    """`value` as stripped text: None -> ""; anything but a string, a lone surrogate, a NUL or more than the
    limit's characters is refused."""
    if value is None:
        return ""
    if not isinstance(value, str):
        raise _Bad(f"{where}: {name}: got {_preview(value)}; expected text")
    try:
        value.encode("utf-8")
    except UnicodeEncodeError as exc:
        raise _Bad(
            f"{where}: {name}: holds a lone surrogate {value[exc.start]!r} at character {exc.start}; "
            "expected valid Unicode text"
        ) from None
    if "\x00" in value:
        raise _Bad(f"{where}: {name}: holds a NUL character; expected text")
    value = value.strip()
    allowed = getattr(limits, limit)
    if len(value) > allowed:
        raise _Bad(
            f"{where}: {name}: {len(value):,} characters, over the limit {limit} = {allowed:,} "
            f"(raise it with --limit {limit}=N)"
        )
    return value


def _list(value: Any, where: str, name: str) -> list[Any]:
    if value is None:
        return []
    if not isinstance(value, list):
        raise _Bad(f"{where}: {name}: got {_preview(value)}; expected a list")
    return value


def _object(value: Any, where: str, name: str) -> dict[str, Any]:
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise _Bad(f"{where}: {name}: got {_preview(value)}; expected an object")
    return value


def _count(items: list[Any], where: str, name: str, limit: str, limits: ImportLimits) -> None:
    allowed = getattr(limits, limit)
    if len(items) > allowed:
        raise _Bad(
            f"{where}: {len(items):,} {name}, over the limit {limit} = {allowed:,} "
            f"(raise it with --limit {limit}=N)"
        )


# ---------------------------------------------------------------- shared mapping helpers


@lru_cache(maxsize=4096)
def mark_field(name: str) -> FieldMarking:
    """Privacy marking of a column from its name (see `mappings.MARKING_PATTERNS`); portals repeat names."""
    key = re.sub(r"[\s\-]+", "_", name.strip().lower())
    for marking, pattern in _MARKING_RE:
        if pattern.search(key):
            return marking
    return FieldMarking.other


def _field_type(value: str | None) -> FieldType:
    if not value:
        return FieldType.string
    key = str(value).rsplit("#", 1)[-1].rsplit("/", 1)[-1].lower()
    return m.FIELD_TYPE_OF.get(key, FieldType.string)


def _code_of(value: Any) -> str:
    """Last segment of a vocabulary IRI (or a literal), upper-cased: .../access-right/PUBLIC -> PUBLIC."""
    text = str(value).strip().rstrip("/")
    return re.split(r"[/#]", text)[-1].upper().replace("-", "_") if text else ""


def _domain(keywords: list[str], themes: list[str], title: str) -> str:
    for word in keywords:
        hit = m.DOMAIN_OF_KEYWORD.get(word.strip().lower())
        if hit:
            return hit
    for theme in themes:
        hit = m.DOMAIN_OF_THEME.get(_code_of(theme))
        if hit:
            return hit
    for word in re.findall(r"\w+", title.lower()):
        hit = m.DOMAIN_OF_KEYWORD.get(word)
        if hit:
            return hit
    return m.DEFAULT_DOMAIN


def _access(code: str | None) -> tuple[SharingAttribute, OpeningAttribute, Grade]:
    code = _code_of(code) if code else m.DEFAULT_ACCESS_RIGHT
    if code not in m.ATTRIBUTES_OF_ACCESS_RIGHT:
        code = {"OPEN": "PUBLIC", "PRIVATE": "NON_PUBLIC", "NONPUBLIC": "NON_PUBLIC"}.get(
            code, m.DEFAULT_ACCESS_RIGHT
        )
    sharing, opening = m.ATTRIBUTES_OF_ACCESS_RIGHT[code]
    grade = Grade.general if opening != OpeningAttribute.not_open else Grade.important
    return sharing, opening, grade


def _frequency(value: str | None) -> str:
    if not value:
        return m.DEFAULT_UPDATE_FREQUENCY
    code = _code_of(value)
    if code in m.UPDATE_OF_FREQUENCY:
        return m.UPDATE_OF_FREQUENCY[code]
    return (
        value.strip().lower()
        if value.strip().lower() in m.FREQUENCY_OF_UPDATE
        else m.DEFAULT_UPDATE_FREQUENCY
    )


def _checked_fields(
    fields: list[ImportedField], where: str, limits: ImportLimits
) -> list[ImportedField]:
    """Declared columns: names and descriptions checked, duplicates and `_`-names dropped, the release floor
    of `privacy.review_markings` applied."""
    seen: dict[str, ImportedField] = {}
    for f in fields:
        name = _text(f.name, where, "field name", "max_keyword_chars", limits)
        description = _text(f.description, where, f"field {name!r} description", "max_text_chars", limits)
        if name and not name.startswith("_") and name not in seen:
            seen[name] = ImportedField(name, f.dtype, f.marking, description)
    out = list(seen.values())
    _count(out, where, "fields", "max_fields", limits)
    raised = {c.name: c.after for c in review_markings(out)}
    if not raised:
        return out
    return [dataclasses.replace(f, marking=raised[f.name]) if f.name in raised else f for f in out]


def _keywords(words: Iterable[Any], where: str, limits: ImportLimits) -> list[str]:
    out = list(
        dict.fromkeys(
            w for w in (_text(k, where, "keyword", "max_keyword_chars", limits) for k in words) if w
        )
    )
    _count(out, where, "keywords", "max_keywords", limits)
    return out


def _source_key(value: str) -> str:
    return value if len(value) <= 200 else "sha1:" + hashlib.sha1(value.encode()).hexdigest()


# ---------------------------------------------------------------- DCAT


def _best_literal(graph: Graph, node: Any, *predicates: URIRef) -> Any:
    values = [o for p in predicates for o in graph.objects(node, p) if isinstance(o, Literal)]
    if not values:
        return ""
    rank = {"en": 0, None: 1, "zh": 2}
    values.sort(key=lambda lit: (rank.get((lit.language or "").split("-")[0] or None, 3), str(lit)))
    return str(values[0])


def _csvw_fields(graph: Graph, node: Any) -> list[ImportedField]:
    out: list[ImportedField] = []
    for schema in graph.objects(node, CSVW.tableSchema):
        columns: list[Any] = []
        for col in graph.objects(schema, CSVW.column):
            if (col, RDF.first, None) in graph:
                columns.extend(Collection(graph, col))
            else:
                columns.append(col)
        for col in columns:
            name = (_best_literal(graph, col, CSVW.name) or _best_literal(graph, col, CSVW.titles)).strip()
            if not name:
                continue
            dtype = graph.value(col, CSVW.datatype)
            if dtype is not None and not isinstance(dtype, Literal | URIRef):
                dtype = graph.value(dtype, CSVW.base)
            out.append(
                ImportedField(
                    name,
                    _field_type(str(dtype) if dtype is not None else None),
                    mark_field(name),
                    _best_literal(graph, col, DCTERMS.description, RDFS.comment),
                )
            )
    return out


def _parse_problem(exc: Exception) -> str:
    """One readable line from an RDF parser's exception (line number and what was expected)."""
    if isinstance(exc, BadSyntax):  # rdflib's Turtle/N3 error: "... Bad syntax (why) at ^ in: ..."
        found = re.search(r"Bad syntax \((.*?)\) at \^", str(exc), re.DOTALL)
        return f"line {int(exc.lines) + 1}: {found.group(1) if found else 'bad syntax'}"
    if hasattr(exc, "getLineNumber"):  # SAX (RDF/XML)
        return f"line {exc.getLineNumber()} column {exc.getColumnNumber()}: {exc.getMessage()}"
    text = " ".join(str(exc).split())[:300]
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


def _rdf_document(data: bytes, text: str, rdf_format: str, limits: ImportLimits) -> str:
    """The text handed to rdflib, after the checks of its format (JSON-LD: contexts inlined)."""
    if rdf_format == "xml":
        check_xml(data, limits)
        return text
    if rdf_format == "turtle":
        check_turtle_depth(data, limits)
        return text
    check_json_depth(data, limits)
    document = _json_loads(text)
    return json.dumps(inline_contexts(document), ensure_ascii=False)


def _parse_dcat(
    data: bytes, text: str, rdf_format: str, file: str, limits: ImportLimits
) -> list[ImportedDataset]:
    document = _rdf_document(data, text, rdf_format, limits)
    graph = Graph()
    try:
        graph.parse(data=document, format=rdf_format, publicID=RELATIVE_BASE)
    except RecursionError as exc:
        raise CatalogImportError(
            file, f"not valid {rdf_format}: nested deeper than the parser allows (limit max_depth)"
        ) from exc
    except Exception as exc:  # rdflib raises many types (BadSyntax, SAXParseException, JSON-LD errors...)
        raise CatalogImportError(file, f"not valid {rdf_format}: {_parse_problem(exc)}") from exc
    datasets = sorted(set(graph.subjects(RDF.type, DCAT.Dataset)), key=str)
    if not datasets:
        raise CatalogImportError(file, f"no dcat:Dataset found in this {rdf_format} file (expected DCAT)")
    if len(datasets) > limits.max_items:
        raise CatalogImportError(
            file,
            f"{len(datasets):,} datasets, over the limit max_items = {limits.max_items:,} "
            "(raise it with --limit max_items=N)",
        )
    out = []
    for node in datasets:
        try:
            out.append(_dcat_dataset(graph, node, limits))
        except _Bad as exc:
            raise CatalogImportError(file, str(exc)) from None
    return out


def _dcat_dataset(graph: Graph, node: Any, limits: ImportLimits) -> ImportedDataset:
    ident = _text(_best_literal(graph, node, DCTERMS.identifier), f"dataset {node}", "dct:identifier",
                  "max_text_chars", limits)
    where = f"dataset {ident or node}"
    title = _text(_best_literal(graph, node, DCTERMS.title), where, "dct:title", "max_title_chars", limits)
    if not title:
        raise _Bad(f"{where} has no dct:title (expected one)")
    if isinstance(node, URIRef):
        source = str(node)
    elif ident:
        source = ident
    else:
        source = "hash:" + hashlib.sha1(title.encode()).hexdigest()
    publisher, kind = UNKNOWN_PUBLISHER, m.DEFAULT_PUBLISHER_KIND
    pub = graph.value(node, DCTERMS.publisher)
    if pub is not None:
        if isinstance(pub, Literal):
            name = str(pub)
        else:
            name = _best_literal(graph, pub, FOAF.name, SKOS.prefLabel, RDFS.label) or (
                str(pub) if isinstance(pub, URIRef) else ""
            )
            ptype = graph.value(pub, DCTERMS.type)
            if ptype is not None:
                kind = m.KIND_OF_PUBLISHER_TYPE.get(str(ptype).rstrip("/").rsplit("/", 1)[-1], kind)
        publisher = _text(name, where, "dct:publisher", "max_name_chars", limits) or UNKNOWN_PUBLISHER
    keywords = _keywords([str(k) for k in graph.objects(node, DCAT.keyword)], where, limits)
    themes = [str(t) for t in graph.objects(node, DCAT.theme)]
    rights = graph.value(node, DCTERMS.accessRights)
    rights_code = None
    if rights is not None:
        rights_code = (
            str(rights)
            if not isinstance(rights, BNode)
            else _best_literal(graph, rights, SKOS.prefLabel, RDFS.label, DCTERMS.description)
        )
    sharing, opening, grade = _access(rights_code)
    freq = graph.value(node, DCTERMS.accrualPeriodicity)
    fields = _csvw_fields(graph, node)
    for dist in graph.objects(node, DCAT.distribution):
        fields += _csvw_fields(graph, dist)
    description = _text(_best_literal(graph, node, DCTERMS.description), where, "dct:description",
                        "max_text_chars", limits)
    return ImportedDataset(
        source=_source_key(source),
        title=title,
        description=description or title,
        publisher=publisher,
        publisher_kind=kind,
        keywords=keywords,
        domain=_domain(keywords, themes, title),
        sharing=sharing,
        opening=opening,
        grade=grade,
        update_frequency=_frequency(str(freq) if freq is not None else None),
        fields=_checked_fields(fields, where, limits),
    )


# ---------------------------------------------------------------- CKAN


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a JSON value (expected a number, a string or null)")


def _json_loads(text: str) -> Any:
    """Strict JSON: NaN / Infinity refused (Python's json accepts them by default)."""
    return json.loads(text, parse_constant=_reject_constant)


def _json_problem(exc: ValueError) -> str:
    if isinstance(exc, json.JSONDecodeError):
        return f"not valid JSON: {exc.msg} at line {exc.lineno} column {exc.colno}"
    return f"not valid JSON: {exc}"


def _ckan_packages(data: Any, file: str) -> list[Any]:
    """The packages of a package_show / package_search response (or a bare package / list of packages)."""
    if isinstance(data, dict) and "success" in data:
        if data.get("success") is not True:
            error = data.get("error") or {}
            message = error.get("message") if isinstance(error, dict) else error
            raise CatalogImportError(
                file, f"the CKAN response reports failure: {_preview(message) if message else 'no message'}"
            )
        data = data.get("result")
    if isinstance(data, dict) and "results" in data:
        if not isinstance(data["results"], list):
            raise CatalogImportError(file, f"results: got {_preview(data['results'])}; expected a list")
        data = data["results"]
    packages = data if isinstance(data, list) else [data]
    if not packages:
        raise CatalogImportError(file, "the CKAN response holds no packages")
    return packages


def _ckan_fields(resource: dict[str, Any], where: str, limits: ImportLimits) -> list[ImportedField]:
    out: list[ImportedField] = []
    schema = resource.get("schema")
    if isinstance(schema, str) and schema.strip():
        _text(schema, where, "schema", "max_text_chars", limits)
        try:
            schema = _json_loads(schema)
        except ValueError:
            schema = None  # a schema URL or prose: nothing declared
    declared = _list(schema.get("fields"), where, "schema.fields") if isinstance(schema, dict) else []
    declared = declared + _list(resource.get("fields"), where, "fields")
    declared = declared + _list(resource.get("datastore_fields"), where, "datastore_fields")
    for f in declared:
        if not isinstance(f, dict):
            raise _Bad(f"{where}: fields: got an item {_preview(f)}; expected an object with 'name' or 'id'")
        name = _text(f.get("name") or f.get("id"), where, "field name", "max_keyword_chars", limits)
        if not name:
            continue
        info = _object(f.get("info"), where, f"field {name!r} info")
        ftype = _text(f.get("type"), where, f"field {name!r} type", "max_keyword_chars", limits)
        out.append(
            ImportedField(
                name, _field_type(ftype), mark_field(name), f.get("description") or info.get("notes")
            )
        )
    return out


def _ckan_dataset(pkg: Any, index: int, limits: ImportLimits) -> ImportedDataset:
    if not isinstance(pkg, dict):
        raise _Bad(f"package #{index}: got {_preview(pkg)}; expected a CKAN package object")
    ident = _text(pkg.get("id"), f"package #{index}", "id", "max_name_chars", limits)
    name = _text(pkg.get("name"), f"package #{index}", "name", "max_name_chars", limits)
    if not (ident or name):
        raise _Bad(f"package #{index}: has neither 'id' nor 'name' (expected a CKAN package)")
    where = f"package {name or ident}"
    title = pkg.get("title")
    if title is None or (isinstance(title, str) and not title.strip()):
        title = name
    title = _text(title, where, "title", "max_title_chars", limits)
    if not title:
        raise _Bad(f"{where}: title: got {_preview(pkg.get('title'))}; expected a non-empty title")
    extras: dict[str, Any] = {}
    for e in _list(pkg.get("extras"), where, "extras"):
        e = _object(e, where, "extras item")
        key = _text(e.get("key"), where, "extras key", "max_keyword_chars", limits).lower()
        value = e.get("value")
        extras[key] = value if not isinstance(value, str) else _text(
            value, where, f"extra {key!r}", "max_text_chars", limits
        )
    org = _object(pkg.get("organization"), where, "organization")
    publisher = _text(org.get("title") or org.get("name"), where, "organization", "max_name_chars", limits)
    tags = []
    for tag in _list(pkg.get("tags"), where, "tags"):
        tags.append(tag.get("display_name") or tag.get("name") if isinstance(tag, dict) else tag)
    groups = []
    for g in _list(pkg.get("groups"), where, "groups"):
        groups.append(_object(g, where, "groups item").get("name") or g.get("title"))
    keywords = _keywords(tags, where, limits)
    group_words = [w for w in (_text(g, where, "group", "max_keyword_chars", limits) for g in groups) if w]
    themes_raw = extras.get("theme") or extras.get("themes") or []
    if isinstance(themes_raw, str):
        try:
            themes_raw = _json_loads(themes_raw) if themes_raw.startswith("[") else [themes_raw]
        except ValueError:
            themes_raw = [themes_raw]
    themes = [str(t) for t in themes_raw] if isinstance(themes_raw, list) else []
    rights = extras.get("access_rights") or extras.get("accessrights") or pkg.get("access_rights")
    if not rights:
        if pkg.get("private") is True:
            rights = "NON_PUBLIC"
        elif pkg.get("isopen") is True:
            rights = "PUBLIC"
    sharing, opening, grade = _access(str(rights) if rights else None)
    freq = extras.get("frequency") or extras.get("accrual_periodicity") or extras.get("update_frequency")
    fields: list[ImportedField] = []
    for res in _list(pkg.get("resources"), where, "resources"):
        fields += _ckan_fields(_object(res, where, "resources item"), where, limits)
    description = _text(pkg.get("notes"), where, "notes", "max_text_chars", limits)
    return ImportedDataset(
        source=_source_key(f"ckan:{ident or name}"),
        title=title,
        description=description or title,
        publisher=publisher or UNKNOWN_PUBLISHER,
        publisher_kind=m.DEFAULT_PUBLISHER_KIND,
        keywords=keywords,
        domain=_domain(keywords + group_words, themes, title),
        sharing=sharing,
        opening=opening,
        grade=grade,
        update_frequency=_frequency(str(freq) if freq else None),
        fields=_checked_fields(fields, where, limits),
    )


def _ckan_stream(packages: Iterable[Any], file: str, limits: ImportLimits) -> Iterator[ImportedDataset]:
    for i, pkg in enumerate(packages):
        try:
            yield _ckan_dataset(pkg, i, limits)
        except _Bad as exc:
            raise CatalogImportError(file, str(exc)) from None


def _jsonl_packages(lines: Iterable[bytes], file: str, limits: ImportLimits) -> Iterator[Any]:
    """One package per non-empty line, each line decoded, depth-checked and parsed as it is reached."""
    for number, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            text = line.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise CatalogImportError(
                file, f"line {number}: not UTF-8 text at byte {exc.start:,} of the line (expected UTF-8)"
            ) from None
        try:
            check_json_depth(line, limits)
            yield _json_loads(text.removeprefix("\ufeff"))
        except LimitExceeded as exc:
            raise CatalogImportError(file, f"line {number}: {exc}") from exc
        except ValueError as exc:
            raise CatalogImportError(file, f"line {number}: {_json_problem(exc)}") from exc


def _stream_jsonl(path: Path, limits: ImportLimits) -> tuple[int, Iterator[ImportedDataset]]:
    """A `ckanapi dump` file read line by line: memory holds one batch, whatever the file's size. A first
    pass counts the packages (for `max_items` and the progress bar)."""
    file = str(path)
    with open_regular(path, limits) as fh:
        total = sum(1 for line in fh if line.strip())
    if not total:
        raise CatalogImportError(path, "the file holds no packages (expected one JSON object per line)")
    if total > limits.max_items:
        raise CatalogImportError(
            path,
            f"{total:,} packages, over the limit max_items = {limits.max_items:,} "
            "(raise it with --limit max_items=N)",
        )

    def datasets() -> Iterator[ImportedDataset]:
        with open_regular(path, limits) as fh:
            yield from _ckan_stream(_jsonl_packages(fh, file, limits), file, limits)

    return total, datasets()


# ---------------------------------------------------------------- reading


def detect_format(path: Path, text: str) -> str:
    """turtle / xml / json-ld / ckan / ckan-jsonl from the suffix and, for JSON, the content (CKAN has no
    @context; JSON lines hold one package per line)."""
    suffix = path.suffix.lower()
    if suffix in _SUFFIX_FORMAT:
        return _SUFFIX_FORMAT[suffix]
    stripped = text.lstrip()
    if stripped.startswith(("{", "[")) or suffix == ".json":  # a .json file is JSON, whatever it holds
        head = stripped[:4096]
        if re.search(r'"@(context|graph|id)"\s*:', head):
            return "json-ld"
        first, _, rest = stripped.partition("\n")
        if first.rstrip().endswith("}") and rest.lstrip().startswith("{"):
            try:
                json.loads(first)
                return "ckan-jsonl"
            except ValueError:
                pass
        return "ckan"
    if stripped.startswith("<"):
        return "xml"
    return "turtle"


def _decode(data: bytes, file: Path) -> str:
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise CatalogImportError(
            file, f"not UTF-8 text: byte {exc.start:,} is {data[exc.start:exc.start + 1]!r} (expected UTF-8)"
        ) from None
    return text.removeprefix("\ufeff")


class OpenedCatalog(NamedTuple):
    """A catalogue file that passed the file-level checks: its format, its number of datasets, and the
    datasets (each checked when the iteration reaches it)."""

    format: str
    total: int
    datasets: Iterator[ImportedDataset]


def iter_catalog(
    path: str | Path, fmt: str = "auto", *, limits: ImportLimits = DEFAULT_LIMITS
) -> OpenedCatalog:
    """(format used, number of datasets, datasets) of a catalogue file.

    The file is read and checked (size, encoding, nesting, entities, contexts, item count) before this
    returns; each dataset's values are checked as the iterator reaches it, so a bad value raises
    `CatalogImportError` from the iteration.
    """
    path = Path(path)
    if fmt not in FORMATS:
        raise CatalogImportError(path, f"unknown format {fmt!r} (expected one of {', '.join(FORMATS)})")
    by_suffix = _SUFFIX_FORMAT.get(path.suffix.lower())
    streamed = fmt == "ckan-jsonl" or (fmt == "auto" and by_suffix == "ckan-jsonl")
    try:
        if streamed:
            return OpenedCatalog("ckan-jsonl", *_stream_jsonl(path, limits))
        data = read_bounded(path, limits)
    except FileNotFoundError as exc:
        raise CatalogImportError(path, "no such file") from exc
    except UnsafeDocument as exc:
        raise CatalogImportError(path, str(exc)) from exc
    except OSError as exc:
        raise CatalogImportError(path, f"cannot be read ({exc.strerror or exc})") from exc
    text = _decode(data, path)
    used = detect_format(path, text) if fmt == "auto" else fmt
    try:
        if used in ("turtle", "xml", "json-ld"):
            datasets = _parse_dcat(data, text, used, str(path), limits)
            return OpenedCatalog(used, len(datasets), iter(datasets))
        check_json_depth(data, limits)
    except (LimitExceeded, UnsafeDocument) as exc:
        raise CatalogImportError(path, str(exc)) from exc
    except ValueError as exc:  # JSON-LD that is not JSON
        raise CatalogImportError(path, _json_problem(exc)) from exc
    if used == "ckan-jsonl":
        packages: list[Any] = list(_jsonl_packages(data.splitlines(), str(path), limits))
        if not packages:
            raise CatalogImportError(path, "the file holds no packages (expected one JSON object per line)")
    else:
        try:
            packages = _ckan_packages(_json_loads(text), str(path))
        except ValueError as exc:
            raise CatalogImportError(path, _json_problem(exc)) from exc
    if len(packages) > limits.max_items:
        raise CatalogImportError(
            path,
            f"{len(packages):,} packages, over the limit max_items = {limits.max_items:,} "
            "(raise it with --limit max_items=N)",
        )
    return OpenedCatalog(used, len(packages), _ckan_stream(packages, str(path), limits))


def _completed(datasets: Iterable[ImportedDataset], file: Path) -> Iterator[ImportedDataset]:
    """Refuse a dataset seen twice; give a dataset without declared fields its domain's template."""
    seen: set[str] = set()
    for ds in datasets:
        if ds.source in seen:
            raise CatalogImportError(file, f"dataset {ds.source} appears twice (expected unique identifiers)")
        seen.add(ds.source)
        if not ds.fields:
            ds.template, ds.fields = domain_template(ds.domain)
        yield ds


def read_catalog(
    path: str | Path, fmt: str = "auto", *, limits: ImportLimits = DEFAULT_LIMITS
) -> tuple[str, list[ImportedDataset]]:
    """(format used, datasets) of a catalogue file; raises `CatalogImportError` on anything malformed."""
    used, _total, datasets = iter_catalog(path, fmt, limits=limits)
    return used, list(_completed(datasets, Path(path)))


def domain_template(domain: str) -> tuple[str, list[ImportedField]]:
    """(template name, fields) for a resource that declares no fields: the first synth catalog template of its
    domain, else `GENERIC_FIELDS` (template name "generic")."""
    try:
        from marketplace.synth.spec import templates

        found = next((t for t in templates() if t.domain == domain), None)
    except (ImportError, OSError, KeyError, ValueError):  # no seed data: the generic schema still works
        found = None
    if found is None:
        return "generic", list(GENERIC_FIELDS)
    return found.name, [
        ImportedField(f.name, f.dtype, f.marking, "", f.generator, dict(f.params)) for f in found.fields
    ]


# ---------------------------------------------------------------- writing


def _next_serial(session: Session, column: Any, prefix: str) -> int:
    codes = session.exec(select(column).where(column.like(f"{prefix}%"))).all()
    serials = [int(c.rsplit("-", 1)[-1]) for c in codes if c.rsplit("-", 1)[-1].isdigit()]
    return max(serials, default=0) + 1


def _set(obj: Any, changes: dict[str, Any]) -> bool:
    changed = False
    for key, value in changes.items():
        if getattr(obj, key) != value:
            setattr(obj, key, value)
            changed = True
    return changed


class _Writer:
    """Upserts batches of datasets: one query for their resources, one for new publishers, and new rows
    inserted with one Core statement per table (SQLModel's constructor and the unit of work cost ~0.3 ms a
    row, most of a large import)."""

    def __init__(self, session: Session, result: ImportResult) -> None:
        self.session, self.result = session, result
        self.organizations: dict[str, int] = {}
        self.next_org = _next_serial(session, Organization.code, "ORG-IMP-")
        self.next_res = _next_serial(session, Resource.code, "RES-IMP-")
        self.insert_resource = sa.insert(Resource.__table__)
        self.insert_field = sa.insert(ResourceField.__table__)

    def _holders(self, batch: list[ImportedDataset]) -> None:
        wanted = {ds.publisher: ds.publisher_kind for ds in batch if ds.publisher not in self.organizations}
        if not wanted:
            return
        found = self.session.exec(
            select(Organization.name, Organization.id)
            .where(Organization.name.in_(list(wanted)))
            .order_by(Organization.id)
        ).all()
        for name, ident in found:
            self.organizations.setdefault(name, ident)
        created = []
        for name, kind in wanted.items():
            if name in self.organizations:
                continue
            code = make_code("organization", self.next_org, tag="IMP")
            self.next_org += 1
            org = Organization(code=code, name=name, kind=kind)
            self.session.add(org)
            created.append(org)
            self.result.organizations_created.append(code)
        if created:
            self.session.flush()
            self.organizations.update((org.name, org.id) for org in created)

    def _values(self, ds: ImportedDataset) -> dict[str, Any]:
        return {
            "title": ds.title,
            "description": ds.description,
            "domain": ds.domain,
            "holder_id": self.organizations[ds.publisher],
            "grade": ds.grade,
            "sharing_attribute": ds.sharing,
            "opening_attribute": ds.opening,
            "update_frequency": ds.update_frequency,
            "keywords": list(ds.keywords),
            "template": ds.template,
        }

    def _current(self, batch: list[ImportedDataset]) -> tuple[dict[str, Any], dict[int, list[tuple]]]:
        """{source: stored resource row} and {resource id: stored field keys} of a batch, read with Core
        (comparing is all most re-imports do; only changed rows are loaded into the ORM)."""
        table, ftable = Resource.__table__, ResourceField.__table__
        rows = {
            r.source: r
            for r in self.session.execute(
                sa.select(table).where(table.c.source.in_([ds.source for ds in batch]))
            ).all()
        }
        fields: dict[int, list[tuple]] = {r.id: [] for r in rows.values()}
        if rows:
            for f in self.session.execute(
                sa.select(ftable)
                .where(ftable.c.resource_id.in_(list(fields)))
                .order_by(ftable.c.resource_id, ftable.c.position)
            ).all():
                fields[f.resource_id].append(
                    (f.name, f.dtype, f.marking, f.description, f.generator, f.params)
                )
        return rows, fields

    def write(self, batch: list[ImportedDataset]) -> None:
        session = self.session
        self._holders(batch)
        stored, stored_fields = self._current(batch)
        new: list[ImportedDataset] = []
        new_rows: list[dict[str, Any]] = []
        refields: list[tuple[int, ImportedDataset]] = []
        for ds in batch:
            row = stored.get(ds.source)
            if row is None:
                code = make_code("resource", self.next_res, tag="IMP")
                self.next_res += 1
                new.append(ds)
                new_rows.append(
                    {"code": code, "source": ds.source, "row_count": DEFAULT_ROW_COUNT, **self._values(ds)}
                )
                self.result.created.append(code)
                continue
            values = self._values(ds)
            changed = any(getattr(row, key) != value for key, value in values.items())
            if changed:
                res = session.get(Resource, row.id)
                _set(res, values)
            if [f.key() for f in ds.fields] != stored_fields[row.id]:
                refields.append((row.id, ds))
                changed = True
            (self.result.updated if changed else self.result.unchanged).append(row.code)
        if refields:
            session.execute(
                sa.delete(ResourceField).where(ResourceField.resource_id.in_([i for i, _ in refields]))
            )
            rewritten = {ident for ident, _ in refields}
            for obj in list(session.identity_map.values()):
                if isinstance(obj, Resource) and obj.id in rewritten:
                    session.expire(obj, ["fields"])
        session.flush()
        if new_rows:
            # executemany, then the ids by code: RETURNING in parameter order runs row by row on SQLite
            session.execute(self.insert_resource, new_rows)
            table = Resource.__table__
            codes = [row["code"] for row in new_rows]
            query = sa.select(table.c.code, table.c.id).where(table.c.code.in_(codes))
            ids = dict(session.execute(query).all())
            refields += [(ids[code], ds) for code, ds in zip(codes, new, strict=True)]
        field_rows = [
            {
                "resource_id": ident,
                "position": pos,
                "name": f.name,
                "dtype": f.dtype,
                "marking": f.marking,
                "description": f.description,
                "generator": f.generator,
                "params": dict(f.params),
            }
            for ident, ds in refields
            for pos, f in enumerate(ds.fields)
        ]
        if field_rows:
            session.execute(self.insert_field, field_rows)


def import_catalog(
    session: Session,
    path: str | Path,
    fmt: str = "auto",
    *,
    limits: ImportLimits = DEFAULT_LIMITS,
    progress: Callable[[int, int], None] | None = None,
    batch_size: int = BATCH_SIZE,
    opened: OpenedCatalog | None = None,
) -> ImportResult:
    """Read `path` and upsert its datasets into the session's transaction in batches (commit is the
    caller's; on any error the caller's rollback leaves the database as it was).

    `progress(done, total)` is called after every batch. `opened`: the file already opened with
    `iter_catalog` (so a caller can refuse a bad file before it touches the database at all).
    """
    used, total, datasets = opened if opened is not None else iter_catalog(path, fmt, limits=limits)
    result = ImportResult(str(path), used)
    writer = _Writer(session, result)
    batch: list[ImportedDataset] = []
    done = 0
    for ds in _completed(datasets, Path(path)):
        batch.append(ds)
        if len(batch) >= batch_size:
            writer.write(batch)
            done += len(batch)
            batch = []
            if progress is not None:
                progress(done, total)
    if batch:
        writer.write(batch)
        done += len(batch)
        if progress is not None:
            progress(done, total)
    from marketplace.workflows import audit

    # The import is part of the record: which file, in what format, and what it changed (with the commit).
    audit.record(
        session,
        None,
        "catalog.import",
        ("catalog", None),
        {
            "file": Path(path).name,
            "format": used,
            "created": len(result.created),
            "updated": len(result.updated),
            "unchanged": len(result.unchanged),
            "organizations_created": len(result.organizations_created),
        },
    )
    return result
