"""`marketplace` housekeeping commands as a user types them: real subprocesses, real exit codes."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def mkt(*args: str, env: dict[str, str], stdin: str | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "marketplace", *args], capture_output=True, text=True,
                          env=env, input=stdin, cwd=ROOT, timeout=120)


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    e = dict(os.environ)
    e["MARKETPLACE_HOME"] = str(tmp_path)
    e["MARKETPLACE_DB_URL"] = f"sqlite:///{tmp_path / 'cli.db'}"
    return e


@pytest.fixture
def seeded(env: dict[str, str]) -> dict[str, str]:
    out = mkt("seed", "--seed", "7", env=env)
    assert out.returncode == 0, out.stderr
    return env


def test_help_lists_the_subcommands(env) -> None:
    out = mkt("--help", env=env)
    assert out.returncode == 0
    for sub in ("info", "seed", "reset", "catalog"):
        assert f"  {sub} " in out.stdout or f"  {sub}\n" in out.stdout, sub


def test_info_counts_every_entity(seeded) -> None:
    out = mkt("info", "--json", env=seeded)
    assert out.returncode == 0, out.stderr
    data = json.loads(out.stdout)
    assert data["database"].startswith("sqlite:///")
    assert data["counts"]["organization"] >= 80 and data["counts"]["resource"] >= 30
    text = mkt("info", env=seeded).stdout
    assert "organizations" in text and "access requests" in text  # what the tables hold, in words
    assert "accessrequest" not in text and "sharinglistentry" not in text  # --json keeps the table names


def test_catalog_list_filters_by_domain_grade_and_channel(seeded) -> None:
    everything = json.loads(mkt("catalog", "list", "--json", env=seeded).stdout)
    assert len(everything) >= 30
    health = json.loads(mkt("catalog", "list", "--domain", "health", "--json", env=seeded).stdout)
    assert health and {r["domain"] for r in health} == {"health"}
    core = json.loads(mkt("catalog", "list", "--grade", "core", "--json", env=seeded).stdout)
    assert core and {r["grade"] for r in core} == {"core"}
    opening = json.loads(mkt("catalog", "list", "--channel", "opening", "--json", env=seeded).stdout)
    assert opening and all("opening" in r["channels"] for r in opening)
    assert not any(r["grade"] == "core" for r in opening)
    assert len(opening) < len(everything)


@pytest.mark.parametrize(("args", "needle"), [
    (["catalog", "list", "--grade", "secret"], "--grade"),
    (["catalog", "list", "--domain", "astrology"], "--domain"),
    (["seed", "--size", "huge"], "--size"),
    (["seed", "--locale", "fr_FR"], "--locale"),
    (["seed", "--seed", "-1"], "--seed"),
])
def test_bad_input_is_one_clear_line_exit_2_and_changes_nothing(seeded, args, needle) -> None:
    before = mkt("info", "--json", env=seeded).stdout
    out = mkt(*args, env=seeded)
    assert out.returncode == 2
    lines = out.stderr.strip().splitlines()
    assert len(lines) == 1 and needle in lines[0], out.stderr
    assert "Traceback" not in out.stderr
    assert mkt("info", "--json", env=seeded).stdout == before


def test_unreachable_database_is_one_line_exit_2(env) -> None:
    env["MARKETPLACE_DB_URL"] = "postgresql+psycopg://nobody@127.0.0.1:1/none"
    for args in (["info"], ["seed"], ["catalog", "list"]):
        out = mkt(*args, env=env)
        assert out.returncode == 2, (args, out.stderr)
        lines = out.stderr.strip().splitlines()
        assert len(lines) == 1 and "MARKETPLACE_DB_URL" in lines[0] and "Traceback" not in out.stderr


def test_reset_asks_unless_yes(seeded) -> None:
    refused = mkt("reset", env=seeded, stdin="n\n")
    assert refused.returncode != 0
    assert json.loads(mkt("info", "--json", env=seeded).stdout)["counts"]["organization"] > 0
    done = mkt("reset", "--yes", env=seeded)
    assert done.returncode == 0, done.stderr
    assert json.loads(mkt("info", "--json", env=seeded).stdout)["counts"]["organization"] == 0
