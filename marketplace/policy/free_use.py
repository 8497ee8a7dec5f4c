"""Conditional free use: who may claim a free purpose, with which evidence, conditions and limits.

The pricing notice (发改价格〔2025〕65号) makes products for public governance and public welfare free; the
sandbox reads that as *conditional* free use: the policy's `purposes.free_use.<purpose>` says which requester
kinds may claim it (enterprises never, or only for a named public project with a sponsoring department), the
evidence a claim needs (a use statement of a minimum length, a project reference, a sponsoring department),
the conditions the grant carries (no commercial use, no onward transfer, a usage report, publication of
results) and optional limits per requester and period. A free purpose without a rule is free as before.

`check_free_claim` is the one rule: the request workflow, the compliance review and the simulator call it.
"""

from __future__ import annotations

from dataclasses import dataclass

from marketplace.policy.schema import FreeUseRule, Policy
from marketplace.policy.types import Refusal
from marketplace.vocabulary import OrganizationKind, Purpose

__all__ = [
    "EvidenceNeeded", "FreeClaim", "check_free_claim", "evidence_needed", "free_use_rule", "kind_may_claim",
]


@dataclass(frozen=True, slots=True)
class FreeClaim:
    """A request's claim to a free purpose, with its evidence and the requester's free use so far."""

    purpose: Purpose
    requester_kind: OrganizationKind
    use_statement: str = ""
    project_reference: str = ""
    sponsor_is_department: bool = False
    volume: int = 1
    prior_free_requests: int = 0
    prior_free_volume: int = 0


def free_use_rule(policy: Policy, purpose: Purpose) -> FreeUseRule | None:
    """The conditions of free use of `purpose` (None: not free, or free without conditions)."""
    if purpose not in policy.purposes.free:
        return None
    return policy.purposes.free_use.get(purpose)


def kind_may_claim(rule: FreeUseRule, kind: OrganizationKind) -> bool:
    """Whether a requester of this kind may claim the purpose at all (evidence aside)."""
    if kind is OrganizationKind.enterprise:
        return rule.enterprises == "named_public_project"
    return kind in rule.requester_kinds


@dataclass(frozen=True, slots=True)
class EvidenceNeeded:
    """What a free-use claim by a requester of some kind must show (the CLI and panels list it)."""

    statement_chars: int
    project_reference: bool
    sponsoring_department: bool


def evidence_needed(rule: FreeUseRule, kind: OrganizationKind) -> EvidenceNeeded:
    """The evidence a claim needs: an enterprise (where it may claim at all) always names its public project
    and a sponsoring department, whatever the rule asks of others."""
    enterprise = kind is OrganizationKind.enterprise
    return EvidenceNeeded(
        rule.min_statement_chars,
        rule.project_reference or enterprise,
        rule.sponsoring_department or enterprise,
    )


def _refusal(rule: str, message: str, params: dict[str, object], key: str = "") -> Refusal:
    return Refusal(rule, message, key or f"refusal.{rule.replace('.', '_')}", params)


def check_free_claim(policy: Policy, claim: FreeClaim) -> Refusal | None:
    """The refusal of a free-use claim, naming the rule it fails, or None when the claim stands."""
    rule = free_use_rule(policy, claim.purpose)
    if rule is None:
        return None
    purpose, name = claim.purpose.value, policy.name
    if not kind_may_claim(rule, claim.requester_kind):
        who = ", ".join(k.value for k in rule.requester_kinds) or "nobody"
        if rule.enterprises == "named_public_project":
            who += ", enterprises for a named public project"
        return _refusal(
            "free_use.requester",
            f"A {claim.requester_kind.value} may not claim free use for {purpose} under {name}; "
            f"who may: {who}",
            {"kind": claim.requester_kind.value, "purpose": purpose, "policy": name, "who": who},
        )
    statement = " ".join(claim.use_statement.split())
    if len(statement) < rule.min_statement_chars:  # the same figure as evidence_needed's
        return _refusal(
            "free_use.statement",
            f"Free use for {purpose} under {name} needs a use statement of at least "
            f"{rule.min_statement_chars} characters; this one has {len(statement)}",
            {"purpose": purpose, "policy": name, "min": rule.min_statement_chars, "got": len(statement)},
        )
    needed = evidence_needed(rule, claim.requester_kind)
    if needed.project_reference and not claim.project_reference.strip():
        return _refusal(
            "free_use.project",
            f"Free use for {purpose} under {name} needs the reference of the public project it serves",
            {"purpose": purpose, "policy": name},
        )
    if needed.sponsoring_department and not claim.sponsor_is_department:
        return _refusal(
            "free_use.sponsor",
            f"Free use for {purpose} under {name} needs a sponsoring government department",
            {"purpose": purpose, "policy": name},
        )
    if rule.max_free_requests is not None and claim.prior_free_requests + 1 > rule.max_free_requests:
        return _refusal(
            "free_use.limit",
            f"At most {rule.max_free_requests} free requests for {purpose} per {rule.period_days} days under "
            f"{name}; {claim.prior_free_requests} already granted",
            {"purpose": purpose, "policy": name, "max": rule.max_free_requests, "days": rule.period_days,
             "got": claim.prior_free_requests},
        )
    if rule.max_free_volume is not None and claim.prior_free_volume + claim.volume > rule.max_free_volume:
        return _refusal(
            "free_use.limit",
            f"At most {rule.max_free_volume} units free for {purpose} per {rule.period_days} days under "
            f"{name}; {claim.prior_free_volume} already granted and {claim.volume} asked",
            {"purpose": purpose, "policy": name, "max": rule.max_free_volume, "days": rule.period_days,
             "got": claim.prior_free_volume, "asked": claim.volume},
            "refusal.free_use_volume",
        )
    return None
