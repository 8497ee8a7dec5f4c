"""`marketplace policy check|show|diff` and `marketplace quote` through the root command group."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from decimal import Decimal

import pytest
from click.testing import CliRunner
from sqlmodel import Session, select

from marketplace import db, i18n
from marketplace.cli import main
from marketplace.models import CapFiling, Organization, Product, ProductResource, Resource, ResourceField
from marketplace.policy import policy_dir
from marketplace.vocabulary import (
    BillingUnit,
    EnterpriseSize,
    FieldMarking,
    FieldType,
    Grade,
    OpeningAttribute,
    OrganizationKind,
    ProductKind,
    SharingAttribute,
)


def invoke(*args: str):
    return CliRunner().invoke(main, list(args))


def test_check_shipped_policies_ok() -> None:
    files = sorted(str(p) for p in policy_dir().glob("*.toml"))
    r = invoke("policy", "check", *files)
    assert r.exit_code == 0, r.output
    assert r.output.count("ok: ") == 7


def test_check_bad_file_one_line_per_problem_exit_2(tmp_path) -> None:
    bad = tmp_path / "bad.toml"
    bad.write_text(
        'extends = "national-2025"\nname = "b"\nversion = "1"\nsurprise = 1\n'
        '[pricing.caps]\nper_call = "-2"\n[purposes]\nfree = ["fun"]\n'
    )
    good = policy_dir() / "national-2025.toml"
    r = invoke("policy", "check", str(good), str(bad))
    assert r.exit_code == 2
    errors = [ln for ln in r.stderr.splitlines() if ln]
    assert len(errors) == 3
    assert all(ln.startswith(f"error: {bad}: ") for ln in errors)
    assert any(
        "pricing.caps.per_call: got '-2'; expected a number greater than or equal to 0" in ln for ln in errors
    )
    assert "Traceback" not in r.output


def test_show_and_diff() -> None:
    r = invoke("policy", "show", "national-2025")
    assert r.exit_code == 0
    assert "free: [public_governance, public_welfare]" in r.output
    r = invoke("policy", "show", "strict-privacy", "--json")
    assert json.loads(r.output)["privacy.k"] == 10
    r = invoke("policy", "diff", "national-2025", "market-pricing")
    assert r.exit_code == 0
    assert "pricing.caps_apply" in r.output and "true  ->  false" in r.output
    r = invoke("policy", "diff", "national-2025", "national-2025")
    assert "alike" in r.output
    r = invoke("policy", "show", "no-such")
    assert r.exit_code == 2
    assert "expected an existing policy file or one of: deemed-approval" in r.stderr


@pytest.fixture
def sandbox(tmp_path, monkeypatch):
    url = f"sqlite:///{tmp_path / 'q.db'}"
    monkeypatch.setenv(db.ENV_URL, url)
    engine = db.create_all(db.get_engine(url))
    with Session(engine) as s:
        holder = Organization(code="DEPT-1", name="Statistics Bureau", kind=OrganizationKind.department)
        op = Organization(code="OP-1", name="City Data Group", kind=OrganizationKind.operator)
        micro = Organization(
            code="ENT-9", name="Tiny Tech", kind=OrganizationKind.enterprise, size=EnterpriseSize.micro
        )
        s.add_all([holder, op, micro])
        s.flush()
        res = Resource(
            code="R-1",
            title="Households",
            domain="social",
            holder_id=holder.id,
            grade=Grade.general,
            sharing_attribute=SharingAttribute.conditional,
            opening_attribute=OpeningAttribute.conditional,
        )
        s.add(res)
        s.flush()
        s.add(
            ResourceField(
                resource_id=res.id, name="age", dtype=FieldType.integer, marking=FieldMarking.quasi_identifier
            )
        )
        prod = Product(
            code="P-1",
            name="Household API",
            operator_id=op.id,
            kind=ProductKind.api,
            billing_unit=BillingUnit.per_call,
            price_cap=Decimal("0.40"),
            actual_price=Decimal("0.35"),
        )
        s.add(prod)
        s.flush()
        s.add(ProductResource(product_id=prod.id, resource_id=res.id))
        s.commit()
    yield url
    db.dispose_engines()


def test_quote_prints_lines(sandbox) -> None:
    r = invoke("quote", "--product", "P-1", "--purpose", "industry_development", "--volume", "1000")
    assert r.exit_code == 0, r.output
    assert "Base: 1,000 calls x 0.35 CNY per call" in r.output
    assert "total" in r.output and "350.00" in r.output
    r = invoke("quote", "--product", "P-1", "--purpose", "public_welfare", "--volume", "5")
    assert "Free: purpose public welfare is in the free list of national-2025" in r.output
    # the free quote states the conditions of free use (finding: it read as unconditional)
    assert "free use only with a use statement of at least 40 characters" in r.output
    assert "no commercial use" in r.output and "no_commercial_use" not in r.output


def test_quote_cites_the_cap_filing_of_the_product(sandbox) -> None:
    """Finding: the what-if quote printed the policy's cap line, not where the product's cap came from."""
    r = invoke("quote", "--product", "P-1", "--purpose", "industry_development", "--volume", "10", "--json")
    assert json.loads(r.output)["cap_filing"] is None  # nothing filed yet: nothing cited
    engine = db.get_engine(sandbox)
    with Session(engine) as s:
        prod = s.exec(select(Product).where(Product.code == "P-1")).one()
        s.add(CapFiling(code="CAP-2026-000007", product_id=prod.id, operator_id=prod.operator_id, year=2026,
                        cap=Decimal("0.40"), forecast_volume=1000, forecast_revenue=Decimal("400"),
                        basis="cost study", filed_at=datetime(2026, 2, 3, tzinfo=UTC)))
        s.commit()
    r = invoke("quote", "--product", "P-1", "--purpose", "industry_development", "--volume", "10")
    assert r.exit_code == 0, r.output
    assert ("The cap was filed in writing by the authorizing body as CAP-2026-000007 on 2026-02-03, within "
            "the operator's MAR for 2026 — cost study") in r.output
    i18n.set_language("zh")
    try:
        r = invoke("quote", "--product", "P-1", "--purpose", "industry_development", "--volume", "10")
    finally:
        i18n.set_language("en")
    assert "该价格上限由授权主体于 2026-02-03 书面报备（编号 CAP-2026-000007）" in r.output
    r = invoke("quote", "--product", "P-1", "--purpose", "industry_development", "--volume", "10", "--json")
    filing = json.loads(r.output)["cap_filing"]
    assert filing == {"code": "CAP-2026-000007", "cap": "0.40", "filed_on": "2026-02-03", "year": 2026,
                      "provisional": False, "basis": "cost study"}


def test_quote_json_with_requester_and_policy(sandbox) -> None:
    r = invoke(
        "quote",
        "--policy",
        "sme-discount",
        "--product",
        "P-1",
        "--purpose",
        "industry_development",
        "--volume",
        "100",
        "--requester",
        "ENT-9",
        "--json",
    )
    assert r.exit_code == 0, r.output
    data = json.loads(r.output)
    assert data["total"] == "17.50"
    assert [ln["component"] for ln in data["lines"]] == ["purpose", "base", "tiers", "discount", "cap", "tax"]
    sp = data["split"]
    assert Decimal(sp["operator"]) + Decimal(sp["holder"]) + Decimal(sp["taxes"]) == Decimal("17.50")


def test_quote_user_errors_exit_2(sandbox) -> None:
    r = invoke("quote", "--product", "NOPE", "--purpose", "research", "--volume", "1")
    assert r.exit_code == 2 and "--product: got 'NOPE'" in r.stderr and "P-1" in r.stderr
    r = invoke("quote", "--product", "P-1", "--purpose", "research", "--volume", "1", "--requester", "X")
    assert r.exit_code == 2 and "--requester" in r.stderr
    r = invoke("quote", "--product", "P-1", "--purpose", "fun", "--volume", "1")
    assert r.exit_code == 2
    r = invoke("quote", "--product", "P-1", "--purpose", "research", "--volume", "0")
    assert r.exit_code == 2
