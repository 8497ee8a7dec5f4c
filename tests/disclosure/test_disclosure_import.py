"""Catalogue import: DCAT (Turtle, RDF/XML, JSON-LD) and CKAN JSON, idempotent, all or nothing."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
import sqlalchemy as sa
from disclosure_world import CATALOGS
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from marketplace.disclosure import CatalogImportError, export_dcat, import_catalog, read_catalog
from marketplace.models import Organization, Resource
from marketplace.synth import rows
from marketplace.vocabulary import (
    FieldMarking,
    FieldType,
    OpeningAttribute,
    OrganizationKind,
    SharingAttribute,
)


def _import(engine: Engine, path: Path, fmt: str = "auto"):
    with Session(engine) as session:
        result = import_catalog(session, path, fmt)
        session.commit()
    return result


def _by_source(engine: Engine) -> dict[str, Resource]:
    with Session(engine) as session:
        out = {}
        for res in session.exec(select(Resource)).all():
            _ = res.holder, res.fields
            out[res.source] = res
        return out


def _dump(engine: Engine) -> list[tuple]:
    """Every row of the tables an import writes, in a stable order (version columns included)."""
    out = []
    with engine.connect() as conn:
        for table in ("organization", "resource", "resourcefield"):
            t = sa.Table(table, sa.MetaData(), autoload_with=conn)
            out += [tuple(r) for r in conn.execute(sa.select(t).order_by(t.c.id)).all()]
    return out


def test_ckan_package_show(engine: Engine) -> None:
    result = _import(engine, CATALOGS / "ckan_package_show.json")
    assert result.format == "ckan" and len(result.created) == 1
    res = _by_source(engine)["ckan:a3c1b6f2-8d5e-4c1a-9f43-2f6e7d8c9b10"]
    assert res.title == "Bus stop boardings"
    assert res.description.startswith("Average weekday boardings")
    assert res.holder.name == "City Transport Department" and res.holder.kind == OrganizationKind.department
    assert res.domain == "transport"
    assert res.keywords == ["bus", "public transport", "ridership"]
    assert (res.sharing_attribute, res.opening_attribute) == (
        SharingAttribute.unconditional,
        OpeningAttribute.unconditional,
    )
    assert res.update_frequency == "monthly"
    fields = {f.name: (f.dtype, f.marking) for f in res.fields}
    assert fields["stop_name"] == (FieldType.string, FieldMarking.other)
    assert fields["district"][1] == FieldMarking.quasi_identifier
    assert fields["weekday_boardings"] == (FieldType.integer, FieldMarking.other)
    assert fields["month"][0] == FieldType.date
    # maintainers and authors are people: never imported
    with Session(engine) as session:
        names = set(session.exec(select(Organization.name)).all())
    assert not any("Jane" in n or "Open Data Team" in n for n in names)


def test_ckan_package_search(engine: Engine) -> None:
    result = _import(engine, CATALOGS / "ckan_package_search.json")
    assert len(result.created) == 3 and len(result.organizations_created) == 3
    res = _by_source(engine)
    visits = res["ckan:7d1c2b3a-1111-4aaa-9bbb-000000000001"]
    assert visits.domain == "health"
    assert (visits.sharing_attribute, visits.opening_attribute) == (
        SharingAttribute.conditional,
        OpeningAttribute.conditional,
    )
    markings = {f.name: f.marking for f in visits.fields}
    assert "_id" not in markings
    assert markings["patient_id"] == FieldMarking.identifier
    assert markings["age"] == markings["gender"] == FieldMarking.quasi_identifier
    assert markings["diagnosis"] == FieldMarking.sensitive
    assert visits.update_frequency == "quarterly"
    air = res["ckan:7d1c2b3a-1111-4aaa-9bbb-000000000002"]
    assert air.domain == "environment" and air.opening_attribute == OpeningAttribute.unconditional
    assert air.description == air.title  # empty notes -> the title
    assert air.fields and air.template  # no declared fields -> the environment template
    minutes = res["ckan:7d1c2b3a-1111-4aaa-9bbb-000000000003"]
    assert minutes.domain == "other" and minutes.holder.name == "Unknown publisher"
    assert minutes.template == "generic" and minutes.fields[0].name == "record_id"


def test_dcat_turtle(engine: Engine) -> None:
    result = _import(engine, CATALOGS / "dcat_portal.ttl")
    assert result.format == "turtle" and len(result.created) == 3
    res = _by_source(engine)
    pop = res["https://data.region.example/dataset/population-by-district"]
    assert pop.title == "Population by district"  # en preferred over zh
    assert pop.holder.name == "Regional Statistics Office"
    assert pop.opening_attribute == OpeningAttribute.unconditional and pop.update_frequency == "yearly"
    assert [f.name for f in pop.fields] == ["district", "sex", "age_band", "population"]
    assert {f.name: f.dtype for f in pop.fields}["population"] == FieldType.integer
    school = res["https://data.region.example/dataset/school-enrolment"]
    assert school.title == "学校在校生统计" and school.domain == "education"
    assert school.holder.name == "区教育局"
    assert school.opening_attribute == OpeningAttribute.not_open and school.grade.value == "important"
    ent = res["https://data.region.example/dataset/enterprise-register"]
    assert ent.domain == "enterprise_registry"
    assert (ent.sharing_attribute, ent.opening_attribute) == (
        SharingAttribute.conditional,
        OpeningAttribute.conditional,
    )  # default


def test_dcat_rdf_xml(engine: Engine) -> None:
    result = _import(engine, CATALOGS / "dcat_portal.rdf")
    assert result.format == "xml" and len(result.created) == 2
    assert len(result.organizations_created) == 1  # both datasets name the same publisher
    res = _by_source(engine)
    roads = res["https://opendata.county.example/dataset/road-traffic-counts"]
    assert roads.domain == "transport" and roads.update_frequency == "daily"
    assert roads.holder.kind == OrganizationKind.department
    assert res["https://opendata.county.example/dataset/housing-permits"].domain == "housing"


def test_dcat_json_ld(engine: Engine) -> None:
    result = _import(engine, CATALOGS / "dcat_portal.jsonld")
    assert result.format == "json-ld" and len(result.created) == 2
    res = _by_source(engine)
    tax = res["https://portal.nation.example/dataset/tax-revenue-by-region"]
    assert tax.domain == "tax" and tax.holder.name == "State Tax Administration"
    calls = res["https://portal.nation.example/dataset/emergency-calls"]
    assert calls.domain == "public_safety" and calls.opening_attribute == OpeningAttribute.not_open


def test_json_ld_is_detected_by_content(tmp_path: Path) -> None:
    copy = tmp_path / "catalogue.json"
    shutil.copy(CATALOGS / "dcat_portal.jsonld", copy)
    fmt, datasets = read_catalog(copy)
    assert fmt == "json-ld" and len(datasets) == 2


@pytest.mark.parametrize(
    "name",
    [
        "ckan_package_show.json",
        "ckan_package_search.json",
        "dcat_portal.ttl",
        "dcat_portal.rdf",
        "dcat_portal.jsonld",
    ],
)
def test_reimport_changes_nothing(sqlite_engine: Engine, name: str) -> None:
    first = _import(sqlite_engine, CATALOGS / name)
    before = _dump(sqlite_engine)
    second = _import(sqlite_engine, CATALOGS / name)
    assert second.created == [] and second.updated == [] and second.organizations_created == []
    assert sorted(second.unchanged) == sorted(first.created)
    assert _dump(sqlite_engine) == before


def test_reimport_is_idempotent_on_both_backends(engine: Engine) -> None:
    _import(engine, CATALOGS / "ckan_package_search.json")
    before = _dump(engine)
    _import(engine, CATALOGS / "ckan_package_search.json")
    assert _dump(engine) == before


def test_a_changed_file_updates_in_place(sqlite_engine: Engine, tmp_path: Path) -> None:
    _import(sqlite_engine, CATALOGS / "ckan_package_show.json")
    data = json.loads((CATALOGS / "ckan_package_show.json").read_text())
    data["result"]["title"] = "Bus stop boardings (revised)"
    data["result"]["resources"][0]["schema"]["fields"].append({"name": "income", "type": "number"})
    changed = tmp_path / "changed.json"
    changed.write_text(json.dumps(data))
    result = _import(sqlite_engine, changed)
    assert result.created == [] and len(result.updated) == 1
    res = next(iter(_by_source(sqlite_engine).values()))
    assert res.title.endswith("(revised)") and res.fields[-1].marking == FieldMarking.sensitive
    assert res.version == 2


def test_imported_resources_get_synthetic_rows(sqlite_engine: Engine) -> None:
    for name in ("ckan_package_search.json", "dcat_portal.ttl"):
        _import(sqlite_engine, CATALOGS / name)
    for res in _by_source(sqlite_engine).values():
        frame = rows(res, 50, seed=3)
        assert list(frame.columns) == [f.name for f in res.fields]
        assert len(frame) == 50
        assert frame.equals(rows(res, 50, seed=3))


def test_export_then_import_round_trip(world_sqlite: Engine, engine: Engine, tmp_path: Path) -> None:
    path = tmp_path / "register.ttl"
    with Session(world_sqlite) as session:
        path.write_text(export_dcat(session, "turtle"))
    result = _import(engine, path)
    assert len(result.created) == 3  # two registered resources and one listed dataset-like product
    res = _by_source(engine)
    r2 = res["https://marketplace.example/resource/RES-000002"]
    assert r2.title == "Transit card trips" and r2.opening_attribute == OpeningAttribute.not_open
    assert r2.holder.name == "Transport Bureau" and r2.domain == "transport"


BROKEN = {
    "bad.ttl": "@prefix dcat: <http://www.w3.org/ns/dcat#> .\n<a> a dcat:Dataset ;; oops",
    "bad.json": '{"success": true, "result": {"name": "x", ',
    "failed.json": '{"success": false, "error": {"message": "Not found", "__type": "Not Found Error"}}',
    "notckan.json": '{"success": true, "result": [42]}',
    "nodataset.ttl": '@prefix dct: <http://purl.org/dc/terms/> .\n<https://x.example/a> dct:title "A" .',
    "notitle.ttl": (
        "@prefix dcat: <http://www.w3.org/ns/dcat#> .\n@prefix dct: <http://purl.org/dc/terms/> .\n"
        '<https://x.example/good> a dcat:Dataset ; dct:title "Good" .\n'
        '<https://x.example/bad> a dcat:Dataset ; dct:description "no title" .'
    ),
    "bad.rdf": "<?xml version='1.0'?><rdf:RDF xmlns:rdf='http://www.w3.org/1999/02/22-rdf-syntax-ns#'><unclosed>",
}


def test_malformed_files_import_nothing(engine: Engine, tmp_path: Path) -> None:
    """Every broken file on both backends: a clear error naming the file, and the database as it was."""
    _import(engine, CATALOGS / "dcat_portal.rdf")
    before = _dump(engine)
    for name, text in sorted(BROKEN.items()):
        path = tmp_path / name
        path.write_text(text)
        with pytest.raises(CatalogImportError) as info:
            _import(engine, path)
        assert str(path) in str(info.value) and "nothing imported" in str(info.value), name
        assert _dump(engine) == before, name


def test_wrong_explicit_format_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(CatalogImportError, match="not valid turtle"):
        read_catalog(CATALOGS / "ckan_package_show.json", "turtle")
    with pytest.raises(CatalogImportError, match="no such file"):
        read_catalog(tmp_path / "missing.ttl")
    with pytest.raises(CatalogImportError, match="unknown format"):
        read_catalog(CATALOGS / "dcat_portal.ttl", "csv")
