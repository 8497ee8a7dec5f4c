"""`marketplace release`: CSV + JSON report from a resource's synthetic rows; one-line errors, exit 2."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from pycanon_oracle import PycanonOracle

from marketplace import db
from marketplace.cli import privacy_cmd, run
from marketplace.models import Organization, Resource, ResourceField
from marketplace.vocabulary import (
    FieldMarking,
    FieldType,
    Grade,
    OpeningAttribute,
    OrganizationKind,
    SharingAttribute,
)

FIELDS = [
    ("name", FieldType.string, FieldMarking.identifier),
    ("age", FieldType.integer, FieldMarking.quasi_identifier),
    ("district", FieldType.category, FieldMarking.quasi_identifier),
    ("diagnosis", FieldType.category, FieldMarking.sensitive),
    ("cost", FieldType.number, FieldMarking.other),
]


def _store(code: str, fields: list[tuple]) -> None:
    db.create_all()
    with db.session_scope() as session:
        org = Organization(code=f"org-{code}", name="Health Bureau", kind=OrganizationKind.department)
        session.add(org)
        session.flush()
        res = Resource(
            code=code,
            title="Hospital admissions",
            domain="health",
            holder_id=org.id,
            grade=Grade.important,
            sharing_attribute=SharingAttribute.conditional,
            opening_attribute=OpeningAttribute.not_open,
        )
        session.add(res)
        session.flush()
        for i, (name, dtype, marking, *gen) in enumerate(fields):
            session.add(
                ResourceField(
                    resource_id=res.id,
                    position=i,
                    name=name,
                    dtype=dtype,
                    marking=marking,
                    generator=gen[0] if gen else "",
                    params=gen[1] if len(gen) > 1 else {},
                )
            )


def _fake_rows(resource: Resource, rows: int, seed: int) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    return pd.DataFrame(
        {
            "name": [f"Person {i}" for i in range(rows)],
            "age": rng.integers(0, 95, rows),
            "district": rng.choice(["North", "South", "East", "West"], rows),
            "diagnosis": rng.choice(["J18", "I10", "E11", "C34"], rows),
            "cost": rng.gamma(2, 3000, rows).round(2),
        }
    )


def _run(args: list[str]) -> int:
    with pytest.raises(SystemExit) as info:
        run(args)
    return int(info.value.code)


def test_release_writes_csv_and_report(
    anonymity: PycanonOracle,
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    _store("RES-H1", FIELDS)
    monkeypatch.setattr(privacy_cmd, "_synthetic_rows", _fake_rows)
    out, report = tmp_path / "out.csv", tmp_path / "report.json"
    args = [
        "release",
        "RES-H1",
        "--rows",
        "500",
        "--k",
        "7",
        "--l",
        "2",
        "--out",
        str(out),
        "--report",
        str(report),
        "--seed",
        "3",
    ]
    assert _run(args) == 0
    assert "RES-H1: k=" in capsys.readouterr().out
    table = pd.read_csv(out, dtype=str)
    assert list(table.columns) == ["age", "district", "diagnosis", "cost"]
    assert anonymity.k_anonymity(table, ["age", "district"]) >= 7
    assert anonymity.l_diversity(table, ["age", "district"], ["diagnosis"]) >= 2
    data = json.loads(report.read_text())
    assert data["resource"] == "RES-H1" and data["seed"] == 3 and data["rows_in"] == 500
    assert data["columns"] == {
        "identifiers": ["name"],
        "quasi_identifiers": ["age", "district"],
        "sensitive": ["diagnosis"],
        "other": ["cost"],
    }
    for key in (
        "k_achieved",
        "l_achieved",
        "prosecutor_risk_max",
        "prosecutor_risk_avg",
        "ncp",
        "rows_released",
        "rows_suppressed",
        "epsilon_spent",
        "ncp_definition",
        "risk_average_definition",
    ):
        assert key in data
    first = out.read_bytes()
    assert _run(args) == 0
    assert out.read_bytes() == first  # same seed, same release


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (["release", "NOPE", "--rows", "50", "--out", "{out}"], "resource 'NOPE' not found"),
        (
            ["release", "RES-H2", "--rows", "50", "--k", "60", "--out", "{out}"],
            "k=60 is larger than the table",
        ),
        (["release", "RES-H2", "--rows", "0", "--out", "{out}"], "--rows"),
        (["release", "RES-H2", "--rows", "50", "--l", "2.5", "--out", "{out}"], "l: got 2.5"),
    ],
)
def test_bad_input_is_one_line_exit_2(
    args: list[str],
    needle: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    _store("RES-H2", FIELDS)
    monkeypatch.setattr(privacy_cmd, "_synthetic_rows", _fake_rows)
    out = tmp_path / "out.csv"
    assert _run([a.replace("{out}", str(out)) for a in args]) == 2
    err = capsys.readouterr().err
    assert needle in err and len(err.strip().splitlines()) == 1 and "Traceback" not in err
    assert not out.exists()


def test_release_with_the_real_synthetic_generator(anonymity: PycanonOracle, tmp_path: Path) -> None:
    S, C, INT, N, D = (FieldType.string, FieldType.category, FieldType.integer, FieldType.number,
                       FieldType.date)
    ident, qi, sens, other = (
        FieldMarking.identifier,
        FieldMarking.quasi_identifier,
        FieldMarking.sensitive,
        FieldMarking.other,
    )
    fields = [
        ("patient_name", S, ident, "person_name"),
        ("national_id", S, ident, "national_id"),
        ("sex", C, qi, "sex"),
        ("age", INT, qi, "age", {"min": 0, "max": 95}),
        ("district", C, qi, "district"),
        ("postcode", C, qi, "postcode"),
        ("diagnosis", C, sens, "diagnosis"),
        ("icd10", C, sens, "icd_code"),
        ("admission_date", D, other, "admission_date"),
        ("discharge_date", D, other, "discharge_date"),
        ("treatment_cost", N, sens, "treatment_cost"),
    ]
    _store("RES-H3", fields)
    out, report = tmp_path / "out.csv", tmp_path / "report.json"
    assert (
        _run(
            [
                "release",
                "RES-H3",
                "--rows",
                "2000",
                "--k",
                "5",
                "--l",
                "2",
                "--out",
                str(out),
                "--report",
                str(report),
                "--seed",
                "1",
            ]
        )
        == 0
    )
    data = json.loads(report.read_text())
    table = pd.read_csv(out, dtype=str, keep_default_na=False)
    assert anonymity.k_anonymity(table, data["quasi_identifiers"]) == data["k_achieved"] >= 5
    assert data["identifiers"] == ["patient_name", "national_id"]
    assert not {"patient_name", "national_id"} & set(table.columns)
