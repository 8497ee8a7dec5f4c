"""Releases that cannot leak: reviewed schema roles of every seeded resource (dates, record ids), no
release of identifiers alone, no k or ℓ below the policy in force; dates checked against pycanon."""

from __future__ import annotations

import json
from pathlib import Path
from types import SimpleNamespace

import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st

from marketplace import db
from marketplace.cli import run
from marketplace.errors import InvalidInput, PrivacyError
from marketplace.models import Organization, Resource, ResourceField
from marketplace.privacy import check_release_targets, deidentify, is_personal, review_markings
from marketplace.synth import rows, templates
from marketplace.vocabulary import (
    FieldMarking,
    FieldType,
    Grade,
    OpeningAttribute,
    OrganizationKind,
    SharingAttribute,
)

PERSONAL = [t for t in templates() if is_personal(t.fields)]


def _run(args: list[str]) -> int:
    with pytest.raises(SystemExit) as info:
        run(args)
    return int(info.value.code)


def _store(code: str, fields: list[tuple[str, FieldType, FieldMarking, str]]) -> None:
    db.create_all()
    with db.session_scope() as session:
        org = Organization(code=f"org-{code}", name="Transport Bureau", kind=OrganizationKind.department)
        session.add(org)
        session.flush()
        res = Resource(
            code=code,
            title="Card holders",
            domain="transport",
            holder_id=org.id,
            grade=Grade.important,
            sharing_attribute=SharingAttribute.conditional,
            opening_attribute=OpeningAttribute.not_open,
        )
        session.add(res)
        session.flush()
        for i, (name, dtype, marking, generator) in enumerate(fields):
            session.add(
                ResourceField(
                    resource_id=res.id, position=i, name=name, dtype=dtype, marking=marking,
                    generator=generator,
                )
            )


# ---------------------------------------------------------------- the seeded schemas


def test_there_are_personal_seeded_resources() -> None:
    assert len(PERSONAL) >= 15


@pytest.mark.parametrize("template", PERSONAL, ids=lambda t: t.name)
def test_seeded_schema_meets_the_review_floor(template) -> None:
    assert review_markings(list(template.fields)) == []
    for f in template.fields:
        if f.dtype is FieldType.date:
            assert f.marking is FieldMarking.quasi_identifier, f.name
        if f.generator == "record_id" and "pool" not in f.params:
            assert f.marking is FieldMarking.identifier, f.name


@pytest.mark.parametrize("template", PERSONAL, ids=lambda t: t.name)
def test_seeded_release_keeps_k_with_dates_counted_as_quasi_identifiers(template, anonymity) -> None:
    df = rows(template, 2000, 11, "en_US")
    release = deidentify(df, list(template.fields), k=5, l=2)
    table = release.table.astype(str)
    dates = [f.name for f in template.fields if f.dtype is FieldType.date]
    qis = list(dict.fromkeys([*release.report.quasi_identifiers, *dates]))
    if qis:
        assert anonymity.k_anonymity(table, qis) == release.report.k_achieved >= 5
    # no per-record value leaves the release unchanged
    for f in template.fields:
        if f.marking is FieldMarking.identifier:
            assert f.name not in table.columns
    for column in table.columns:
        if column not in release.report.quasi_identifiers:
            continue
        assert table[column].nunique() < len(table), column


def test_pseudonyms_differ_between_releases() -> None:
    template = next(t for t in PERSONAL if t.name == "traffic_violations")
    df = rows(template, 500, 3, "en_US")
    a = deidentify(df, list(template.fields), k=5, l=2, pseudonym_key=b"key-one").table
    b = deidentify(df, list(template.fields), k=5, l=2, pseudonym_key=b"key-two").table
    assert "notice_id" in a.columns
    assert not set(a["notice_id"]) & set(df["notice_id"])
    assert not set(a["notice_id"]) & set(b["notice_id"])


# ---------------------------------------------------------------- the review rule


def _field(name: str, dtype: str, marking: str, generator: str = "", params: dict | None = None):
    return SimpleNamespace(name=name, dtype=dtype, marking=marking, generator=generator, params=params or {})


def test_review_raises_dates_and_record_ids_of_tables_about_people() -> None:
    fields = [
        _field("notice_id", "string", "other", "record_id"),
        _field("plate_number", "string", "identifier"),
        _field("driver_age", "integer", "quasi_identifier"),
        _field("issued_on", "date", "other"),
        _field("stop", "string", "other", "record_id", {"pool": 40}),
        _field("fine", "number", "other"),
        _field("case_no", "string", "other"),
    ]
    changes = {c.name: c.after for c in review_markings(fields)}
    assert changes == {
        "notice_id": FieldMarking.identifier,
        "issued_on": FieldMarking.quasi_identifier,
        "case_no": FieldMarking.identifier,
    }


def test_review_leaves_tables_without_people_alone() -> None:
    fields = [_field("route_id", "string", "other", "record_id"), _field("opened_on", "date", "other")]
    assert review_markings(fields) == []


ORDER = {"other": 0, "sensitive": 1, "quasi_identifier": 1, "identifier": 2}


@given(
    st.lists(
        st.tuples(
            st.sampled_from(["id", "case_no", "age", "visit", "note", "amount"]),
            st.sampled_from([t.value for t in FieldType]),
            st.sampled_from([m.value for m in FieldMarking]),
        ),
        unique_by=lambda x: x[0],
        max_size=6,
    )
)
def test_review_only_raises_and_is_stable(spec: list[tuple[str, str, str]]) -> None:
    fields = [_field(*s) for s in spec]
    changes = review_markings(fields)
    for c in changes:
        assert c.before is FieldMarking.other and ORDER[c.after.value] > ORDER[c.before.value]
    after = {c.name: c.after.value for c in changes}
    reviewed = [_field(f.name, f.dtype, after.get(f.name, f.marking)) for f in fields]
    assert review_markings(reviewed) == []


# ---------------------------------------------------------------- refusals


def test_a_table_of_identifiers_only_is_refused() -> None:
    df = pd.DataFrame({"card_id": [f"C{i}" for i in range(50)], "phone": [f"139{i:08d}" for i in range(50)]})
    with pytest.raises(PrivacyError, match="no releasable column"):
        deidentify(df, {"card_id": "identifier", "phone": "identifier"}, k=5, l=1)
    with pytest.raises(PrivacyError, match="no releasable column"):
        deidentify(df, {"card_id": "identifier", "phone": "identifier"}, k=5, l=1, pseudonym_key=b"k")


def test_a_table_without_columns_is_refused() -> None:
    with pytest.raises(PrivacyError, match="has no columns"):
        deidentify(pd.DataFrame(index=range(20)), {}, k=5, l=1)


def test_targets_below_the_policy_are_refused() -> None:
    with pytest.raises(InvalidInput, match="k: got 1; expected a whole number >= 5"):
        check_release_targets(1, 2, minimum_k=5, minimum_l=2, policy="national-2025")
    with pytest.raises(InvalidInput, match="l: got 1"):
        check_release_targets(5, 1, minimum_k=5, minimum_l=2, policy="national-2025")
    check_release_targets(5, 2, minimum_k=5, minimum_l=2, policy="national-2025")


def test_cli_refuses_an_all_identifier_resource(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    _store(
        "RES-ID1",
        [
            ("card_id", FieldType.string, FieldMarking.identifier, "card_id"),
            ("holder_name", FieldType.string, FieldMarking.identifier, "person_name"),
        ],
    )
    out = tmp_path / "out.csv"
    assert _run(["release", "RES-ID1", "--rows", "500", "--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert "no releasable column" in err and len(err.strip().splitlines()) == 1
    assert not out.exists()


@pytest.mark.parametrize(("option", "value"), [("--k", "1"), ("--k", "4"), ("--l", "1")])
def test_cli_refuses_targets_below_the_policy(
    option: str, value: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    _store(
        "RES-K1",
        [
            ("holder_age", FieldType.integer, FieldMarking.quasi_identifier, "age"),
            ("card_type", FieldType.category, FieldMarking.sensitive, "card_type"),
        ],
    )
    out = tmp_path / "out.csv"
    assert _run(["release", "RES-K1", "--rows", "200", option, value, "--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert f"{option[2:]}: got {value}" in err and "national-2025" in err
    assert len(err.strip().splitlines()) == 1 and not out.exists()


def test_cli_pseudonymises_with_a_key_of_its_own(tmp_path: Path) -> None:
    _store(
        "RES-P1",
        [
            ("notice_id", FieldType.string, FieldMarking.identifier, "record_id"),
            ("driver_age", FieldType.integer, FieldMarking.quasi_identifier, "age"),
            ("violation", FieldType.category, FieldMarking.sensitive, "category"),
        ],
    )
    tokens = []
    for name in ("a", "b"):
        out, report = tmp_path / f"{name}.csv", tmp_path / f"{name}.json"
        args = ["release", "RES-P1", "--rows", "300", "--pseudonymise", "--out", str(out)]
        args += ["--report", str(report)]
        assert _run(args) == 0
        assert json.loads(report.read_text())["pseudonymised"] == ["notice_id"]
        tokens.append(set(pd.read_csv(out, dtype=str)["notice_id"]))
    assert tokens[0] and not tokens[0] & tokens[1]


def test_cli_applies_the_floor_to_a_schema_stored_before_review(tmp_path: Path, anonymity) -> None:
    _store(
        "RES-OLD",
        [
            ("notice_id", FieldType.string, FieldMarking.other, "record_id"),
            ("driver_age", FieldType.integer, FieldMarking.quasi_identifier, "age"),
            ("violation", FieldType.category, FieldMarking.sensitive, "category"),
            ("issued_on", FieldType.date, FieldMarking.other, "event_date"),
        ],
    )
    out, report = tmp_path / "out.csv", tmp_path / "report.json"
    args = ["release", "RES-OLD", "--rows", "1000", "--out", str(out), "--report", str(report)]
    assert _run(args) == 0
    data = json.loads(report.read_text())
    assert data["identifiers"] == ["notice_id"]
    assert data["quasi_identifiers"] == ["driver_age", "issued_on"]
    table = pd.read_csv(out, dtype=str)
    assert "notice_id" not in table.columns
    assert anonymity.k_anonymity(table, ["driver_age", "issued_on"]) >= 5
