"""`marketplace release --compare-compute`: notebook 04's trade-off figures for a resource, in the report."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from marketplace import db
from marketplace.cli import run
from marketplace.synth import seed_sandbox


def _run(args: list[str]) -> int:
    with pytest.raises(SystemExit) as info:
        run(args)
    return int(info.value.code)


@pytest.fixture
def seeded() -> None:
    db.create_all()
    seed_sandbox(db.get_engine(), seed=42, size="small")


def test_compare_compute_reports_three_answers_and_the_sweep(
    seeded: None, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out, report = tmp_path / "out.csv", tmp_path / "report.json"
    args = ["release", "RES-000005", "--rows", "4000", "--k", "10", "--out", str(out),
            "--report", str(report),
            "--compare-compute", "--min-cell", "10", "--epsilon", "0.5"]
    assert _run(args) == 0
    printed = capsys.readouterr().out
    assert "question: mean length_of_stay by age band of 10 and district" in printed
    payload = json.loads(report.read_text())["compare_compute"]
    answers = {a["method"]: a for a in payload["answers"]}
    assert answers["rows"]["risk"] <= 0.1 and answers["sql"]["risk"] == 0.1
    assert answers["dp"]["risk"] == pytest.approx(0.5, rel=1e-3)
    assert answers["sql"]["cells_unanswered"] > 0
    sweep = payload["sweep"]
    assert {r["method"] for r in sweep} == {"rows", "sql", "dp"}
    rows = sorted((r for r in sweep if r["method"] == "rows"), key=lambda r: r["parameter"])
    assert [r["risk"] for r in rows] == sorted((r["risk"] for r in rows), reverse=True)
    assert rows[0]["error"] < rows[-1]["error"]  # more generalization, more error


def test_compare_compute_bad_input_changes_nothing(
    seeded: None, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "out.csv"
    assert _run(["release", "RES-000005", "--rows", "500", "--out", str(out), "--compare-compute",
                 "--epsilon", "0"]) == 2
    assert "--epsilon" in capsys.readouterr().err and not out.exists()
    assert _run(["release", "RES-000008", "--rows", "500", "--out", str(out), "--compare-compute"]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "numeric and a categorical quasi-identifier" in err
    assert not out.exists()


def test_a_catalog_resource_environment_verifies_an_enterprise_registration(seeded: None) -> None:
    """Verification on a seeded enterprise register: yes for a registered credit code and name, else no."""
    from sqlmodel import Session, select

    from marketplace.compute import resource_environment, verify_record
    from marketplace.models import Resource
    from marketplace.policy import load_policy
    from marketplace.policy.compute import compute_grant

    with Session(db.get_engine()) as session:
        resource = session.exec(select(Resource).where(Resource.domain == "enterprise_registry")).first()
        fields = [(f.name, f.marking.value) for f in resource.fields]
        env = resource_environment(resource, 500, seed=3)
        grant = compute_grant(load_policy("national-2025"), grant_id=1, requester_id=2,
                              resource_id=resource.id, fields=fields)
        row = env.frame.iloc[42]
        asked = {"credit_code": row.credit_code, "company_name": row.company_name}
        yes = verify_record(session, grant, env, asked)
        no = verify_record(session, grant, env, {**asked, "company_name": "Nobody Ltd"})
        assert (yes.value, no.value) == (True, False)
        assert env.frame.equals(resource_environment(resource, 500, seed=3).frame)  # same seed, same rows
        env.close()
