"""DCAT-AP 3 export of the public register: registered resources and listed products as one `dcat:Catalog`.

What goes where:
- every resource with a registration in status `registered` -> `dcat:Dataset` with one `dcat:Distribution`
  (how to obtain it: the marketplace request page); listed products of kind `dataset`/`report` ->
  `dcat:Dataset` (with `dct:source` to the resources they are made from); listed `api` products ->
  `dcat:DataService` (`dcat:servesDataset` the source datasets);
- listed products are RESTRICTED (obtained on request, under the policy's terms and price);
- holders and operators -> `foaf:Agent` publishers typed with the ADMS publisher-type vocabulary;
- sharing/opening attributes -> `dct:accessRights` from the EU access-right vocabulary (PUBLIC, RESTRICTED,
  NON_PUBLIC; see `mappings.access_right_of`);
- registration codes -> `dct:identifier` and `adms:identifier` (`skos:notation`); the marketplace code is a
  second `adms:identifier`;
- conditions -> an ODRL `Offer` (`odrl:hasPolicy` on each distribution and service): use permitted; duties to
  anonymize (k, l) when the resource holds personal information, to aggregate (minimum cell) for aggregated
  products, to report usage, to pay (price, currency) for priced products; prohibition of onward transfer, all
  as the policy in force says;
- domains -> `dcat:theme` (EU data themes, `mappings.THEME_OF_DOMAIN`) and `dcat:keyword` (keywords + domain);
  titles and descriptions carry a language tag (`zh` when the text contains CJK characters, else `en`).

Every value node a DCAT-AP shape constrains by class is typed explicitly (rights statements, concepts,
frequencies, media types, languages, ODRL policies), so the graph validates without RDFS inference (faster,
and closer to how portals harvest). `validate_dcat` runs pyshacl (a test dependency, imported lazily) against
a shapes file.
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlsplit

from rdflib import BNode, Graph, Literal, Namespace, URIRef
from rdflib.namespace import DCAT, DCTERMS, FOAF, ODRL2, RDF, RDFS, SKOS, XSD
from sqlmodel import Session, select

from marketplace.disclosure import mappings as m
from marketplace.disclosure.report import current_policy, party_publications, sandbox_now
from marketplace.errors import InvalidInput
from marketplace.models import Organization, Product, Publication, Registration, Resource
from marketplace.vocabulary import ProductKind, ProductStatus, RegistrationStatus

__all__ = [
    "DEFAULT_BASE",
    "RDF_FORMATS",
    "build_graph",
    "check_base_uri",
    "export_dcat",
    "lang_of",
    "validate_dcat",
]

DEFAULT_BASE = "https://marketplace.example/"
ADMS = Namespace("http://www.w3.org/ns/adms#")
#: The sandbox's own terms, for what DCAT-AP has no property for: the yearly disclosure duties and their
#: timeliness (the same rows as the report's `publications` table).
MP = Namespace("https://marketplace.example/ns#")
ODRL = ODRL2
RDF_FORMATS = {"turtle": "turtle", "ttl": "turtle", "json-ld": "json-ld", "jsonld": "json-ld", "xml": "xml"}
_CJK = re.compile(r"[\u3400-\u9fff]")


MAX_BASE_URI_CHARS = 200
# RFC 3986 characters (unreserved, reserved, "%" of a percent-encoding); others must be percent-encoded.
_URI_CHARS = re.compile(r"[A-Za-z0-9\-._~:/?#\[\]@!$&'()*+,;=%]+")
_BAD_PERCENT = re.compile(r"%(?![0-9A-Fa-f]{2})")
_URN = re.compile(r"urn:[A-Za-z0-9][A-Za-z0-9-]{0,31}:[^\s]+", re.IGNORECASE)
_BASE_EXPECTED = (
    "an absolute http(s) IRI with a host and no query or fragment (e.g. https://data.example.gov.cn/), "
    f"or a urn:NID:... name, at most {MAX_BASE_URI_CHARS} characters, other characters percent-encoded"
)


def check_base_uri(base: object, *, field: str = "base") -> str:
    """`base` if it can prefix every IRI of the export; else InvalidInput naming `field`.

    Checked with the standard library's `urlsplit` plus the RFC 3986 character set, because rdflib only
    notices a bad IRI when it serializes (with a generic exception, after the whole graph was built).
    """
    if not isinstance(base, str) or not base or len(base) > MAX_BASE_URI_CHARS:
        raise InvalidInput(field, base, _BASE_EXPECTED)
    if not _URI_CHARS.fullmatch(base) or _BAD_PERCENT.search(base):
        raise InvalidInput(field, base, _BASE_EXPECTED)
    try:
        parts = urlsplit(base)
        _ = parts.port  # a port that is not a number raises here
    except ValueError:
        raise InvalidInput(field, base, _BASE_EXPECTED) from None
    if parts.scheme in ("http", "https"):
        if not parts.hostname or parts.query or parts.fragment or "#" in base or "?" in base:
            raise InvalidInput(field, base, _BASE_EXPECTED)
    elif parts.scheme.lower() != "urn" or not _URN.fullmatch(base):
        raise InvalidInput(field, base, _BASE_EXPECTED)
    return base


def lang_of(text: str) -> str:
    """Language tag of a free text: `zh` when it contains CJK ideographs, else `en`."""
    return "zh" if _CJK.search(text or "") else "en"


def _text(text: str) -> Literal:
    return Literal(text, lang=lang_of(text))


def _date(value: datetime | date | None) -> Literal | None:
    if value is None:
        return None
    if isinstance(value, datetime):
        if value.tzinfo is not None:
            value = value.astimezone(UTC)
        value = value.date()
    return Literal(value.isoformat(), datatype=XSD.date)


class _Builder:
    """Adds nodes to one graph; keeps the base IRI and the concepts already typed."""

    def __init__(self, base: str, policy: Any | None) -> None:
        self.base = base if base.endswith("/") else base + "/"
        self.policy = policy
        self.g = Graph()
        for prefix, ns in (
            ("dcat", DCAT),
            ("dct", DCTERMS),
            ("foaf", FOAF),
            ("odrl", ODRL),
            ("adms", ADMS),
            ("skos", SKOS),
            ("xsd", XSD),
        ):
            self.g.bind(prefix, ns)
        self._done: set[URIRef] = set()

    def iri(self, *parts: str) -> URIRef:
        return URIRef(self.base + "/".join(quote(p, safe="") for p in parts))

    def url(self, *parts: str) -> URIRef:
        """A web address (access or endpoint URL), typed rdfs:Resource as the DCAT-AP shapes require."""
        node = self.iri(*parts)
        self.g.add((node, RDF.type, RDFS.Resource))
        return node

    def concept(self, iri: str, label: str, *types: URIRef, scheme: str | None = None) -> URIRef:
        node = URIRef(iri)
        if node not in self._done:
            self._done.add(node)
            self.g.add((node, RDF.type, SKOS.Concept))
            for t in types:
                self.g.add((node, RDF.type, t))
            self.g.add((node, SKOS.prefLabel, Literal(label, lang="en")))
            if scheme:
                self.g.add((node, SKOS.inScheme, URIRef(scheme)))
        return node

    def typed(self, iri: str, *types: URIRef) -> URIRef:
        node = URIRef(iri)
        for t in types:
            self.g.add((node, RDF.type, t))
        return node

    def agent(self, org: Organization) -> URIRef:
        node = self.iri("organization", org.code)
        if node not in self._done:
            self._done.add(node)
            self.g.add((node, RDF.type, FOAF.Agent))
            self.g.add((node, RDF.type, FOAF.Organization))
            self.g.add((node, FOAF.name, _text(org.name)))
            ptype = m.PUBLISHER_TYPE_OF_KIND.get(org.kind, "NationalAuthority")
            self.g.add(
                (node, DCTERMS.type, self.concept(m.PUBLISHER_TYPE + ptype, ptype, scheme=m.PUBLISHER_TYPE))
            )
        return node

    def identifier(self, subject: URIRef, notation: str, scheme: str) -> None:
        node = BNode()
        self.g.add((subject, ADMS.identifier, node))
        self.g.add((node, RDF.type, ADMS.Identifier))
        self.g.add((node, SKOS.notation, Literal(notation)))
        self.g.add((node, DCTERMS.creator, Literal(scheme)))

    def access_rights(self, code: str) -> URIRef:
        return self.concept(
            m.ACCESS_RIGHT + code,
            m.ACCESS_RIGHT_LABELS[code],
            DCTERMS.RightsStatement,
            scheme=m.ACCESS_RIGHT[:-1],
        )

    def theme(self, domain: str) -> URIRef:
        code = m.THEME_OF_DOMAIN.get(domain, m.DEFAULT_THEME)
        return self.concept(m.DATA_THEME + code, m.THEME_LABELS[code], scheme=m.DATA_THEME[:-1])

    def describe(self, node: URIRef, title: str, description: str, keywords: list[str], domain: str) -> None:
        self.g.add((node, DCTERMS.title, _text(title)))
        self.g.add((node, DCTERMS.description, _text(description or title)))
        for word in dict.fromkeys([*keywords, domain]):
            if word:
                self.g.add((node, DCAT.keyword, _text(word)))
        self.g.add((node, DCAT.theme, self.theme(domain)))

    # ---------------------------------------------------------------- ODRL

    def offer(
        self,
        target: URIRef,
        assigner: URIRef,
        *,
        personal: bool,
        aggregated: bool,
        channels: list[str],
        price: Decimal | None = None,
        unit: str = "",
        currency: str = "CNY",
    ) -> URIRef:
        """An ODRL Offer for `target` that states the conditions the policy attaches to its use."""
        node = URIRef(str(target) + "#policy")
        g = self.g
        g.add((node, RDF.type, ODRL.Policy))
        g.add((node, RDF.type, ODRL.Offer))
        g.add((node, ODRL.uid, node))
        g.add((node, ODRL.assigner, assigner))
        perm = BNode()
        g.add((node, ODRL.permission, perm))
        g.add((perm, RDF.type, ODRL.Permission))
        g.add((perm, ODRL.target, target))
        g.add((perm, ODRL.action, ODRL.use))
        privacy = getattr(self.policy, "privacy", None)
        conditions = getattr(self.policy, "conditions", None)
        if personal:
            duty = self._duty(perm, ODRL.anonymize, "deidentify")
            if privacy is not None:
                self._constraint(duty, "k", ODRL.gteq, privacy.k)
                self._constraint(duty, "l", ODRL.gteq, privacy.l)
        if aggregated:
            duty = self._duty(perm, ODRL.aggregate, "aggregate")
            if privacy is not None:
                self._constraint(duty, "min_cell", ODRL.gteq, privacy.min_cell_size)
        report_channels = [c.value for c in getattr(conditions, "report_usage", [])]
        if any(c in report_channels for c in channels):
            self._duty(perm, ODRL.inform, "report_usage")
        if price is not None and price > 0:
            duty = self._duty(perm, ODRL.compensate, "fee")
            g.add((duty, ODRL.payAmount, Literal(price, datatype=XSD.decimal)))
            g.add((duty, ODRL.unit, Literal(currency)))
            g.add(
                (
                    duty,
                    RDFS.comment,
                    Literal(
                        f"price {price} {currency} {unit}; free for the policy's free purposes", lang="en"
                    ),
                )
            )
        transfer_channels = [c.value for c in getattr(conditions, "no_onward_transfer", [])]
        if any(c in transfer_channels for c in channels):
            proh = BNode()
            g.add((node, ODRL.prohibition, proh))
            g.add((proh, RDF.type, ODRL.Prohibition))
            g.add((proh, ODRL.target, target))
            g.add((proh, ODRL.action, ODRL.distribute))
        return node

    def _duty(self, perm: BNode, action: URIRef, label: str) -> BNode:
        duty = BNode()
        self.g.add((perm, ODRL.duty, duty))
        self.g.add((duty, RDF.type, ODRL.Duty))
        self.g.add((duty, ODRL.action, action))
        self.g.add((duty, RDFS.label, Literal(label)))
        return duty

    def _constraint(self, duty: BNode, operand: str, operator: URIRef, value: int) -> None:
        c = BNode()
        self.g.add((duty, ODRL.constraint, c))
        self.g.add((c, RDF.type, ODRL.Constraint))
        self.g.add((c, ODRL.leftOperand, URIRef(self.base + "terms/" + operand)))
        self.g.add((c, ODRL.operator, operator))
        self.g.add((c, ODRL.rightOperand, Literal(int(value), datatype=XSD.integer)))


def _channels(res: Resource) -> list[str]:
    try:
        from marketplace.workflows.facts import resource_channels
    except ImportError:
        resource_channels = None
    if resource_channels is not None:
        try:
            return list(resource_channels(res))
        except Exception:  # channels only tune the ODRL duties; the attributes below are a safe fallback
            pass
    out = []
    if res.sharing_attribute.value != "not_shared":
        out.append("sharing")
    if res.opening_attribute.value != "not_open":
        out.append("opening")
    return out


def _registered(registrations: list[Registration]) -> Registration | None:
    live = [r for r in registrations if r.code and r.status == RegistrationStatus.registered]
    return max(live, key=lambda r: (r.registered_at or datetime.min, r.id or 0)) if live else None


def build_graph(session: Session, *, base: str = DEFAULT_BASE, policy: Any | None = None) -> Graph:
    """The DCAT-AP 3 graph of the register (see the module docstring for the mapping)."""
    policy = policy if policy is not None else current_policy(session)
    b = _Builder(base, policy)
    g = b.g
    now = sandbox_now(session) or datetime.now(UTC)
    catalog = b.iri("catalog")
    g.add((catalog, RDF.type, DCAT.Catalog))
    g.add((catalog, DCTERMS.title, Literal("Public data marketplace register", lang="en")))
    g.add(
        (
            catalog,
            DCTERMS.description,
            Literal(
                "Registered public data resources and listed products of the public data marketplace sandbox "
                "(synthetic data).",
                lang="en",
            ),
        )
    )
    g.add((catalog, DCTERMS.modified, _date(now)))
    g.add((catalog, DCTERMS.language, b.typed(m.LANGUAGE + "ENG", DCTERMS.LinguisticSystem)))
    g.add((catalog, DCTERMS.language, b.typed(m.LANGUAGE + "ZHO", DCTERMS.LinguisticSystem)))
    scheme = b.typed(m.DATA_THEME[:-1], SKOS.ConceptScheme)
    g.add((scheme, DCTERMS.title, Literal("Data theme", lang="en")))
    g.add((catalog, DCAT.themeTaxonomy, scheme))
    registrar = session.exec(
        select(Organization).where(Organization.kind == "regulator").order_by(Organization.code)
    ).first()
    if registrar is not None:
        publisher = b.agent(registrar)
    else:
        publisher = b.iri("organization", "registrar")
        g.add((publisher, RDF.type, FOAF.Agent))
        g.add((publisher, FOAF.name, Literal("Public data registrar", lang="en")))
    g.add((catalog, DCTERMS.publisher, publisher))

    csv = b.typed(m.FILE_TYPE + "CSV", DCTERMS.MediaTypeOrExtent)
    exported: dict[int, URIRef] = {}
    for res in session.exec(select(Resource).order_by(Resource.code)).all():
        reg = _registered(res.registrations)
        if reg is None:
            continue
        node = b.iri("resource", res.code)
        exported[res.id] = node
        g.add((catalog, DCAT.dataset, node))
        g.add((node, RDF.type, DCAT.Dataset))
        b.describe(node, res.title, res.description, list(res.keywords or []), res.domain)
        g.add((node, DCTERMS.identifier, Literal(reg.code)))
        b.identifier(node, reg.code, "registration code")
        b.identifier(node, res.code, "marketplace resource code")
        holder = b.agent(res.holder)
        g.add((node, DCTERMS.publisher, holder))
        g.add(
            (
                node,
                DCTERMS.accessRights,
                b.access_rights(m.access_right_of(res.sharing_attribute, res.opening_attribute)),
            )
        )
        freq = m.FREQUENCY_OF_UPDATE.get(res.update_frequency, "IRREG")
        g.add(
            (
                node,
                DCTERMS.accrualPeriodicity,
                b.concept(m.FREQUENCY + freq, freq.lower(), DCTERMS.Frequency, scheme=m.FREQUENCY[:-1]),
            )
        )
        g.add((node, DCTERMS.issued, _date(reg.registered_at)))
        g.add((node, DCTERMS.modified, _date(max(filter(None, [reg.registered_at, res.created_at])))))
        dist = b.iri("resource", res.code, "distribution")
        g.add((node, DCAT.distribution, dist))
        g.add((dist, RDF.type, DCAT.Distribution))
        g.add((dist, DCTERMS.title, _text(res.title)))
        g.add((dist, DCAT.accessURL, b.url("resource", res.code, "request")))
        g.add((dist, DCTERMS.format, csv))
        g.add(
            (
                dist,
                ODRL.hasPolicy,
                b.offer(
                    node,
                    holder,
                    personal=res.contains_personal_info,
                    aggregated=False,
                    channels=_channels(res),
                ),
            )
        )

    currency = getattr(getattr(policy, "pricing", None), "currency", "CNY")
    listed = select(Product).where(Product.status == ProductStatus.listed).order_by(Product.code)
    for prod in session.exec(listed).all():
        operator = b.agent(prod.operator)
        reg = _registered(prod.registrations)
        sources = [exported[r.id] for r in prod.resources if r.id in exported]
        domain = prod.resources[0].domain if prod.resources else "other"
        keywords = sorted({k for r in prod.resources for k in (r.keywords or [])})
        personal = prod.transformation == "raw" and any(r.contains_personal_info for r in prod.resources)
        offer_kw = {
            "personal": personal,
            "aggregated": prod.transformation == "aggregated",
            "channels": ["authorized_operation"],
            "price": prod.actual_price,
            "unit": prod.billing_unit.value,
            "currency": currency,
        }
        if prod.kind == ProductKind.api:
            node = b.iri("product", prod.code)
            g.add((catalog, DCAT.service, node))
            g.add((node, RDF.type, DCAT.DataService))
            b.describe(node, prod.name, prod.description, keywords, domain)
            g.add((node, DCAT.endpointURL, b.url("product", prod.code, "api")))
            for src in sources:
                g.add((node, DCAT.servesDataset, src))
            g.add((node, ODRL.hasPolicy, b.offer(node, operator, **offer_kw)))
        else:
            node = b.iri("product", prod.code)
            g.add((catalog, DCAT.dataset, node))
            g.add((node, RDF.type, DCAT.Dataset))
            b.describe(node, prod.name, prod.description, keywords, domain)
            for src in sources:
                g.add((node, DCTERMS.source, src))
            dist = b.iri("product", prod.code, "distribution")
            g.add((node, DCAT.distribution, dist))
            g.add((dist, RDF.type, DCAT.Distribution))
            g.add((dist, DCAT.accessURL, b.url("product", prod.code, "order")))
            g.add((dist, DCTERMS.format, csv))
            g.add((dist, ODRL.hasPolicy, b.offer(node, operator, **offer_kw)))
            g.add((node, DCTERMS.issued, _date(reg.registered_at if reg else prod.created_at)))
        g.add((node, DCTERMS.publisher, operator))
        g.add((node, DCTERMS.accessRights, b.access_rights("RESTRICTED")))
        b.identifier(node, prod.code, "marketplace product code")
        if reg is not None:
            g.add((node, DCTERMS.identifier, Literal(reg.code)))
            b.identifier(node, reg.code, "registration code")
    _disclosures(session, b, catalog, policy)
    return g


def _disclosures(session: Session, b: _Builder, catalog: URIRef, policy: Any | None) -> None:
    """Each party's yearly disclosure duty for every year with one recorded: published or not, when, the
    deadline, and its timeliness (`mp:timeliness` on_time / late / missing / not_yet_due, working days
    late)."""
    g = b.g
    g.bind("mp", MP)
    years = sorted(set(session.exec(select(Publication.year).distinct()).all()))
    for year in years:
        for row in party_publications(session, year, policy).to_dict(orient="records"):
            node = b.iri("disclosure", str(year), row["party_code"])
            g.add((catalog, MP.disclosureDuty, node))
            g.add((node, RDF.type, MP.DisclosureDuty))
            title = f"Yearly disclosure of {row['party']} for {year}"
            g.add((node, DCTERMS.title, Literal(title, lang="en")))
            org = session.exec(select(Organization).where(Organization.code == row["party_code"])).one()
            g.add((node, DCTERMS.publisher, b.agent(org)))
            g.add((node, MP.year, Literal(year, datatype=XSD.gYear)))
            g.add((node, MP.role, Literal(row["role"])))
            g.add((node, MP.published, Literal(bool(row["published"]))))
            g.add((node, MP.dueDate, Literal(row["due"], datatype=XSD.date)))
            if row["published_on"] is not None:
                g.add((node, DCTERMS.issued, Literal(row["published_on"], datatype=XSD.date)))
            g.add((node, MP.timeliness, Literal(row["timeliness"])))
            g.add((node, MP.workingDaysLate, Literal(int(row["working_days_late"]), datatype=XSD.integer)))


def export_dcat(
    session: Session, fmt: str = "turtle", *, base: str = DEFAULT_BASE, policy: Any | None = None
) -> str:
    """The register serialized as DCAT-AP 3: `fmt` is turtle, json-ld or xml (RDF/XML)."""
    rdf_format = RDF_FORMATS.get((fmt or "").lower())
    if rdf_format is None:
        raise InvalidInput("rdf-format", fmt, "one of turtle, json-ld, xml")
    check_base_uri(base)
    graph = build_graph(session, base=base, policy=policy)
    if rdf_format == "json-ld":
        context = {
            p: str(ns)
            for p, ns in graph.namespaces()
            if p in {"dcat", "dct", "foaf", "odrl", "adms", "skos", "xsd", "rdf"}
        }
        return graph.serialize(format="json-ld", context=context, indent=2)
    return graph.serialize(format=rdf_format)


def validate_dcat(
    data: Graph | str, shapes: str | Path | Graph, *, rdf_format: str = "turtle"
) -> tuple[bool, str]:
    """(conforms, report text) of `data` against SHACL `shapes` with pyshacl (no inference)."""
    import pyshacl

    if isinstance(data, str):
        data = Graph().parse(data=data, format=RDF_FORMATS.get(rdf_format, rdf_format))
    if not isinstance(shapes, Graph):
        shapes = Graph().parse(str(shapes), format="turtle")
    conforms, _report_graph, text = pyshacl.validate(
        data, shacl_graph=shapes, inference="none", advanced=False, allow_warnings=True
    )
    return bool(conforms), str(text)
