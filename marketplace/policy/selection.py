"""Choosing the operator: qualification, scoring, the winner, direct award, what the agreement obliges.

发改数据规〔2025〕27号 has the implementing institution select qualified operators fairly, by competition,
under the approved implementation plan, and sign an agreement with each. The texts give no thresholds or
weights: those are `[selection]` parameters, each marked "assumption" in the policy file. Every check answers
or raises `PolicyRefusal` naming its rule, with a message key so a panel can word it in any language.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from marketplace.policy.schema import SELECTION_CRITERIA, Policy
from marketplace.policy.types import Refusal, refusal_error

__all__ = [
    "DIRECT_AWARD_RULE",
    "QUALIFICATION_RULE",
    "SELECTED_RULE",
    "Applicant",
    "Obligation",
    "Ranked",
    "agreement_obligations",
    "check_direct_award",
    "check_operator_selected",
    "check_qualified",
    "qualification_refusal",
    "rank_applicants",
    "total_score",
]

QUALIFICATION_RULE = "selection.qualification"
DIRECT_AWARD_RULE = "selection.direct_award"
SELECTED_RULE = "authorization.selection"
CENT = Decimal("0.01")
MAX_SCORE = 100


@dataclass(frozen=True, slots=True)
class Applicant:
    """What qualification needs of one applicant: its declarations and the facts on record.

    `sanction_years_ago`: years since its most recent suspension or termination (None: never);
    `rectification_open`: a rectification order whose deadline has not passed;
    `major_incident_years_ago`: years since its most recent major security incident (None: never).
    """

    operator: str
    security_level: int
    registered_capital: Decimal
    sanction_years_ago: int | None = None
    rectification_open: bool = False
    major_incident_years_ago: int | None = None


def qualification_refusal(policy: Policy, a: Applicant) -> Refusal | None:
    """The first qualification criterion `a` fails, as a Refusal naming it; None when qualified."""
    q = policy.selection.qualification

    def refuse(criterion: str, message: str, key: str, **params: Any) -> Refusal:
        return Refusal(
            f"{QUALIFICATION_RULE}.{criterion}",
            f"{a.operator} is not qualified under {policy.name}: {message}",
            key,
            {"operator": a.operator, "policy": policy.name, **params},
        )

    if a.security_level < q.min_security_level:
        return refuse(
            "security_level",
            f"security protection level {a.security_level}, at least {q.min_security_level} required",
            "refusal.selection_security_level", level=a.security_level, required=q.min_security_level,
        )
    if a.registered_capital < q.min_registered_capital:
        return refuse(
            "registered_capital",
            f"registered capital {a.registered_capital}, at least {q.min_registered_capital} required",
            "refusal.selection_capital", capital=str(a.registered_capital),
            required=str(q.min_registered_capital),
        )
    if a.rectification_open or (
        a.sanction_years_ago is not None and a.sanction_years_ago < q.sanction_free_years
    ):
        return refuse(
            "sanctions",
            f"a sanction in force or within the last {q.sanction_free_years} years",
            "refusal.selection_sanction", years=q.sanction_free_years,
        )
    if a.major_incident_years_ago is not None and a.major_incident_years_ago < q.incident_free_years:
        return refuse(
            "incidents",
            f"a major security incident within the last {q.incident_free_years} years",
            "refusal.selection_incident", years=q.incident_free_years,
        )
    return None


def check_qualified(policy: Policy, a: Applicant) -> None:
    """Raise the qualification refusal of `a`, if any."""
    refusal = qualification_refusal(policy, a)
    if refusal is not None:
        raise refusal_error(refusal)


def total_score(policy: Policy, scores: Mapping[str, int]) -> Decimal:
    """The weighted total (0-100, to the cent) of one applicant's scores; every criterion scored 0-100.

    A ValueError names a criterion that is missing, unknown or out of range (the workflow turns it into a
    one-line input error)."""
    weights = policy.selection.weights.model_dump()
    unknown = sorted(set(scores) - set(SELECTION_CRITERIA))
    missing = [c for c in SELECTION_CRITERIA if c not in scores]
    if unknown or missing:
        raise ValueError(f"a score for each of {', '.join(SELECTION_CRITERIA)}")
    for c in SELECTION_CRITERIA:
        v = scores[c]
        if isinstance(v, bool) or not isinstance(v, int) or not 0 <= v <= MAX_SCORE:
            raise ValueError(f"{c}: a whole number from 0 to {MAX_SCORE}")
    total = sum(Decimal(weights[c] * scores[c]) for c in SELECTION_CRITERIA) / 100
    return total.quantize(CENT, rounding=ROUND_HALF_UP)


@dataclass(frozen=True, slots=True)
class Ranked:
    """The result of a competitive round: (operator, total) best first, the winner (None: the round
    failed) and why."""

    ranking: tuple[tuple[str, Decimal], ...]
    winner: str | None
    reason: str


def rank_applicants(policy: Policy, scored: Sequence[tuple[str, Mapping[str, int]]]) -> Ranked:
    """Rank the qualified applicants' scores; the highest total wins, a tie going to the earlier application
    (`scored` is in filing order: assumption, the texts give no tie rule). Fewer qualified applicants than
    `min_qualified_applicants`: no winner, the round fails."""
    totals = [(op, total_score(policy, s), i) for i, (op, s) in enumerate(scored)]
    ranking = tuple((op, t) for op, t, _ in sorted(totals, key=lambda x: (-x[1], x[2])))
    need = policy.selection.min_qualified_applicants
    if len(ranking) < need:
        return Ranked(
            ranking, None, f"{len(ranking)} qualified applicant(s), {need} needed for a competition"
        )
    top = ranking[0]
    return Ranked(ranking, top[0], f"highest weighted score {top[1]}; qualified applicants: {len(ranking)}")


def check_direct_award(policy: Policy, *, operator: str, grounds: str, justification: str) -> None:
    """A direct award (no competition) only where the policy allows it, on its grounds, with a justification
    of at least `min_justification_chars` characters."""
    sel = policy.selection
    allowed = sel.direct_award == "any" or (
        sel.direct_award == "grounds" and grounds in sel.direct_award_grounds
    )
    if not allowed:
        grounds_allowed = tuple(sel.direct_award_grounds) if sel.direct_award == "grounds" else ()
        raise refusal_error(
            Refusal(
                DIRECT_AWARD_RULE,
                f"Direct award to {operator} on the grounds {grounds or '—'} is not allowed under "
                f"{policy.name} (allowed grounds: {', '.join(grounds_allowed) or 'none'}); the operator is "
                "chosen by a competitive selection round",
                "refusal.direct_award_not_allowed",
                {"operator": operator, "grounds": grounds or "—", "policy": policy.name,
                 "allowed": grounds_allowed},
            )
        )
    if len(justification.strip()) < sel.min_justification_chars:
        raise refusal_error(
            Refusal(
                DIRECT_AWARD_RULE,
                f"A direct award needs a recorded justification of at least {sel.min_justification_chars} "
                f"characters under {policy.name}",
                "refusal.direct_award_justification",
                {"chars": sel.min_justification_chars, "policy": policy.name},
            )
        )


def check_operator_selected(
    policy: Policy,
    *,
    authorization: str,
    operator: str,
    selection: str | None,
    winner: str | None,
    selection_resources: Iterable[str],
    resources: Iterable[str],
) -> None:
    """With `selection.required`, an authorization comes into force only for the operator a decided round
    (or an allowed direct award) chose, over resources the round covered."""
    if not policy.selection.required:
        return
    missing = sorted(set(resources) - set(selection_resources))
    if selection is None or winner != operator or missing:
        raise refusal_error(
            Refusal(
                SELECTED_RULE,
                f"Authorization {authorization}: {operator} was not chosen by a decided selection round or "
                f"an allowed direct award over its resources (round: {selection or '—'}); under "
                f"{policy.name} operators are selected fairly before authorization",
                "refusal.operator_not_selected",
                {"authorization": authorization, "operator": operator, "selection": selection or "—",
                 "policy": policy.name},
            )
        )


@dataclass(frozen=True, slots=True)
class Obligation:
    """One duty the agreement carries, and where the sandbox holds the operator to it."""

    kind: str
    detail: str
    enforced_by: str

    def as_dict(self) -> dict[str, str]:
        return {"kind": self.kind, "detail": self.detail, "enforced_by": self.enforced_by}


def agreement_obligations(policy: Policy, security_measures: Sequence[str]) -> tuple[Obligation, ...]:
    """The obligations an authorization agreement carries (发改数据规〔2025〕27号: security, return or
    destruction at exit, yearly reporting, evaluation), each linked to the lifecycle that enforces it."""
    measures = "; ".join(m for m in security_measures if m) or "as in the implementation plan"
    return (
        Obligation(
            "security_measures", measures, "the implementation plan; incidents count in the evaluation"
        ),
        Obligation(
            "exit",
            f"return or destroy the data within {policy.authorization.exit_duty_working_days} working days "
            "of the end",
            "exit duty opened when the authorization ends",
        ),
        Obligation(
            "yearly_disclosure",
            f"publish the yearly disclosure by {policy.disclosure.deadline} of the next year",
            "disclosure duty; a missed or late one counts in the evaluation",
        ),
        Obligation("evaluation", "yearly evaluation by the regulator from recorded facts",
                   "operator evaluation; sanctions act on the authorization"),
    )
