"""A hospital-discharge table inside a holder's environment, and the grant terms over it."""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
import pandas as pd
import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session

from marketplace.compute import Environment, open_environment
from marketplace.policy import load_policy
from marketplace.policy.compute import ComputeGrant, compute_grant

FIELDS = [
    ("patient_id", "identifier"),
    ("sex", "quasi_identifier"),
    ("age", "quasi_identifier"),
    ("district", "quasi_identifier"),
    ("diagnosis", "sensitive"),
    ("length_of_stay", "sensitive"),
    ("cost", "sensitive"),
]


def discharges(n: int = 2000, seed: int = 7) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    age = rng.integers(18, 90, n)
    return pd.DataFrame({
        "patient_id": [f"P{i:06d}" for i in range(n)],
        "sex": rng.choice(["F", "M"], n),
        "age": age,
        "district": rng.choice(["East", "North", "South", "West"], n, p=[0.4, 0.3, 0.2, 0.1]),
        "diagnosis": rng.choice(["A", "B", "C"], n),
        "length_of_stay": np.clip(rng.poisson(3 + age / 20), 1, 60).astype(float),
        "cost": rng.gamma(2.0, 4000.0, n).round(2),
    })


def make_grant(grant_id: int = 1, requester_id: int = 10, **changes: object) -> ComputeGrant:
    grant = compute_grant(load_policy("national-2025"), grant_id=grant_id, requester_id=requester_id,
                          resource_id=5, fields=FIELDS)
    if changes:
        from dataclasses import replace

        grant = replace(grant, **changes)
    return grant


@pytest.fixture
def env() -> Iterator[Environment]:
    e = open_environment(5, discharges(), FIELDS, seed=7)
    yield e
    e.close()


@pytest.fixture
def west_env() -> Iterator[Environment]:
    """In West, 24 women and one man: each result alone suppresses his cell; subtracted, two would not."""
    frame = discharges()
    frame = frame[frame.district != "West"].copy()
    west = discharges(25, seed=11).assign(district="West", sex=["F"] * 24 + ["M"])
    west["patient_id"] = [f"W{i:06d}" for i in range(25)]
    e = open_environment(5, pd.concat([frame, west], ignore_index=True), FIELDS, seed=7)
    yield e
    e.close()


@pytest.fixture
def grant() -> ComputeGrant:
    return make_grant()


@pytest.fixture
def grant_factory() -> object:
    return make_grant


@pytest.fixture
def table_factory() -> object:
    return discharges


@pytest.fixture
def session(sqlite_engine: Engine) -> Iterator[Session]:
    with Session(sqlite_engine) as s:
        yield s
