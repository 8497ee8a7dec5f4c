"""De-identification pipeline: formats, roles, report, impossible targets, agreement with pycanon."""

from __future__ import annotations

import json
from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest
from pycanon_oracle import PycanonOracle

from marketplace.errors import InvalidInput, PrivacyError
from marketplace.models import ResourceField
from marketplace.privacy import Hierarchy, deidentify, pseudonym
from marketplace.vocabulary import FieldMarking, FieldType

QIS = ["age", "postcode", "sex", "visit"]


def people(n: int = 600, seed: int = 7) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    return pd.DataFrame(
        {
            "citizen_id": [f"1101{i:014d}" for i in range(n)],
            "name": [f"Name{i:05d}" for i in range(n)],
            "age": rng.integers(18, 90, n),
            "postcode": rng.choice(["100081", "100082", "100190", "200010", "200011", "310000"], n),
            "sex": rng.choice(["F", "M"], n),
            "visit": pd.Timestamp("2023-01-01") + pd.to_timedelta(rng.integers(0, 365, n), unit="D"),
            "diagnosis": rng.choice(["flu", "asthma", "diabetes", "fracture", "migraine"], n),
            "income": rng.normal(6000, 1500, n).round(2),
            "visits": rng.integers(1, 9, n),
        }
    )


SCHEMA = {
    "citizen_id": "identifier",
    "name": FieldMarking.identifier,
    "age": "quasi_identifier",
    "postcode": "quasi_identifier",
    "sex": "quasi_identifier",
    "visit": "quasi_identifier",
    "diagnosis": "sensitive",
    "income": "sensitive",
}


def test_release_agrees_with_pycanon_and_reports_roles(anonymity: PycanonOracle) -> None:
    df = people()
    release = deidentify(df, SCHEMA, k=5, l=3)
    table, report = release.table, release.report
    assert anonymity.k_anonymity(table, QIS) == report.k_achieved >= 5
    assert anonymity.l_diversity(table, QIS, ["diagnosis", "income"]) == report.l_achieved >= 3
    assert report.columns == {
        "identifiers": ["citizen_id", "name"],
        "quasi_identifiers": QIS,
        "sensitive": ["diagnosis", "income"],
        "other": ["visits"],
    }
    assert list(table.columns) == ["age", "postcode", "sex", "visit", "diagnosis", "income", "visits"]
    assert report.equivalence_classes == table.groupby(QIS).ngroups
    assert report.prosecutor_risk_max == pytest.approx(1 / table.groupby(QIS).size().min())
    sizes = table.groupby(QIS)["age"].transform("size")
    assert report.prosecutor_risk_avg == pytest.approx((1 / sizes).mean())
    assert report.epsilon_spent is None
    assert 0 < report.ncp < 1
    # released columns other than quasi-identifiers are unchanged, as a multiset
    kept = df.loc[:, ["diagnosis", "income", "visits"]]
    if report.rows_suppressed == 0:
        assert sorted(map(tuple, table[kept.columns].to_numpy())) == sorted(map(tuple, kept.to_numpy()))
    json.dumps(report.to_dict())  # JSON-ready


def test_released_formats_are_ranges_and_hierarchy_labels() -> None:
    df = people()
    table = deidentify(df, SCHEMA, k=10, l=2).table
    assert table["age"].str.fullmatch(r"\d+(-\d+)?").all()
    for value in table["age"]:
        lo, _, hi = value.partition("-")
        assert 18 <= int(lo) <= int(hi or lo) <= 89
    assert table["visit"].str.fullmatch(r"\d{4}-\d\d-\d\d(\.\.\d{4}-\d\d-\d\d)?").all()
    assert table["postcode"].str.fullmatch(r"\d*\**").all()  # prefix hierarchy: 100081 -> 1000** -> *
    # every released range contains the source values of its rows: check one class against the source
    row = table.iloc[0]
    lo, _, hi = row["age"].partition("-")
    assert df["age"].between(int(lo), int(hi or lo)).any()


def test_negative_numbers_use_double_dot_ranges() -> None:
    df = pd.DataFrame({"t": np.arange(-10, 10), "s": ["a", "b"] * 10})
    table = deidentify(df, {"t": "quasi_identifier", "s": "sensitive"}, k=5, l=2).table
    assert set(table["t"]) == {"-10..-6", "-5..-1", "0-4", "5-9"}


def test_schema_from_resource_field_rows_and_dtype(anonymity: PycanonOracle) -> None:
    df = pd.DataFrame(
        {
            "id": [f"P{i}" for i in range(40)],
            "year": [str(1950 + i) for i in range(40)],
            "code": [str(i % 4) for i in range(40)],
            "sick": ["y", "n"] * 20,
        }
    )
    fields = [
        ResourceField(resource_id=1, name="id", dtype=FieldType.string, marking=FieldMarking.identifier),
        ResourceField(
            resource_id=1, name="year", dtype=FieldType.integer, marking=FieldMarking.quasi_identifier
        ),
        ResourceField(
            resource_id=1, name="code", dtype=FieldType.category, marking=FieldMarking.quasi_identifier
        ),
        ResourceField(resource_id=1, name="sick", dtype=FieldType.boolean, marking=FieldMarking.sensitive),
    ]
    release = deidentify(df, fields, k=4, l=2)
    assert release.table["year"].str.fullmatch(r"\d{4}-\d{4}").all()  # integer dtype: ranges, not categories
    assert release.report.columns["identifiers"] == ["id"]
    assert anonymity.k_anonymity(release.table, ["year", "code"]) >= 4
    # duck-typed fields are accepted too
    ducks = [SimpleNamespace(name=f.name, marking=f.marking, dtype=f.dtype) for f in fields]
    assert deidentify(df, ducks, k=4, l=2).table.equals(release.table)


def test_user_hierarchy_district_city_province_and_bands(anonymity: PycanonOracle) -> None:
    rng = np.random.default_rng(1)
    districts = {
        "Haidian": "Beijing",
        "Chaoyang": "Beijing",
        "Pudong": "Shanghai",
        "Xuhui": "Shanghai",
        "Tianhe": "Guangzhou",
        "Yuexiu": "Guangzhou",
    }
    provinces = {"Beijing": "Beijing-M", "Shanghai": "Shanghai-M", "Guangzhou": "Guangdong"}
    n = 300
    df = pd.DataFrame(
        {
            "district": rng.choice(list(districts), n),
            "age": rng.integers(20, 60, n),
            "illness": rng.choice(list("ABCD"), n),
        }
    )
    hier = {"district": Hierarchy.from_parents(districts, provinces), "age": Hierarchy.bands((10, 20))}
    release = deidentify(
        df,
        {"district": "quasi_identifier", "age": "quasi_identifier", "illness": "sensitive"},
        k=20,
        l=2,
        hierarchies=hier,
    )
    allowed = {"*", *districts, *districts.values(), *provinces.values()}
    assert set(release.table["district"]) <= allowed
    assert set(release.table["age"]) <= {"*", "20-39", "40-59", "20-29", "30-39", "40-49", "50-59"}
    assert anonymity.k_anonymity(release.table, ["district", "age"]) >= 20


def test_pseudonyms_are_keyed_and_linkable() -> None:
    df = people(200)
    a = deidentify(df, SCHEMA, k=5, l=2, pseudonym_key=b"k1").table
    b = deidentify(df, SCHEMA, k=5, l=2, pseudonym_key=b"k1").table
    c = deidentify(df, SCHEMA, k=5, l=2, pseudonym_key=b"k2").table
    assert a.equals(b)  # deterministic, and the same key links the same person across releases
    expected = {pseudonym(b"k1", "citizen_id", v) for v in df["citizen_id"]}
    assert set(a["citizen_id"]) <= expected and len(set(a["citizen_id"])) == len(a)
    assert set(a["citizen_id"]).isdisjoint(c["citizen_id"])
    assert set(a["citizen_id"]).isdisjoint(df["citizen_id"])
    assert deidentify(df, SCHEMA, k=5, l=2, pseudonym_key=b"k1").report.pseudonymised == [
        "citizen_id",
        "name",
    ]


def test_release_order_does_not_follow_source_order() -> None:
    df = people(300)
    shuffled = df.sample(frac=1.0, random_state=3)
    a = deidentify(df, SCHEMA, k=5, l=2).table
    b = deidentify(shuffled, SCHEMA, k=5, l=2).table
    assert list(a.index) == list(range(len(a)))
    assert a.equals(b)


def test_entropy_l_diversity(anonymity: PycanonOracle) -> None:
    df = people()
    release = deidentify(df, SCHEMA, k=5, l=2.5, l_kind="entropy")
    assert release.report.l_kind == "entropy"
    assert release.report.l_achieved >= 2.5
    assert anonymity.entropy_l_diversity(release.table, QIS, ["diagnosis", "income"]) >= 2


def test_ncp_bounds() -> None:
    df = people(300)
    loose = deidentify(df, SCHEMA, k=2, l=1).report
    tight = deidentify(df, SCHEMA, k=60, l=1).report
    whole = deidentify(df, SCHEMA, k=300, l=1).report
    assert 0 <= loose.ncp < tight.ncp < whole.ncp <= 1
    assert whole.ncp == pytest.approx(1.0)  # a single class spans every range and every category
    assert whole.equivalence_classes == 1
    unique = pd.DataFrame({"x": range(50), "s": ["a", "b"] * 25})
    assert (
        deidentify(unique, {"x": "quasi_identifier"}, k=1, l=1).report.ncp == 0.0
    )  # k=1: nothing generalized
    assert set(deidentify(df, SCHEMA, k=5, l=2).report.ncp_by_column) == set(QIS)


def test_no_quasi_identifiers_is_one_class() -> None:
    df = people(30)
    report = deidentify(df, {"name": "identifier", "diagnosis": "sensitive"}, k=5, l=2).report
    assert report.k_achieved == 30 and report.equivalence_classes == 1 and report.ncp == 0.0


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"k": 601}, "larger than the table"),
        ({"k": 5, "l": 6}, "fewer than ℓ"),
    ],
)
def test_impossible_targets_are_refused(kwargs: dict, message: str) -> None:
    with pytest.raises(PrivacyError, match=message):
        deidentify(people(), SCHEMA, **kwargs)


def test_entropy_target_above_the_whole_table_is_refused() -> None:
    df = people(100).assign(diagnosis=["flu"] * 90 + ["asthma"] * 5 + ["migraine"] * 5)  # 3 values, skewed
    with pytest.raises(PrivacyError, match=r"'diagnosis' reaches entropy ℓ=1.48 .*below ℓ=2"):
        deidentify(df, SCHEMA, k=5, l=2, l_kind="entropy")
    assert deidentify(df, SCHEMA, k=5, l=2).report.l_achieved == 2  # distinct ℓ=2 is possible


def test_suppression_budget_too_small_is_refused(anonymity: PycanonOracle) -> None:
    df = people(100)
    df.loc[:9, "age"] = np.nan  # 10 rows cannot be placed in any age range
    with pytest.raises(PrivacyError, match=r"suppression budget too small.*10 rows.*allows 5 of 100"):
        deidentify(df, SCHEMA, k=5, l=2, suppression_budget=0.05)
    release = deidentify(df, SCHEMA, k=5, l=2, suppression_budget=0.10)
    assert release.report.rows_suppressed == 10 and release.report.rows_released == 90
    assert anonymity.k_anonymity(release.table, QIS) >= 5


def test_small_categorical_children_are_suppressed_within_budget_only(anonymity: PycanonOracle) -> None:
    # one rare postcode: with budget it is suppressed so the others can be told apart; without, it is merged
    n = 203
    df = pd.DataFrame(
        {
            "postcode": ["100081"] * 100 + ["100082"] * 100 + ["999999"] * 3,
            "s": ["a", "b", "c"] * 67 + ["a", "b"],
        }
    )
    schema = {"postcode": "quasi_identifier", "s": "sensitive"}
    with_budget = deidentify(df, schema, k=10, l=2, suppression_budget=0.05)
    assert with_budget.report.rows_suppressed == 3
    assert set(with_budget.table["postcode"]) == {"100081", "100082"}
    without = deidentify(df, schema, k=10, l=2, suppression_budget=0.0)
    assert without.report.rows_suppressed == 0 and len(without.table) == n
    assert anonymity.k_anonymity(without.table, ["postcode"]) >= 10


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"k": 0}, "k"),
        ({"k": 2.5}, "k"),
        ({"l": 0}, "l"),
        ({"l": 2.5}, "l"),
        ({"l_kind": "recursive"}, "l_kind"),
        ({"suppression_budget": 1.5}, "suppression_budget"),
        ({"pseudonym_key": "text"}, "pseudonym_key"),
        ({"hierarchies": {"diagnosis": Hierarchy.flat()}}, "hierarchies"),
    ],
)
def test_bad_arguments_name_the_field(kwargs: dict, field: str) -> None:
    with pytest.raises(InvalidInput) as info:
        deidentify(people(50), SCHEMA, **kwargs)
    assert info.value.field == field


def test_bad_schema_names_the_column() -> None:
    with pytest.raises(InvalidInput, match=r"schema\[age\].*quasi_identifier"):
        deidentify(people(50), {"age": "quasi"})
    with pytest.raises(InvalidInput, match="mapping or field rows"):
        deidentify(people(50), None)
    with pytest.raises(InvalidInput, match="columns of the table"):
        deidentify(people(50), {"nope": "identifier"})
    df = people(50).assign(age=["x"] * 50)
    fields = [SimpleNamespace(name="age", marking="quasi_identifier", dtype="integer")]
    with pytest.raises(InvalidInput, match=r"age.*numbers"):
        deidentify(df, fields)
    with pytest.raises(InvalidInput, match=r"schema\[age\].dtype"):
        deidentify(df, [SimpleNamespace(name="age", marking="quasi_identifier", dtype="int")])


def test_dates_of_every_shape_and_nullable_numbers() -> None:
    n = 40
    df = pd.DataFrame({
        "a": pd.array([1, None, *range(38)], dtype="Int64"),
        "local": pd.date_range("2024-01-01", periods=n, tz="Asia/Shanghai"),
        "plain": [pd.Timestamp("2024-01-01").date() + pd.Timedelta(days=i) for i in range(n)],
        "text": [f"2024-02-{i % 28 + 1:02d}" for i in range(n)],
        "s": ["x", "y"] * 20,
    })
    fields = [SimpleNamespace(name="a", marking="quasi_identifier", dtype="integer"),
              SimpleNamespace(name="local", marking="quasi_identifier", dtype="date"),
              SimpleNamespace(name="plain", marking="quasi_identifier", dtype="date"),
              SimpleNamespace(name="text", marking="quasi_identifier", dtype="date"),
              SimpleNamespace(name="s", marking="sensitive", dtype="category")]
    release = deidentify(df, fields, k=5, l=2, suppression_budget=0.05)
    assert release.report.rows_suppressed == 1  # the row without `a`
    dates = r"\d{4}-\d\d-\d\d(\.\.\d{4}-\d\d-\d\d)?"
    for column in ("local", "plain", "text"):
        assert release.table[column].str.fullmatch(dates).all()
    assert release.table["local"].str[:10].min() == "2024-01-01"  # local calendar dates, not shifted to UTC
    with pytest.raises(InvalidInput, match="got 'nope'"):
        deidentify(df.assign(text=["2024-01-01"] * 39 + ["nope"]), fields[3:4], k=5, l=1)
