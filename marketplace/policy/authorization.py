"""Who may authorize what: the implementing institution, its jurisdiction, the implementation plan, and the
registration an authorization needs before it is activated.

发改数据规〔2025〕27号: a government at county level or above (or a national sector authority) authorizes the
public data it holds, through the implementing institution it designates, under an implementation plan it has
approved. The facts come from the workflows as plain values; each check answers or raises `PolicyRefusal`
naming its rule, with a message key so a panel can word it in any language.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from marketplace.policy.schema import Policy
from marketplace.policy.types import Refusal, refusal_error
from marketplace.vocabulary import Channel, PlanStatus

__all__ = [
    "INSTITUTION_RULE",
    "JURISDICTION_RULE",
    "PLAN_RULE",
    "REGISTRATION_RULE",
    "Designated",
    "ScopeResource",
    "check_activation_registration",
    "check_plan_covers",
    "check_proposer",
    "in_jurisdiction",
]

INSTITUTION_RULE = "authorization.implementing_institution"
JURISDICTION_RULE = "authorization.jurisdiction"
PLAN_RULE = "authorization.plan"
REGISTRATION_RULE = "registration.mandatory"


@dataclass(frozen=True, slots=True)
class Designated:
    """One designation of the proposing organization: the designating government's region and, for a sector
    designation, the one data domain it covers ("" = every domain)."""

    region: str
    domain: str = ""


@dataclass(frozen=True, slots=True)
class ScopeResource:
    """What the rules need of one resource in an authorization's scope."""

    code: str
    holder_region: str
    domain: str


def in_jurisdiction(policy: Policy, designations: Iterable[Designated], resource: ScopeResource) -> bool:
    """Whether one of the designations covers the resource's holder (always, when the policy has no rule)."""
    if policy.authorization.jurisdiction == "any":
        return True
    return any(
        d.region == resource.holder_region and d.domain in ("", resource.domain) for d in designations
    )


def check_proposer(
    policy: Policy,
    *,
    organization: str,
    designations: Sequence[Designated],
    resources: Sequence[ScopeResource],
) -> None:
    """Only a designated implementing institution proposes, and only over resources in its jurisdiction."""
    auth = policy.authorization
    if auth.implementing_institution_only and not designations:
        raise refusal_error(
            Refusal(
                INSTITUTION_RULE,
                f"{organization} is not an implementing institution designated by a government; under "
                f"{policy.name} only the designated institution proposes an authorization",
                "refusal.not_implementing_institution",
                {"organization": organization, "policy": policy.name},
            )
        )
    if not auth.implementing_institution_only and not designations:
        return
    outside = [r.code for r in resources if not in_jurisdiction(policy, designations, r)]
    if outside:
        regions = sorted({d.region + (f" / {d.domain}" if d.domain else "") for d in designations})
        raise refusal_error(
            Refusal(
                JURISDICTION_RULE,
                f"Resources outside the jurisdiction of {organization} ({', '.join(regions)}): "
                f"{', '.join(outside)}; a government authorizes only the public data it holds "
                f"({policy.name})",
                "refusal.outside_jurisdiction",
                {"organization": organization, "resources": tuple(outside), "jurisdiction": tuple(regions),
                 "policy": policy.name},
            )
        )


def check_plan_covers(
    policy: Policy,
    *,
    plan_code: str | None,
    plan_status: PlanStatus | None,
    plan_resources: Iterable[str],
    resources: Sequence[ScopeResource],
) -> None:
    """With `plan_required`, an approved implementation plan must list every resource in scope."""
    if not policy.authorization.plan_required:
        return
    if plan_code is None or plan_status is not PlanStatus.approved:
        newest = "—" if plan_code is None else f"{plan_code}, {plan_status.value if plan_status else '—'}"
        raise refusal_error(
            Refusal(
                PLAN_RULE,
                f"No approved implementation plan covers this authorization (newest plan: {newest}); under "
                f"{policy.name} the government approves the plan before an operator is chosen",
                "refusal.plan_not_approved",
                {"plan": newest, "policy": policy.name},
            )
        )
    listed = set(plan_resources)
    missing = [r.code for r in resources if r.code not in listed]
    if missing:
        raise refusal_error(
            Refusal(
                PLAN_RULE,
                f"Resources not in implementation plan {plan_code}: {', '.join(missing)}",
                "refusal.plan_scope",
                {"plan": plan_code, "resources": tuple(missing)},
            )
        )


def check_activation_registration(policy: Policy, unregistered: Sequence[str]) -> None:
    """Resources in an authorization's scope must be registered first where the policy makes it mandatory
    (发改数据规〔2025〕26号); `unregistered` are the codes without a registration in force."""
    if Channel.authorized_operation not in policy.registration.mandatory_scopes or not unregistered:
        return
    raise refusal_error(
        Refusal(
            REGISTRATION_RULE,
            f"Resources in authorized-operation scope must be registered under {policy.name}; "
            f"not registered: {', '.join(unregistered)}",
            "refusal.registration_mandatory",
            {"policy": policy.name, "resources": tuple(unregistered)},
        )
    )
