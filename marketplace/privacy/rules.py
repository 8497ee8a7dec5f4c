"""Release rules that hold whatever a data holder marked: the floor every schema and every target must meet.

Kept pure (no I/O, no policy import) so the CLI, the delivery workflow, the importer and the tests apply the
same rules: the caller passes the policy's figures in.

- `review_markings`: in a table about people (any identifier, quasi-identifier or sensitive column), a date
  left as `other` describes a person's event (admission, claim, notice ...) and links records to outside
  knowledge, so it becomes a quasi-identifier (generalised by Mondrian); a column holding one value per record
  (a notice number, a claim id) allows linkage, so it becomes an identifier (dropped, or pseudonymised with a
  per-release key). Markings only ever move towards more protection.
- `reviewed_schema`: the schema a release uses, with that floor applied (a sandbox seeded before a schema
  was reviewed, or an imported resource edited by hand, still releases safely).
- `check_release_targets`: k and ℓ may not go below the minimum of the policy in force.
- `check_releasable`: a release must keep at least one column that is not an identifier.
"""

# ruff: noqa: E741  (`l` is the literature's name for the ℓ of ℓ-diversity)
from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from marketplace.errors import InvalidInput, PrivacyError
from marketplace.vocabulary import FieldMarking, FieldType

__all__ = [
    "RECORD_ID_GENERATORS",
    "RECORD_ID_PATTERN",
    "MarkingChange",
    "ReviewedField",
    "check_releasable",
    "check_release_targets",
    "is_personal",
    "review_markings",
    "reviewed_schema",
]

# A column name that numbers records one by one (lower-cased, words joined by "_").
RECORD_ID_PATTERN = re.compile(r"(^|_)(id|no|num|number|serial|uuid)$|编号|单号|流水号")
# Synthetic generators that give every record its own value (a `pool` param makes them shared codes).
RECORD_ID_GENERATORS = frozenset({"record_id"})

_PERSONAL = frozenset({FieldMarking.identifier, FieldMarking.quasi_identifier, FieldMarking.sensitive})


@dataclass(frozen=True)
class MarkingChange:
    """One column whose marking the review raised, and why."""

    name: str
    before: FieldMarking
    after: FieldMarking
    reason: str


@lru_cache(maxsize=4096)
def _key(name: str) -> str:
    return re.sub(r"[\s\-]+", "_", name.strip().lower())


def is_personal(fields: Iterable[Any]) -> bool:
    """True when any column is an identifier, a quasi-identifier or sensitive: the rows describe people."""
    return any(f.marking in _PERSONAL for f in fields)  # a StrEnum member equals its value


def _is_record_id(field: Any) -> bool:
    generator = getattr(field, "generator", "") or ""
    params = getattr(field, "params", None) or {}
    if generator in RECORD_ID_GENERATORS:
        return "pool" not in params
    return bool(RECORD_ID_PATTERN.search(_key(str(field.name))))


def review_markings(fields: Sequence[Any]) -> list[MarkingChange]:
    """The markings `fields` (objects with name, dtype, marking; optional generator, params) must rise to.

    Empty when the schema already meets the floor. Only tables about people are touched: a bus timetable's
    `route_id` or an air-quality `measured_on` stay `other`.
    """
    if not is_personal(fields):
        return []
    changes = []
    for f in fields:
        marking = FieldMarking(f.marking)
        if marking is not FieldMarking.other:
            continue
        if _is_record_id(f):
            changes.append(
                MarkingChange(
                    str(f.name), marking, FieldMarking.identifier, "one value per record allows linkage"
                )
            )
        elif FieldType(f.dtype) is FieldType.date:
            changes.append(
                MarkingChange(
                    str(f.name),
                    marking,
                    FieldMarking.quasi_identifier,
                    "the date of a person's event links records to outside knowledge",
                )
            )
    return changes


@dataclass(frozen=True)
class ReviewedField:
    """A column as a release sees it: name, type and the marking after the review floor."""

    name: str
    dtype: FieldType
    marking: FieldMarking


def reviewed_schema(fields: Sequence[Any]) -> list[ReviewedField]:
    """`fields` with every marking raised to the floor of `review_markings` (for `deidentify`)."""
    raised = {c.name: c.after for c in review_markings(fields)}
    return [
        ReviewedField(str(f.name), FieldType(f.dtype), raised.get(str(f.name), FieldMarking(f.marking)))
        for f in fields
    ]


def check_release_targets(k: int, l: float, *, minimum_k: int, minimum_l: float, policy: str) -> None:
    """Refuse k or ℓ below the minimum of the policy in force (InvalidInput naming the option)."""
    if k < minimum_k:
        raise InvalidInput("k", k, f"a whole number >= {minimum_k} (the minimum of policy {policy})")
    if l < minimum_l:
        raise InvalidInput("l", l, f"a number >= {minimum_l:g} (the minimum of policy {policy})")


def check_releasable(
    columns: Sequence[str], identifiers: Sequence[str], *, pseudonymised: bool, what: str = "the table"
) -> None:
    """Refuse a release that would keep no column but identifiers (or no column at all)."""
    if not len(columns):
        raise PrivacyError(f"{what} has no columns; nothing released")
    releasable = [c for c in columns if c not in set(identifiers)]
    if not releasable:
        shown = ", ".join(map(str, identifiers)) or "(none)"
        kept = "pseudonyms" if pseudonymised and identifiers else "nothing"
        raise PrivacyError(
            f"{what} has no releasable column: every column is an identifier ({shown}), so a release "
            f"would hold {kept}; mark a column as quasi_identifier, sensitive or other; nothing released"
        )
