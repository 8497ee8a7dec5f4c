"""Which column plays which privacy role, and how each quasi-identifier is generalized.

A release schema comes either from the resource's field rows (objects with `name`, `marking`, `dtype`, as
`ResourceField`) or from a plain mapping {column: marking}; columns the schema does not name are `other`
(released unchanged), because the data holder marks what is personal, not what is harmless.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

import pandas as pd

from marketplace.errors import InvalidInput
from marketplace.vocabulary import FieldMarking, FieldType


class QIKind(StrEnum):
    """How a quasi-identifier is generalized: numbers and dates by ranges, categories by a hierarchy."""

    number = "number"
    date = "date"
    category = "category"


_KIND_OF_TYPE = {
    FieldType.integer: QIKind.number,
    FieldType.number: QIKind.number,
    FieldType.date: QIKind.date,
    FieldType.string: QIKind.category,
    FieldType.category: QIKind.category,
    FieldType.boolean: QIKind.category,
}


@dataclass(frozen=True)
class Roles:
    """The columns of one table by privacy role (identifier, quasi_identifier, sensitive, other)."""

    identifiers: list[str] = field(default_factory=list)
    quasi_identifiers: list[str] = field(default_factory=list)
    sensitive: list[str] = field(default_factory=list)
    other: list[str] = field(default_factory=list)
    qi_kinds: dict[str, QIKind] = field(default_factory=dict)

    def to_dict(self) -> dict[str, list[str]]:
        return {
            "identifiers": list(self.identifiers),
            "quasi_identifiers": list(self.quasi_identifiers),
            "sensitive": list(self.sensitive),
            "other": list(self.other),
        }


def _marking(column: str, value: Any) -> FieldMarking:
    try:
        return FieldMarking(str(value))
    except ValueError:
        raise InvalidInput(
            f"schema[{column}]", value, "one of " + ", ".join(m.value for m in FieldMarking)
        ) from None


def _dtype(column: str, value: Any) -> FieldType | None:
    if value is None:
        return None
    try:
        return FieldType(str(value))
    except ValueError:
        raise InvalidInput(
            f"schema[{column}].dtype", value, "one of " + ", ".join(t.value for t in FieldType)
        ) from None


def _infer_kind(series: pd.Series) -> QIKind:
    """Kind of a quasi-identifier whose field type the schema does not give: from the pandas dtype."""
    if pd.api.types.is_bool_dtype(series):
        return QIKind.category
    if pd.api.types.is_numeric_dtype(series):
        return QIKind.number
    if pd.api.types.is_datetime64_any_dtype(series):
        return QIKind.date
    return QIKind.category


def resolve_roles(df: pd.DataFrame, schema: Mapping[str, Any] | Sequence[Any]) -> Roles:
    """Assign every column of `df` a role; refuse a schema naming columns the table does not have."""
    markings: dict[str, FieldMarking] = {}
    dtypes: dict[str, FieldType | None] = {}
    if isinstance(schema, Mapping):
        for name, value in schema.items():
            markings[str(name)] = _marking(str(name), value)
            dtypes[str(name)] = None
    else:
        if isinstance(schema, str | bytes) or not hasattr(schema, "__iter__"):
            raise InvalidInput("schema", type(schema).__name__, "a {column: marking} mapping or field rows")
        for item in schema:
            try:
                name, marking = str(item.name), item.marking
            except AttributeError:
                raise InvalidInput(
                    "schema", item, "a field with attributes name, marking and dtype"
                ) from None
            markings[name] = _marking(name, marking)
            dtypes[name] = _dtype(name, getattr(item, "dtype", None))
    missing = [c for c in markings if c not in df.columns]
    if missing:
        raise InvalidInput("schema", missing, f"columns of the table ({', '.join(map(str, df.columns))})")
    roles: dict[FieldMarking, list[str]] = {m: [] for m in FieldMarking}
    kinds: dict[str, QIKind] = {}
    for column in df.columns:
        marking = markings.get(str(column), FieldMarking.other)
        roles[marking].append(column)
        if marking is FieldMarking.quasi_identifier:
            ftype = dtypes.get(str(column))
            kinds[column] = _KIND_OF_TYPE[ftype] if ftype is not None else _infer_kind(df[column])
    return Roles(
        identifiers=roles[FieldMarking.identifier],
        quasi_identifiers=roles[FieldMarking.quasi_identifier],
        sensitive=roles[FieldMarking.sensitive],
        other=roles[FieldMarking.other],
        qi_kinds=kinds,
    )
