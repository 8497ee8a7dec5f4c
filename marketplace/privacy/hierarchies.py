"""Value generalization hierarchies for categorical quasi-identifiers.

A hierarchy gives every value its chain of ancestors from the most general, "*", down to the value itself:
district → city → province, postcode → shorter prefix, age → 5/10/20-year bands. Mondrian splits a category
by moving one level down this tree, and the released label of a class is the lowest common ancestor of its
values. Hand written because the few Python anonymization packages either require a whole framework (ARX is
Java) or expect hierarchies as CSV files; the structure here is a few lines.

A value the hierarchy does not know sits directly under "*" (it is never released more precisely than the
data allow, and never causes a failure).
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

import pandas as pd

from marketplace.errors import InvalidInput

TOP = "*"
MISSING = "(missing)"


def label(value: Any) -> str:
    """The string a leaf value is released as (integral floats without ".0"; missing as "(missing)")."""
    if value is None or (isinstance(value, float) and math.isnan(value)) or value is pd.NaT:
        return MISSING
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


class Hierarchy:
    """Generalization tree given by a function: value -> its ancestors, most general first (without "*")."""

    def __init__(self, ancestors: Callable[[Any], Sequence[str]], description: str = "custom") -> None:
        self._ancestors = ancestors
        self.description = description

    def path(self, value: Any) -> tuple[str, ...]:
        """("*", ancestors..., value label): the full chain from the top to the leaf."""
        leaf = label(value)
        if leaf == MISSING:
            return (TOP, leaf)
        chain = [str(a) for a in self._ancestors(value) if str(a) != TOP]
        return (TOP, *chain, leaf) if not chain or chain[-1] != leaf else (TOP, *chain)

    def generalize(self, value: Any, level: int) -> str:
        """The label of `value` at `level` (0 = "*"); deeper levels than the chain give the value itself."""
        chain = self.path(value)
        return chain[min(level, len(chain) - 1)]

    def __repr__(self) -> str:
        return f"Hierarchy({self.description})"

    # ---- builders ----
    @classmethod
    def flat(cls) -> Hierarchy:
        """Every value directly under "*": the only choice for a category without structure."""
        return cls(lambda _v: (), "flat: value -> *")

    @classmethod
    def from_parents(cls, *parent_maps: Mapping[Any, Any]) -> Hierarchy:
        """Chain child -> parent maps, most specific first.

        from_parents(district_to_city, city_to_province): a district's path is * > province > city > district.
        """
        maps = [{label(k): label(v) for k, v in m.items()} for m in parent_maps]

        def ancestors(value: Any) -> list[str]:
            chain, node = [], label(value)
            for m in maps:
                if node not in m:
                    break
                node = m[node]
                chain.append(node)
            return chain[::-1]

        return cls(ancestors, f"parents ({len(maps)} levels)")

    @classmethod
    def by_prefix(cls, lengths: Iterable[int] | None = None, mask: str = "*") -> Hierarchy:
        """Codes generalized by keeping a prefix and masking the rest ("100081" -> "1000**" -> "10****").

        `lengths` are the kept prefix lengths (default: every length from 1 to len-1).
        """
        kept = sorted(set(lengths)) if lengths is not None else None
        if kept is not None and any(n < 1 for n in kept):
            raise InvalidInput("hierarchy.lengths", kept, "prefix lengths >= 1")

        def ancestors(value: Any) -> list[str]:
            s = label(value)
            sizes = kept if kept is not None else range(1, len(s))
            return [s[:n] + mask * (len(s) - n) for n in sizes if n < len(s)]

        return cls(ancestors, "prefix")

    @classmethod
    def bands(cls, widths: Sequence[float] = (5, 10, 20)) -> Hierarchy:
        """Numbers in nested bands, e.g. age 34 -> "30-34" -> "30-39" -> "20-39".

        Bands are [lo, lo + width); integral values are labelled "lo-(lo+width-1)", others "lo-<hi".
        Each wider band must be a whole multiple of the narrower ones, so bands nest.
        """
        ws = sorted({float(w) for w in widths}, reverse=True)
        if not ws or ws[-1] <= 0:
            raise InvalidInput("hierarchy.widths", list(widths), "positive band widths")
        for wide, narrow in itertools.pairwise(ws):
            if not math.isclose(wide / narrow, round(wide / narrow)):
                raise InvalidInput(
                    "hierarchy.widths", list(widths), "widths that are multiples of each other"
                )

        def ancestors(value: Any) -> list[str]:
            x = float(value)
            out = []
            for w in ws:
                lo = math.floor(x / w) * w
                if x.is_integer() and w.is_integer():
                    out.append(f"{int(lo)}-{int(lo + w - 1)}")
                else:
                    out.append(f"{lo:g}-<{lo + w:g}")
            return out

        return cls(ancestors, "bands " + "/".join(f"{w:g}" for w in ws))


def default_hierarchy(values: pd.Series) -> Hierarchy:
    """A hierarchy for a category without one: by prefix for equal-length digit codes, else flat."""
    distinct = pd.Series(values.dropna().unique()).map(label)
    if len(distinct) > 1 and distinct.str.fullmatch(r"\d{3,}").all() and distinct.str.len().nunique() == 1:
        return Hierarchy.by_prefix()
    return Hierarchy.flat()
