"""`marketplace policy check|show|diff` and `marketplace quote`: policy files and price quotes from the shell.

Problems in policy files are printed one per line (file, key path, value, expected) and exit with status 2.
"""

from __future__ import annotations

import json
from decimal import Decimal
from typing import TYPE_CHECKING, Any

import click

from marketplace.cli import WordedCommand, WordedGroup, columns, pad
from marketplace.errors import MarketplaceError
from marketplace.i18n import (
    condition_label,
    error_text,
    get_language,
    label,
    listing,
    policy_summary_lines,
    quote_reason,
    seeded_text,
    setting_label,
    setting_value,
    t,
    t_or,
)
from marketplace.vocabulary import MAX_VOLUME, OrganizationKind, Purpose

if TYPE_CHECKING:  # the policy package (pydantic) is imported by the commands that read a policy
    from marketplace.policy import PolicyFileError

__all__ = ["policy", "quote_cmd"]


class UserError(click.ClickException):
    """A user's mistake: one line, exit status 2."""

    exit_code = 2


def _fail_problems(exc: PolicyFileError) -> None:
    for problem in exc.problems:
        click.echo(t("cli.error", message=problem), err=True)
    raise click.exceptions.Exit(2)


def _load(name: str) -> Any:
    from marketplace.policy import PolicyFileError, load_policy

    try:
        return load_policy(name)
    except PolicyFileError as exc:
        _fail_problems(exc)


@click.group(cls=WordedGroup)
def policy() -> None:
    """Validate, show and compare policy files (seed/policies/*.toml)."""


@policy.command("check")
@click.argument("files", nargs=-1, required=True, type=click.Path(dir_okay=False))
def check_cmd(files: tuple[str, ...]) -> None:
    """Validate policy FILES; every problem is printed on its own line."""
    from marketplace.policy import PolicyFileError, load_policy

    problems = []
    for f in files:
        try:
            p = load_policy(f)
        except PolicyFileError as exc:
            problems.extend(exc.problems)
            continue
        click.echo(t("cli.policy.ok", file=f, name=p.name, version=p.version))
    if problems:
        _fail_problems(PolicyFileError(problems))


@policy.command("list")
def list_cmd() -> None:
    """Names of the shipped policies."""
    from marketplace.policy import list_policies

    for name in list_policies():
        click.echo(name)


@policy.command("show")
@click.argument("name")
@click.option("--json", "as_json", is_flag=True, help="Every parameter as dotted key: value.")
def show_cmd(name: str, as_json: bool) -> None:
    """A readable summary of policy NAME (a name in seed/policies or a file path)."""
    from marketplace.policy import policy_summary
    from marketplace.policy.loader import flatten_policy

    p = _load(name)
    if as_json:
        click.echo(json.dumps(flatten_policy(p), indent=2, ensure_ascii=False))
    else:
        click.echo("\n".join(policy_summary_lines(policy_summary(p))))


@policy.command("diff")
@click.argument("a")
@click.argument("b")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
def diff_cmd(a: str, b: str, as_json: bool) -> None:
    """The parameters that differ between policies A and B."""
    from marketplace.policy import diff_policies

    pa, pb = _load(a), _load(b)
    rows = diff_policies(pa, pb)
    if as_json:
        click.echo(json.dumps([{"key": k, pa.name: va, pb.name: vb} for k, va, vb in rows], indent=2))
        return
    if not rows:
        click.echo(t("cli.policy.alike", a=pa.name, b=pb.name))
        return
    if get_language() != "en":  # English keeps the file's dotted keys and values, to find them in the file
        rows = [(setting_label(k), setting_value(va), setting_value(vb)) for k, va, vb in rows]
    width = max(columns(k) for k, _, _ in rows)
    heading = t("cli.policy.parameter")
    width = max(width, columns(heading))
    click.echo(f"{pad(heading, width)}  {pa.name}  ->  {pb.name}")
    for k, va, vb in rows:
        click.echo(f"{pad(k, width)}  {_show(va)}  ->  {_show(vb)}")


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


@click.command("quote", cls=WordedCommand)
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
    "--volume", required=True, type=click.IntRange(1, MAX_VOLUME),
    help=f"Units of the product's billing unit (at most {MAX_VOLUME:,}, as in a request)."
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
    from marketplace.cli.db_cmd import open_sandbox
    from marketplace.models import Organization, Product
    from marketplace.policy import (
        Requester,
        RequestFacts,
        evidence_needed,
        free_use_rule,
        kind_may_claim,
        split,
    )
    from marketplace.policy import quote as price_quote
    from marketplace.workflows.facts import product_target, requester_facts
    from marketplace.workflows.price_formation import cap_filing_of

    try:
        engine = open_sandbox()
        with db.session_scope(engine) as session:
            product = session.exec(select(Product).where(Product.code == product_code)).first()
            if product is None:
                codes = session.exec(select(Product.code).order_by(Product.code).limit(8)).all()
                raise UserError(
                    t("cli.quote.bad_product", value=repr(product_code), examples=listing(codes))
                    if codes
                    else t("cli.quote.bad_product_none", value=repr(product_code))
                )
            target = product_target(product)
            filed = cap_filing_of(session, product)
            filing = None if filed is None else {
                "code": filed.code,
                "cap": str(filed.cap),
                "filed_on": f"{filed.filed_at:%Y-%m-%d}",
                "year": filed.year,
                "provisional": filed.provisional,
                "basis": filed.basis,
            }
            if org_code is None:
                requester = Requester(0, OrganizationKind.enterprise)
                who = t("cli.quote.unnamed")
            else:
                org = session.exec(select(Organization).where(Organization.code == org_code)).first()
                if org is None:
                    raise UserError(t("cli.quote.bad_requester", value=repr(org_code)))
                requester = requester_facts(org)
                kind = listing([label(org.kind), label(org.size)] if org.size else [label(org.kind)])
                who = f"{org.name} ({kind})"
            name = product.name
        q = price_quote(pol, target, RequestFacts(Purpose(purpose), volume=volume), requester)
    except MarketplaceError as exc:
        raise UserError(error_text(exc)) from exc
    except Exception as exc:  # a missing table: the sandbox was never seeded
        if type(exc).__name__ in ("OperationalError", "ProgrammingError"):
            raise UserError(t("cli.not_seeded")) from exc
        raise
    sp = split(pol, q)
    rule = free_use_rule(pol, Purpose(purpose)) if q.free else None
    conditions = None
    needed = evidence_needed(rule, requester.kind) if rule is not None else None
    if rule is not None and needed is not None:
        evidence = [f"a use statement of at least {needed.statement_chars} characters"]
        if needed.project_reference:
            evidence.append("a public project reference")
        if needed.sponsoring_department:
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
            "cap_filing": filing,
            "product": product_code,
            "purpose": purpose,
            "volume": volume,
            "requester": org_code,
            "split": {"operator": str(sp.operator), "holder": str(sp.holder), "taxes": str(sp.taxes)},
        }
        click.echo(json.dumps(out, ensure_ascii=False, indent=2))
        return
    click.echo(
        t(
            "cli.quote.header",
            product=product_code,
            name=name,
            policy=q.policy,
            purpose=label(purpose),
            volume=f"{volume:,}",
            who=who,
        )
    )
    components = {ln.component: t_or(f"cli.quote.component.{ln.component}", ln.component) for ln in q.lines}
    total = t("cli.quote.total")
    width = max(9, columns(total), *map(columns, components.values()))
    for ln in q.lines:
        click.echo(f"  {pad(components[ln.component], width)} {_money(ln.amount):>14}  {quote_reason(ln)}")
    free = t("cli.quote.free") if q.free else ""
    click.echo(f"  {pad(total, width)} {_money(q.total):>14}  {q.currency}" + (f"  {free}" if free else ""))
    if filing is not None:  # where the product's cap comes from: the authorizing body's written filing
        key = "cli.quote.cap_filing_provisional" if filing["provisional"] else "cli.quote.cap_filing"
        cited = t(key, code=filing["code"], date=filing["filed_on"], year=filing["year"])
        click.echo(f"  {cited}" + (f" — {seeded_text(filing['basis'])}" if filing["basis"] else ""))
    if conditions is not None and needed is not None:
        if not conditions["may_claim"]:
            refused = t(
                "cli.quote.free_use_refused",
                kind=label(requester.kind),
                purpose=label(purpose),
                policy=pol.name,
            )
            click.echo(f"  {refused}")
        else:
            evidence = [t("cli.quote.evidence.statement", chars=needed.statement_chars)]
            if needed.project_reference:
                evidence.append(t("cli.quote.evidence.project"))
            if needed.sponsoring_department:
                evidence.append(t("cli.quote.evidence.sponsor"))
            carried = listing(condition_label(c) for c in conditions["conditions"])
            line = t(
                "cli.quote.free_use_needs",
                evidence=listing(evidence),
                conditions=carried or t("cli.quote.no_conditions"),
            )
            click.echo(f"  {line}")
    if not q.free:
        click.echo(
            t(
                "cli.quote.split",
                operator=_money(sp.operator),
                holder=_money(sp.holder),
                taxes=_money(sp.taxes),
            )
        )
