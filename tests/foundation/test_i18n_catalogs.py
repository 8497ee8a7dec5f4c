"""The gettext catalogs: complete in both languages, current with the code, and compiled by the build."""

from __future__ import annotations

import gettext
import io
import os
import re
import shutil
import string
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from babel.messages.extract import extract
from babel.messages.pofile import read_po, write_po
from hypothesis import given
from hypothesis import strategies as st

from marketplace import i18n, translations
from marketplace.errors import InvalidInput

ROOT = Path(__file__).resolve().parents[2]
CJK = re.compile(r"[\u4e00-\u9fff]")


def _placeholders(text: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(text) if name is not None}


@pytest.fixture
def locale_copy(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """The catalogs copied to a scratch directory that marketplace.i18n and translations then read."""
    copy = tmp_path / "locale"
    shutil.copytree(i18n.LOCALE_DIR, copy, ignore=shutil.ignore_patterns("*.mo"))
    monkeypatch.setattr(i18n, "LOCALE_DIR", copy)
    monkeypatch.setattr(translations, "TEMPLATE", copy / "marketplace.pot")
    i18n.translations.cache_clear()
    yield copy
    i18n.translations.cache_clear()


def test_every_message_exists_in_both_languages_with_the_same_placeholders() -> None:
    catalogs = {lang: translations.read_catalog(lang) for lang in i18n.LANGUAGES}
    template = {m.id for m in translations.read_template() if m.id}
    assert len(template) > 600
    problems = []
    for lang, catalog in catalogs.items():
        ids = {m.id for m in catalog if m.id}
        problems += [f"{lang}: {key} missing" for key in sorted(template - ids)]
        for message in catalog:
            if not message.id:
                continue
            if message.fuzzy or not str(message.string).strip():
                problems.append(f"{lang}: {message.id} fuzzy or empty")
    english = {m.id: str(m.string) for m in catalogs["en"] if m.id}
    for message in catalogs["zh"]:
        if message.id and _placeholders(str(message.string)) != _placeholders(english.get(message.id, "")):
            problems.append(f"zh: {message.id} placeholders differ from English")
    assert problems == []


def test_chinese_is_chinese() -> None:
    """No English left standing in the zh catalog (markup, placeholders and short symbols aside)."""
    left = [
        key
        for key, (en, zh) in translations.messages().items()
        if len(re.sub(r"[^A-Za-z]", "", re.sub(r"<[^>]+>|\{[^}]+\}", "", en))) > 3
        and not CJK.search(zh)
        and key != "enum.api"
    ]
    assert left == []


def test_extraction_finds_no_key_missing_from_the_template() -> None:
    used = translations.extracted_keys()
    assert len(used) > 300, "the extractor found too few keys: it is not reading the package"
    assert {"review.decide", "workshop.join", "cli.quote.header", "report.title"} <= set(used)
    template = {m.id for m in translations.read_template() if m.id}
    assert sorted(set(used) - template) == []
    assert list(translations.problems()) == []


def test_the_extractor_sees_keys_in_f_strings_and_in_both_branches() -> None:
    """Babel's token-based extractor misses the first and joins the second into "c.de.f"."""
    source = (
        b'page = f"<b>{t(\'a.b\')}</b>"\n'
        b'state = i18n.t("c.d" if paused else "e.f", code)\n'
        b'bind(widget, "value", "g.h", template="<h3>{}</h3>")\n'
        b'sa.text("select 1")\n'
    )
    found = [
        message
        for _lineno, message, _comments, _context in extract(
            translations.extract_keys, io.BytesIO(source), keywords=translations.KEYWORDS
        )
    ]
    assert sorted(found) == ["a.b", "c.d", "e.f", "g.h", "select 1"]  # `extracted_keys` keeps key-shaped ones
    assert not translations.KEY.match("select 1")


def test_the_check_names_a_key_the_code_uses_but_no_catalog_has(
    locale_copy: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    used = translations.extracted_keys() | {"review.brand_new": [("marketplace/ui/review.py", 1)]}
    monkeypatch.setattr(translations, "extracted_keys", lambda: used)
    found = list(translations.problems())
    assert any("'review.brand_new' is used in the code but missing" in p for p in found)
    translations.update()  # make messages: the new key reaches every catalog, empty until written
    found = list(translations.problems())
    assert "en: 'review.brand_new' has no text" in found and "zh: 'review.brand_new' has no text" in found


def test_a_fuzzy_entry_is_refused(locale_copy: Path) -> None:
    path = locale_copy / "zh" / "LC_MESSAGES" / "marketplace.po"
    with path.open("rb") as fh:
        catalog = read_po(fh, locale="zh")
    catalog["review.decide"].flags.add("fuzzy")
    with path.open("wb") as fh:
        write_po(fh, catalog)
    assert list(translations.problems()) == [
        "zh: 'review.decide' is marked fuzzy; review it and remove the flag"
    ]
    # and a fuzzy translation is never shown: English stands in until it is reviewed
    assert i18n.t("review.decide", "zh") == i18n.t("review.decide", "en")


def test_a_compiled_catalog_is_used_when_it_is_current(locale_copy: Path) -> None:
    written = translations.compile_into(locale_copy)
    assert sorted(p.relative_to(locale_copy).as_posix() for p in written) == [
        "en/LC_MESSAGES/marketplace.mo",
        "zh/LC_MESSAGES/marketplace.mo",
    ]
    with written[1].open("rb") as fh:
        compiled = gettext.GNUTranslations(fh)
    for key, (_en, zh) in translations.messages().items():
        assert compiled.gettext(key) == zh, key
    # the loader reads the .mo, not the .po, while the .mo is not older
    po = locale_copy / "zh" / "LC_MESSAGES" / "marketplace.po"
    po.write_text(
        po.read_text(encoding="utf-8").replace('msgstr "提交决定"', 'msgstr "改过的"'), encoding="utf-8"
    )
    mo = written[1]
    stamp = po.stat().st_mtime + 10
    os.utime(mo, (stamp, stamp))
    assert i18n.t("review.decide", "zh") == "提交决定"
    # a .po edited after the build wins: compiled again in memory
    i18n.translations.cache_clear()
    os.utime(mo, (stamp - 20, stamp - 20))
    assert i18n.t("review.decide", "zh") == "改过的"


def test_the_build_step_compiles_the_catalogs(tmp_path: Path) -> None:
    """setup.py's build_py (what wheels and `pip install -e .` run), on a copy of the project."""
    src = tmp_path / "src"
    shutil.copytree(
        ROOT / "marketplace", src / "marketplace", ignore=shutil.ignore_patterns("__pycache__", "*.mo")
    )
    for name in ("setup.py", "pyproject.toml", "README.md"):
        shutil.copy(ROOT / name, src / name)
    for folder in ("seed", "jupyter-config"):  # setup.py ships seed/ as a package; pyproject names the config
        shutil.copytree(ROOT / folder, src / folder)
    out = subprocess.run(
        [sys.executable, "setup.py", "-q", "build_py", "--build-lib", str(tmp_path / "lib")],
        cwd=src,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert out.returncode == 0, out.stderr
    for lang in i18n.LANGUAGES:
        mo = tmp_path / "lib" / "marketplace" / "locale" / lang / "LC_MESSAGES" / "marketplace.mo"
        with mo.open("rb") as fh:
            assert gettext.GNUTranslations(fh).gettext("review.decide") == i18n.t("review.decide", lang)
        assert (mo.parent / "marketplace.po").is_file()  # sources ship as package data too
    assert (tmp_path / "lib" / "marketplace" / "locale" / "marketplace.pot").is_file()


@given(st.text(max_size=12))
def test_a_language_is_english_or_chinese_or_refused_by_name(raw: str) -> None:
    base = raw.strip().lower().replace("-", "_").split("_", 1)[0].split(".", 1)[0]
    if base in ("en", "zh"):
        assert i18n.normalize(raw) == base
    else:
        with pytest.raises(InvalidInput, match=r"^language: got "):
            i18n.normalize(raw)


def test_unknown_keys_are_programming_errors() -> None:
    with pytest.raises(KeyError):
        i18n.t("no.such.key", "zh")
    assert not i18n.has("") and not i18n.has("no.such.key") and i18n.has("review.decide")
