"""The real UCI Adult data shipped for the privacy benchmark: the published file, and the information loss
of Mondrian at k = 10 on it inside the range published for Mondrian on the same data."""

from __future__ import annotations

import importlib.util
from pathlib import Path
from types import ModuleType

import pytest

from marketplace.privacy import deidentify

BENCH = Path(__file__).resolve().parents[2] / "benchmarks" / "bench_privacy.py"


def _bench() -> ModuleType:
    spec = importlib.util.spec_from_file_location("bench_privacy", BENCH)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_shipped_file_is_the_published_training_set() -> None:
    bench = _bench()
    df = bench.adult_real()  # checks size bound, SHA-256, 32,561 rows, 30,162 complete rows
    assert len(df) == bench.ADULT_COMPLETE_ROWS == 30_162
    assert list(df.columns) == list(bench.ADULT_COLUMNS)
    assert df["income"].value_counts().to_dict() == {"<=50K": 22_654, ">50K": 7_508}
    assert (bench.ADULT_FILE.parent / "ADULT-LICENSE.md").is_file()


def test_a_changed_file_is_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import gzip

    bench = _bench()
    bad = tmp_path / "adult.data.gz"
    text = gzip.decompress(bench.ADULT_FILE.read_bytes())
    bad.write_bytes(gzip.compress(text.replace(b"State-gov", b"State-gob", 1)))
    monkeypatch.setattr(bench, "ADULT_FILE", bad)
    with pytest.raises(SystemExit, match="sha256"):
        bench.adult_real()


@pytest.mark.timeout(120)
def test_ncp_at_k10_on_the_real_data_is_within_the_published_mondrian_range() -> None:
    bench = _bench()
    df = bench.adult_real()
    schema = dict.fromkeys(bench.QIS, "quasi_identifier")
    r = deidentify(
        df, schema, k=10, l=1, suppression_budget=0.0, hierarchies=bench.adult_hierarchies()
    ).report
    assert r.k_achieved >= 10
    # every value of the real data has a place in the hierarchies the benchmark uses
    for column, table in (
        ("education", bench.EDUCATION),
        ("workclass", bench.WORKCLASS),
        ("marital_status", bench.MARITAL),
        ("occupation", bench.OCCUPATION),
        ("race", bench.RACE),
        ("sex", bench.SEX),
        ("native_country", bench.COUNTRY | bench.COUNTRY_REST),
    ):
        assert set(df[column]) <= set(table), column
    assert 0.12 <= r.ncp <= 0.25, r.ncp
