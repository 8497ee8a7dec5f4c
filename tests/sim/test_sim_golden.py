"""Results pinned before the bounded-memory rework: the same scenario and seed must keep giving the same
metrics (byte for byte), the same day-by-day table and the same quotes (see golden_cases.py)."""

from __future__ import annotations

import json

import pytest

from .golden_cases import CASES, GOLDEN, outputs


@pytest.mark.parametrize("name", sorted(CASES))
def test_results_are_unchanged(name: str) -> None:
    want = json.loads((GOLDEN / f"{name}.json").read_text(encoding="utf-8"))
    got = outputs(name)
    assert got["metrics_json"] == want["metrics_json"]
    assert got["daily_sha256"] == want["daily_sha256"]
    assert got["quotes_sha256"] == want["quotes_sha256"]
