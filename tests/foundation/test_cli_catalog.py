"""`marketplace catalog show | search` as a user types them: real subprocesses, real exit codes."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def mkt(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "marketplace", *args],
        capture_output=True,
        text=True,
        env=env,
        cwd=ROOT,
        timeout=120,
    )


@pytest.fixture(scope="module")
def seeded(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    home = tmp_path_factory.mktemp("catalog-cli")
    env = dict(os.environ, MARKETPLACE_HOME=str(home), MARKETPLACE_DB_URL=f"sqlite:///{home / 'cli.db'}")
    env.pop("MARKETPLACE_LANG", None)
    out = mkt("seed", "--seed", "7", env=env)
    assert out.returncode == 0, out.stderr
    return env


def test_show_prints_facts_schema_with_roles_registration_channels_and_products(seeded) -> None:
    found = json.loads(mkt("catalog", "search", "annual reports", "--json", env=seeded).stdout)
    code = found["rows"][0]["code"]
    card = json.loads(mkt("catalog", "show", code, "--json", env=seeded).stdout)
    assert card["code"] == code and card["fields"] and card["channels"]
    assert {"name", "type", "role", "description"} <= set(card["fields"][0])
    assert card["products"] and card["products"][0]["code"].startswith("PRD-")
    out = mkt("catalog", "show", code, env=seeded)
    assert out.returncode == 0, out.stderr
    for words in (
        "Privacy marking",
        "Channels under the policy in force",
        "Registration",
        "Products made from it",
    ):
        assert words in out.stdout
    assert card["products"][0]["code"] in out.stdout
    zh = mkt("catalog", "show", code, env={**seeded, "MARKETPLACE_LANG": "zh"})
    assert "以其加工的产品" in zh.stdout and "Products made" not in zh.stdout


def test_search_matches_title_description_and_field_names_with_paging(seeded) -> None:
    everything = json.loads(mkt("catalog", "list", "--json", env=seeded).stdout)
    by_field = json.loads(mkt("catalog", "search", "patient_NAME", "--json", env=seeded).stdout)
    assert by_field["total"] >= 1 and all("patient_name" in r["matched_fields"] for r in by_field["rows"])
    everyone = json.loads(mkt("catalog", "search", "", "--limit", "500", "--json", env=seeded).stdout)
    assert everyone["total"] == len(everything)
    pages = []
    for offset in range(0, everyone["total"], 7):
        page = json.loads(
            mkt("catalog", "search", "", "--limit", "7", "--offset", str(offset), "--json", env=seeded).stdout
        )
        assert page["total"] == everyone["total"] and len(page["rows"]) <= 7
        pages += [r["code"] for r in page["rows"]]
    assert pages == sorted(r["code"] for r in everything)
    text = mkt("catalog", "search", "Capitol", "--limit", "3", env=seeded).stdout
    assert text.startswith("Resources 1–3 of") and "--offset 3" in text
    assert (
        "第 1–3 项资源"
        in mkt(
            "catalog", "search", "Capitol", "--limit", "3", env={**seeded, "MARKETPLACE_LANG": "zh"}
        ).stdout
    )
    assert "No resource matches" in mkt("catalog", "search", "zzzz-nothing", env=seeded).stdout


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (["catalog", "show", "RES-999999"], "CODE"),
        (["catalog", "show", "'; drop table resource; --"], "CODE"),
        (["catalog", "search", "x", "--limit", "0"], "--limit"),
        (["catalog", "search", "x", "--offset", "-1"], "--offset"),
        (["catalog", "search", "x", "--offset", "18446744073709551616"], "--offset"),
        (["catalog", "search", "x" * 201], "TEXT"),
    ],
)
def test_bad_input_is_one_line_exit_2(seeded, args, needle) -> None:
    out = mkt(*args, env=seeded)
    lines = out.stderr.strip().splitlines()
    assert out.returncode == 2 and len(lines) == 1 and needle in lines[0], out.stderr
    assert "Traceback" not in out.stderr
