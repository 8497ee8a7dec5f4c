"""Import catalogues of real portals: DCAT (Turtle, RDF/XML, JSON-LD) and CKAN API JSON -> Resource rows.

Reading and writing are separate: `read_catalog` parses a file into plain `ImportedDataset` values (and fails
on anything malformed before the database is touched); `import_catalog` writes them in the caller's
transaction, so a bad file imports nothing. Re-importing the same file changes nothing: resources are keyed on
`Resource.source` (the dataset IRI, else its `dct:identifier`; for CKAN `ckan:<package id>`), organizations on
their name, and rows are only written where a value differs.

Mapping and documented defaults (what cannot be mapped):
- title: `dct:title` / CKAN `title` (preferred language en, then untagged, then zh; CKAN falls back to
  `name`); a dataset without a title is an error.
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
  quasi_identifier, diagnosis/income -> sensitive), else `other`; unknown types -> string. No declared fields
  -> none (synthetic rows then come from the domain template).
- size: `row_count` = 1000 (a portal's metadata does not say); cost basis: none. Imported resources are not
  registered: registration goes through the registration workflow like any other.
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from rdflib import BNode, Graph, Literal, Namespace, URIRef
from rdflib.collection import Collection
from rdflib.namespace import DCAT, DCTERMS, FOAF, RDF, RDFS, SKOS
from sqlmodel import Session, select

from marketplace.codes import make_code
from marketplace.disclosure import mappings as m
from marketplace.errors import MarketplaceError
from marketplace.i18n import t
from marketplace.models import Organization, Resource, ResourceField
from marketplace.vocabulary import (
    FieldMarking,
    FieldType,
    Grade,
    OpeningAttribute,
    OrganizationKind,
    SharingAttribute,
)

__all__ = [
    "FORMATS",
    "CatalogImportError",
    "ImportResult",
    "ImportedDataset",
    "ImportedField",
    "detect_format",
    "import_catalog",
    "mark_field",
    "read_catalog",
]

CSVW = Namespace("http://www.w3.org/ns/csvw#")
FORMATS = ("auto", "turtle", "xml", "json-ld", "ckan")
DEFAULT_ROW_COUNT = 1000
UNKNOWN_PUBLISHER = "Unknown publisher"
_SUFFIX_FORMAT = {
    ".ttl": "turtle",
    ".turtle": "turtle",
    ".n3": "turtle",
    ".rdf": "xml",
    ".xml": "xml",
    ".owl": "xml",
    ".jsonld": "json-ld",
    ".json-ld": "json-ld",
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


# ---------------------------------------------------------------- shared mapping helpers


def mark_field(name: str) -> FieldMarking:
    """Privacy marking of a column from its name (see `mappings.MARKING_PATTERNS`)."""
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


def _dedupe_fields(fields: list[ImportedField]) -> list[ImportedField]:
    seen: dict[str, ImportedField] = {}
    for f in fields:
        name = f.name.strip()[:100]
        if name and not name.startswith("_") and name not in seen:
            seen[name] = ImportedField(name, f.dtype, f.marking, f.description)
    return list(seen.values())


def _source_key(value: str) -> str:
    return value if len(value) <= 200 else "sha1:" + hashlib.sha1(value.encode()).hexdigest()


# ---------------------------------------------------------------- DCAT


def _best_literal(graph: Graph, node: Any, *predicates: URIRef) -> str:
    values = [o for p in predicates for o in graph.objects(node, p) if isinstance(o, Literal)]
    if not values:
        return ""
    rank = {"en": 0, None: 1, "zh": 2}
    values.sort(key=lambda lit: (rank.get((lit.language or "").split("-")[0] or None, 3), str(lit)))
    return str(values[0]).strip()


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
            name = _best_literal(graph, col, CSVW.name) or _best_literal(graph, col, CSVW.titles)
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
    lines = getattr(exc, "lines", None)
    if lines is not None and type(exc).__name__ == "BadSyntax":  # rdflib's Turtle/N3 syntax error
        why = " ".join(str(exc).split())
        why = why.split(": ", 1)[-1] if why.startswith("at line") else why
        return f"line {int(lines) + 1}: {why[:300]}"
    if hasattr(exc, "getLineNumber"):  # SAX (RDF/XML)
        return f"line {exc.getLineNumber()} column {exc.getColumnNumber()}: {exc.getMessage()}"
    text = " ".join(str(exc).split())
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


def _parse_dcat(text: str, rdf_format: str, file: str) -> list[ImportedDataset]:
    graph = Graph()
    try:
        graph.parse(data=text, format=rdf_format)
    except Exception as exc:  # rdflib raises many types (BadSyntax, SAXParseException, JSON-LD errors...)
        raise CatalogImportError(file, f"not valid {rdf_format}: {_parse_problem(exc)}") from exc
    datasets = sorted(set(graph.subjects(RDF.type, DCAT.Dataset)), key=str)
    if not datasets:
        raise CatalogImportError(file, f"no dcat:Dataset found in this {rdf_format} file (expected DCAT)")
    out = []
    for node in datasets:
        title = _best_literal(graph, node, DCTERMS.title)
        ident = _best_literal(graph, node, DCTERMS.identifier)
        if not title:
            raise CatalogImportError(file, f"dataset {ident or node} has no dct:title (expected one)")
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
                publisher = str(pub).strip() or publisher
            else:
                publisher = _best_literal(graph, pub, FOAF.name, SKOS.prefLabel, RDFS.label) or (
                    str(pub) if isinstance(pub, URIRef) else UNKNOWN_PUBLISHER
                )
                ptype = graph.value(pub, DCTERMS.type)
                if ptype is not None:
                    kind = m.KIND_OF_PUBLISHER_TYPE.get(str(ptype).rstrip("/").rsplit("/", 1)[-1], kind)
        keywords = list(
            dict.fromkeys(str(k).strip() for k in graph.objects(node, DCAT.keyword) if str(k).strip())
        )
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
        out.append(
            ImportedDataset(
                source=_source_key(source),
                title=title[:300],
                description=_best_literal(graph, node, DCTERMS.description) or title,
                publisher=publisher[:200],
                publisher_kind=kind,
                keywords=keywords,
                domain=_domain(keywords, themes, title),
                sharing=sharing,
                opening=opening,
                grade=grade,
                update_frequency=_frequency(str(freq) if freq is not None else None),
                fields=_dedupe_fields(fields),
            )
        )
    return out


# ---------------------------------------------------------------- CKAN


def _ckan_packages(data: Any, file: str) -> list[dict[str, Any]]:
    """The packages of a package_show / package_search response (or a bare package / list of packages)."""
    if isinstance(data, dict) and "success" in data:
        if not data.get("success"):
            error = data.get("error") or {}
            message = error.get("message") if isinstance(error, dict) else error
            raise CatalogImportError(file, f"the CKAN response reports failure: {message or 'no message'}")
        data = data.get("result")
    if isinstance(data, dict) and isinstance(data.get("results"), list):
        data = data["results"]
    packages = data if isinstance(data, list) else [data]
    if not packages:
        raise CatalogImportError(file, "the CKAN response holds no packages")
    for i, pkg in enumerate(packages):
        if not isinstance(pkg, dict) or not (pkg.get("id") or pkg.get("name")):
            raise CatalogImportError(
                file, f"package #{i} is not a CKAN package (expected an object with 'id' or 'name')"
            )
        if not isinstance(pkg.get("resources", []), list) or not isinstance(pkg.get("tags", []), list):
            raise CatalogImportError(
                file, f"package {pkg.get('name') or pkg.get('id')}: 'resources' and 'tags' must be lists"
            )
    return packages


def _ckan_fields(resource: dict[str, Any]) -> list[ImportedField]:
    out: list[ImportedField] = []
    schema = resource.get("schema")
    if isinstance(schema, str):
        try:
            schema = json.loads(schema)
        except json.JSONDecodeError:
            schema = None
    declared = schema.get("fields", []) if isinstance(schema, dict) else []
    declared = list(declared) + list(resource.get("fields") or resource.get("datastore_fields") or [])
    for f in declared:
        if not isinstance(f, dict):
            continue
        name = str(f.get("name") or f.get("id") or "").strip()
        if name:
            info = f.get("info") if isinstance(f.get("info"), dict) else {}
            out.append(
                ImportedField(
                    name,
                    _field_type(f.get("type")),
                    mark_field(name),
                    str(f.get("description") or info.get("notes") or ""),
                )
            )
    return out


def _parse_ckan(text: str, file: str) -> list[ImportedDataset]:
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise CatalogImportError(
            file, f"not valid JSON: {exc.msg} at line {exc.lineno} column {exc.colno}"
        ) from exc
    out = []
    for pkg in _ckan_packages(data, file):
        extras = {
            str(e.get("key", "")).lower(): e.get("value")
            for e in pkg.get("extras") or []
            if isinstance(e, dict)
        }
        title = str(pkg.get("title") or pkg.get("name") or "").strip()
        org = pkg.get("organization") if isinstance(pkg.get("organization"), dict) else {}
        publisher = str(org.get("title") or org.get("name") or UNKNOWN_PUBLISHER).strip()
        tags = [
            str(t.get("display_name") or t.get("name")) if isinstance(t, dict) else str(t)
            for t in pkg.get("tags") or []
        ]
        groups = [
            str(g.get("name") or g.get("title")) for g in pkg.get("groups") or [] if isinstance(g, dict)
        ]
        keywords = list(dict.fromkeys(k.strip() for k in tags if k and k.strip()))
        themes_raw = extras.get("theme") or extras.get("themes") or []
        if isinstance(themes_raw, str):
            try:
                themes_raw = json.loads(themes_raw) if themes_raw.startswith("[") else [themes_raw]
            except json.JSONDecodeError:
                themes_raw = [themes_raw]
        rights = extras.get("access_rights") or extras.get("accessrights") or pkg.get("access_rights")
        if not rights:
            rights = "NON_PUBLIC" if pkg.get("private") else ("PUBLIC" if pkg.get("isopen") else None)
        sharing, opening, grade = _access(str(rights) if rights else None)
        freq = extras.get("frequency") or extras.get("accrual_periodicity") or extras.get("update_frequency")
        fields: list[ImportedField] = []
        for res in pkg.get("resources") or []:
            if isinstance(res, dict):
                fields += _ckan_fields(res)
        out.append(
            ImportedDataset(
                source=_source_key(f"ckan:{pkg.get('id') or pkg.get('name')}"),
                title=title[:300],
                description=str(pkg.get("notes") or "").strip() or title,
                publisher=publisher[:200],
                publisher_kind=m.DEFAULT_PUBLISHER_KIND,
                keywords=keywords,
                domain=_domain(keywords + groups, [str(t) for t in themes_raw], title),
                sharing=sharing,
                opening=opening,
                grade=grade,
                update_frequency=_frequency(str(freq) if freq else None),
                fields=_dedupe_fields(fields),
            )
        )
    return out


# ---------------------------------------------------------------- reading


def detect_format(path: Path, text: str) -> str:
    """turtle / xml / json-ld / ckan from the suffix and, for JSON, the content (CKAN has no @context)."""
    suffix = path.suffix.lower()
    if suffix in _SUFFIX_FORMAT:
        return _SUFFIX_FORMAT[suffix]
    stripped = text.lstrip()
    if stripped.startswith(("{", "[")):
        try:
            data = json.loads(stripped)
        except json.JSONDecodeError:
            return "ckan"  # reported as malformed JSON by the CKAN reader
        probe = data[0] if isinstance(data, list) and data else data
        if isinstance(probe, dict) and ("@context" in probe or "@graph" in probe or "@id" in probe):
            return "json-ld"
        return "ckan"
    if stripped.startswith("<"):
        return "xml"
    return "turtle"


def read_catalog(path: str | Path, fmt: str = "auto") -> tuple[str, list[ImportedDataset]]:
    """(format used, datasets) of a catalogue file; raises `CatalogImportError` on anything malformed."""
    path = Path(path)
    if fmt not in FORMATS:
        raise CatalogImportError(path, f"unknown format {fmt!r} (expected one of {', '.join(FORMATS)})")
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError as exc:
        raise CatalogImportError(path, "no such file") from exc
    except (OSError, UnicodeDecodeError) as exc:
        raise CatalogImportError(path, f"cannot be read as UTF-8 text ({exc})") from exc
    used = detect_format(path, text) if fmt == "auto" else fmt
    datasets = _parse_ckan(text, str(path)) if used == "ckan" else _parse_dcat(text, used, str(path))
    sources = [d.source for d in datasets]
    if len(set(sources)) != len(sources):
        dup = next(s for s in sources if sources.count(s) > 1)
        raise CatalogImportError(path, f"dataset {dup} appears twice (expected unique identifiers)")
    for ds in datasets:
        if not ds.fields:
            ds.template, ds.fields = domain_template(ds.domain)
    return used, datasets


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


def _organization(session: Session, name: str, kind: OrganizationKind, result: ImportResult) -> Organization:
    org = session.exec(
        select(Organization).where(Organization.name == name).order_by(Organization.id)
    ).first()
    if org is not None:
        return org
    code = make_code("organization", _next_serial(session, Organization.code, "ORG-IMP-"), tag="IMP")
    org = Organization(code=code, name=name, kind=kind)
    session.add(org)
    session.flush()
    result.organizations_created.append(code)
    return org


def _set(obj: Any, changes: dict[str, Any]) -> bool:
    changed = False
    for key, value in changes.items():
        if getattr(obj, key) != value:
            setattr(obj, key, value)
            changed = True
    return changed


def import_catalog(session: Session, path: str | Path, fmt: str = "auto") -> ImportResult:
    """Read `path` and upsert its datasets into the session's transaction (commit is the caller's)."""
    used, datasets = read_catalog(path, fmt)
    result = ImportResult(str(path), used)
    for ds in datasets:
        holder = _organization(session, ds.publisher, ds.publisher_kind, result)
        values = {
            "title": ds.title,
            "description": ds.description,
            "domain": ds.domain,
            "holder_id": holder.id,
            "grade": ds.grade,
            "sharing_attribute": ds.sharing,
            "opening_attribute": ds.opening,
            "update_frequency": ds.update_frequency,
            "keywords": list(ds.keywords),
            "template": ds.template,
        }
        res = session.exec(select(Resource).where(Resource.source == ds.source)).first()
        if res is None:
            code = make_code("resource", _next_serial(session, Resource.code, "RES-IMP-"), tag="IMP")
            res = Resource(code=code, source=ds.source, row_count=DEFAULT_ROW_COUNT, **values)
            session.add(res)
            session.flush()
            result.created.append(code)
            changed = False
        else:
            changed = _set(res, values)
        wanted = [f.key() for f in ds.fields]
        current = [(f.name, f.dtype, f.marking, f.description, f.generator, f.params) for f in res.fields]
        if wanted != current:
            if res.fields:
                session.execute(sa.delete(ResourceField).where(ResourceField.resource_id == res.id))
                session.flush()
                session.expire(res, ["fields"])
            for pos, f in enumerate(ds.fields):
                session.add(
                    ResourceField(
                        resource_id=res.id,
                        position=pos,
                        name=f.name,
                        dtype=f.dtype,
                        marking=f.marking,
                        description=f.description,
                        generator=f.generator,
                        params=dict(f.params),
                    )
                )
            session.flush()
            session.expire(res, ["fields"])
            changed = changed or res.code not in result.created
        if res.code in result.created:
            continue
        (result.updated if changed else result.unchanged).append(res.code)
    session.flush()
    return result
