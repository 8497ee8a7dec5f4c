"""Hostile catalogue files: nothing fetched, nothing expanded, every limit named, one line and exit 2, and the
database as it was."""

from __future__ import annotations

import json
import socket
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from disclosure_world import build_world
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy.engine import Engine
from sqlmodel import Session, SQLModel, select

from marketplace import db
from marketplace.cli import run
from marketplace.disclosure import CatalogImportError, import_catalog, iter_catalog, read_catalog
from marketplace.disclosure.safeparse import DEFAULT_LIMITS, ImportLimits, bundled_contexts
from marketplace.errors import InvalidInput
from marketplace.models import Resource, ResourceField
from marketplace.vocabulary import FieldMarking

BUNDLED = "https://marketplace.example/contexts/dcat-ap-prefixes.jsonld"


@pytest.fixture
def sandbox() -> Engine:
    """The default sandbox database (a file under the test's MARKETPLACE_HOME) holding the small world."""
    engine = db.get_engine()
    SQLModel.metadata.create_all(engine)
    with Session(engine) as session:
        build_world(session)
        session.commit()
    return engine


def _run(args: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    with pytest.raises(SystemExit) as info:
        run(args)
    out, err = capsys.readouterr()
    return int(info.value.code), out, err


def _one_line(err: str) -> str:
    lines = [line for line in err.strip().splitlines() if line.strip()]
    assert len(lines) == 1 and "Traceback" not in err, err
    return lines[0]


def _count(engine: Engine) -> tuple[int, int]:
    with engine.connect() as conn:
        return (
            conn.execute(sa.select(sa.func.count()).select_from(Resource.__table__)).scalar_one(),
            conn.execute(sa.select(sa.func.count()).select_from(ResourceField.__table__)).scalar_one(),
        )


def _package(i: int, **changes) -> dict:
    pkg = {
        "id": f"pkg-{i}",
        "name": f"dataset-{i}",
        "title": f"Dataset {i}",
        "notes": "Boardings per stop.",
        "organization": {"title": "City Transport Department"},
        "tags": [{"name": "transport"}],
        "resources": [{"fields": [{"id": "stop_id", "type": "text"}, {"id": "boardings", "type": "int"}]}],
    }
    pkg.update(changes)
    return pkg


def _ckan(path: Path, packages: list, raw: str | None = None) -> Path:
    result = {"count": len(packages), "results": packages}
    document = {"help": "package_search", "success": True, "result": result}
    path.write_text(raw if raw is not None else json.dumps(document), encoding="utf-8")
    return path


def _jsonld(context) -> str:
    return json.dumps(
        {
            "@context": context,
            "@graph": [
                {
                    "@id": "https://data.example/dataset/1",
                    "@type": "dcat:Dataset",
                    "dct:title": "Bus stops",
                    "dcat:keyword": "transport",
                }
            ],
        }
    )


# ---------------------------------------------------------------- JSON-LD contexts


@pytest.fixture
def silent_server() -> Iterator[tuple[str, socket.socket]]:
    """A loopback HTTP port that accepts connections (the kernel completes the handshake), never answers."""
    server = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    server.bind(("127.0.0.1", 0))
    server.listen(8)
    host, port = server.getsockname()
    yield f"http://{host}:{port}/context.jsonld", server
    server.close()


def _contacted(server: socket.socket) -> bool:
    server.setblocking(False)
    try:
        conn, _ = server.accept()
    except BlockingIOError:
        return False
    conn.close()
    return True


@pytest.mark.parametrize(
    "shape",
    ["string", "list", "import", "scoped"],
)
@pytest.mark.timeout(60)  # a guard against a hang: the server accepts but never answers
def test_remote_context_is_refused_fast_without_contacting_it(
    shape: str, silent_server: tuple[str, socket.socket], tmp_path: Path
) -> None:
    url, server = silent_server
    context = {
        "string": url,
        "list": [{"dct": "http://purl.org/dc/terms/"}, url],
        "import": {"@import": url, "dcat": "http://www.w3.org/ns/dcat#"},
        "scoped": {
            "dcat": "http://www.w3.org/ns/dcat#",
            "dct": "http://purl.org/dc/terms/",
            "dcat:distribution": {"@context": url},
        },
    }[shape]
    path = tmp_path / "portal.jsonld"
    path.write_text(_jsonld(context))
    with pytest.raises(CatalogImportError) as info:
        read_catalog(path)  # the server never answers: reaching it at all would hang until the guard
    message = str(info.value)
    assert url in message and "not a context bundled with the sandbox" in message
    assert "never fetched" in message
    assert not _contacted(server)


def test_file_context_is_refused(tmp_path: Path) -> None:
    secret = tmp_path / "context.jsonld"
    secret.write_text(json.dumps({"@context": {"dct": "http://purl.org/dc/terms/"}}))
    path = tmp_path / "portal.jsonld"
    path.write_text(_jsonld(secret.as_uri()))
    with pytest.raises(CatalogImportError, match="not a context bundled with the sandbox"):
        read_catalog(path)
    path.write_text(_jsonld("context.jsonld"))  # relative: resolved against the file by rdflib
    with pytest.raises(CatalogImportError, match="not a context bundled with the sandbox"):
        read_catalog(path)


def test_bundled_context_is_used_without_fetching(tmp_path: Path) -> None:
    assert BUNDLED in bundled_contexts()
    path = tmp_path / "portal.jsonld"
    path.write_text(_jsonld(BUNDLED))
    used, datasets = read_catalog(path)
    assert used == "json-ld" and [d.title for d in datasets] == ["Bus stops"]
    path.write_text(_jsonld({"@import": BUNDLED}))
    assert [d.title for d in read_catalog(path)[1]] == ["Bus stops"]


# ---------------------------------------------------------------- XML entities, nesting


BILLION_LAUGHS = """<?xml version="1.0"?>
<!DOCTYPE lolz [
 <!ENTITY lol "lol">
 <!ENTITY lol1 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
 <!ENTITY lol2 "&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;">
 <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
 <!ENTITY lol4 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">
 <!ENTITY lol5 "&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;">
 <!ENTITY lol6 "&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;">
 <!ENTITY lol7 "&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;">
 <!ENTITY lol8 "&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;">
 <!ENTITY lol9 "&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;">
]>
<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#" xmlns:dcat="http://www.w3.org/ns/dcat#"
         xmlns:dct="http://purl.org/dc/terms/">
  <dcat:Dataset rdf:about="https://data.example/d/1"><dct:title>&lol9;</dct:title></dcat:Dataset>
</rdf:RDF>
"""

EXTERNAL_ENTITY = """<?xml version="1.0"?>
<!DOCTYPE r [<!ENTITY secret SYSTEM "file:///etc/passwd">]>
<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#" xmlns:dcat="http://www.w3.org/ns/dcat#"
         xmlns:dct="http://purl.org/dc/terms/">
  <dcat:Dataset rdf:about="https://data.example/d/1"><dct:title>&secret;</dct:title></dcat:Dataset>
</rdf:RDF>
"""


@pytest.mark.parametrize("text", [BILLION_LAUGHS, EXTERNAL_ENTITY], ids=["billion-laughs", "external"])
@pytest.mark.timeout(60)  # a guard against a hang, not a speed target (benchmarks/ measures)
def test_xml_entities_are_refused_at_once(text: str, tmp_path: Path) -> None:
    path = tmp_path / "portal.rdf"
    path.write_text(text)
    with pytest.raises(CatalogImportError, match="entities or external references"):
        read_catalog(path)  # expanding them would run for minutes, past the guard


@pytest.mark.parametrize(
    ("name", "text"),
    [
        ("deep.json", "[" * 100_000 + "]" * 100_000),
        ("deep-ckan.json", '{"success": true, "result": ' + '{"a": ' * 5000 + "1" + "}" * 5001),
        ("deep.jsonld", '{"@context": {}, "@graph": ' + "[" * 50_000 + "]" * 50_000 + "}"),
        (
            "deep.ttl",
            "@prefix dcat: <http://www.w3.org/ns/dcat#> .\n<https://d.example/1> a dcat:Dataset ; dcat:x "
            + "[ dcat:y " * 5000
            + "1"
            + " ]" * 5000
            + " .\n",
        ),
        ("deep.rdf", "<r>" * 5000 + "</r>" * 5000),
    ],
)
def test_deep_nesting_names_the_limit(name: str, text: str, tmp_path: Path) -> None:
    path = tmp_path / name
    path.write_text(text)
    with pytest.raises(CatalogImportError, match="over the limit max_depth = 64"):
        read_catalog(path)


def test_brackets_inside_strings_do_not_count(tmp_path: Path) -> None:
    path = _ckan(tmp_path / "portal.json", [_package(1, notes="[[[[" * 100 + "{{{{" * 100)])
    assert read_catalog(path)[1][0].description.startswith("[[[[")


# ---------------------------------------------------------------- values


@pytest.mark.parametrize(
    ("raw", "needle"),
    [
        ('{"success": true, "result": [{"id": "a", "title": NaN}]}', "NaN is not a JSON value"),
        ('{"success": true, "result": [{"id": "a", "title": Infinity}]}', "Infinity is not a JSON value"),
        ('{"success": true, "result": [{"id": "a", "title": 5}]}', "title: got 5; expected text"),
        ('{"success": true, "result": [{"id": "a", "title": "  "}]}', "expected a non-empty title"),
        ('{"success": true, "result": [{"id": "a", "name": "", "title": ""}]}', "expected a non-empty title"),
        (
            '{"success": true, "result": [{"id": "a", "title": "T", "resources": [{"fields": 5}]}]}',
            "fields: got 5; expected a list",
        ),
        (
            '{"success": true, "result": [{"id": "a", "title": "T", "tags": "x"}]}',
            "tags: got 'x'; expected a list",
        ),
        (
            '{"success": true, "result": [{"id": "a", "title": "T", "organization": []}]}',
            "organization: got []; expected an object",
        ),
        ('{"success": true, "result": [{"id": "a", "title": "x\\ud800y"}]}', "lone surrogate"),
        ('{"success": true, "result": [{"id": "a", "title": "x\\u0000y"}]}', "NUL character"),
        ('{"success": true, "result": [5]}', "package #0: got 5; expected a CKAN package object"),
        ('{"success": true, "result": [{"title": "T"}]}', "has neither 'id' nor 'name'"),
        ('{"success": "yes", "result": []}', "reports failure"),
    ],
)
def test_bad_values_are_named(raw: str, needle: str, tmp_path: Path) -> None:
    path = tmp_path / "portal.json"
    path.write_text(raw)
    with pytest.raises(CatalogImportError) as info:
        read_catalog(path)
    assert needle in str(info.value) and "nothing imported" in str(info.value)


def test_empty_title_falls_back_to_the_name(tmp_path: Path) -> None:
    path = _ckan(tmp_path / "portal.json", [_package(1, title=""), _package(2, title=None)])
    assert [d.title for d in read_catalog(path)[1]] == ["dataset-1", "dataset-2"]


def test_invalid_utf8_bytes_are_refused(tmp_path: Path) -> None:
    path = tmp_path / "portal.json"
    path.write_bytes(b'{"id": "a", "title": "x\xed\xa0\x80y"}')  # an encoded lone surrogate
    with pytest.raises(CatalogImportError, match="not UTF-8 text: byte 23"):
        read_catalog(path)


@pytest.mark.parametrize(
    ("limit", "value", "changes", "count"),
    [
        ("max_text_chars", 20_000, {"notes": "x" * 20_001}, 1),
        ("max_title_chars", 300, {"title": "T" * 301}, 1),
        ("max_keywords", 200, {"tags": [{"name": f"t{i}"} for i in range(201)]}, 1),
        ("max_keyword_chars", 100, {"tags": [{"name": "k" * 101}]}, 1),
        ("max_fields", 500, {"resources": [{"fields": [{"id": f"c{i}"} for i in range(501)]}]}, 1),
        ("max_items", 100_000, {}, 100_001),
    ],
)
def test_each_limit_is_named(
    limit: str, value: int, changes: dict, count: int, tmp_path: Path
) -> None:
    assert getattr(DEFAULT_LIMITS, limit) == value
    if count < 10:
        packages = [_package(i, **changes) for i in range(count)]
    else:
        packages = [{"id": str(i)} for i in range(count)]
    path = _ckan(tmp_path / "portal.json", packages)
    with pytest.raises(CatalogImportError, match=f"over the limit {limit} = {value:,}"):
        read_catalog(path)


def test_a_raised_limit_lets_the_file_in(tmp_path: Path) -> None:
    path = _ckan(tmp_path / "portal.json", [_package(1, notes="x" * 30_000)])
    limits = DEFAULT_LIMITS.with_overrides({"max_text_chars": 40_000})
    assert len(read_catalog(path, limits=limits)[1][0].description) == 30_000
    with pytest.raises(CatalogImportError, match="over the limit max_file_bytes = 1,000"):
        read_catalog(path, limits=DEFAULT_LIMITS.with_overrides({"max_file_bytes": 1000}))


def test_limit_settings_are_checked() -> None:
    assert set(ImportLimits.names()) >= {"max_file_bytes", "max_depth", "max_items", "max_text_chars"}
    with pytest.raises(InvalidInput, match="limit: got 'max_bogus'"):
        DEFAULT_LIMITS.with_overrides({"max_bogus": 3})
    with pytest.raises(InvalidInput, match="limit max_title_chars: got 400"):
        DEFAULT_LIMITS.with_overrides({"max_title_chars": 400})
    with pytest.raises(InvalidInput, match="a whole number >= 1"):
        DEFAULT_LIMITS.with_overrides({"max_depth": 0})


def test_dates_and_record_numbers_of_people_are_protected_on_import(tmp_path: Path) -> None:
    fields = [
        {"id": "notice_no", "type": "text"},
        {"id": "driver_age", "type": "int"},
        {"id": "issued_on", "type": "date"},
        {"id": "fine", "type": "numeric"},
    ]
    path = _ckan(tmp_path / "portal.json", [_package(1, resources=[{"fields": fields}])])
    marks = {f.name: f.marking for f in read_catalog(path)[1][0].fields}
    assert marks == {
        "notice_no": FieldMarking.identifier,
        "driver_age": FieldMarking.quasi_identifier,
        "issued_on": FieldMarking.quasi_identifier,
        "fine": FieldMarking.other,
    }


# ---------------------------------------------------------------- files that are not files


def test_devices_and_directories_are_refused(tmp_path: Path) -> None:
    with pytest.raises(CatalogImportError, match="is a device, pipe or socket; expected a regular file"):
        read_catalog("/dev/zero")
    with pytest.raises(CatalogImportError, match="is a directory"):
        read_catalog(tmp_path)


def test_cli_dev_zero_is_one_line_exit_2(capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = _run(["catalog", "import", "/dev/zero"], capsys)
    assert code == 2
    assert "/dev/zero: is a device" in _one_line(err)


# ---------------------------------------------------------------- streaming, JSON lines, the CLI


def test_ckanapi_dump_jsonl_imports_and_reimports(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "dump.jsonl"
    path.write_text("\n".join(json.dumps(_package(i)) for i in range(3)) + "\n")
    code, out, err = _run(["catalog", "import", str(path)], capsys)
    assert code == 0, err
    assert "(ckan-jsonl): 3 resources created" in out
    code, out, _ = _run(["catalog", "import", str(path)], capsys)
    assert code == 0 and "0 resources created, 0 updated, 3 unchanged" in out
    detected = tmp_path / "dump.json"
    detected.write_text(path.read_text())
    assert read_catalog(detected)[0] == "ckan-jsonl"
    path.write_text(json.dumps(_package(1)) + "\n{not json\n")
    with pytest.raises(CatalogImportError, match="line 2: not valid JSON"):
        read_catalog(path)


def test_a_bad_package_late_in_a_stream_imports_nothing(sqlite_engine: Engine, tmp_path: Path) -> None:
    packages = [_package(i) for i in range(1200)]
    packages[1100]["title"] = float("nan")  # written by json.dumps as NaN
    path = _ckan(tmp_path / "portal.json", packages)
    before = _count(sqlite_engine)
    with Session(sqlite_engine) as session, pytest.raises(CatalogImportError, match="NaN"):
        import_catalog(session, path, batch_size=100)
    packages[1100]["title"] = 7
    path = _ckan(tmp_path / "portal.json", packages)
    with Session(sqlite_engine) as session:
        with pytest.raises(CatalogImportError, match="package dataset-1100: title: got 7"):
            import_catalog(session, path, batch_size=100)
        session.rollback()
    assert _count(sqlite_engine) == before


@pytest.mark.timeout(300)  # speed is measured by benchmarks/bench_catalog_import.py
def test_twenty_thousand_packages_stream_in_batches(sqlite_engine: Engine, tmp_path: Path) -> None:
    path = _ckan(tmp_path / "portal.json", [_package(i) for i in range(20_000)])
    seen: list[tuple[int, int]] = []
    with Session(sqlite_engine) as session:
        result = import_catalog(session, path, progress=lambda done, total: seen.append((done, total)))
        session.commit()
    assert len(result.created) == 20_000 and _count(sqlite_engine) == (20_000, 40_000)
    assert len(seen) == 40 and seen[-1] == (20_000, 20_000)
    assert [d for d, _ in seen] == sorted(d for d, _ in seen)


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (["--limit", "max_bogus=3"], "limit: got 'max_bogus'"),
        (["--limit", "max_depth"], "--limit"),
        (["--limit", "max_depth=-1"], "--limit"),
        (["--limit", "max_items=1"], "over the limit max_items = 1"),
    ],
)
def test_cli_limit_option(
    args: list[str], needle: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    db.create_all()
    path = _ckan(tmp_path / "portal.json", [_package(1), _package(2)])
    code, _, err = _run(["catalog", "import", str(path), *args], capsys)
    assert code == 2 and needle in _one_line(err)
    with Session(db.get_engine()) as session:
        assert session.exec(select(Resource)).all() == []


@pytest.mark.parametrize(
    "text",
    [BILLION_LAUGHS, '{"success": true, "result": [{"id": "a", "title": "x\\ud800"}]}'],
    ids=["billion-laughs", "surrogate"],
)
def test_cli_hostile_files_are_one_line_exit_2(
    text: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / ("portal.rdf" if text.startswith("<?xml") else "portal.json")
    path.write_text(text)
    code, _, err = _run(["catalog", "import", str(path)], capsys)
    assert code == 2 and "nothing imported" in _one_line(err)


def test_cli_internal_error_is_one_line_with_a_log_file(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    import marketplace.disclosure as disclosure

    def broken(*args, **kwargs):
        raise RuntimeError("disk on fire")

    monkeypatch.setattr(disclosure, "import_catalog", broken)
    path = _ckan(tmp_path / "portal.json", [_package(1)])
    code, _, err = _run(["catalog", "import", str(path)], capsys)
    line = _one_line(err)
    assert code == 1 and "internal error (RuntimeError)" in line
    log = Path(line.split("the traceback is in ", 1)[1])
    assert log.is_file() and "disk on fire" in log.read_text() and "Traceback" in log.read_text()


# ---------------------------------------------------------------- --base-uri


@pytest.mark.parametrize(
    "base",
    ["http://exa mple/", "http://x/<a>", "https://[::1", "http://x:port/", "http://", "urn:x", "ftp://x/",
     "https://x/?q=1", "https://x/" + "a" * 300, "https://x/%zz"],
)
def test_bad_base_uri_is_one_line_exit_2(base: str, sandbox: Engine, tmp_path: Path, capsys) -> None:
    out = tmp_path / "catalog.ttl"
    code, _, err = _run(["disclose", "--format", "dcat", "--base-uri", base, "--out", str(out)], capsys)
    assert code == 2 and "--base-uri: got" in _one_line(err)
    assert not out.exists()


@pytest.mark.parametrize(
    "base", ["https://data.example.gov.cn/", "urn:uuid:6e8bc430-9c3a-11d9-9669-0800200c9a66"]
)
def test_good_base_uri_is_used(base: str, sandbox: Engine, tmp_path: Path, capsys) -> None:
    out = tmp_path / "catalog.ttl"
    code, _, err = _run(["disclose", "--format", "dcat", "--base-uri", base, "--out", str(out)], capsys)
    assert code == 0, err
    assert base.rstrip("/") in out.read_text()


# ---------------------------------------------------------------- anything at all


JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda children: st.lists(children, max_size=4)
    | st.dictionaries(st.text(max_size=8), children, max_size=4),
    max_leaves=12,
)
KEYS = ["id", "name", "title", "notes", "organization", "tags", "groups", "extras", "resources"]
KEYS += ["private", "isopen"]


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(package=st.dictionaries(st.sampled_from(KEYS), JSON_VALUES, max_size=8))
def test_any_package_is_imported_or_refused_by_name(package: dict, tmp_path: Path) -> None:
    path = tmp_path / "portal.json"
    path.write_text(json.dumps({"success": True, "result": [package]}))
    try:
        read_catalog(path)
    except CatalogImportError as exc:
        assert str(path) in str(exc) and "\n" not in str(exc)


def test_cli_progress_bar(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = _ckan(tmp_path / "portal.json", [_package(i) for i in range(1200)])
    code, out, err = _run(["catalog", "import", str(path), "--progress"], capsys)
    assert code == 0 and "1200 resources created" in out
    assert "importing" in err and "/1200 " in err
    code, out, err = _run(["catalog", "import", str(path), "--no-progress"], capsys)
    assert code == 0 and err == ""


def test_fifo_is_refused_without_blocking(tmp_path: Path) -> None:
    import os

    fifo = tmp_path / "portal.json"
    os.mkfifo(fifo)
    with pytest.raises(CatalogImportError, match="is a device, pipe or socket"):
        read_catalog(fifo)


def test_turtle_escapes_are_checked_like_json(tmp_path: Path) -> None:
    path = tmp_path / "portal.ttl"
    path.write_text(
        "@prefix dcat: <http://www.w3.org/ns/dcat#> . @prefix dct: <http://purl.org/dc/terms/> .\n"
        '<https://d.example/1> a dcat:Dataset ; dct:title "bus\\uD800stops" .\n'
    )
    with pytest.raises(CatalogImportError, match="lone surrogate"):
        read_catalog(path)
    path.write_text(
        "@prefix dcat: <http://www.w3.org/ns/dcat#> . @prefix dct: <http://purl.org/dc/terms/> .\n"
        f'<https://d.example/1> a dcat:Dataset ; dct:title "{"T" * 301}" .\n'
    )
    with pytest.raises(CatalogImportError, match="over the limit max_title_chars = 300"):
        read_catalog(path)


def test_relative_iris_never_name_a_local_path(tmp_path: Path) -> None:
    path = tmp_path / "portal.ttl"
    path.write_text(
        "@prefix dcat: <http://www.w3.org/ns/dcat#> . @prefix dct: <http://purl.org/dc/terms/> .\n"
        '<dataset/1> a dcat:Dataset ; dct:title "Bus stops" .\n'
    )
    (dataset,) = read_catalog(path)[1]
    assert dataset.source == "https://catalog.invalid/dataset/1"


JSONLD_KEYS = ["@context", "@id", "@type", "@graph", "@import", "dct:title", "dcat:keyword", "dct:publisher"]


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    document=st.recursive(
        st.none()
        | st.booleans()
        | st.integers()
        | st.text(max_size=12)
        | st.sampled_from(["dcat:Dataset", BUNDLED]),
        lambda children: st.lists(children, max_size=3)
        | st.dictionaries(st.sampled_from(JSONLD_KEYS), children, max_size=4),
        max_leaves=10,
    )
)
def test_any_json_ld_is_imported_or_refused_by_name(document, tmp_path: Path) -> None:
    path = tmp_path / "portal.jsonld"
    path.write_text(json.dumps(document))
    try:
        read_catalog(path)
    except CatalogImportError as exc:
        assert str(path) in str(exc) and "\n" not in str(exc)


def test_jsonl_dump_streams_line_by_line(tmp_path: Path, sqlite_engine: Engine) -> None:
    path = tmp_path / "dump.jsonl"
    lines = [json.dumps(_package(i)) for i in range(1500)]
    lines[1400] = "[" * 100 + "]" * 100
    path.write_text("\n".join(lines) + "\n")
    used, total, datasets = iter_catalog(path)
    assert (used, total) == ("ckan-jsonl", 1500)
    first = [d.title for _, d in zip(range(3), datasets, strict=False)]
    assert first == ["Dataset 0", "Dataset 1", "Dataset 2"]
    nested = "line 1401: the JSON is nested"
    with Session(sqlite_engine) as session, pytest.raises(CatalogImportError, match=nested):
        import_catalog(session, path, batch_size=200)
    path.write_bytes(b"\n".join([json.dumps(_package(1)).encode(), b'{"id": "x\xff"}']))
    with pytest.raises(CatalogImportError, match="line 2: not UTF-8"):
        read_catalog(path)
    with pytest.raises(CatalogImportError, match="over the limit max_items = 1"):
        read_catalog(path, limits=DEFAULT_LIMITS.with_overrides({"max_items": 1}))
    with pytest.raises(CatalogImportError, match="over the limit max_file_bytes = 10"):
        read_catalog(path, limits=DEFAULT_LIMITS.with_overrides({"max_file_bytes": 10}))


def test_limit_help_lists_every_default(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = _run(["catalog", "import", "--help"], capsys)
    flat = " ".join(out.split())
    assert code == 0
    for name in ImportLimits.names():
        assert f"{name}={getattr(DEFAULT_LIMITS, name)}" in flat


def test_a_bad_file_does_not_even_create_the_sandbox(capsys: pytest.CaptureFixture[str]) -> None:
    before = sorted(db.data_dir().iterdir())
    code, _, err = _run(["catalog", "import", "/dev/zero"], capsys)
    assert code == 2 and "expected a regular file" in err
    assert sorted(db.data_dir().iterdir()) == before


@pytest.mark.timeout(60)  # a guard against a quadratic scan, not a speed target
@pytest.mark.parametrize(
    "name", ["unterminated.json", "unterminated.jsonld", "unterminated.ttl", "unterminated.jsonl"]
)
def test_unterminated_strings_are_scanned_in_linear_time(name: str, tmp_path: Path) -> None:
    path = tmp_path / name
    path.write_bytes(b'"\\' * 2_000_000)
    with pytest.raises(CatalogImportError):
        read_catalog(path)  # a quadratic scan of this file runs for minutes, past the guard


def test_a_json_file_is_read_as_json_whatever_it_holds(tmp_path: Path) -> None:
    path = tmp_path / "portal.json"
    path.write_text("@prefix dcat: <http://www.w3.org/ns/dcat#> .\n")
    with pytest.raises(CatalogImportError, match="not valid JSON"):
        read_catalog(path)
