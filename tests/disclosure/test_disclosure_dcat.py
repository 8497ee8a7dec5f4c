"""DCAT-AP 3 export: validates with pyshacl against the DCAT-AP 3.0.0 shapes, and says the right things."""

from __future__ import annotations

import json

import pytest
from disclosure_world import SECRET_EMAIL, SECRET_PERSON, SECRET_USE, SHAPES
from rdflib import Graph, Literal, Namespace, URIRef
from rdflib import namespace as rns
from sqlalchemy.engine import Engine
from sqlmodel import Session

from marketplace.disclosure import build_graph, export_dcat, validate_dcat
from marketplace.errors import InvalidInput
from marketplace.synth import seed_sandbox

ADMS = Namespace("http://www.w3.org/ns/adms#")
# Open copies of rdflib's closed namespaces (pytest probes module attributes; closed ones warn).
DCAT, DCTERMS, FOAF, ODRL2, SKOS = (
    Namespace(str(n)) for n in (rns.DCAT, rns.DCTERMS, rns.FOAF, rns.ODRL2, rns.SKOS)
)
RDF = rns.RDF
BASE = "https://marketplace.example/"
AR = "http://publications.europa.eu/resource/authority/access-right/"


@pytest.fixture(scope="module")
def shapes() -> Graph:
    return Graph().parse(SHAPES, format="turtle")


def _graph(engine: Engine) -> Graph:
    with Session(engine) as session:
        return build_graph(session)


def test_small_world_export_validates(world_engine: Engine, shapes: Graph) -> None:
    with Session(world_engine) as session:
        text = export_dcat(session, "turtle")
    conforms, report = validate_dcat(text, shapes)
    assert conforms, report


def test_seeded_sandbox_export_validates_in_turtle_and_json_ld(engine: Engine, shapes: Graph) -> None:
    seed_sandbox(engine, 11, "small", "zh_CN")
    with Session(engine) as session:
        turtle = export_dcat(session, "turtle")
        jsonld = export_dcat(session, "json-ld")
    graph = Graph().parse(data=turtle, format="turtle")
    assert len(set(graph.subjects(RDF.type, DCAT.Dataset))) >= 5
    conforms, report = validate_dcat(graph, shapes)
    assert conforms, report
    assert json.loads(jsonld)["@context"]["dcat"] == str(DCAT)
    conforms, report = validate_dcat(jsonld, shapes, rdf_format="json-ld")
    assert conforms, report
    # Chinese titles are tagged zh.
    assert any(t.language == "zh" for t in graph.objects(None, DCTERMS.title))


@pytest.mark.parametrize(
    "breakage", ["no title", "no publisher name", "two catalog publishers", "untyped rights"]
)
def test_a_broken_graph_fails_validation(world_sqlite: Engine, shapes: Graph, breakage: str) -> None:
    graph = _graph(world_sqlite)
    dataset = URIRef(BASE + "resource/RES-000001")
    if breakage == "no title":
        graph.remove((dataset, DCTERMS.title, None))
    elif breakage == "no publisher name":
        graph.remove((URIRef(BASE + "organization/ORG-000001"), FOAF.name, None))
    elif breakage == "two catalog publishers":
        graph.add((URIRef(BASE + "catalog"), DCTERMS.publisher, URIRef(BASE + "organization/ORG-000001")))
    else:
        graph.remove((URIRef(AR + "PUBLIC"), RDF.type, DCTERMS.RightsStatement))
    conforms, report = validate_dcat(graph, shapes)
    assert not conforms
    assert "Violation" in report


def test_catalog_content(world_sqlite: Engine) -> None:
    g = _graph(world_sqlite)
    catalog = URIRef(BASE + "catalog")
    datasets = set(g.objects(catalog, DCAT.dataset))
    # registered resources and listed non-API products; the unregistered resource and the draft are absent
    assert datasets == {
        URIRef(BASE + "resource/RES-000001"),
        URIRef(BASE + "resource/RES-000002"),
        URIRef(BASE + "product/PRD-000002"),
    }
    api = URIRef(BASE + "product/PRD-000001")
    assert set(g.objects(catalog, DCAT.service)) == {api}
    assert (api, RDF.type, DCAT.DataService) in g
    assert (api, DCAT.servesDataset, URIRef(BASE + "resource/RES-000002")) in g
    assert g.value(api, DCAT.endpointURL) is not None

    r1, r2 = URIRef(BASE + "resource/RES-000001"), URIRef(BASE + "resource/RES-000002")
    assert g.value(r1, DCTERMS.accessRights) == URIRef(AR + "PUBLIC")
    assert g.value(r2, DCTERMS.accessRights) == URIRef(AR + "NON_PUBLIC")
    assert g.value(r1, DCTERMS.identifier) == Literal("REG-2025-R-000001")
    notations = {str(g.value(i, SKOS.notation)) for i in g.objects(r1, ADMS.identifier)}
    assert notations == {"REG-2025-R-000001", "RES-000001"}
    assert g.value(r1, DCTERMS.title) == Literal("Bus ridership", lang="en")
    assert {str(k) for k in g.objects(r1, DCAT.keyword)} == {"bus", "traffic", "transport"}
    assert g.value(r1, DCAT.theme) == URIRef(
        "http://publications.europa.eu/resource/authority/data-theme/TRAN"
    )
    assert str(g.value(r1, DCTERMS.issued)) == "2025-01-20"
    publisher = g.value(r1, DCTERMS.publisher)
    assert str(g.value(publisher, FOAF.name)) == "Transport Bureau"


def test_conditions_as_odrl_policies(world_sqlite: Engine) -> None:
    g = _graph(world_sqlite)

    def actions(target: str) -> set[str]:
        dist = g.value(URIRef(BASE + target), DCAT.distribution)
        node = URIRef(BASE + target)
        policy = g.value(dist, ODRL2.hasPolicy) if dist is not None else g.value(node, ODRL2.hasPolicy)
        assert (policy, RDF.type, ODRL2.Policy) in g
        perm = g.value(policy, ODRL2.permission)
        found = {str(g.value(d, ODRL2.action)).rsplit("/", 1)[-1] for d in g.objects(perm, ODRL2.duty)}
        found |= {
            "prohibit:" + str(g.value(p, ODRL2.action)).rsplit("/", 1)[-1]
            for p in g.objects(policy, ODRL2.prohibition)
        }
        return found

    assert "anonymize" in actions("resource/RES-000002")  # holds an identifier field
    assert "anonymize" not in actions("resource/RES-000001")
    api = actions("product/PRD-000001")
    assert {"aggregate", "compensate"} <= api
    policy = g.value(URIRef(BASE + "product/PRD-000001"), ODRL2.hasPolicy)
    fee = next(
        d
        for d in g.objects(g.value(policy, ODRL2.permission), ODRL2.duty)
        if g.value(d, ODRL2.action) == ODRL2.compensate
    )
    assert float(g.value(fee, ODRL2.payAmount)) == 0.8


def test_export_has_nothing_confidential(world_sqlite: Engine) -> None:
    with Session(world_sqlite) as session:
        text = export_dcat(session, "turtle") + export_dcat(session, "json-ld") + export_dcat(session, "xml")
    for secret in (SECRET_EMAIL, SECRET_PERSON, SECRET_USE):
        assert secret not in text


def test_unknown_rdf_format_is_refused(world_sqlite: Engine) -> None:
    with Session(world_sqlite) as session, pytest.raises(InvalidInput, match="rdf-format"):
        export_dcat(session, "n-quads-please")
