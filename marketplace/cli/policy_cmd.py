"""`marketplace policy check|show|diff` and `marketplace quote`: policy files and price quotes from the shell.

Problems in policy files are printed one per line (file, key path, value, expected) and exit with status 2.
"""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

import click

from marketplace.errors import MarketplaceError
from marketplace.policy import (
    PolicyFileError,
    Requester,
    RequestFacts,
    diff_policies,
    list_policies,
    load_policy,
    quote,
    split,
    summarize_policy,
)
from marketplace.policy.loader import flatten_policy
from marketplace.vocabulary import (
    OrganizationKind,
    Purpose,
)

__all__ = ["policy", "quote_cmd"]


class UserError(click.ClickException):
    """A user's mistake: one line, exit status 2."""

    exit_code = 2


def _fail_problems(exc: PolicyFileError) -> None:
    for problem in exc.problems:
        click.echo(f"error: {problem}", err=True)
    raise click.exceptions.Exit(2)


def _load(name: str) -> Any:
    try:
        return load_policy(name)
    except PolicyFileError as exc:
        _fail_problems(exc)


@click.group()
def policy() -> None:
    """Validate, show and compare policy files (seed/policies/*.toml)."""


@policy.command("check")
@click.argument("files", nargs=-1, required=True, type=click.Path(dir_okay=False))
def check_cmd(files: tuple[str, ...]) -> None:
    """Validate policy FILES; every problem is printed on its own line."""
    problems = []
    for f in files:
        try:
            p = load_policy(f)
        except PolicyFileError as exc:
            problems.extend(exc.problems)
            continue
        click.echo(f"ok: {f} ({p.name} {p.version})")
    if problems:
        _fail_problems(PolicyFileError(problems))


@policy.command("list")
def list_cmd() -> None:
    """Names of the shipped policies."""
    for name in list_policies():
        click.echo(name)


@policy.command("show")
@click.argument("name")
@click.option("--json", "as_json", is_flag=True, help="Every parameter as dotted key: value.")
def show_cmd(name: str, as_json: bool) -> None:
    """A readable summary of policy NAME (a name in seed/policies or a file path)."""
    p = _load(name)
    if as_json:
        click.echo(json.dumps(flatten_policy(p), indent=2, ensure_ascii=False))
    else:
        click.echo(summarize_policy(p))


@policy.command("diff")
@click.argument("a")
@click.argument("b")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
def diff_cmd(a: str, b: str, as_json: bool) -> None:
    """The parameters that differ between policies A and B."""
    pa, pb = _load(a), _load(b)
    rows = diff_policies(pa, pb)
    if as_json:
        click.echo(json.dumps([{"key": k, pa.name: va, pb.name: vb} for k, va, vb in rows], indent=2))
        return
    if not rows:
        click.echo(f"{pa.name} and {pb.name} set every parameter alike")
        return
    width = max(len(k) for k, _, _ in rows)
    click.echo(f"{'parameter':<{width}}  {pa.name}  ->  {pb.name}")
    for k, va, vb in rows:
        click.echo(f"{k:<{width}}  {_show(va)}  ->  {_show(vb)}")


def _show(v: Any) -> str:
    if isinstance(v, list):
        return "[" + ", ".join(_show(x) for x in v) + "]"
    if isinstance(v, dict):
        return "{" + ", ".join(f"{k}={_show(x)}" for k, x in v.items()) + "}"
    if v is None:
        return "-"
    if isinstance(v, bool):
        return "true" if v else "false"
    return str(v)


# ---------------------------------------------------------------- quote


def _money(x: Decimal) -> str:
    return f"{x.quantize(Decimal('0.01')):,}"


@click.command("quote")
@click.option(
    "--policy",
    "policy_name",
    default="national-2025",
    show_default=True,
    help="Policy name in seed/policies, or a policy file.",
)
@click.option("--product", "product_code", required=True, help="Product code.")
@click.option(
    "--purpose", required=True, type=click.Choice([p.value for p in Purpose]), help="Stated purpose."
)
@click.option(
    "--volume", required=True, type=click.IntRange(min=1), help="Units of the product's billing unit."
)
@click.option(
    "--requester", "org_code", default=None, help="Requesting organization code (default: none given)."
)
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
def quote_cmd(
    policy_name: str, product_code: str, purpose: str, volume: int, org_code: str | None, as_json: bool
) -> None:
    """Price a request for a product under a policy, one line per component with its reason."""
    pol = _load(policy_name)
    from sqlmodel import select

    from marketplace import db
    from marketplace.models import Organization, Product
    from marketplace.policy import free_use_rule, kind_may_claim
    from marketplace.workflows.facts import product_target, requester_facts

    try:
        engine = db.get_engine()
        db.check_connection(engine)
        with db.session_scope(engine) as session:
            product = session.exec(select(Product).where(Product.code == product_code)).first()
            if product is None:
                codes = session.exec(select(Product.code).order_by(Product.code).limit(8)).all()
                raise UserError(
                    f"--product: got {product_code!r}; expected a product code"
                    f"{' such as ' + ', '.join(codes) if codes else ' (the sandbox has no products)'}"
                )
            target = product_target(product)
            if org_code is None:
                requester = Requester(0, OrganizationKind.enterprise)
                who = "an unnamed enterprise"
            else:
                org = session.exec(select(Organization).where(Organization.code == org_code)).first()
                if org is None:
                    raise UserError(f"--requester: got {org_code!r}; expected an organization code")
                requester = requester_facts(org)
                who = f"{org.name} ({org.kind.value}{', ' + org.size.value if org.size else ''})"
            name = product.name
        q = quote(pol, target, RequestFacts(Purpose(purpose), volume=volume), requester)
    except MarketplaceError as exc:
        raise UserError(str(exc)) from exc
    except Exception as exc:  # a missing table: the sandbox was never seeded
        if type(exc).__name__ in ("OperationalError", "ProgrammingError"):
            raise UserError("the sandbox has no tables yet; run `marketplace seed` first") from exc
        raise
    sp = split(pol, q)
    rule = free_use_rule(pol, Purpose(purpose)) if q.free else None
    conditions = None
    if rule is not None:
        evidence = [f"a use statement of at least {rule.min_statement_chars} characters"]
        if rule.project_reference or requester.kind is OrganizationKind.enterprise:
            evidence.append("a public project reference")
        if rule.sponsoring_department or requester.kind is OrganizationKind.enterprise:
            evidence.append("a sponsoring department")
        conditions = {
            "may_claim": kind_may_claim(rule, requester.kind),
            "evidence": evidence,
            "conditions": list(rule.conditions),
            "max_free_requests": rule.max_free_requests,
        }
    if as_json:
        out = q.as_dict() | {
            "free_use": conditions,
            "product": product_code,
            "purpose": purpose,
            "volume": volume,
            "requester": org_code,
            "split": {"operator": str(sp.operator), "holder": str(sp.holder), "taxes": str(sp.taxes)},
        }
        click.echo(json.dumps(out, ensure_ascii=False, indent=2))
        return
    click.echo(f"Quote for {product_code} ({name}) under {q.policy}: {purpose}, volume {volume:,}, for {who}")
    for ln in q.lines:
        click.echo(f"  {ln.component:<9} {_money(ln.amount):>14}  {ln.reason}")
    click.echo(f"  {'total':<9} {_money(q.total):>14}  {q.currency}" + ("  (free)" if q.free else ""))
    if conditions is not None:
        if not conditions["may_claim"]:
            click.echo(
                f"  free use: a {requester.kind.value} may not claim {purpose} under {pol.name} "
                "(paid instead)"
            )
        else:
            click.echo(
                f"  free use only with {', '.join(conditions['evidence'])}; the grant carries: "
                f"{', '.join(conditions['conditions']) or 'no conditions'}"
            )
    if not q.free:
        click.echo(
            f"  split: operator {_money(sp.operator)}, holder {_money(sp.holder)}, taxes {_money(sp.taxes)}"
        )
