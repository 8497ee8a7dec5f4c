"""Generalization hierarchies: paths, levels, builders and the default."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from marketplace.errors import InvalidInput
from marketplace.privacy import Hierarchy, default_hierarchy
from marketplace.privacy.hierarchies import MISSING, TOP, label


def test_parents_chain_district_city_province() -> None:
    h = Hierarchy.from_parents(
        {"Haidian": "Beijing", "Pudong": "Shanghai"}, {"Beijing": "North", "Shanghai": "East"}
    )
    assert h.path("Haidian") == (TOP, "North", "Beijing", "Haidian")
    assert [h.generalize("Pudong", level) for level in range(5)] == [
        "*",
        "East",
        "Shanghai",
        "Pudong",
        "Pudong",
    ]
    assert h.path("Atlantis") == (TOP, "Atlantis")  # unknown values sit under the top
    assert h.path(None) == (TOP, MISSING)


def test_prefix_masks_codes() -> None:
    h = Hierarchy.by_prefix()
    assert h.path("100081") == (TOP, "1*****", "10****", "100***", "1000**", "10008*", "100081")
    assert Hierarchy.by_prefix([2, 4]).path("100081") == (TOP, "10****", "1000**", "100081")
    with pytest.raises(InvalidInput):
        Hierarchy.by_prefix([0])


def test_bands_nest() -> None:
    h = Hierarchy.bands((5, 10, 20))
    assert h.path(34) == (TOP, "20-39", "30-39", "30-34", "34")
    assert h.path(34.5) == (TOP, "20-<40", "30-<40", "30-<35", "34.5")
    with pytest.raises(InvalidInput, match="multiples"):
        Hierarchy.bands((3, 10))
    with pytest.raises(InvalidInput):
        Hierarchy.bands((0,))


def test_default_hierarchy_prefix_for_codes_else_flat() -> None:
    assert default_hierarchy(pd.Series(["100081", "200010"])).path("100081")[1] == "1*****"
    assert default_hierarchy(pd.Series(["red", "blue"])).path("red") == (TOP, "red")
    assert default_hierarchy(pd.Series(["1", "22"])).path("22") == (TOP, "22")  # unequal lengths: flat
    assert default_hierarchy(pd.Series([True, False])).path(True) == (TOP, "True")


def test_labels() -> None:
    assert label(3.0) == "3" and label(np.nan) == MISSING and label("x") == "x" and label(2.5) == "2.5"
