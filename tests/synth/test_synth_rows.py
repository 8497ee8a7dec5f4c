"""Synthetic rows: determinism, schema and dtypes, correlations, date order, nesting, the generic fallback."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from marketplace.errors import InvalidInput
from marketplace.models import ResourceField
from marketplace.synth import build_world, rows
from marketplace.synth.spec import regions
from marketplace.vocabulary import FieldType

DTYPE_CHECK = {
    FieldType.integer: pd.api.types.is_integer_dtype,
    FieldType.number: pd.api.types.is_float_dtype,
    FieldType.date: pd.api.types.is_datetime64_any_dtype,
    FieldType.boolean: pd.api.types.is_bool_dtype,
    FieldType.string: pd.api.types.is_string_dtype,
    FieldType.category: pd.api.types.is_string_dtype,
}


@pytest.fixture(scope="module")
def world():
    return build_world(42)


@pytest.mark.parametrize("locale", ["en_US", "zh_CN"])
def test_every_template_generates_its_columns_with_their_dtypes(world, locale) -> None:
    for res in world.resources:
        df = rows(res, 200, seed=3, locale=locale)
        assert list(df.columns) == [f.name for f in res.fields], res.template
        assert len(df) == 200
        for f in res.fields:
            assert DTYPE_CHECK[f.dtype](df[f.name]), (res.template, f.name, df[f.name].dtype)
            assert not df[f.name].isna().any(), (res.template, f.name)


def test_same_seed_same_frame_and_different_seed_different_frame(world) -> None:
    res = world.resource("hospital_admissions")
    a, b, c = rows(res, 2000, 11), rows(res, 2000, 11), rows(res, 2000, 12)
    pd.testing.assert_frame_equal(a, b)
    assert not a.equals(c)
    assert (a["patient_name"] != c["patient_name"]).mean() > 0.5


def test_adding_a_column_does_not_change_the_others(world) -> None:
    res = world.resource("insured_persons")
    full = rows(res, 500, 5)
    fewer = rows(SimpleNamespace(code=res.code, fields=res.fields[:4]), 500, 5)
    pd.testing.assert_frame_equal(full.iloc[:, :4], fewer)


def test_identifiers_look_real_in_both_locales(world) -> None:
    res = world.resource("population_register")
    en = rows(res, 1000, 1, "en_US")
    zh = rows(res, 1000, 1, "zh_CN")
    assert en["full_name"].str.contains(" ").all()
    assert en["national_id"].str.fullmatch(r"\d{3}-\d{2}-\d{4}").all()
    assert en["phone"].str.fullmatch(r"\(\d{3}\) \d{3}-\d{4}").all()
    assert zh["phone"].str.fullmatch(r"1\d{10}").all()
    assert en["full_name"].nunique() > 500 and en["address"].nunique() > 900
    assert zh["full_name"].map(lambda s: all("\u4e00" <= ch <= "\u9fff" for ch in s)).all()


def test_chinese_national_ids_encode_birth_date_sex_district_and_checksum(world) -> None:
    df = rows(world.resource("population_register"), 2000, 9, "zh_CN")
    weights = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2]
    for pid, birth, sex in zip(df["national_id"], df["birth_date"], df["sex"], strict=True):
        assert len(pid) == 18
        assert pid[6:14] == birth.strftime("%Y%m%d")
        assert "10X98765432"[sum(int(d) * w for d, w in zip(pid[:17], weights, strict=True)) % 11] == pid[17]
        assert (int(pid[16]) % 2 == 1) == (sex == "男")


@pytest.mark.parametrize("locale", ["en_US", "zh_CN"])
def test_districts_nest_in_cities_and_postcodes_follow_districts(world, locale) -> None:
    df = rows(world.resource("population_register"), 5000, 2, locale)
    cities = regions(locale)["cities"]
    city_of = {d: c["name"] for c in cities for d, _ in c["districts"]}
    post_of = {d: p for c in cities for d, p in c["districts"]}
    assert (df["district"].map(city_of) == df["city"]).all()
    assert (df["district"].map(post_of) == df["postcode"]).all()
    assert df["city"].nunique() > 3
    if locale == "en_US":
        assert all(
            f"{d}, {c} {p}" in a
            for a, d, c, p in zip(df["address"], df["district"], df["city"], df["postcode"], strict=True)
        )


def test_income_rises_with_age_and_education(world) -> None:
    df = rows(world.resource("insured_persons"), 20000, 4)
    assert df["age"].corr(df["monthly_wage"]) > 0.2
    levels = ["Primary", "Lower secondary", "Upper secondary", "Vocational", "Bachelor", "Postgraduate"]
    by_level = df.groupby("education")["monthly_wage"].median().reindex(levels).dropna()
    assert by_level.is_monotonic_increasing
    base = df.sort_values("monthly_wage")["contribution_base"]
    assert base.is_monotonic_increasing and base.iloc[0] > base.min() - 1 and base.nunique() > 1000
    assert df["months_contributed"].corr(df["age"]) > 0.5


def test_diagnosis_depends_on_age_and_sex_and_dates_are_ordered(world) -> None:
    df = rows(world.resource("hospital_admissions"), 20000, 6)
    assert (df["discharge_date"] >= df["admission_date"]).all()
    stay = (df["discharge_date"] - df["admission_date"]).dt.days
    assert stay.corr(df["treatment_cost"]) > 0.5
    old = df[df["age"] >= 65]["diagnosis"].value_counts(normalize=True)
    young = df[df["age"] < 15]["diagnosis"].value_counts(normalize=True)
    assert old.get("Hypertension", 0) > 0.05 > young.get("Hypertension", 0)
    assert young.get("Upper respiratory infection", 0) > old.get("Upper respiratory infection", 0)
    assert set(df.loc[df["diagnosis"] == "Childbirth", "sex"]) <= {"F"}
    icd = dict(zip(df["diagnosis"], df["icd10"], strict=True))
    assert icd["Pneumonia"] == "J18"


def test_companies_size_drives_employees_revenue_and_tax(world) -> None:
    df = rows(world.resource("enterprise_tax_returns"), 10000, 8)
    order = ["micro", "small", "medium", "large"]
    med = df.groupby("company_size")["employees"].median().reindex(order)
    assert med.is_monotonic_increasing
    assert np.log(df["employees"]).corr(np.log(df["revenue"])) > 0.7
    assert df["revenue"].corr(df["tax_paid"]) > 0.7
    assert df.groupby("credit_code")["company_name"].nunique().max() == 1


def test_house_prices_air_quality_and_births_are_consistent(world) -> None:
    h = rows(world.resource("housing_transactions"), 3000, 1)
    assert np.allclose(h["total_price"], h["floor_area_m2"] * h["unit_price"], atol=0.01)
    a = rows(world.resource("air_quality_daily"), 3000, 1)
    assert a["pm25"].corr(a["aqi"]) > 0.9 and a["pm25"].corr(a["pm10"]) > 0.8
    b = rows(world.resource("birth_registry"), 3000, 1)
    assert b["gestation_weeks"].corr(b["birth_weight_g"]) > 0.4
    assert (b["mother_age"].between(18, 45)).all()
    s = rows(world.resource("student_enrollment"), 3000, 1)
    assert (s["grade_level"] == (s["age"] - 5).clip(1, 12)).all()


def test_generic_fallback_for_declared_fields_without_generators() -> None:
    declared = SimpleNamespace(
        domain="imported",
        template="",
        fields=[
            ("resident_name", "string", "identifier", "", {}),
            ("mobile", "string", "identifier", "", {}),
            ("Age", "integer", "quasi_identifier", "", {}),
            ("gender", "category", "quasi_identifier", "", {}),
            ("monthly_salary", "number", "sensitive", "", {}),
            ("visit_date", "date", "other", "", {}),
            ("flag", "boolean", "other", "", {}),
            ("status", "category", "other", "", {"values": ["open", "closed"]}),
            ("remarks", "string", "other", "no-such-generator", {}),
        ],
    )
    df = rows(declared, 500, 1)
    assert list(df.columns) == [f[0] for f in declared.fields]
    assert df["resident_name"].str.contains(" ").all()
    assert df["Age"].between(0, 95).all()
    assert set(df["gender"]) == {"M", "F"}
    assert set(df["status"]) == {"open", "closed"}
    assert df["monthly_salary"].gt(0).all() and pd.api.types.is_datetime64_any_dtype(df["visit_date"])
    assert df["Age"].corr(df["monthly_salary"]) > 0.1  # the fallback still shares the person latent


def test_rows_accepts_model_resource_fields(world) -> None:
    res = world.resource("traffic_violations")
    fields = [
        ResourceField(
            name=f.name,
            dtype=f.dtype,
            marking=f.marking,
            generator=f.generator,
            params=f.params,
            resource_id=1,
            position=i,
        )
        for i, f in enumerate(res.fields)
    ]
    model_like = SimpleNamespace(code=res.code, template=res.template, domain=res.domain, fields=fields)
    pd.testing.assert_frame_equal(rows(model_like, 300, 2), rows(res, 300, 2))


def test_a_generator_that_does_not_fit_the_dtype_falls_back_by_type() -> None:
    odd = SimpleNamespace(code="X", fields=[("district_code", "integer", "other", "district", {})])
    df = rows(odd, 50, 1)
    assert pd.api.types.is_integer_dtype(df["district_code"])


@pytest.mark.parametrize(
    ("kwargs", "field"), [({"rows": -1}, "rows"), ({"seed": -2}, "seed"), ({"locale": "de_DE"}, "locale")]
)
def test_bad_arguments_name_the_field(world, kwargs, field) -> None:
    args = {"rows": 5, "seed": 1, "locale": "en_US", **kwargs}
    with pytest.raises(InvalidInput) as err:
        rows(world.resource("bus_routes"), **args)
    assert err.value.field == field


def test_bad_field_declarations_name_the_field() -> None:
    with pytest.raises(InvalidInput) as err:
        rows(SimpleNamespace(fields=[("x", "blob", "other", "", {})]), 5, 1)
    assert "x" in err.value.field
    with pytest.raises(InvalidInput):
        rows(object(), 5, 1)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(seed=st.integers(0, 2**32 - 1), n=st.integers(0, 300), locale=st.sampled_from(["en_US", "zh_CN"]))
def test_property_shape_order_and_determinism(world, seed, n, locale) -> None:
    res = world.resource("hospital_admissions")
    df = rows(res, n, seed, locale)
    assert df.shape == (n, len(res.fields))
    assert (df["discharge_date"] >= df["admission_date"]).all()
    assert df["age"].between(0, 95).all()
    pd.testing.assert_frame_equal(df, rows(res, n, seed, locale))


def test_sandbox_rows_follow_the_locale_the_world_was_seeded_with(sqlite_engine) -> None:
    from sqlmodel import Session, select

    from marketplace.models import Resource
    from marketplace.synth import rows, sandbox_rows, seed_sandbox

    seed_sandbox(sqlite_engine, 5, "small", "zh_CN")
    with Session(sqlite_engine) as s:
        res = s.exec(select(Resource).order_by(Resource.id)).first()
        got = sandbox_rows(res, 50, 1)
        assert got.equals(rows(res, 50, 1, "zh_CN"))
        assert not got.equals(rows(res, 50, 1, "en_US"))
