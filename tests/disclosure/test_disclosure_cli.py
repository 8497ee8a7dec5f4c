"""`marketplace disclose` and `marketplace catalog import`: every format writes; user errors exit 2."""

from __future__ import annotations

import json
import zipfile
from pathlib import Path

import pytest
from disclosure_world import CATALOGS, SECRET_USE, SHAPES, build_world
from sqlalchemy.engine import Engine
from sqlmodel import Session, SQLModel, select

from marketplace import db
from marketplace.cli import run
from marketplace.disclosure import validate_dcat
from marketplace.models import Organization, Resource


def _run(args: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    with pytest.raises(SystemExit) as info:
        run(args)
    out, err = capsys.readouterr()
    return int(info.value.code or 0), out, err


@pytest.fixture
def sandbox() -> Engine:
    """The default sandbox database (a file under the test's MARKETPLACE_HOME) holding the small world."""
    engine = db.get_engine()
    SQLModel.metadata.create_all(engine)
    with Session(engine) as session:
        build_world(session)
        session.commit()
    return engine


@pytest.mark.parametrize(
    "fmt,name", [("html", "r.html"), ("md", "r.md"), ("json", "r.json"), ("csv", "r.zip"), ("csv", "csvdir")]
)
def test_disclose_writes_every_format(sandbox: Engine, tmp_path: Path, capsys, fmt: str, name: str) -> None:
    out = tmp_path / name
    code, _, err = _run(["disclose", "--format", fmt, "--out", str(out)], capsys)
    assert code == 0, err
    assert "2025" in err  # the clock's year is the default
    if fmt == "html":
        assert out.read_text().startswith("<!DOCTYPE html>")
    elif fmt == "md":
        assert "## Registrations" in out.read_text()
    elif fmt == "json":
        assert json.loads(out.read_text())["year"] == 2025
    elif name.endswith(".zip"):
        with zipfile.ZipFile(out) as zf:
            assert "disclosure-2025/registrations.csv" in zf.namelist()
    else:
        assert (out / "products.csv").read_bytes().startswith(b"\xef\xbb\xbf")  # for spreadsheets
        assert (out / "products.csv").read_text(encoding="utf-8-sig").startswith("code,name,operator")
    if out.is_file():
        assert SECRET_USE not in out.read_text(errors="ignore")


def test_disclose_year_option(sandbox: Engine, tmp_path: Path, capsys) -> None:
    out = tmp_path / "r.json"
    code, _, _ = _run(["disclose", "--year", "2024", "--format", "json", "--out", str(out)], capsys)
    assert code == 0
    doc = json.loads(out.read_text())
    assert doc["year"] == 2024 and doc["summary"]["requests_filed"] == 1


@pytest.mark.parametrize("rdf_format", ["turtle", "json-ld"])
def test_disclose_dcat(sandbox: Engine, tmp_path: Path, capsys, rdf_format: str) -> None:
    out = tmp_path / "catalog.rdf"
    code, _, err = _run(
        ["disclose", "--format", "dcat", "--rdf-format", rdf_format, "--out", str(out)], capsys
    )
    assert code == 0, err
    conforms, report = validate_dcat(out.read_text(), SHAPES, rdf_format=rdf_format)
    assert conforms, report


def test_disclose_to_stdout(sandbox: Engine, capsys) -> None:
    code, out, _ = _run(["disclose", "--format", "md", "--out", "-"], capsys)
    assert code == 0 and out.startswith("# Public data disclosure report 2025")


@pytest.mark.parametrize(
    "args,expected",
    [
        (["--format", "html", "--rdf-format", "turtle"], "--rdf-format"),
        (["--format", "csv", "--out", "-"], "--out"),
        (["--format", "pdf"], "--format"),
        (["--year", "20x5"], "--year"),
        (["--format", "md", "--out", "/nonexistent-dir/r.md"], "does not exist"),
        (["--format", "dcat", "--base-uri", "not a uri"], "--base-uri"),
    ],
)
def test_disclose_user_errors(
    sandbox: Engine, tmp_path: Path, capsys, args: list[str], expected: str
) -> None:
    if "--out" not in args:
        args = [*args, "--out", str(tmp_path / "x")]
    code, _, err = _run(["disclose", *args], capsys)
    assert code == 2
    assert expected in err and "Traceback" not in err
    assert len(err.strip().splitlines()) <= 3


def test_catalog_import_cli_and_reimport(capsys) -> None:
    path = CATALOGS / "ckan_package_search.json"
    code, out, err = _run(["catalog", "import", str(path)], capsys)
    assert code == 0, err
    assert "3 resources created" in out
    code, out, _ = _run(["catalog", "import", str(path), "--format", "ckan"], capsys)
    assert code == 0 and "0 resources created, 0 updated, 3 unchanged" in out
    with Session(db.get_engine()) as session:
        assert len(session.exec(select(Resource)).all()) == 3


def test_catalog_import_malformed_exits_2_and_imports_nothing(tmp_path: Path, capsys) -> None:
    good = CATALOGS / "dcat_portal.ttl"
    assert _run(["catalog", "import", str(good)], capsys)[0] == 0
    engine = db.get_engine()
    with Session(engine) as session:
        before = (len(session.exec(select(Resource)).all()), len(session.exec(select(Organization)).all()))
    bad = tmp_path / "portal.ttl"
    bad.write_text(good.read_text().replace(" .\n\n<https://data.region.example/dataset/school", " ;;\n<x"))
    code, _, err = _run(["catalog", "import", str(bad)], capsys)
    assert code == 2
    assert str(bad) in err and "not valid turtle" in err and "nothing imported" in err
    assert "Traceback" not in err
    with Session(engine) as session:
        after = (len(session.exec(select(Resource)).all()), len(session.exec(select(Organization)).all()))
    assert after == before


def test_catalog_import_errors(tmp_path: Path, capsys) -> None:
    code, _, err = _run(["catalog", "import", str(tmp_path / "missing.json")], capsys)
    assert code == 2 and "no such file" in err
    code, _, err = _run(["catalog", "import", str(CATALOGS / "dcat_portal.ttl"), "--format", "csv"], capsys)
    assert code == 2 and "--format" in err


def test_catalog_import_help_documents_the_defaults(capsys) -> None:
    code, out, _ = _run(["catalog", "import", "--help"], capsys)
    assert code == 0
    for text in ('"other"', "department", "RESTRICTED", "irregular", "1000 rows", "changes nothing"):
        assert text in out
