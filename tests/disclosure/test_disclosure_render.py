"""Renderers: one self-contained HTML page, Markdown tables, CSV zip/directory and one JSON document."""

from __future__ import annotations

import io
import json
import re
import zipfile
from html.parser import HTMLParser
from pathlib import Path

import pandas as pd
from sqlalchemy.engine import Engine
from sqlmodel import Session

from marketplace.disclosure import (
    build_report,
    chart_svgs,
    render_html,
    render_markdown,
    report_files,
    to_csv_bytes,
    to_json,
    write_csv_dir,
)
from marketplace.disclosure.render import MIME_TYPES

TABLES = {"registrations", "authorizations", "products", "requests", "revenue", "publications"}


class _Refs(HTMLParser):
    """Collects every URL-bearing attribute and every element name."""

    def __init__(self) -> None:
        super().__init__()
        self.refs: list[str] = []
        self.tags: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append(tag)
        for name, value in attrs:
            if name in {"src", "href", "xlink:href", "data", "action", "poster"} and value:
                self.refs.append(value)


def _report(engine: Engine):
    with Session(engine) as session:
        return build_report(session, 2025)


def test_html_is_one_self_contained_page_with_tables_and_charts(world_sqlite: Engine) -> None:
    page = render_html(_report(world_sqlite))
    parser = _Refs()
    parser.feed(page)
    assert parser.refs, "the inline SVG charts reference their own glyphs/markers"
    assert all(ref.startswith("#") for ref in parser.refs), parser.refs
    assert "link" not in parser.tags and "script" not in parser.tags and "img" not in parser.tags
    assert not re.search(r"url\((?!#)", page), "CSS must not load anything"
    assert "<!DOCTYPE svg" not in page and "<?xml" not in page
    assert parser.tags.count("svg") == 2 and parser.tags.count("table") == 6  # with the parties' publications
    assert page.count("<style>") == 1
    for text in (
        "REG-2025-R-000001",
        "AUT-2025-000001",
        "Trip flow API",
        "authorized_operation",
        "Data Ops Co",
    ):
        assert text in page


def test_html_is_reproducible(world_sqlite: Engine) -> None:
    assert render_html(_report(world_sqlite)) == render_html(_report(world_sqlite))


def test_chart_ids_do_not_collide(world_sqlite: Engine) -> None:
    svgs = list(chart_svgs(_report(world_sqlite)).values())
    ids = [set(re.findall(r'id="([^"]+)"', svg)) for svg in svgs]
    assert len(svgs) == 2 and not (ids[0] & ids[1])


def test_markdown_has_a_pipe_table_per_section(world_sqlite: Engine) -> None:
    md = render_markdown(_report(world_sqlite))
    assert md.startswith("# Public data disclosure report 2025")
    assert md.count("\n## ") == 6  # with the parties' publications
    assert "| code | subject | subject_code |" in md
    assert "| REG-2025-R-000001 | resource | RES-000001 | Bus ridership |" in md


def test_csv_zip_has_one_file_per_table(world_sqlite: Engine, tmp_path) -> None:
    report = _report(world_sqlite)
    data = to_csv_bytes(report)
    assert data == to_csv_bytes(report)
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        names = {n.rsplit("/", 1)[-1].removesuffix(".csv") for n in zf.namelist()}
        assert names == TABLES | {"about"}
        products = pd.read_csv(zf.open("disclosure-2025/products.csv"))
    assert list(products["code"]) == ["PRD-000001", "PRD-000002"]
    written = write_csv_dir(report, tmp_path / "csv")
    assert {p.stem for p in written} == TABLES | {"about"}
    requests = pd.read_csv(tmp_path / "csv" / "requests.csv")
    assert requests["filed"].sum() == 16  # 8 per kind + 8 in the per-channel rows


def test_json_is_one_document_with_every_table(world_sqlite: Engine) -> None:
    doc = json.loads(to_json(_report(world_sqlite)))
    assert doc["year"] == 2025 and doc["policy"] == "national-2025"
    assert set(doc["tables"]) == TABLES
    assert doc["summary"]["requests_filed"] == 8
    regs = doc["tables"]["registrations"]
    assert regs[0]["valid_until"] == "2028-01-20"
    pending = next(r for r in regs if r["status"] == "submitted")
    assert pending["registered_on"] is None


def test_report_files_for_the_panel_downloads(world_sqlite: Engine) -> None:
    report = _report(world_sqlite)
    files = report_files(report)
    assert set(files) == {
        "disclosure-2025.html",
        "disclosure-2025.md",
        "disclosure-2025.json",
        "disclosure-2025-csv.zip",
    }
    assert all(Path(name).suffix in MIME_TYPES for name in files)
    assert files["disclosure-2025.md"].decode() == render_markdown(report)
    assert zipfile.is_zipfile(io.BytesIO(files["disclosure-2025-csv.zip"]))
