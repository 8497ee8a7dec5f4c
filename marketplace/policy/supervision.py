"""The yearly evaluation of an operator from recorded facts, and the outcome it leads to.

Points per fact and the score each outcome starts at are policy data (`[supervision]`); the texts consulted
ask for supervision and evaluation of operators but give no scale, so every figure is an assumption the
policy file says so about.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from marketplace.policy.schema import Policy

__all__ = ["FACTS", "OUTCOMES", "Evaluated", "evaluate_operator"]

FACTS = (
    "complaint", "incident_minor", "incident_major", "exit_duty_overdue", "usage_report_overdue", "over_mar",
    "disclosure_breach",
)
OUTCOMES = ("none", "warning", "rectification_order", "suspension", "termination")


@dataclass(frozen=True, slots=True)
class Evaluated:
    """Score, outcome and the lines behind them: (fact, count, points)."""

    score: int
    outcome: str
    lines: tuple[tuple[str, int, int], ...]


def evaluate_operator(policy: Policy, facts: Mapping[str, int]) -> Evaluated:
    """Points for each recorded fact; the outcome is the most severe whose threshold the score reaches."""
    sv = policy.supervision
    lines = tuple(
        (name, int(facts.get(name, 0)), int(facts.get(name, 0)) * getattr(sv, name)) for name in FACTS
    )
    score = sum(points for _, _, points in lines)
    outcome = "none"
    for name, start in (
        ("warning", sv.warning_from),
        ("rectification_order", sv.rectification_from),
        ("suspension", sv.suspension_from),
        ("termination", sv.termination_from),
    ):
        if score >= start:
            outcome = name
    return Evaluated(score, outcome, lines)
