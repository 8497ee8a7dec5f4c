"""What the command line shows in Chinese beyond the panels: seeded descriptive text (cap and cost filing
bases, sharing list bases and duties), the `demo` story and `policy show`, with no English words or internal
ids left (the rules of tests/visible_text.py), while English output stays as it was."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from visible_text import problems

from marketplace.i18n import seeded_text, t

ROOT = Path(__file__).resolve().parents[2]
CJK = re.compile(r"[\u4e00-\u9fff]")


def mkt(*args: str, env: dict[str, str], lang: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "marketplace", *args],
        capture_output=True,
        text=True,
        env={**env, "MARKETPLACE_LANG": lang},
        cwd=ROOT,
        timeout=300,
    )


@pytest.fixture(scope="module")
def sandbox(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, str]]:
    home = tmp_path_factory.mktemp("cli-zh-rest")
    env = {**os.environ, "MARKETPLACE_HOME": str(home), "MARKETPLACE_DB_URL": f"sqlite:///{home / 'cli.db'}"}
    done = mkt("seed", "--seed", "7", env=env, lang="en")
    assert done.returncode == 0, done.stderr
    yield env


def zh_problems(text: str, allowed: set[str] = frozenset()) -> list[str]:
    return problems([(f"line {i}", line, False) for i, line in enumerate(text.splitlines())], "zh",
                    allowed=allowed)


# ---------------------------------------------------------------- seeded text

SEEDED_EN = (
    "seeded: cap x forecast volume within the operator's MAR",
    "seeded: cost basis of the resources in the operator's scope",
    "filed from the operator panel",
    "Issued by the data authority of Capitol City",
    "the recipients' statutory duties",
)


@pytest.mark.parametrize("english", SEEDED_EN)
def test_seeded_text_is_shown_in_the_language_in_force(english: str) -> None:
    zh = seeded_text(english, "zh")
    assert CJK.search(zh) and zh_problems(zh, {"Capitol", "City"}) == []
    assert seeded_text(english, "en") == english
    assert seeded_text(zh, "en") == english  # a world seeded in Chinese reads in English too


def test_text_people_typed_is_never_translated() -> None:
    for own in ("cost study: 4 million records a year", "filed from the operator panel!", "", "数据主管部门"):
        assert seeded_text(own, "zh") == own and seeded_text(own, "en") == own


def test_a_quote_cites_the_seeded_cap_filing_in_chinese(sandbox) -> None:
    args = ("quote", "--product", "PRD-2024-000001", "--purpose", "industry_development", "--volume", "5000")
    out = mkt(*args, env=sandbox, lang="zh")
    assert out.returncode == 0, out.stderr
    filing = next(line for line in out.stdout.splitlines() if "CAP-" in line)
    assert "seeded" not in filing and t("seeded.cap_filing_basis", "zh") in filing
    english = mkt(*args, env=sandbox, lang="en")
    assert "seeded: cap x forecast volume within the operator's MAR" in english.stdout


def test_the_disclosure_report_words_cap_filings_in_chinese(sandbox, tmp_path: Path) -> None:
    out = mkt("disclose", "--year", "2025", "--format", "csv", "--out", str(tmp_path / "r.csv"),
              env=sandbox, lang="zh")
    assert out.returncode == 0, out.stderr
    text = (tmp_path / "r.csv" / "products.csv").read_text(encoding="utf-8")
    assert "CAP-2025-000001" in text
    assert "within MAR" not in text and "seeded" not in text
    assert t("seeded.cap_filing_basis", "zh") in text
    en = mkt("disclose", "--year", "2025", "--format", "csv", "--out", str(tmp_path / "e.csv"),
             env=sandbox, lang="en")
    assert en.returncode == 0
    assert "within MAR; seeded: cap x forecast volume" in (tmp_path / "e.csv" / "products.csv").read_text(
        encoding="utf-8"
    )


def test_sharing_lists_show_their_seeded_basis_and_duty_in_chinese(sandbox) -> None:
    out = mkt("lists", "show", env=sandbox, lang="zh")
    assert out.returncode == 0, out.stderr
    assert "Issued by the data authority" not in out.stdout
    assert "statutory duties" not in out.stdout
    assert t("seeded.sharing_list_duty", "zh") in out.stdout


# ---------------------------------------------------------------- the demo story


@pytest.fixture(scope="module")
def demo_runs(sandbox, tmp_path_factory: pytest.TempPathFactory) -> dict[str, tuple[str, str]]:
    """The demo told once in each language, each in a database of its own: (output, database URL)."""
    out = {}
    for lang in ("en", "zh"):
        url = f"sqlite:///{tmp_path_factory.mktemp('demo-' + lang) / 'demo.db'}"
        done = mkt("demo", "--db-url", url, env=sandbox, lang=lang)
        assert done.returncode == 0, done.stdout[-2000:] + done.stderr
        out[lang] = (done.stdout, url)
    return out


def test_the_demo_tells_its_story_in_chinese(demo_runs) -> None:
    from visible_text import data_words

    from marketplace import db

    text, url = demo_runs["zh"]
    engine = db.make_engine(url)
    try:
        allowed = data_words(engine)
        allowed |= {part for word in allowed for part in word.split("'")}  # "People's" -> People
    finally:
        engine.dispose()
    titles = [line for line in text.splitlines() if line.startswith("[")]
    assert len(titles) > 20 and all(CJK.search(line) for line in titles)
    assert t("demo.step.sharing", "zh") in text and t("demo.audit_intact", "zh", checked="")[:5] in text
    found = zh_problems(text, allowed)
    assert found == [], "\n".join(found)


def test_a_clock_report_words_escalations_and_expiries_in_chinese() -> None:
    from types import SimpleNamespace

    from marketplace.i18n import clock_report_lines

    report = SimpleNamespace(
        previous="2025-04-02", today="2026-01-05", warnings=[],
        breached=[{"request": "REQ-2025-000006", "stage": "compliance", "due": "2025-04-07",
                   "outcome": "escalate"}],
        expired=[{"kind": "grant", "code": "GRT-2025-000004"}],
    )
    lines = clock_report_lines(report, "zh")
    assert len(lines) == 3 and zh_problems("\n".join(lines)) == []
    assert t("action.escalate", "zh") in lines[1] and t("enum.grant", "zh") in lines[2]


def test_the_demo_keeps_its_english(demo_runs) -> None:
    text, _ = demo_runs["en"]
    assert not CJK.search(text)
    for line in (
        "[1] Sandbox clock",
        "    policy conditions: no_onward_transfer, report_usage, expires_after(days=365)",
        "    quote | Paid: purpose industry_development is in the paid list of national-2025",
        "    clock: 2025-03-03 -> 2025-03-18",
        "    obligation exit: return or destroy the data within 20 working days of the end (exit duty opened "
        "when the authorization ends)",
        "    decision: winner Capitol City Public Data Operations Co. (highest weighted score 80.00; "
        "qualified applicants: 1); on public notice until 2025-03-25",
    ):
        assert line in text.splitlines(), line
    assert "disqualified, selection.qualification.security_level" in text


# ---------------------------------------------------------------- policy show

POLICIES = ("national-2025", "sme-discount", "deemed-approval", "direct-award", "market-pricing",
            "open-by-default", "strict-privacy")


@pytest.mark.parametrize("name", POLICIES)
def test_policy_show_reads_in_chinese(sandbox, name: str) -> None:
    out = mkt("policy", "show", name, env=sandbox, lang="zh")
    assert out.returncode == 0, out.stderr
    found = zh_problems(out.stdout, {"holidays"})  # the package the official schedule comes from
    assert found == [], "\n".join(found)
    assert t("summary.section.sources", "zh") in out.stdout


def test_policy_show_cites_documents_by_their_chinese_titles(sandbox) -> None:
    from marketplace.policy import DOCUMENTS, load_policy, policy_summary

    out = mkt("policy", "show", "national-2025", env=sandbox, lang="zh").stdout
    cited = {d for src in policy_summary(load_policy("national-2025")).sources for d in src.documents}
    assert len(cited) >= 6
    for doc in DOCUMENTS:
        if doc.id in cited:
            assert f"《{doc.title_zh}》" in out, doc.id
    assert "《公共数据资源授权运营实施规范（试行）》（发改数据规〔2025〕27号）" in out


def test_policy_show_keeps_its_english(sandbox) -> None:
    out = mkt("policy", "show", "national-2025", env=sandbox, lang="en").stdout
    assert "《" not in out and "（" not in out  # titles in Chinese are for Chinese readers
    for line in (
        "national-2025 (version 2025.1)",
        "  free: [public_governance, public_welfare]",
        "  progressive tiers: from 10001: x0.90; from 100001: x0.80",
        "  discounts: none",
        "  weights: technical 30%, security 30%, service_plan 20%, fee_proposal 20%",
        "  authorization.max_term_years: 发改数据规〔2025〕27号: an authorization runs for at most 5 years",
    ):
        assert line in out.splitlines(), line


def test_a_note_someone_changed_is_shown_as_written() -> None:
    from marketplace.i18n import policy_note

    shipped = "发改数据规〔2025〕27号: an authorization runs for at most 5 years"
    worded = policy_note("authorization.max_term_years", shipped, "zh")
    assert worded != shipped and CJK.search(worded.replace("发改数据规〔2025〕27号", ""))
    mine = "my own reading: at most 5 years"
    assert policy_note("authorization.max_term_years", mine, "zh") == mine
    assert policy_note("authorization.max_term_years", shipped, "en") == shipped


# ---------------------------------------------------------------- found walking the command line in Chinese


def test_policy_diff_names_parameters_in_chinese(sandbox) -> None:
    out = mkt("policy", "diff", "national-2025", "sme-discount", env=sandbox, lang="zh")
    assert out.returncode == 0, out.stderr
    assert zh_problems(out.stdout) == []
    assert "pricing.discounts" not in out.stdout
    english = mkt("policy", "diff", "national-2025", "sme-discount", env=sandbox, lang="en").stdout
    assert "pricing.discounts.by_size.micro      0  ->  0.50" in english.splitlines()


@pytest.mark.parametrize(
    "args",
    [("catalog", "list"), ("catalog", "show", "RES-000003"), ("catalog", "search", "patient")],
)
def test_the_catalog_names_domains_in_chinese(sandbox, args: tuple[str, ...]) -> None:
    from visible_text import data_words

    from marketplace import db

    out = mkt(*args, env=sandbox, lang="zh")
    assert out.returncode == 0, out.stderr
    engine = db.make_engine(sandbox["MARKETPLACE_DB_URL"])
    try:
        allowed = data_words(engine)
    finally:
        engine.dispose()
    found = zh_problems(out.stdout, allowed)
    assert found == [], "\n".join(found)
