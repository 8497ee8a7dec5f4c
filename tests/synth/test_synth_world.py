"""The synthetic world: counts per size, roles, grade -> channel consistency, authorized operation,
determinism.
"""

from __future__ import annotations

from collections import Counter
from datetime import UTC, date, datetime

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from marketplace.codes import make_code
from marketplace.errors import InvalidInput
from marketplace.synth import build_world, channel_problems, templates
from marketplace.synth.spec import world_spec
from marketplace.vocabulary import (
    AuthorizationStatus,
    EnterpriseSize,
    FieldMarking,
    Grade,
    OpeningAttribute,
    OrganizationKind,
    ProductStatus,
    RegistrationStatus,
    RegistrationSubject,
    Role,
    SharingAttribute,
)

DOMAINS = {
    "transport",
    "health",
    "social_insurance",
    "enterprise_registry",
    "tax",
    "environment",
    "geospatial",
    "education",
    "housing",
    "public_safety",
    "utilities",
}


@pytest.fixture(scope="module")
def small():
    return build_world(42)


@pytest.fixture(scope="module")
def province():
    return build_world(42, "province", "zh_CN")


def test_small_world_has_the_specified_parties(small) -> None:
    kinds = Counter(o["kind"] for o in small.organizations)
    assert kinds == {
        OrganizationKind.department: 12,
        OrganizationKind.institution: 3,
        OrganizationKind.enterprise: 63,  # 60 + water, power and metro enterprises that hold public data
        OrganizationKind.research: 8,
        OrganizationKind.nonprofit: 3,
        OrganizationKind.operator: 2,
        OrganizationKind.regulator: 1,
        OrganizationKind.government: 1,  # the region's government, which authorizes
    }
    sizes = Counter(o["size"] for o in small.organizations if o["kind"] is OrganizationKind.enterprise)
    assert set(sizes) == set(EnterpriseSize) and sizes[EnterpriseSize.micro] > sizes[EnterpriseSize.large]
    assert all(o["size"] is None for o in small.organizations if o["kind"] is not OrganizationKind.enterprise)


def test_province_is_at_least_ten_times_small(small, province) -> None:
    a, b = small.counts(), province.counts()
    for table in ("organization", "account", "resource"):
        assert b[table] >= 10 * a[table], table
    assert len({o["region"] for o in province.organizations}) == 10


def test_accounts_cover_every_role_with_stable_typeable_usernames(small, province) -> None:
    for world in (small, province):
        names = [a["username"] for a in world.accounts]
        assert len(names) == len(set(names))
        assert all(n.isascii() and " " not in n and n == n.lower() for n in names)
        roles = {r["role"] for r in world.tables["accountrole"]}
        assert roles == set(Role)
    assert {
        "steward.health-bureau",
        "req-ent-007",
        "registrar.data-bureau",
        "security.data-bureau",
        "trainer",
        "operator-01",
        "regulator",
        "req-res-001",
        "req-npo-001",
    } <= {a["username"] for a in small.accounts}
    assert small.roles_of("steward.health-bureau") == {Role.steward}
    assert small.roles_of("req-ent-007") == {Role.requester}


def test_accounts_sit_in_the_right_kind_of_organization(small) -> None:
    org_kind = {o["id"]: o["kind"] for o in small.organizations}
    where = {
        Role.registrar: {OrganizationKind.department},
        Role.operator: {OrganizationKind.operator},
        Role.regulator: {OrganizationKind.regulator},
        # enterprises providing public services hold public data too
        Role.steward: {
            OrganizationKind.department, OrganizationKind.institution, OrganizationKind.enterprise
        },
    }
    acc_org = {a["id"]: a["organization_id"] for a in small.accounts}
    for r in small.tables["accountrole"]:
        if r["role"] in where:
            assert org_kind[acc_org[r["account_id"]]] in where[r["role"]]
    holders = {res.holder_id for res in small.resources}
    stewards = {acc_org[r["account_id"]] for r in small.tables["accountrole"] if r["role"] is Role.steward}
    assert holders <= stewards  # a steward per holder organization


def test_catalog_covers_domains_grades_and_attributes(small, province) -> None:
    for world in (small, province):
        res = world.resources
        assert len(res) >= 30
        assert {r.domain for r in res} == DOMAINS
        assert {r.grade for r in res} == set(Grade)
        assert {r.sharing_attribute for r in res} == set(SharingAttribute)
        assert {r.opening_attribute for r in res} == set(OpeningAttribute)
        assert len({r.code for r in res}) == len(res)


def test_every_resource_follows_the_grade_channel_rule(small, province) -> None:
    for world in (small, province):
        in_scope = {r["resource_id"] for r in world.tables["authorizationresource"]}
        for r in world.resources:
            assert (
                channel_problems(
                    r.grade,
                    r.sharing_attribute,
                    r.opening_attribute,
                    r.contains_personal_info,
                    r.id in in_scope,
                )
                == []
            ), r.template
            if r.grade is Grade.core:
                assert (r.sharing_attribute, r.opening_attribute) == (
                    SharingAttribute.not_shared,
                    OpeningAttribute.not_open,
                )
            if r.grade is Grade.general and r.contains_personal_info:
                assert r.opening_attribute is OpeningAttribute.conditional


def test_channel_problems_detects_each_breach() -> None:
    assert channel_problems(Grade.core, SharingAttribute.conditional, OpeningAttribute.not_open, True, False)
    assert channel_problems(Grade.core, SharingAttribute.not_shared, OpeningAttribute.not_open, True, True)
    assert channel_problems(
        Grade.important, SharingAttribute.conditional, OpeningAttribute.conditional, False, False
    )
    assert channel_problems(
        Grade.general, SharingAttribute.conditional, OpeningAttribute.unconditional, True, False
    )
    assert channel_problems(
        Grade.general, SharingAttribute.conditional, OpeningAttribute.not_open, False, False
    )


def test_resources_have_complete_schemas(small) -> None:
    for r in small.resources:
        assert r.fields and r.template and r.row_count > 0 and r.cost_basis > 0 and r.keywords
        assert r.update_frequency and isinstance(r.published, bool)
        names = [f.name for f in r.fields]
        assert len(names) == len(set(names))
        assert all(f.generator for f in r.fields)
        if r.contains_personal_info and any(f.marking is FieldMarking.sensitive for f in r.fields):
            markings = {f.marking for f in r.fields}
            assert markings & {FieldMarking.identifier, FieldMarking.quasi_identifier}, r.template
    personal = [r for r in small.resources if r.contains_personal_info]
    assert any(any(f.marking is FieldMarking.identifier for f in r.fields) for r in personal)
    assert sum(r.published for r in small.resources) > 0
    assert all(not r.published for r in small.resources if r.sharing_attribute is SharingAttribute.not_shared)


def test_templates_mark_people_columns(small) -> None:
    person_generators = {"person_name", "national_id", "phone", "address"}
    for tpl in templates():
        for f in tpl.fields:
            if f.generator in person_generators - {"address"}:
                assert f.marking is FieldMarking.identifier, (tpl.name, f.name)
            if f.generator in {"age", "sex", "birth_date"}:
                assert f.marking is not FieldMarking.other, (tpl.name, f.name)


def test_authorized_operation_is_active_registered_and_priced_under_caps(small, province) -> None:
    for world in (small, province):
        t = world.tables
        orgs = {o["id"]: o for o in world.organizations}
        res = {r.id: r for r in world.resources}
        operators = [o for o in world.organizations if o["kind"] is OrganizationKind.operator]
        assert {a["operator_id"] for a in t["authorization"]} == {o["id"] for o in operators}
        for a in t["authorization"]:
            assert a["status"] is AuthorizationStatus.active
            assert orgs[a["agency_id"]]["kind"] is OrganizationKind.department
            assert a["term_start"] <= date(2025, 1, 1) <= a["term_end"]
            assert a["term_end"] < a["term_start"].replace(year=a["term_start"].year + 5)
            assert a["model"].value in ("overall", "by_sector")
        scope = {r["resource_id"] for r in t["authorizationresource"]}
        assert scope and all(res[i].grade is not Grade.core for i in scope)
        reg_resources = {
            r["resource_id"] for r in t["registration"] if r["subject"] is RegistrationSubject.resource
        }
        assert scope <= reg_resources
        reg_products = {
            r["product_id"] for r in t["registration"] if r["subject"] is RegistrationSubject.product
        }
        assert reg_products == {p["id"] for p in t["product"]}
        for reg in t["registration"]:
            assert reg["status"] is RegistrationStatus.registered
            tag = "R" if reg["subject"] is RegistrationSubject.resource else "P"
            assert reg["code"] == make_code(
                "registration", reg["id"], year=reg["registered_at"].year, tag=tag
            )
            assert reg["valid_until"].year == reg["registered_at"].year + 3
            assert reg["submitted_at"] < reg["registered_at"]
        sources = {}
        for link in t["productresource"]:
            sources.setdefault(link["product_id"], set()).add(link["resource_id"])
        for p in t["product"]:
            assert p["status"] is ProductStatus.listed
            assert p["unit_cost"] <= p["actual_price"] <= p["price_cap"]
            assert sources[p["id"]] <= scope
            if any(res[i].grade is Grade.important for i in sources[p["id"]]):
                assert p["transformation"] in ("deidentified", "aggregated")
            assert p["transformation"] != "raw"
        assert {p["kind"].value for p in t["product"]} == {"dataset", "api", "report"} or world is small


def test_products_respect_the_national_policy_caps(province) -> None:
    from marketplace.policy import load_policy

    caps = load_policy("national-2025").pricing
    for p in province.tables["product"]:
        cap = caps.caps_by_kind.get(p["kind"]).get(p["billing_unit"]) or caps.caps.get(p["billing_unit"])
        floor = caps.reference_costs.get(p["billing_unit"])
        assert p["price_cap"] <= cap and p["unit_cost"] >= floor, p["code"]


def test_settings_and_timestamps_are_deterministic_utc(small) -> None:
    settings = {s["key"]: s["value"] for s in small.tables["sandboxsetting"]}
    assert settings == {"world": {"seed": 42, "size": "small", "locale": "en_US"}, "policy": "national-2025"}
    for rows in small.tables.values():
        for row in rows:
            for v in row.values():
                if isinstance(v, datetime):
                    assert v.tzinfo is not None and v.utcoffset() == UTC.utcoffset(v)
                    assert v <= datetime(2025, 1, 1, tzinfo=UTC)


def test_same_seed_same_world_and_different_seed_different_world() -> None:
    a, b, c = build_world(7), build_world(7), build_world(8)
    assert a.tables == b.tables
    assert a.tables != c.tables
    assert [o["name"] for o in a.organizations] != [o["name"] for o in c.organizations]


def test_zh_world_uses_chinese_names_and_ascii_usernames(province) -> None:
    assert any("\u4e00" <= ch <= "\u9fff" for ch in province.organizations[0]["name"])
    assert any("\u4e00" <= ch <= "\u9fff" for ch in province.resources[0].title)
    assert "steward.health-bureau.fuzhou" in {a["username"] for a in province.accounts}


@pytest.mark.parametrize(
    ("args", "field"),
    [((1, "huge"), "size"), ((1, "small", "fr_FR"), "locale"), ((-1,), "seed"), (("7",), "seed")],
)
def test_bad_arguments_name_the_field(args, field) -> None:
    with pytest.raises(InvalidInput) as err:
        build_world(*args)
    assert err.value.field == field


def test_world_spec_counts_are_what_the_small_world_builds(small) -> None:
    spec = world_spec()["sizes"]["small"]
    kinds = Counter(o["kind"].value for o in small.organizations)
    public = len(world_spec()["public_enterprises"]) * spec["regions"]
    assert kinds["enterprise"] == spec["enterprises"] + public and kinds["research"] == spec["research"]
    assert kinds["department"] == spec["departments_per_region"] * spec["regions"]


@settings(max_examples=15, deadline=None)
@given(seed=st.integers(0, 2**63 - 1), locale=st.sampled_from(["en_US", "zh_CN"]))
def test_property_any_seed_builds_a_consistent_complete_world(seed, locale) -> None:
    world = build_world(seed, "small", locale)  # build_world runs check_world itself
    # with the government and the three public-service enterprises holding three resources
    assert len(world.organizations) == 93 and len(world.resources) == 37
    holders = {o["id"]: o for o in world.organizations}
    assert {holders[r.holder_id]["kind"] for r in world.resources} >= {OrganizationKind.enterprise}
    assert world.tables["designation"] and world.tables["implementationplan"]
    assert all(a["plan_id"] for a in world.tables["authorization"])
    assert {r.grade for r in world.resources} == set(Grade)
    assert world.tables["authorization"] and world.tables["product"]
    assert {r["role"] for r in world.tables["accountrole"]} == set(Role)
