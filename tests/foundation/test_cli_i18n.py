"""The command line speaks the language of MARKETPLACE_LANG: results, refusals and bad-input lines."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from marketplace.i18n import t

ROOT = Path(__file__).resolve().parents[2]
CJK = re.compile(r"[\u4e00-\u9fff]")


def mkt(*args: str, env: dict[str, str], lang: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "marketplace", *args],
        capture_output=True,
        text=True,
        env={**env, "MARKETPLACE_LANG": lang},
        cwd=ROOT,
        timeout=120,
    )


@pytest.fixture(scope="module")
def sandbox(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, str]]:
    home = tmp_path_factory.mktemp("cli-i18n")
    env = {**os.environ, "MARKETPLACE_HOME": str(home), "MARKETPLACE_DB_URL": f"sqlite:///{home / 'cli.db'}"}
    done = mkt("seed", "--seed", "7", env=env, lang="en")
    assert done.returncode == 0, done.stderr
    yield env


def _template_head(key: str) -> str:
    """The fixed text a message starts with (up to its first placeholder)."""
    return t(key, "zh").split("{", 1)[0]


def test_results_are_printed_in_chinese(sandbox) -> None:
    info = mkt("info", env=sandbox, lang="zh_CN.UTF-8")
    assert info.returncode == 0, info.stderr
    assert info.stdout.startswith(_template_head("cli.info.database"))

    clock = mkt("clock", "show", env=sandbox, lang="zh")
    assert clock.returncode == 0, clock.stderr
    assert (
        clock.stdout.startswith(_template_head("cli.clock.show"))
        and t("cli.clock.paused", "zh") in clock.stdout
    )

    listing = mkt("catalog", "list", "--grade", "core", env=sandbox, lang="zh")
    assert listing.returncode == 0, listing.stderr
    header = listing.stdout.splitlines()[0]
    assert t("common.code", "zh") in header and t("catalog.channels", "zh") in header
    assert t("enum.core", "zh") in listing.stdout and " core " not in listing.stdout


def test_info_names_what_each_table_holds_in_chinese(sandbox) -> None:
    from sqlmodel import SQLModel

    import marketplace.models  # noqa: F401  # every table registered

    for name in SQLModel.metadata.tables:
        assert t(f"table.{name}", "zh") != t(f"table.{name}", "en"), name
    info = mkt("info", env=sandbox, lang="zh")
    assert info.returncode == 0, info.stderr
    rows = info.stdout.splitlines()[1:]
    assert len(rows) == len(SQLModel.metadata.tables)
    for row in rows:
        assert CJK.search(row) and not re.search(r"[A-Za-z]", row), row
    assert t("table.accessrequest", "zh") in info.stdout


def test_scenarios_are_listed_with_their_description_in_the_language_in_force(sandbox) -> None:
    from marketplace.sim import list_scenarios

    for lang, about in (("zh", "基准需求，不设价格上限。"), ("en", "Baseline demand, no price caps.")):
        out = mkt("scenarios", env=sandbox, lang=lang)
        assert out.returncode == 0, out.stderr
        rows = out.stdout.splitlines()[1:]
        assert [re.split("[:：]", r.strip(), maxsplit=1)[0] for r in rows] == list_scenarios()
        assert any(about in r for r in rows), out.stdout
    for row in mkt("scenarios", env=sandbox, lang="zh").stdout.splitlines()[1:]:
        words = re.findall(r"[A-Za-z]{3,}", re.sub(r"[a-z0-9]+(?:-[a-z0-9]+)+", "", row))
        assert not words, row  # scenario and policy names (kebab-case) only


def test_schema_state_and_catalog_card_read_in_chinese(sandbox) -> None:
    current = mkt("db", "current", env=sandbox, lang="zh")
    assert current.returncode == 0, current.stderr
    assert "结构版本" in current.stdout and t("cli.db.state.current", "zh") in current.stdout
    assert not re.search(r"\b(database|revision|head|current)\b", current.stdout), current.stdout
    history = mkt("db", "history", env=sandbox, lang="zh")
    assert "(当前、最新)" in history.stdout, history.stdout
    card = mkt("catalog", "show", "RES-000003", env=sandbox, lang="zh")
    assert card.returncode == 0, card.stderr
    name = t("catalog.frequency", "zh")
    frequency = next(line for line in card.stdout.splitlines() if line.startswith(name))
    assert CJK.search(frequency.removeprefix(name)) and not re.search(r"[a-z]{3,}", frequency), frequency


def test_a_quote_reads_in_chinese_line_by_line(sandbox) -> None:
    out = mkt(
        "quote",
        "--product",
        "PRD-2024-000001",
        "--purpose",
        "industry_development",
        "--volume",
        "5000",
        env=sandbox,
        lang="zh",
    )
    assert out.returncode == 0, out.stderr
    lines = out.stdout.splitlines()
    assert len(lines) >= 8
    assert all(CJK.search(line) for line in lines), out.stdout
    assert t("enum.industry_development", "zh") in lines[0]
    english = mkt(
        "quote",
        "--product",
        "PRD-2024-000001",
        "--purpose",
        "industry_development",
        "--volume",
        "5000",
        env=sandbox,
        lang="en",
    )
    assert english.stdout.startswith("Quote for PRD-2024-000001") and not CJK.search(
        english.stdout.replace(english.stdout.splitlines()[0], "")
    )


def test_bad_input_is_one_chinese_line_naming_the_option(sandbox) -> None:
    bad = mkt("catalog", "list", "--domain", "astrology", env=sandbox, lang="zh")
    assert bad.returncode == 2 and bad.stdout == ""
    line, *rest = bad.stderr.splitlines()
    assert rest == []
    assert line.startswith(_template_head("cli.error")) and "--domain" in line and "'astrology'" in line
    assert "health" in line and CJK.search(line.replace("错误", ""))


def test_domain_errors_are_worded_in_chinese(sandbox, tmp_path: Path) -> None:
    missing = mkt(
        "release", "RES-999999", "--rows", "5", "--out", str(tmp_path / "x.csv"), env=sandbox, lang="zh"
    )
    assert missing.returncode == 2
    assert missing.stderr.strip() == t(
        "cli.error",
        "zh",
        message=t("error.not_found", "zh", kind=t("enum.resource", "zh"), code="'RES-999999'"),
    )
    assert not (tmp_path / "x.csv").exists()


def test_english_stays_as_it_was(sandbox) -> None:
    clock = mkt("clock", "show", env=sandbox, lang="en")
    assert clock.stdout.startswith("sandbox date: ") and not CJK.search(clock.stdout)
    bad = mkt("catalog", "list", "--domain", "astrology", env=sandbox, lang="en")
    assert bad.stderr.startswith("error: Invalid value for --domain: 'astrology'; expected one of ")


def test_a_release_reports_in_chinese(sandbox, tmp_path: Path) -> None:
    out = mkt(
        "release",
        "RES-000001",
        "--rows",
        "300",
        "--k",
        "5",
        "--l",
        "2",
        "--out",
        str(tmp_path / "r.csv"),
        env=sandbox,
        lang="zh",
    )
    assert out.returncode == 0, out.stderr
    assert "已发布" in out.stdout and "已写入" in out.stdout and "rows released" not in out.stdout


USAGE_ERRORS = [  # (arguments, what the one line names) — click's own wording of each, in both languages
    (("seed", "--size", "bogus"), "'bogus'"),
    (("seed", "--seed", "-5"), "-5"),
    (("seed", "--seed", "abc"), "'abc'"),
    (("seed", "--bogus"), "'--bogus'"),
    (("seedd",), "'seedd'"),
    (("quote",), "'--product'"),
    (("seed", "extra"), "extra"),
    (("seed", "--size"), "'--size'"),
]


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_click_usage_errors_are_one_line_in_the_language_in_force(sandbox, lang: str) -> None:
    """A bad value, an unknown option or command, a missing option, an extra argument: one line naming what
    was given, exit 2; in Chinese without click's English (a missing required option used to read
    "Invalid value for '--product': " with nothing after it)."""
    english = re.compile(r"\b(is not|one of|range|valid|No such|Missing|unexpected|requires|Did you)\b")
    for args, named in USAGE_ERRORS:
        done = mkt(*args, env=sandbox, lang=lang)
        lines = done.stderr.strip().splitlines()
        assert done.returncode == 2 and len(lines) == 1, (args, done.stderr)
        assert named in lines[0], (args, lines[0])
        if lang == "zh":
            assert CJK.search(lines[0]) and not english.search(lines[0]), (args, lines[0])
        else:
            assert not CJK.search(lines[0]) and not lines[0].rstrip().endswith(":"), (args, lines[0])
    missing = mkt("quote", env=sandbox, lang="en").stderr
    assert "Missing option '--product'" in missing
