"""The disclosure report for people is written in the reader's language; the machine formats stay as data."""

from __future__ import annotations

import json
import re
from html.parser import HTMLParser

from sqlalchemy.engine import Engine
from sqlmodel import Session

from marketplace import translations
from marketplace.disclosure import build_report, render_html, render_markdown, to_json
from marketplace.ui import i18n

CJK = re.compile(r"[\u4e00-\u9fff]")
WORD = re.compile(r"[A-Za-z]{2,}")


class _Text(HTMLParser):
    """The visible text of a page (style excluded), chart text included."""

    def __init__(self) -> None:
        super().__init__()
        self.chunks: list[str] = []
        self._skip = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self._skip += tag == "style"

    def handle_endtag(self, tag: str) -> None:
        self._skip -= tag == "style"

    def handle_data(self, data: str) -> None:
        if not self._skip and data.strip():
            self.chunks.append(data.strip())


def _report(engine: Engine):
    with Session(engine) as session:
        return build_report(session, 2025)


def _english_phrases() -> set[str]:
    """Every run of two or more English words in the English catalog (placeholders split a text)."""
    phrases = set()
    for en, _zh in translations.messages().values():
        for part in re.split(r"\{[^}]*\}|<[^>]+>", en):
            part = part.strip(" .,:;()·—-")
            if len(WORD.findall(part)) >= 2:
                phrases.add(part)
    return phrases


def test_chinese_html_has_no_english_sentence_from_the_catalog(world_sqlite: Engine) -> None:
    report = _report(world_sqlite)
    report.note_keys.append("report.note.caps_withheld")  # a note is rendered too
    page = render_html(report, lang="zh")
    parser = _Text()
    parser.feed(page)
    text = "\n".join(parser.chunks)
    assert '<html lang="zh-Hans">' in page
    assert "2025 年度公共数据信息公开报告" in text and "现行政策下不公开价格上限。" in text
    phrases = _english_phrases()
    assert len(phrases) > 300
    # the synthetic world's own names (resource titles, organizations) are data, not catalog text
    data = "\n".join(str(v) for frame in report.tables().values() for v in frame.to_numpy().ravel())
    found = sorted(p for p in phrases if p in text and p not in data)
    assert found == []
    # headings, column names and vocabulary values are worded; the charts too
    assert "登记" in text and "渠道" in text and "共享" in text and "申请数" in text
    english = render_html(report, lang="en")
    assert "Public data disclosure report 2025" in english and "Price caps are not published" in english
    # the same scan does see the catalog's sentences in the English page
    parser = _Text()
    parser.feed(english)
    english_text = "\n".join(parser.chunks)
    assert len([p for p in phrases if p in english_text and p not in data]) >= 5


def test_the_language_in_force_is_the_default(world_sqlite: Engine) -> None:
    report = _report(world_sqlite)
    try:
        i18n.set_language("zh")
        assert render_html(report, charts=False) == render_html(report, charts=False, lang="zh")
        assert render_markdown(report).startswith("# 2025 年度公共数据信息公开报告")
    finally:
        i18n.set_language("en")
    assert render_markdown(report).startswith("# Public data disclosure report 2025")


def test_chinese_markdown_words_columns_and_values(world_sqlite: Engine) -> None:
    md = render_markdown(_report(world_sqlite), lang="zh")
    assert "| 编号 | 登记对象 | 对象编号 |" in md and "| 数据资源 |" in md
    assert "| code |" not in md


def test_machine_formats_keep_the_data_ids(world_sqlite: Engine) -> None:
    report = _report(world_sqlite)
    try:
        i18n.set_language("zh")
        doc = json.loads(to_json(report))
    finally:
        i18n.set_language("en")
    assert not CJK.search(json.dumps(doc["notes"])) and "registrations" in doc["tables"]
    assert doc["notes"] == report.notes and all(not CJK.search(n) for n in report.notes)
