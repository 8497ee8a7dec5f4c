"""Synthetic rows for any resource: `rows(resource, n, seed, locale)` -> a pandas DataFrame.

Columns are correlated through shared *latent* draws, computed once per table: one person (sex, age, birth
date, district) explains name, national ID, address, postcode, education and income; one admission explains
the discharge date and the cost; one company explains its size, employees, revenue and tax. Faker is slow per
call, so it only fills value *pools* (first names, surnames, streets, companies), once per locale and pool,
seeded with `Faker.seed_instance`; numpy then samples and combines them for every row. Each latent has its own
generator derived from (seed, resource, latent name), so a column does not change when another column is added
or removed.

Generators are hand-written because the correlations (diagnosis by age and sex, ID numbers that encode the
birth date and district, postcodes nested in districts) are the point; Faker and numpy do the drawing.
"""

from __future__ import annotations

import zlib
from collections.abc import Callable, Sequence
from datetime import date
from functools import cache
from typing import Any

import numpy as np
import pandas as pd
from faker import Faker

from marketplace.errors import InvalidInput
from marketplace.synth.spec import FieldSpec, check_locale, epoch, regions, vocab
from marketplace.vocabulary import FieldMarking, FieldType

__all__ = ["GENERATORS", "field_specs", "rows"]

POOL_SIZE = {
    "first_male": 400,
    "first_female": 400,
    "last": 400,
    "street": 600,
    "company": 3000,
    "email_word": 300,
}
_DAY = np.timedelta64(1, "D")


def _h(*parts: Any) -> int:
    return zlib.crc32("\x1f".join(map(str, parts)).encode())


# ---------------------------------------------------------------- Faker pools (once per locale and pool)


def fake_company(fake: Faker, locale: str) -> str:
    """A company name; zh_CN Faker knows only a few hundred, so it gets a place-name prefix, as firms have."""
    return fake.city_name() + fake.company() if locale == "zh_CN" else fake.company()


@cache
def _pool(locale: str, kind: str) -> np.ndarray:
    fake = Faker(locale)
    fake.seed_instance(_h("pool", locale, kind))
    make: Callable[[], str] = {
        "first_male": fake.first_name_male,
        "first_female": fake.first_name_female,
        "last": fake.last_name,
        "street": (lambda: fake.city_name() + fake.random_element(["路", "街", "大道", "巷"]))
        if locale == "zh_CN"
        else fake.street_name,
        "company": lambda: fake_company(fake, locale),
        "email_word": fake.user_name,
    }[kind]
    values = list(dict.fromkeys(make() for _ in range(POOL_SIZE[kind])))  # distinct, in draw order
    return np.array(values, dtype=object)


@cache
def _geo(locale: str) -> dict[str, Any]:
    """Flat district arrays of the locale's region file: names, city, postcode, coordinates, price level."""
    cities = regions(locale)["cities"]
    d_name, d_city, d_post, d_lat, d_lon = [], [], [], [], []
    for ci, c in enumerate(cities):
        nd = len(c["districts"])
        for k, (name, post) in enumerate(c["districts"]):
            angle = 2 * np.pi * k / nd
            d_name.append(name)
            d_city.append(ci)
            d_post.append(post)
            d_lat.append(c["lat"] + (0.06 * np.sin(angle) if k else 0.0))
            d_lon.append(c["lon"] + (0.06 * np.cos(angle) if k else 0.0))
    counts = np.array([len(c["districts"]) for c in cities])
    return {
        "city_names": np.array([c["name"] for c in cities], dtype=object),
        "city_weights": np.array([c["weight"] for c in cities], float) / sum(c["weight"] for c in cities),
        "city_offset": np.concatenate([[0], np.cumsum(counts)[:-1]]),
        "city_ndist": counts,
        "district_names": np.array(d_name, dtype=object),
        "district_city": np.array(d_city),
        "district_post": np.array(d_post, dtype=object),
        "district_lat": np.array(d_lat),
        "district_lon": np.array(d_lon),
        "district_code": np.array(
            [f"35{ci + 1:02d}{k + 1:02d}" for ci, c in enumerate(cities) for k in range(len(c["districts"]))],
            dtype=object,
        ),
    }


def _labels(name: str, locale: str) -> tuple[np.ndarray, np.ndarray]:
    items = vocab()[name]["items"]
    labels = np.array([it[locale] for it in items], dtype=object)
    w = np.array([float(it.get("w", 1.0)) for it in items])
    return labels, w / w.sum()


# ---------------------------------------------------------------- the per-table context


class _Table:
    """One table being generated: row count, locale, field list, and the latent draws shared by columns."""

    def __init__(self, fields: Sequence[FieldSpec], n: int, seed: int, key: str, locale: str) -> None:
        self.fields, self.n, self.seed, self.key, self.locale = fields, n, seed, key, locale
        self.geo = _geo(locale)
        self._latent: dict[str, np.ndarray] = {}
        self.zh = locale == "zh_CN"

    def rng(self, name: str) -> np.random.Generator:
        return np.random.default_rng([self.seed, _h(self.key), _h(name)])

    def param(self, generator: str, key: str, default: Any = None) -> Any:
        """A parameter of the first field using `generator` (latents take their shape from it)."""
        for f in self.fields:
            if f.generator == generator and key in f.params:
                return f.params[key]
        return default

    def any_param(self, key: str, default: Any = None) -> Any:
        for f in self.fields:
            if key in f.params:
                return f.params[key]
        return default

    def latent(self, name: str) -> np.ndarray:
        if name not in self._latent:
            self._latent[name] = _LATENTS[name](self, self.rng(name))
        return self._latent[name]


# ---------------------------------------------------------------- latent draws (shared by columns)


def _l_sex(t: _Table, rng: np.random.Generator) -> np.ndarray:
    """True = female."""
    fixed = t.any_param("sex")
    if fixed in ("F", "M"):
        return np.full(t.n, fixed == "F")
    return rng.random(t.n) < 0.5


def _l_age(t: _Table, rng: np.random.Generator) -> np.ndarray:
    lo, hi = int(t.param("age", "min", 0)), int(t.param("age", "max", 95))
    # a population pyramid: more young and middle-aged than old people
    return (lo + np.floor(rng.beta(1.5, 2.0, t.n) * (hi - lo + 1))).astype(np.int64).clip(lo, hi)


def _l_birth(t: _Table, rng: np.random.Generator) -> np.ndarray:
    ref = np.datetime64(epoch().date(), "D")
    days = (t.latent("age") * 365.25 + rng.integers(0, 365, t.n)).astype(np.int64)
    return ref - days * _DAY


def _l_district(t: _Table, rng: np.random.Generator) -> np.ndarray:
    g = t.geo
    city = rng.choice(len(g["city_names"]), size=t.n, p=g["city_weights"])
    return g["city_offset"][city] + np.floor(rng.random(t.n) * g["city_ndist"][city]).astype(np.int64)


def _l_education(t: _Table, rng: np.random.Generator) -> np.ndarray:
    """Ordinal level 0..5; younger adults are more educated (expansion of schooling)."""
    age = t.latent("age")
    z = rng.normal(0.0, 1.0, t.n) - 0.025 * (age - 40)
    return np.digitize(z, [-1.6, -0.9, -0.2, 0.3, 1.3]).astype(np.int64)


def _l_income(t: _Table, rng: np.random.Generator) -> np.ndarray:
    """Monthly income: rises with experience to the mid-fifties, then falls; +~25% per education level."""
    age = t.latent("age").astype(float)
    base = 6500.0 if t.zh else 3200.0
    log_inc = (
        np.log(base)
        + 0.035 * (np.minimum(age, 55) - 35)
        - 0.03 * np.maximum(age - 58, 0)
        + 0.22 * (t.latent("education") - 2.5)
        + rng.normal(0, 0.35, t.n)
    )
    return np.round(np.exp(log_inc), 2)


def _l_diagnosis(t: _Table, rng: np.random.Generator) -> np.ndarray:
    items = vocab()["diagnosis"]["items"]
    w = np.array([it["w"] for it in items], float)  # (k, 4 bands)
    band = np.digitize(t.latent("age"), [15, 45, 65])
    female = t.latent("sex")
    out = np.empty(t.n, np.int64)
    for b in range(4):
        for fem in (False, True):
            idx = np.flatnonzero((band == b) & (female == fem))
            if not idx.size:
                continue
            p = w[:, b].copy()
            p[[i for i, it in enumerate(items) if it.get("sex") == ("M" if fem else "F")]] = 0.0
            out[idx] = rng.choice(len(items), size=idx.size, p=p / p.sum())
    return out


def _l_admission(t: _Table, rng: np.random.Generator) -> np.ndarray:
    ref = np.datetime64(epoch().date(), "D")
    return ref - rng.integers(20, 400, t.n) * _DAY


def _l_los(t: _Table, rng: np.random.Generator) -> np.ndarray:
    mean = np.array([it["los"] for it in vocab()["diagnosis"]["items"]], float)[t.latent("diagnosis")]
    mean = mean * (1 + 0.01 * np.maximum(t.latent("age") - 50, 0))
    return 1 + rng.poisson(np.maximum(mean - 1, 0.2))


def _l_event(t: _Table, rng: np.random.Generator) -> np.ndarray:
    return _dates(t, rng, t.param("event_date", "start"), t.param("event_date", "end"))


def _l_company(t: _Table, rng: np.random.Generator) -> np.ndarray:
    """Row -> company (index into the company pool); big tables repeat companies, as monthly filings do."""
    pool = _pool(t.locale, "company")
    n_comp = min(len(pool), max(50, t.n // 3))
    chosen = rng.choice(len(pool), size=n_comp, replace=False)
    return chosen[rng.integers(0, n_comp, t.n)]


def _l_company_size(t: _Table, rng: np.random.Generator) -> np.ndarray:
    per_company = rng.choice(4, size=len(_pool(t.locale, "company")), p=[0.55, 0.28, 0.13, 0.04])
    return per_company[t.latent("company")]


def _l_employees(t: _Table, rng: np.random.Generator) -> np.ndarray:
    sizes = vocab()["company_size"]["items"]
    lo = np.array([s["employees"][0] for s in sizes], float)
    hi = np.array([s["employees"][1] for s in sizes], float)
    u = rng.random(len(_pool(t.locale, "company")))[t.latent("company")]
    s = t.latent("company_size")
    return np.round(np.exp(np.log(lo[s]) + u * (np.log(hi[s]) - np.log(lo[s])))).astype(np.int64)


def _l_revenue(t: _Table, rng: np.random.Generator) -> np.ndarray:
    rpe = np.array([s["revenue_per_employee"] for s in vocab()["company_size"]["items"]], float)
    scale = 1.0 if t.zh else 0.15
    return np.round(
        t.latent("employees") * rpe[t.latent("company_size")] * scale * rng.lognormal(0, 0.35, t.n), 2
    )


def _l_ability(t: _Table, rng: np.random.Generator) -> np.ndarray:
    return rng.normal(0, 1, t.n)


def _l_area(t: _Table, rng: np.random.Generator) -> np.ndarray:
    return np.round(rng.lognormal(np.log(90), 0.35, t.n), 2)


def _l_unit_price(t: _Table, rng: np.random.Generator) -> np.ndarray:
    level = np.random.default_rng(_h("price-level", t.locale)).lognormal(
        0, 0.35, len(t.geo["district_names"])
    )
    base = 22000.0 if t.zh else 3500.0
    return np.round(base * level[t.latent("district")] * rng.lognormal(0, 0.12, t.n), 2)


def _l_pm25(t: _Table, rng: np.random.Generator) -> np.ndarray:
    doy = (t.latent("event_date") - t.latent("event_date").astype("datetime64[Y]")).astype(np.int64)
    return np.round(np.exp(3.3 + 0.45 * np.cos(2 * np.pi * doy / 365.25) + rng.normal(0, 0.35, t.n)), 1)


def _l_gestation(t: _Table, rng: np.random.Generator) -> np.ndarray:
    return np.clip(np.round(39.3 - np.abs(rng.normal(0, 1.8, t.n))), 26, 42).astype(np.int64)


_LATENTS: dict[str, Callable[[_Table, np.random.Generator], np.ndarray]] = {
    "sex": _l_sex,
    "age": _l_age,
    "birth_date": _l_birth,
    "district": _l_district,
    "education": _l_education,
    "income": _l_income,
    "diagnosis": _l_diagnosis,
    "admission": _l_admission,
    "los": _l_los,
    "event_date": _l_event,
    "company": _l_company,
    "company_size": _l_company_size,
    "employees": _l_employees,
    "revenue": _l_revenue,
    "ability": _l_ability,
    "area": _l_area,
    "unit_price": _l_unit_price,
    "pm25": _l_pm25,
    "gestation": _l_gestation,
}


# ---------------------------------------------------------------- column generators


def _dates(t: _Table, rng: np.random.Generator, start: Any, end: Any) -> np.ndarray:
    ref = epoch().date()
    lo = np.datetime64(date.fromisoformat(start) if start else date(ref.year - 1, ref.month, ref.day), "D")
    hi = np.datetime64(date.fromisoformat(end) if end else ref, "D") - (0 if end else 1) * _DAY
    span = max(int((hi - lo) / _DAY), 0)
    return lo + rng.integers(0, span + 1, t.n) * _DAY


def _digits(rng: np.random.Generator, n: int, k: int) -> np.ndarray:
    return rng.integers(0, 10**k, n)


Gen = Callable[[_Table, FieldSpec, np.random.Generator], Any]


def g_sex(t: _Table, f: FieldSpec, rng: np.random.Generator) -> np.ndarray:
    labels = np.array(["男", "女"] if t.zh else ["M", "F"], dtype=object)
    return labels[t.latent("sex").astype(np.int64)]


def g_person_name(t: _Table, f: FieldSpec, rng: np.random.Generator) -> np.ndarray:
    fem = t.latent("sex") if f.params.get("sex") is None else np.full(t.n, f.params["sex"] == "F")
    male, female, last = (_pool(t.locale, k) for k in ("first_male", "first_female", "last"))
    first = np.where(fem, female[rng.integers(0, len(female), t.n)], male[rng.integers(0, len(male), t.n)])
    surname = last[rng.integers(0, len(last), t.n)]
    return surname + first if t.zh else first + " " + surname


def g_national_id(t: _Table, f: FieldSpec, rng: np.random.Generator) -> list[str]:
    birth = t.latent("birth_date")
    if not t.zh:  # a US-style SSN: area-group-serial, never 000/666/9xx area
        area, group, serial = (
            rng.integers(1, 666, t.n),
            rng.integers(1, 100, t.n),
            rng.integers(1, 10000, t.n),
        )
        return [f"{a:03d}-{g:02d}-{s:04d}" for a, g, s in zip(area, group, serial, strict=True)]
    # GB 11643: district code + birth date + sequence (odd = male) + ISO 7064 MOD 11-2 check digit
    code = t.geo["district_code"][t.latent("district")]
    ymd = pd.DatetimeIndex(birth).strftime("%Y%m%d")
    seq = rng.integers(0, 500, t.n) * 2 + (~t.latent("sex")).astype(np.int64)
    body = [f"{c}{d}{s:03d}" for c, d, s in zip(code, ymd, seq, strict=True)]
    digits = np.frombuffer("".join(body).encode(), dtype=np.uint8).reshape(t.n, 17) - 48
    weights = np.array([7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2])
    check = np.array(list("10X98765432"))[(digits * weights).sum(axis=1) % 11]
    return [b + c for b, c in zip(body, check, strict=True)]


def g_phone(t: _Table, f: FieldSpec, rng: np.random.Generator) -> list[str]:
    if t.zh:
        prefix = rng.choice(
            np.array(["135", "136", "138", "139", "150", "158", "177", "186", "188", "199"]), t.n
        )
        return [f"{p}{d:08d}" for p, d in zip(prefix, _digits(rng, t.n, 8), strict=True)]
    a, b, c = rng.integers(201, 990, t.n), rng.integers(200, 1000, t.n), _digits(rng, t.n, 4)
    return [f"({x}) {y}-{z:04d}" for x, y, z in zip(a, b, c, strict=True)]


def g_street(t: _Table, f: FieldSpec, rng: np.random.Generator) -> np.ndarray:
    pool = _pool(t.locale, "street")
    return pool[rng.integers(0, len(pool), t.n)]


def g_address(t: _Table, f: FieldSpec, rng: np.random.Generator) -> np.ndarray:
    d = t.latent("district")
    street = g_street(t, f, rng)
    num = rng.integers(1, 300 if t.zh else 9900, t.n).astype(str).astype(object)
    district = t.geo["district_names"][d]
    city = t.geo["city_names"][t.geo["district_city"][d]]
    if t.zh:
        return city + district + street + num + "号"
    return num + " " + street + ", " + district + ", " + city + " " + t.geo["district_post"][d]


def g_city(t: _Table, f: FieldSpec, rng: np.random.Generator) -> np.ndarray:
    return t.geo["city_names"][t.geo["district_city"][t.latent("district")]]


def g_district(t: _Table, f: FieldSpec, rng: np.random.Generator) -> np.ndarray:
    return t.geo["district_names"][t.latent("district")]


def g_postcode(t: _Table, f: FieldSpec, rng: np.random.Generator) -> np.ndarray:
    return t.geo["district_post"][t.latent("district")]


def g_lat(t: _Table, f: FieldSpec, rng: np.random.Generator) -> np.ndarray:
    return np.round(t.geo["district_lat"][t.latent("district")] + rng.normal(0, 0.015, t.n), 6)


def g_lon(t: _Table, f: FieldSpec, rng: np.random.Generator) -> np.ndarray:
    return np.round(t.geo["district_lon"][t.latent("district")] + rng.normal(0, 0.015, t.n), 6)


def g_age(t: _Table, f: FieldSpec, rng: np.random.Generator) -> np.ndarray:
    return t.latent("age")


def g_birth_date(t: _Table, f: FieldSpec, rng: np.random.Generator) -> np.ndarray:
    return t.latent("birth_date")


def g_education(t: _Table, f: FieldSpec, rng: np.random.Generator) -> np.ndarray:
    return _labels("education", t.locale)[0][t.latent("education")]


def g_income(t: _Table, f: FieldSpec, rng: np.random.Generator) -> np.ndarray:
    return t.latent("income")


def g_income_tax(t: _Table, f: FieldSpec, rng: np.random.Generator) -> np.ndarray:
    """A simple progressive withholding on monthly income above an allowance."""
    inc = t.latent("income")
    allowance, brackets = (
        (5000.0, [(0, 0.03), (3000, 0.10), (12000, 0.20), (25000, 0.25)])
        if t.zh
        else (1000.0, [(0, 0.10), (1000, 0.12), (4000, 0.22), (8000, 0.24)])
    )
    taxable = np.maximum(inc - allowance, 0)
    tax = np.zeros(t.n)
    for i, (lo, rate) in enumerate(brackets):
        hi = brackets[i + 1][0] if i + 1 < len(brackets) else np.inf
        tax += np.clip(taxable - lo, 0, hi - lo) * rate
    return np.round(tax, 2)


def g_employer(t: _Table, f: FieldSpec, rng: np.random.Generator) -> np.ndarray:
    pool = _pool(t.locale, "company")
    return pool[rng.integers(0, len(pool), t.n)]


def g_contribution_base(t: _Table, f: FieldSpec, rng: np.random.Generator) -> np.ndarray:
    avg = 7500.0 if t.zh else 3500.0
    return np.round(np.clip(t.latent("income"), 0.6 * avg, 3.0 * avg), 2)


def g_months_contributed(t: _Table, f: FieldSpec, rng: np.random.Generator) -> np.ndarray:
    years = np.maximum(t.latent("age") - 18, 0)
    return np.round(years * 12 * rng.uniform(0.55, 1.0, t.n)).astype(np.int64)


def g_benefit_amount(t: _Table, f: FieldSpec, rng: np.random.Generator) -> np.ndarray:
    floor, cap = (1800.0, 4000.0) if t.zh else (450.0, 1200.0)
    return np.round(np.clip(0.55 * t.latent("income"), floor, cap), 2)


def g_diagnosis(t: _Table, f: FieldSpec, rng: np.random.Generator) -> np.ndarray:
    labels = np.array([it[t.locale] for it in vocab()["diagnosis"]["items"]], dtype=object)
    return labels[t.latent("diagnosis")]


def g_icd_code(t: _Table, f: FieldSpec, rng: np.random.Generator) -> np.ndarray:
    return np.array([it["code"] for it in vocab()["diagnosis"]["items"]], dtype=object)[t.latent("diagnosis")]


def g_admission_date(t: _Table, f: FieldSpec, rng: np.random.Generator) -> np.ndarray:
    return t.latent("admission")


def g_discharge_date(t: _Table, f: FieldSpec, rng: np.random.Generator) -> np.ndarray:
    return t.latent("admission") + t.latent("los") * _DAY


def g_length_of_stay(t: _Table, f: FieldSpec, rng: np.random.Generator) -> np.ndarray:
    return t.latent("los")


def g_treatment_cost(t: _Table, f: FieldSpec, rng: np.random.Generator) -> np.ndarray:
    per_day = 1800.0 if t.zh else 2600.0
    return np.round(t.latent("los") * per_day * rng.lognormal(0, 0.3, t.n) + per_day, 2)


def g_birth_weight(t: _Table, f: FieldSpec, rng: np.random.Generator) -> np.ndarray:
    gw = t.latent("gestation")
    return np.clip(np.round(3350 + 190 * (gw - 39.5) + rng.normal(0, 380, t.n)), 600, 5500).astype(np.int64)


def g_gestation_weeks(t: _Table, f: FieldSpec, rng: np.random.Generator) -> np.ndarray:
    return t.latent("gestation")


def g_event_date(t: _Table, f: FieldSpec, rng: np.random.Generator) -> np.ndarray:
    first = next(x for x in t.fields if x.generator == "event_date")
    if first.name == f.name:
        return t.latent("event_date")
    return _dates(t, rng, f.params.get("start"), f.params.get("end"))


def g_company_name(t: _Table, f: FieldSpec, rng: np.random.Generator) -> np.ndarray:
    return _pool(t.locale, "company")[t.latent("company")]


def g_credit_code(t: _Table, f: FieldSpec, rng: np.random.Generator) -> list[str]:
    """One code per company (derived from the company, so the pair is consistent across rows and tables)."""
    comp = t.latent("company")
    if t.zh:
        alphabet = np.array(list("0123456789ABCDEFGHJKLMNPQRTUWXY"))
        ids = np.random.default_rng(_h("credit", t.locale)).integers(
            0, 31, (len(_pool(t.locale, "company")), 10)
        )
        codes = t.geo["district_code"]
        tails = ["".join(r) for r in alphabet[ids]]
        return [f"91{codes[c % len(codes)]}{tails[c]}" for c in comp]
    ein = np.random.default_rng(_h("ein", t.locale)).integers(
        10_0000000, 99_9999999, len(_pool(t.locale, "company"))
    )
    return [f"{e // 10_000_000:02d}-{e % 10_000_000:07d}" for e in ein[comp]]


def g_company_size(t: _Table, f: FieldSpec, rng: np.random.Generator) -> np.ndarray:
    labels = np.array([s[t.locale] for s in vocab()["company_size"]["items"]], dtype=object)
    return labels[t.latent("company_size")]


def g_sector(t: _Table, f: FieldSpec, rng: np.random.Generator) -> np.ndarray:
    labels, _ = _labels("sector", t.locale)
    per_company = np.random.default_rng(_h("sector", t.locale)).integers(
        0, len(labels), len(_pool(t.locale, "company"))
    )
    return labels[per_company[t.latent("company")]]


def g_employees(t: _Table, f: FieldSpec, rng: np.random.Generator) -> np.ndarray:
    return t.latent("employees")


def g_revenue(t: _Table, f: FieldSpec, rng: np.random.Generator) -> np.ndarray:
    return t.latent("revenue")


def g_tax_paid(t: _Table, f: FieldSpec, rng: np.random.Generator) -> np.ndarray:
    return np.round(t.latent("revenue") * rng.uniform(0.02, 0.07, t.n), 2)


def g_registered_capital(t: _Table, f: FieldSpec, rng: np.random.Generator) -> np.ndarray:
    return np.round(t.latent("employees") * (50000.0 if t.zh else 8000.0) * rng.lognormal(0, 0.6, t.n), 2)


def g_founded_date(t: _Table, f: FieldSpec, rng: np.random.Generator) -> np.ndarray:
    ref = np.datetime64(epoch().date(), "D")
    years = rng.gamma(2.0, 2.0 + 3.0 * t.latent("company_size"))  # larger firms are older
    return ref - np.round(np.minimum(years, 60) * 365.25 + 30).astype(np.int64) * _DAY


def g_credit_rating(t: _Table, f: FieldSpec, rng: np.random.Generator) -> np.ndarray:
    labels, _ = _labels("credit_rating", t.locale)
    z = rng.normal(0, 1, t.n) - 0.5 * t.latent("company_size")  # larger firms rate better
    return labels[np.digitize(z, [-0.8, 0.4, 1.2, 2.0])]


def g_floor_area(t: _Table, f: FieldSpec, rng: np.random.Generator) -> np.ndarray:
    return t.latent("area")


def g_unit_price(t: _Table, f: FieldSpec, rng: np.random.Generator) -> np.ndarray:
    return t.latent("unit_price")


def g_total_price(t: _Table, f: FieldSpec, rng: np.random.Generator) -> np.ndarray:
    return np.round(t.latent("area") * t.latent("unit_price"), 2)


def g_school_name(t: _Table, f: FieldSpec, rng: np.random.Generator) -> np.ndarray:
    district = t.geo["district_names"][t.latent("district")]
    k = rng.integers(1, 9, t.n).astype(str).astype(object)
    return district + "第" + k + "中学" if t.zh else district + " School No. " + k


def g_grade_level(t: _Table, f: FieldSpec, rng: np.random.Generator) -> np.ndarray:
    return np.clip(t.latent("age") - 5, 1, 12).astype(np.int64)


def g_exam_score(t: _Table, f: FieldSpec, rng: np.random.Generator) -> np.ndarray:
    return np.round(np.clip(560 + 75 * t.latent("ability") + rng.normal(0, 20, t.n), 150, 750), 1)


def g_station(t: _Table, f: FieldSpec, rng: np.random.Generator) -> np.ndarray:
    district = t.geo["district_names"][t.latent("district")]
    k = rng.integers(1, 3, t.n).astype(str).astype(object)
    return district + "监测站" + k if t.zh else district + " station " + k


def g_pm25(t: _Table, f: FieldSpec, rng: np.random.Generator) -> np.ndarray:
    return t.latent("pm25")


def g_pm10(t: _Table, f: FieldSpec, rng: np.random.Generator) -> np.ndarray:
    return np.round(t.latent("pm25") * 1.7 * rng.lognormal(0, 0.15, t.n), 1)


def g_no2(t: _Table, f: FieldSpec, rng: np.random.Generator) -> np.ndarray:
    return np.round(12 + 0.45 * t.latent("pm25") + rng.normal(0, 5, t.n).clip(-10, None), 1)


def g_aqi(t: _Table, f: FieldSpec, rng: np.random.Generator) -> np.ndarray:
    """PM2.5 sub-index by the HJ 633 / EPA breakpoints (piecewise linear)."""
    return np.round(
        np.interp(t.latent("pm25"), [0, 35, 75, 115, 150, 250, 500], [0, 50, 100, 150, 200, 300, 500])
    ).astype(np.int64)


def g_card_id(t: _Table, f: FieldSpec, rng: np.random.Generator) -> list[str]:
    holders = np.random.default_rng(_h("cards", t.seed, t.key)).integers(10**9, 10**10, max(1, t.n // 8))
    return [f"C{c}" for c in holders[rng.integers(0, len(holders), t.n)]]


def g_plate_number(t: _Table, f: FieldSpec, rng: np.random.Generator) -> list[str]:
    letters = np.array(list("ABCDEFGHJKLMNPQRSTUVWXYZ"))
    a, b, c = (letters[rng.integers(0, 24, t.n)] for _ in range(3))
    num = rng.integers(0, 10000, t.n)
    if t.zh:
        return [f"闽{x}·{y}{z:04d}" for x, y, z in zip(a, b, num, strict=True)]
    return [f"{x}{y}{z}-{w:04d}" for x, y, z, w in zip(a, b, c, num, strict=True)]


def g_email(t: _Table, f: FieldSpec, rng: np.random.Generator) -> np.ndarray:
    words = _pool(t.locale, "email_word")
    num = rng.integers(1, 1000, t.n).astype(str).astype(object)
    host = np.array(["example.com", "example.net", "example.org"], dtype=object)[rng.integers(0, 3, t.n)]
    return words[rng.integers(0, len(words), t.n)] + num + "@" + host


def g_record_id(t: _Table, f: FieldSpec, rng: np.random.Generator) -> list[str]:
    prefix = str(f.params.get("prefix", f.name[:3].upper()))
    pool = f.params.get("pool")
    if pool:
        ids = rng.integers(1, int(pool) + 1, t.n)
        return [f"{prefix}{i:05d}" for i in ids]
    start = int(rng.integers(1, 10**6))
    return [f"{prefix}{i:08d}" for i in range(start, start + t.n)]


def g_count(t: _Table, f: FieldSpec, rng: np.random.Generator) -> np.ndarray:
    return rng.poisson(float(f.params.get("lam", 100)), t.n).astype(np.int64)


def g_amount(t: _Table, f: FieldSpec, rng: np.random.Generator) -> np.ndarray:
    return np.round(
        rng.lognormal(np.log(float(f.params.get("median", 100))), float(f.params.get("sigma", 0.8)), t.n), 2
    )


def g_integer(t: _Table, f: FieldSpec, rng: np.random.Generator) -> np.ndarray:
    return rng.integers(int(f.params.get("min", 0)), int(f.params.get("max", 1000)) + 1, t.n)


def g_number(t: _Table, f: FieldSpec, rng: np.random.Generator) -> np.ndarray:
    return np.round(rng.uniform(float(f.params.get("min", 0)), float(f.params.get("max", 1000)), t.n), 2)


def g_year(t: _Table, f: FieldSpec, rng: np.random.Generator) -> np.ndarray:
    return g_integer(
        t,
        FieldSpec(
            f.name,
            f.dtype,
            f.marking,
            "integer",
            {"min": f.params.get("min", 2015), "max": f.params.get("max", 2024)},
        ),
        rng,
    )


def g_boolean(t: _Table, f: FieldSpec, rng: np.random.Generator) -> np.ndarray:
    return rng.random(t.n) < float(f.params.get("p", 0.5))


def g_category(t: _Table, f: FieldSpec, rng: np.random.Generator) -> np.ndarray:
    if "vocab" in f.params:
        labels, p = _labels(str(f.params["vocab"]), t.locale)
    else:
        values = f.params.get("values") or [f"{f.name}_{c}" for c in "ABCDE"]
        labels = np.array([str(v) for v in values], dtype=object)
        w = np.array(f.params.get("weights") or [1.0] * len(values), float)
        p = w / w.sum()
    return labels[rng.choice(len(labels), size=t.n, p=p)]


def g_text(t: _Table, f: FieldSpec, rng: np.random.Generator) -> list[str]:
    return [f"{f.name}-{i:05d}" for i in rng.integers(0, 1000, t.n)]


GENERATORS: dict[str, Gen] = {name[2:]: fn for name, fn in globals().items() if name.startswith("g_")}


# ---------------------------------------------------------------- the generic fallback (imported resources)


def guess_generator(name: str, dtype: FieldType, marking: FieldMarking) -> tuple[str, dict[str, Any]]:
    """A generator for a field declared without one (catalog import): by name first, then by type."""
    n = name.lower()
    rules: list[tuple[tuple[str, ...], tuple[FieldType, ...] | None, str]] = [
        (("national_id", "id_card", "idcard", "ssn", "identity"), None, "national_id"),
        (("phone", "mobile", "tel"), None, "phone"),
        (("email", "mail"), None, "email"),
        (("address", "addr"), None, "address"),
        (("postcode", "postal", "zip"), None, "postcode"),
        (("district", "county"), None, "district"),
        (("city",), None, "city"),
        (("sex", "gender"), None, "sex"),
        (("birth",), (FieldType.date, FieldType.string), "birth_date"),
        (
            ("company", "enterprise", "employer", "firm"),
            (FieldType.string, FieldType.category),
            "company_name",
        ),
        (("age",), (FieldType.integer, FieldType.number), "age"),
        (("income", "wage", "salary"), (FieldType.number, FieldType.integer), "income"),
        (("diagnos",), None, "diagnosis"),
        (("education",), (FieldType.string, FieldType.category), "education"),
        (("latitude", "lat"), (FieldType.number,), "lat"),
        (("longitude", "lon", "lng"), (FieldType.number,), "lon"),
        (("name",), (FieldType.string,), "person_name"),
    ]
    tokens = n.replace("-", "_").split("_")
    for keys, types, gen in rules:
        if (types is None or dtype in types) and any(k in n if len(k) > 3 else k in tokens for k in keys):
            if gen == "person_name" and marking is FieldMarking.other:
                continue
            return gen, {}
    by_type: dict[FieldType, tuple[str, dict[str, Any]]] = {
        FieldType.integer: ("count", {"lam": 100}),
        FieldType.number: ("amount", {"median": 100, "sigma": 0.8}),
        FieldType.date: ("event_date", {}),
        FieldType.boolean: ("boolean", {"p": 0.5}),
        FieldType.category: ("category", {}),
        FieldType.string: ("record_id", {}) if marking is FieldMarking.identifier else ("text", {}),
    }
    return by_type[dtype]


# ---------------------------------------------------------------- public API


def _attr(obj: Any, name: str, default: Any = None) -> Any:
    return obj.get(name, default) if isinstance(obj, dict) else getattr(obj, name, default)


def field_specs(resource: Any) -> list[FieldSpec]:
    """The field list of a models.Resource, a world resource, or any object with `.fields` of
    (name, dtype, marking, generator, params) tuples, dicts or objects with those attributes."""
    fields = _attr(resource, "fields")
    if fields is None:
        raise InvalidInput(
            "resource", resource, "an object with .fields (name, dtype, marking, generator, params)"
        )
    specs: list[FieldSpec] = []
    for f in fields:
        if isinstance(f, FieldSpec):
            specs.append(f)
            continue
        if isinstance(f, tuple | list):
            name, dtype, marking, *rest = f
            generator, params = ([*rest, "", {}])[:2]
        else:
            name, dtype, marking = _attr(f, "name"), _attr(f, "dtype"), _attr(f, "marking")
            generator, params = _attr(f, "generator", "") or "", _attr(f, "params", {}) or {}
        try:
            specs.append(
                FieldSpec(
                    str(name),
                    FieldType(dtype),
                    FieldMarking(marking),
                    str(generator or ""),
                    dict(params or {}),
                )
            )
        except ValueError as exc:
            raise InvalidInput(
                f"fields[{name}]",
                (dtype, marking),
                "dtype in " + ", ".join(FieldType) + "; marking in " + ", ".join(FieldMarking),
            ) from exc
    return specs


def _resource_key(resource: Any) -> str:
    return str(
        _attr(resource, "code", "")
        or _attr(resource, "template", "")
        or _attr(resource, "domain", "")
        or "resource"
    )


def _as_dtype(values: Any, dtype: FieldType, n: int) -> pd.Series:
    if dtype is FieldType.integer:
        return pd.Series(np.asarray(values).astype(np.int64))
    if dtype is FieldType.number:
        return pd.Series(np.asarray(values).astype(np.float64))
    if dtype is FieldType.date:
        return pd.Series(np.asarray(values, dtype="datetime64[D]").astype("datetime64[ns]"))
    if dtype is FieldType.boolean:
        return pd.Series(np.asarray(values).astype(bool))
    arr = np.asarray(values, dtype=object) if not isinstance(values, np.ndarray) else values
    return pd.Series(arr.astype(str).astype(object) if arr.dtype != object else arr)


def rows(resource: Any, rows: int, seed: int, locale: str = "en_US") -> pd.DataFrame:
    """`rows` synthetic records of `resource`: one column per field, in order, typed by the field's dtype
    (integer -> int64, number -> float64, date -> datetime64[ns], boolean -> bool, string/category -> str)."""
    check_locale(locale)
    if isinstance(rows, bool) or not isinstance(rows, int | np.integer) or rows < 0:
        raise InvalidInput("rows", rows, "a non-negative integer")
    if isinstance(seed, bool) or not isinstance(seed, int | np.integer) or seed < 0:
        raise InvalidInput("seed", seed, "a non-negative integer")
    specs = field_specs(resource)
    resolved = []
    for f in specs:
        if f.generator not in GENERATORS:
            gen, params = guess_generator(f.name, f.dtype, f.marking)
            f = FieldSpec(f.name, f.dtype, f.marking, gen, {**params, **f.params})
        resolved.append(f)
    table = _Table(resolved, int(rows), int(seed), _resource_key(resource), locale)
    columns: dict[str, pd.Series] = {}
    for f in resolved:
        values = GENERATORS[f.generator](table, f, table.rng("col:" + f.name))
        try:
            columns[f.name] = _as_dtype(values, f.dtype, table.n)
        except (TypeError, ValueError):  # a generator that does not fit the declared type: fall back by type
            gen, params = guess_generator("", f.dtype, f.marking)
            fallback = FieldSpec(f.name, f.dtype, f.marking, gen, params)
            columns[f.name] = _as_dtype(
                GENERATORS[gen](table, fallback, table.rng("col:" + f.name)), f.dtype, table.n
            )
    return pd.DataFrame(columns, index=pd.RangeIndex(table.n))


def sandbox_rows(resource: Any, n: int, seed: int) -> pd.DataFrame:
    """Like `rows`, in the locale the sandbox world was seeded with, so rows match the catalog's language.

    Reads the `world` setting through the session the resource is attached to; a detached resource or a
    sandbox seeded without a locale falls back to en_US.
    """
    import sqlalchemy as sa
    from sqlalchemy.orm import object_session

    from marketplace.models import SandboxSetting

    locale = "en_US"
    session = object_session(resource) if sa.inspect(resource, raiseerr=False) is not None else None
    if session is not None:
        setting = session.get(SandboxSetting, "world")
        if setting is not None and isinstance(setting.value, dict):
            locale = setting.value.get("locale") or locale
    return rows(resource, n, seed, locale)
